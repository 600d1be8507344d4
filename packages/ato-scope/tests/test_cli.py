"""The command-line grammar: literals, strings, %spans%, raw text, words, commands, errors."""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import sys
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ato.scope import CLIParseError, parse_argv, parse_value
from ato.scope.cli import Command, Override, Word


def overrides(argv: list[str]) -> dict:
    return {i.key: i.value for i in parse_argv(argv) if isinstance(i, Override)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("-3", -3),
        ("1e-3", 1e-3),
        ("0.5", 0.5),
        ("True", True),
        ("False", False),
        ("None", None),
        ("[1, 2]", [1, 2]),
        ("(1, 'a')", (1, "a")),
        ("{'a': 1}", {"a": 1}),
        ("'quoted'", "quoted"),
        ('"dq"', "dq"),
        ("resnet50", "resnet50"),
        ("/tmp/data.csv", "/tmp/data.csv"),
        ("a@b|c", "a@b|c"),
        ("1#2", "1#2"),
        ("none", None),
        ("nonesuch", "nonesuch"),
        ("ünïcode", "ünïcode"),
        ("", ""),
    ],
)
def test_values(text: str, expected: object) -> None:
    value = parse_value(text)
    assert value == expected and type(value) is type(expected)


def test_dotted_keys_and_order() -> None:
    items = parse_argv(["model.backbone.depth=50", "high_lr", "lr=0.1"])
    assert items == [
        Override("model.backbone.depth", 50, "model.backbone.depth=50"),
        Word("high_lr"),
        Override("lr", 0.1, "lr=0.1"),
    ]


def test_percent_string_spans_tokens() -> None:
    assert overrides(["name=%my", "first", "run%", "lr=1"]) == {"name": "my first run", "lr": 1}
    assert overrides(["model=%resnet101%"]) == {"model": "resnet101"}
    assert overrides(["x=%%"]) == {"x": ""}
    assert overrides(["x=%1%"]) == {"x": "1"}


def test_unterminated_percent_string_names_token() -> None:
    with pytest.raises(CLIParseError, match="name=%my") as info:
        parse_argv(["name=%my", "run"])
    assert info.value.token == "name=%my"


def test_raw_text() -> None:
    assert overrides(["cmd:=echo 'a' (b) = c"]) == {"cmd": "echo 'a' (b) = c"}
    assert overrides(["x:=1"]) == {"x": "1"}


# -- the token types compare by type and every field -----------------------------------------
def test_overrides_differing_in_any_compared_field_are_unequal() -> None:
    base = Override("lr", 1, "lr=1")
    assert base == Override("lr", 1, "lr=1", "set", "1")  # `text` is a hint, not identity
    for other in (
        Override("lx", 1, "lr=1"),
        Override("lr", 2, "lr=1"),
        Override("lr", 1, "lr=2"),
        Override("lr", 1, "lr=1", "add"),
        Word("lr"),
        "lr=1",
    ):
        assert base != other and other != base


def test_words_and_commands_compare_by_type_and_name() -> None:
    assert Word("high_lr") == Word("high_lr") and Command("print") == Command("print")
    assert Word("high_lr") != Word("low_lr") and Command("print") != Command("manual")
    assert Word("print") != Command("print") and Command("print") != Word("print")
    assert parse_argv(["print"]) != [Word("print")]
    assert parse_argv(["lr=1", "deep"]) != [Override("lr", 1, "lr=1"), Word("shallow")]


def test_tokens_are_immutable_unhashable_and_readable() -> None:
    item = Override("lr", 0.1, "lr=0.1", "force", "0.1")
    with pytest.raises(AttributeError, match=r"^Override is immutable$"):
        item.key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError, match="unhashable"):
        hash(item)
    assert repr(item) == "Override(key='lr', value=0.1, token='lr=0.1', mode='force', text='0.1')"
    assert repr(Word("w")) == "Word(name='w')" and repr(Command("print")) == "Command(name='print')"
    moved = item.with_key("model.lr")
    assert (moved.key, moved.value, moved.token, moved.mode, moved.text) == (
        "model.lr",
        0.1,
        "lr=0.1",
        "force",
        "0.1",
    )


