"""The command-line grammar: literals, strings, %spans%, raw text, words, commands, errors."""

from __future__ import annotations

import builtins
import contextlib
import os
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

HOSTILE = [
    f"x=__import__('os').system('touch {MARKER}')",
    f"x=open('{MARKER}', 'w').close()",
    f"x=[open('{MARKER}', 'w') for _ in '1']",
    f"x={{'a': __import__('os').system('touch {MARKER}')}}",
    f"x=exec(\"open('{MARKER}', 'w')\")",
    f"x=eval(\"open('{MARKER}', 'w')\")",
    f"x=%__import__('os').system('touch {MARKER}')%",
    f"x:=__import__('os').system('touch {MARKER}')",
    f"__import__('os').system('touch {MARKER}')",
    "x=().__class__.__bases__[0].__subclasses__()",
    "x=lambda: 0",
    "x=(yield)",
    "x=%",
    "x=@",
    "x=|",
    "x=#",
    "x==",
    "x=:",
    "x=\\",
    "x='",
    'x="',
    "x=ü",
    "x=日本語",
    "x=",
    "=",
    ":=",
    "x:=",
    "%",
    "x=" + "[" * 500,
    "x=" + "a" * 10000,
    "x=" + "(" * 200 + ")" * 200,
    "x=" + "1" * 5000,
    "x=" + "-" * 1000 + "1",
]

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


@pytest.mark.parametrize("token", HOSTILE)
def test_hostile_token_is_never_executed(token: str) -> None:
    with no_code_runs():
        try:
            parse_argv([token])
        except CLIParseError as exc:  # either outcome is fine; a refusal names the token
            assert exc.token == token  # noqa: PT017


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
    for item in items:
        assert isinstance(item, (Override, Word, Command))


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
