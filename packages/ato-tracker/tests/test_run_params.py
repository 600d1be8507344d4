"""Parameter filters and sorts through ``run_params`` (revision 0010) on SQLite, PostgreSQL and
MariaDB: every kind of comparison the filter language has, nested and missing keys, bools,
mixed types, configs changed after the run started, and the revision's upgrade of runs
written before it (their rows come from the stored configs)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select

from ato.tracker import RunFilterError, SQLFinder, SQLLogger
from ato.tracker.importers.target import delete_runs
from ato.tracker.storage import migrate, run_params
from ato.tracker.storage.database import dispose_engines

CONFIGS = {
    "a": {"lr": 0.001, "opt": "adam", "flag": True, "model": {"depth": 2, "act": "relu"},
          "steps": 100, "tags": [1, 2], "note": None, "a.b": 1},
    "b": {"lr": 0.01, "opt": "sgd", "flag": False, "model": {"depth": 8}, "steps": "many",
          "a": {"b": 2}},
    "c": {"lr": 1e-1, "opt": "Adam_w", "model": {"depth": 2.5, "act": "gelu"}, "steps": 100},
    "d": {"lr": "auto", "opt": "adam", "model": "small", "flag": 1},
    "e": {},
}  # fmt: skip

FILTERS = [
    ("params.lr < 0.05", "ab"),  # numeric compare: the text 'auto' never matches
    ("params.lr >= 0.01", "bc"),
    ("params.lr = 0.1", "c"),
    ("params.lr != 0.001", "bc"),
    ("params.lr = 'auto'", "d"),  # string equality
    ("params.lr > 'a'", "d"),  # texts compare with texts only
    ("params.opt != 'adam'", "bc"),
    ("params.opt like 'adam'", "ad"),  # like: case-sensitive, whole text
    ("params.opt like 'A%'", "c"),
    ("params.opt ilike 'a%'", "acd"),
    ("params.opt not like 'a%'", "bc"),
    ("params.opt like 'Adam\\_w'", "c"),
    ("params.lr in (0.01, 'auto')", "bd"),  # in: mixed types
    ("params.lr not in (0.01, 'auto')", "ac"),
    ("params.steps in (100)", "ac"),
    ("params.flag = true", "a"),  # bools: not the number 1
    ("params.flag = false", "b"),
    ("params.flag != true", "b"),
    ("params.flag = 1", "d"),
    ("params.flag is null", "ce"),  # missing keys
    ("params.flag is not null", "abd"),
    ("params.note is null", "bcde"),  # a JSON null is a value, not a missing key
    ("params.tags is not null", "a"),  # arrays are values
    ("params.tags = 1", ""),  # and are not descended into
    ("params.model.depth = 2", "a"),  # nested keys
    ("params.model.depth > 2", "bc"),
    ("params.model.act = 'gelu'", "c"),
    ("params.model.act is null", "bde"),
    ("params.model is not null", "abcd"),  # an object is a value
    ("params.model = 'small'", "d"),
    ("params.model.depth is not null", "abc"),
    ("params.a.b = 2", "b"),  # a key holding a dot is not the nested a -> b
    ("params.a.b is not null", "b"),
    ("params.missing is null", "abcde"),
    ("params.missing = 1 or params.missing != 1", ""),
    ("not params.lr < 0.05", "cde"),
    ("params.lr < 0.05 and params.model.depth >= 8", "b"),
    ("params.opt = 'adam' or params.model.act = 'gelu'", "acd"),
    ("params.steps = 100 and params.model.act is not null", "ac"),
]


def _log(url: str) -> dict[str, int]:
    logger = SQLLogger.from_url(url, "p")
    ids = {}
    for name, config in CONFIGS.items():
        ids[name] = logger.run(config=config)
        logger.finish()
    return ids


def _names(finder: SQLFinder, ids: dict[str, int], text: str, **sort: Any) -> str:
    page = finder.query_runs("p", text, limit=None, **sort)
    assert page is not None
    names = {run_id: name for name, run_id in ids.items()}
    return "".join(names[row.id] for row in page.runs)


def test_param_filters_and_sorts_on_every_backend(db_url: str) -> None:
    ids = _log(db_url)
    finder = SQLFinder(db_url)
    for text, expected in FILTERS:
        assert _names(finder, ids, text) == expected, text
    # numbers, then texts, then other values (bools by 0/1), missing last; ties by id
    assert _names(finder, ids, "", sort_by="params.lr") == "abcde"
    assert _names(finder, ids, "", sort_by="params.lr", descending=True) == "cbade"
    assert _names(finder, ids, "", sort_by="params.steps") == "acbde"
    assert _names(finder, ids, "", sort_by="params.flag") == "dbace"
    assert _names(finder, ids, "", sort_by="params.model.depth", descending=True) == "bcaed"
    assert _names(finder, ids, "params.opt = 'adam'", sort_by="params.lr") == "ad"


def test_config_updates_and_deletes_keep_the_rows_in_step(db_url: str) -> None:
    logger = SQLLogger.from_url(db_url, "p")
    first = logger.run(config={"lr": 0.1, "model": {"depth": 2}})
    logger.update_config({"model": "big", "wd": 0.5})
    logger.finish()
    second = logger.run(config={"lr": 0.2})
    logger.finish()
    finder = SQLFinder(db_url)
    ids = {"f": first, "s": second}
    assert _names(finder, ids, "params.model.depth is not null") == ""
    assert _names(finder, ids, "params.model = 'big' and params.wd > 0.1") == "f"
    assert _names(finder, ids, "params.lr >= 0.1") == "fs"
    delete_runs(logger.engine, [first])
    assert _names(finder, ids, "params.lr >= 0.1") == "s"
    with logger.engine.connect() as conn:
        left = conn.execute(select(run_params.TABLE.c.run_id).distinct()).scalars().all()
    assert left == [second]


def test_keys_no_row_can_hold_are_refused(sqlite_url: str) -> None:
    _log(sqlite_url)
    finder = SQLFinder(sqlite_url)
    with pytest.raises(RunFilterError, match="at most 255 characters"):
        finder.query_runs("p", f"params.{'k' * 256} = 1")
    with pytest.raises(RunFilterError, match="cannot be read"):
        finder.query_runs("p", sort_by="params.a..b")


def test_rows_follow_the_module_table() -> None:
    config = {"x": {"y": [1], "z": None, "": 3, 'q"': 4}, "big": 10**400, "k" * 256: 1, "t": "s",
              "b": False, "n": 3}  # fmt: skip
    rows = run_params.rows(7, config)
    assert all(row["run_id"] == 7 for row in rows)
    got = [tuple(row[c] for c in run_params.COLUMNS[1:]) for row in rows]
    other = (run_params.OTHER, None, None, None)
    assert got == [
        ("x", *other), ("x.y", *other), ("x.z", *other), ("big", *other),
        ("t", run_params.STRING, None, "s", "s"), ("b", run_params.BOOL, 0, None, None),
        ("n", run_params.NUMBER, 3.0, None, None),
    ]  # fmt: skip
    assert run_params.rows(7, None) == []


def test_long_texts_compare_in_full(db_url: str) -> None:
    long = "x" * 199
    configs = {"a": long + "y", "b": long + "yz", "c": long, "d": long[:-1]}
    logger = SQLLogger.from_url(db_url, "p")
    ids = {}
    for name, text in configs.items():
        ids[name] = logger.run(config={"s": text})
        logger.finish()
    finder = SQLFinder(db_url)
    for name, text in configs.items():
        assert _names(finder, ids, f"params.s = '{text}'") == name
        assert _names(finder, ids, f"params.s != '{text}'") == "abcd".replace(name, "")
    assert _names(finder, ids, f"params.s like '{long}%'") == "abc"
    assert _names(finder, ids, "", sort_by="params.s") == "dcab"


def _stored_rows(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            table = run_params.TABLE
            stmt = select(*table.c).order_by(table.c.run_id, table.c.key)
            return [tuple(row) for row in conn.execute(stmt)]
    finally:
        engine.dispose()


def test_revision_0010_fills_the_rows_of_older_runs(db_url: str) -> None:
    ids = _log(db_url)
    written = _stored_rows(db_url)
    assert len(written) > len(CONFIGS)
    dispose_engines()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0009")
    assert "run_params" not in inspect(engine).get_table_names()
    engine.dispose()
    assert migrate.upgrade(db_url).applied == ["0010"]
    assert _stored_rows(db_url) == written  # the backfill writes what the logger wrote
    finder = SQLFinder(db_url)
    for text, expected in FILTERS:
        assert _names(finder, ids, text) == expected, text