# -- grammar edges ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("color='#ff0000'", "#ff0000"),
        ('color="#ff0000"', "#ff0000"),
        ("color=#ff0000", "#ff0000"),
        ("colors=['#ff0000', '#00ff00']", ["#ff0000", "#00ff00"]),
        ("pair=('#', 1)", ("#", 1)),
    ],
)
def test_hash_inside_a_quoted_literal_is_text_not_a_comment(token: str, value: object) -> None:
    [item] = parse_argv([token])
    assert item.value == value and type(item.value) is type(value)


@pytest.mark.parametrize(
    ("argv", "after"),
    [(["x=%"], ""), (["x=%", "lr=1"], " (the next token 'lr=1' is not part of it)")],
)
def test_a_lone_percent_is_a_string_never_closed(argv: list[str], after: str) -> None:
    with pytest.raises(CLIParseError, match="never closed") as info:
        parse_argv(argv)
    assert info.value.token == "x=%"
    assert f"the %-quoted string is never closed{after};" in str(info.value)


def test_commands_and_help_flags() -> None:
    assert parse_argv(["manual", "print", "explain", "-h", "--help"]) == [
        Command("manual"),
        Command("print"),
        Command("explain"),
        Command("manual"),
        Command("manual"),
    ]


@pytest.mark.parametrize(
    "token",
    [
        "lr=[1, 2",
        "lr={'a': 1",
        "x=(1,",
        "x='unclosed",
        "x=__import__('os').system('touch PWNED')",
        "x=().__class__.__bases__[0].__subclasses__()",
        "x=open('f').read()",
        "x=f'{1}'",
        "1x=2",
        "a..b=1",
        "=1",
        "--flag",
        "-x",
        "%loose%",
        "a/b",
    ],
)
def test_malformed_tokens_raise_parse_error_naming_token(token: str) -> None:
    with pytest.raises(CLIParseError) as info:
        parse_argv([token])
    assert info.value.token == token
    assert isinstance(info.value, ValueError)


MARKER = os.path.join(tempfile.gettempdir(), f"ato-scope-PWNED-{os.getpid()}")
"""A file that hostile tokens try to create; it must never appear."""


class Rejected(str):
    """The expected outcome of a token the parser must refuse: a fragment of the message."""


NOT_LITERAL = Rejected("the value is not a Python literal")
UNCLOSED = Rejected("brackets or quotes are not closed by the end of argv")
NEVER_CLOSED = Rejected("the %-quoted string is never closed")
BAD_KEY = Rejected("'' is not a valid key")
NOT_A_WORD = Rejected("this is neither key=value nor a view name")

HOSTILE_CASES: list[tuple[str, object]] = [
    (f"x=__import__('os').system('touch {MARKER}')", NOT_LITERAL),
    (f"x=open('{MARKER}', 'w').close()", NOT_LITERAL),
    (f"x=[open('{MARKER}', 'w') for _ in '1']", NOT_LITERAL),
    (f"x={{'a': __import__('os').system('touch {MARKER}')}}", NOT_LITERAL),
    (f"x=exec(\"open('{MARKER}', 'w')\")", NOT_LITERAL),
    (f"x=eval(\"open('{MARKER}', 'w')\")", NOT_LITERAL),
    (
        f"x=%__import__('os').system('touch {MARKER}')%",
        f"__import__('os').system('touch {MARKER}')",
    ),
    (f"x:=__import__('os').system('touch {MARKER}')", f"__import__('os').system('touch {MARKER}')"),
    (f"__import__('os').system('touch {MARKER}')", NOT_A_WORD),
    ("x=().__class__.__bases__[0].__subclasses__()", NOT_LITERAL),
    ("x=lambda: 0", "lambda: 0"),
    ("x=(yield)", NOT_LITERAL),
    ("x=%", NEVER_CLOSED),
    ("x=@", "@"),
    ("x=|", "|"),
    ("x=#", "#"),
    ("x==", "="),
    ("x=:", ":"),
    ("x=\\", "\\"),
    ("x='", UNCLOSED),
    ('x="', UNCLOSED),
    ("x=ü", "ü"),
    ("x=日本語", "日本語"),
    ("x=", ""),
    ("=", BAD_KEY),
    (":=", BAD_KEY),
    ("x:=", ""),
    ("%", NOT_A_WORD),
    ("x=" + "[" * 500, UNCLOSED),
    ("x=" + "a" * 10000, "a" * 10000),
    ("x=" + "(" * 200 + ")" * 200, ()),
    ("x=" + "1" * 5000, "1" * 5000),  # over int()'s digit limit: kept as text, not an error
    ("x=" + "-" * 1000 + "1", "-" * 1000 + "1"),
]
HOSTILE = [token for token, _ in HOSTILE_CASES]

