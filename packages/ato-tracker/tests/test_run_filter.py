"""The run filter language: parsed into a tree (never evaluated); bad filters raise
`RunFilterError` with the position of the offending token."""

from __future__ import annotations

import pytest

from ato.tracker import RunFilterError
from ato.tracker.read.runfilter import BoolOp, Comparison, Field, Not, parse_filter


def _cmp(kind: str, key: str, op: str, *values: object, at: int = 0, op_at: int = 0) -> Comparison:
    return Comparison(Field(kind, key, at), op, tuple(values), op_at)  # type: ignore[arg-type]


VALID = [
    ("params.lr < 0.01", _cmp("params", "lr", "<", 0.01, op_at=10)),
    ("params.lr<1e-3", _cmp("params", "lr", "<", 0.001, op_at=9)),
    ("metrics.acc >= 90", _cmp("metrics", "acc", ">=", 90, op_at=12)),
    ("metrics.val/acc > -0.5", _cmp("metrics", "val/acc", ">", -0.5, op_at=16)),
    ("tags.x = 'y'", _cmp("tags", "x", "=", "y", op_at=7)),
    ('tags.x == "y"', _cmp("tags", "x", "=", "y", op_at=7)),
    ("tag = 'baseline'", _cmp("tag", "", "=", "baseline", op_at=4)),
    ("status != 'failed'", _cmp("attributes", "status", "!=", "failed", op_at=7)),
    ("attributes.id <> 3", _cmp("attributes", "id", "!=", 3, op_at=14)),
    ("params.model.depth IN (2, 8)", _cmp("params", "model.depth", "in", 2, 8, op_at=19)),
    ("params.opt not in ('sgd')", _cmp("params", "opt", "not in", "sgd", op_at=11)),
    ("params.opt LIKE 'ad%'", _cmp("params", "opt", "like", "ad%", op_at=11)),
    ("params.opt not ilike 'A%'", _cmp("params", "opt", "not ilike", "A%", op_at=11)),
    ("params.flag = true", _cmp("params", "flag", "=", True, op_at=12)),
    ("params.x is null", _cmp("params", "x", "is null", op_at=9)),
    ("params.x IS NOT NULL", _cmp("params", "x", "is not null", op_at=9)),
    ("params.`a b` = 1", _cmp("params", "a b", "=", 1, op_at=13)),
    ('metrics."val acc" > 0', _cmp("metrics", "val acc", ">", 0, op_at=18)),
    ("params.s = 'it''s'", _cmp("params", "s", "=", "it's", op_at=9)),
    ("params.s = 'it\\'s'", _cmp("params", "s", "=", "it's", op_at=9)),
    ("params.s like 'a\\_b%'", _cmp("params", "s", "like", "a\\_b%", op_at=9)),
    ("duration > 60.5", _cmp("attributes", "duration", ">", 60.5, op_at=9)),
    ("start_time >= '2026-01-31'", _cmp("attributes", "start_time", ">=", "2026-01-31", op_at=11)),
]


@pytest.mark.parametrize(("text", "tree"), VALID)
def test_valid_filters_parse_to_their_tree(text: str, tree: Comparison):
    assert parse_filter(text) == tree


def test_and_binds_tighter_than_or_and_parentheses_group():
    a = _cmp("params", "a", "=", 1, op_at=9)
    tree = parse_filter("params.a = 1 or params.b = 2 and not params.c = 3")
    assert tree == BoolOp(
        "or",
        (
            a,
            BoolOp(
                "and",
                (
                    _cmp("params", "b", "=", 2, at=16, op_at=25),
                    Not(_cmp("params", "c", "=", 3, at=37, op_at=46)),
                ),
            ),
        ),
    )
    grouped = parse_filter("(params.a = 1 or params.b = 2) and params.c = 3")
    assert isinstance(grouped, BoolOp) and grouped.op == "and"
    assert isinstance(grouped.parts[0], BoolOp) and grouped.parts[0].op == "or"


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_a_blank_filter_is_none(text: str):
    assert parse_filter(text) is None


INVALID = [
    ("params.lr <", 11, "expected a value"),
    ("params.lr < < 1", 12, "expected a value"),
    ("params.lr 0.1", 10, "expected a comparison"),
    ("lr < 0.1", 0, "unknown field 'lr'"),
    ("foo.lr < 0.1", 0, "unknown field prefix 'foo'"),
    ("params.lr < 0.1 and", 19, "expected a field"),
    ("params.lr < 0.1 metrics.acc > 1", 16, "expected 'and', 'or'"),
    ("(params.lr < 0.1", 16, "expected ')'"),
    ("params.lr < 0.1)", 15, "expected 'and', 'or'"),
    ("params.lr in 1", 13, "expected '('"),
    ("params.lr in (1 2)", 16, "expected ',' or ')'"),
    ("params.lr like 3", 15, "a quoted pattern"),
    ("params.lr is 3", 13, "'null'"),
    ("params.lr not = 3", 14, "'in', 'like' or 'ilike'"),
    ("params.lr = 'open", 12, "unterminated text: the ' here is never closed"),
    ('tags.x = "open', 9, 'unterminated text: the " here is never closed'),
    ("params.`lr = 1", 7, "unterminated text: the ` here is never closed"),
    ("tags.x = 'it' 's", 14, "unterminated text"),
    ("params.lr = 1 or tags.x like 'a%", 29, "unterminated text"),
    ("params.lr = 3 ; drop table experiments", 14, "unexpected character ';'"),
    ("attributes.color = 'red'", 0, "unknown attribute 'color'"),
    ("params. = 1", 8, "a key right after"),
    ("`lr` = 1", 0, "a quoted name needs a prefix"),
    ("and = 1", 0, "expected a field"),
    ("params.lr = abc", 12, "expected a value"),
]


@pytest.mark.parametrize(("text", "position", "message"), INVALID)
def test_invalid_filters_name_the_position(text: str, position: int, message: str):
    with pytest.raises(RunFilterError) as caught:
        parse_filter(text)
    assert caught.value.position == position
    assert f"at position {position}:" in str(caught.value)
    assert message in str(caught.value)
    assert str(caught.value).splitlines()[-1] == "  " + " " * position + "^"