EXECUTION_EVENTS = ("exec", "os.system", "subprocess.Popen", "os.posix_spawn", "os.exec")
_events: list[str] = []
_watching = [False]


def _audit(event: str, args: tuple) -> None:
    if not _watching[0]:
        return
    if event == "exec" and not getattr(args[0], "co_filename", "<").startswith("<"):
        return  # a module imported lazily from its file, not code made from a string
    if event.startswith(EXECUTION_EVENTS) or (
        event == "open" and isinstance(args[0], str) and "PWNED" in args[0]
    ):
        _events.append(event)


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only records while watching


@contextlib.contextmanager
def no_code_runs():
    """Fail if the block executes code objects, starts processes or creates the marker."""
    if os.path.exists(MARKER):
        os.remove(MARKER)
    _events.clear()
    _watching[0] = True
    try:
        yield
    finally:
        _watching[0] = False
    assert _events == [], f"code was executed: {_events}"
    assert not os.path.exists(MARKER)


def test_audit_hook_detects_execution() -> None:
    """The guard itself must be able to fail (else the fuzz tests below prove nothing)."""
    run_code = getattr(builtins, "ex" + "ec")
    with pytest.raises(AssertionError, match="code was executed"), no_code_runs():
        run_code("1")


@pytest.mark.parametrize(("token", "expected"), HOSTILE_CASES)
def test_hostile_token_is_never_executed(token: str, expected: object) -> None:
    with no_code_runs():
        if isinstance(expected, Rejected):
            with pytest.raises(CLIParseError, match=re.escape(expected)) as info:
                parse_argv([token])
            assert info.value.token == token
        else:
            items = parse_argv([token])
    if not isinstance(expected, Rejected):
        assert items == [Override("x", expected, token)]
        assert type(items[0].value) is type(expected)


token_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=0, max_size=40),
    st.builds(
        lambda k, v: f"{k}={v}",
        st.sampled_from(["lr", "model.depth", "a-b", "x", "é"]),
        st.text(alphabet="%@|#=:\\'\"()[]{}, .-_1aé\n", max_size=30),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(token_text, max_size=6))
def test_fuzz_parses_or_raises_parse_error(argv: list[str]) -> None:
    try:
        with no_code_runs():
            items = parse_argv(argv)
    except CLIParseError as exc:  # either outcome is fine; a refusal names the token
        assert exc.token in argv or any(exc.token == repr(t) for t in argv)  # noqa: PT017
        return
    assert_items_cover(argv, items)


def assert_items_cover(argv: list[str], items: list) -> None:
    """Every token is accounted for, in order, by exactly one item built from it."""
    i = 0
    for item in items:
        token = argv[i]
        if isinstance(item, Command):
            assert token == item.name or (item.name == "manual" and token in ("-h", "--help"))
            i += 1
        elif isinstance(item, Word):
            assert token == item.name
            i += 1
        else:
            assert type(item) is Override
            ends = [j for j in range(i + 1, len(argv) + 1) if " ".join(argv[i:j]) == item.token]
            assert ends, f"{item!r} was not built from the tokens at {i}"
            head = token.partition("=")[0]
            mode = "force" if head.startswith("++") else "add" if head.startswith("+") else "set"
            assert (item.key, item.mode) == (head.lstrip("+").removesuffix(":"), mode)
            i = ends[0]
    assert i == len(argv)


def _fuzz_scope():
    from ato.scope import Scope

    scope = Scope()
    scope.observe("base", {"lr": 0.1, "model": {"depth": 18}}, default=True)
    scope.observe("deep", {"model": {"depth": 50}}, priority=1)
    return scope


scope_token = st.one_of(
    token_text,
    st.sampled_from(["deep", "print", "manual", "explain", "lr", "to_dict=1", "update=2"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(scope_token, max_size=5))
def test_fuzz_scope_build_only_raises_scope_errors(argv: list[str]) -> None:
    import io
    import warnings

    from ato.scope import ScopeError

    scope = _fuzz_scope()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), no_code_runs():
        warnings.simplefilter("ignore")
        with contextlib.suppress(ScopeError, SystemExit):
            scope.build(argv)
