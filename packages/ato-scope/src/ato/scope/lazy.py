"""``with Scope.lazy():`` blocks: parts of a normal view deferred until after the CLI overrides.

How it works. While a scope runs its normal views it opens a *capture* (a context variable).
Entering ``Scope.lazy()`` inside a capture

1. locates the ``with`` statement in the view's source file (via :mod:`linecache` and
   :mod:`ast`), compiles its body as a function whose keyword-only parameters are the view's
   local variables at that moment (so ``config`` and any helper variables are available), and
   records it with a snapshot of those locals;
2. skips the body: a line-trace hook set on the view's frame raises an internal signal on the
   first line of the body, which ``__exit__`` swallows, so the view continues after the block.

After the CLI overrides are applied, the scope calls each recorded block, which therefore sees
the command-line values. Outside a capture (e.g. when the block is already being replayed, or
in plain code) ``Scope.lazy()`` does nothing and the body runs normally.

The compiled code is the program's own source file, never command-line text. Line numbers are
kept, so tracebacks from a deferred block point at the original file and line.
Limits: the body must start on its own line (not ``with Scope.lazy(): x = 1``); rebinding a
local variable inside the block does not affect the rest of the view (which already ran).
"""

from __future__ import annotations

import sys
from collections import namedtuple
from collections.abc import Callable
from contextvars import ContextVar

from .errors import LazyBlockError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast
    import types
    from typing import Any

_CAPTURE: ContextVar[list[DeferredBlock] | None] = ContextVar("ato_scope_lazy", default=None)
_BLOCK_NAME = "__ato_lazy_block__"
_compiled: dict[tuple[str, int, tuple[str, ...], int], types.CodeType] = {}


class DeferredBlock(namedtuple("DeferredBlock", "function arguments file line")):
    """A captured ``with Scope.lazy():`` body and the locals it runs with."""

    __slots__ = ()

    function: Callable[..., Any]
    arguments: dict[str, Any]
    file: str
    line: int

    def run(self) -> None:
        self.function(**self.arguments)


class _SkipBlock(Exception):
    """Internal signal that skips a lazy block's body during the normal phase."""


def _ignore_events(frame: Any, event: str, arg: Any) -> None:
    return None


class LazyBlock:
    """The context manager returned by :meth:`ato.scope.Scope.lazy`."""

    def __init__(self) -> None:
        self._frame: Any = None
        self._saved: tuple[Any, Any] = (None, None)

    def __enter__(self) -> LazyBlock:
        sink = _CAPTURE.get()
        if sink is None:
            return self
        frame = sys._getframe(1)
        block, first, last = capture(frame)
        sink.append(block)
        self._frame = frame
        self._saved = (sys.gettrace(), frame.f_trace)

        def skip(f: Any, event: str, arg: Any) -> Any:
            if event == "line" and first <= f.f_lineno <= last:
                raise _SkipBlock
            return skip

        sys.settrace(_ignore_events)
        frame.f_trace = skip
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if self._frame is None:
            return False
        global_trace, frame_trace = self._saved
        self._frame.f_trace = frame_trace
        sys.settrace(global_trace)
        self._frame = None
        return exc_type is _SkipBlock


def open_capture(sink: list[DeferredBlock]) -> Any:
    """Start capturing lazy blocks into ``sink``; returns the token for :func:`close_capture`."""
    return _CAPTURE.set(sink)


def close_capture(token: Any) -> None:
    _CAPTURE.reset(token)


def capture(frame: Any) -> tuple[DeferredBlock, int, int]:
    """Build the deferred block for the ``with`` statement the frame is executing.

    Returns the block and the first/last line of its body.

    Raises:
        LazyBlockError: the source file is unavailable or the body shares the ``with`` line.
    """
    import keyword
    import types

    filename = frame.f_code.co_filename
    node = _find_with(filename, frame.f_lineno, frame.f_globals)
    first, last = node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno
    if first == node.lineno:
        raise LazyBlockError(
            f"{filename}:{node.lineno}: put the body of 'with Scope.lazy():' on its own lines"
        )
    names = tuple(n for n in frame.f_locals if n.isidentifier() and not keyword.iskeyword(n))
    code = _compile(filename, node, names)
    function = types.FunctionType(code, frame.f_globals, _BLOCK_NAME)
    arguments = {n: frame.f_locals[n] for n in names}
    return DeferredBlock(function, arguments, filename, node.lineno), first, last


def _find_with(filename: str, lineno: int, module_globals: dict) -> ast.With:
    import ast
    import linecache

    lines = linecache.getlines(filename, module_globals)
    if not lines:
        raise LazyBlockError(
            f"cannot read the source of {filename} to defer the 'with Scope.lazy():' block at "
            f"line {lineno}; lazy blocks need a source file. Use @scope.observe(lazy=True) instead"
        )
    tree = ast.parse("".join(lines), filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
            item.context_expr.lineno <= lineno <= (item.context_expr.end_lineno or lineno)
            for item in node.items
        ):
            return node
    raise LazyBlockError(
        f"{filename}:{lineno}: no 'with Scope.lazy():' statement found at this line; "
        "the file may have changed since it was imported"
    )


def _compile(filename: str, node: ast.With, names: tuple[str, ...]) -> types.CodeType:
    import ast
    import copy
    import linecache
    import types

    key = (filename, node.lineno, names, len(linecache.getlines(filename)))
    cached = _compiled.get(key)
    if cached is not None:
        return cached
    params = f"*, {', '.join(names)}" if names else ""
    module = ast.parse(f"def {_BLOCK_NAME}({params}):\n    pass\n")
    function_def = module.body[0]
    assert isinstance(function_def, ast.FunctionDef)
    function_def.body = copy.deepcopy(node.body)
    ast.fix_missing_locations(module)
    module_code = compile(module, filename, "exec")
    code = next(
        c
        for c in module_code.co_consts
        if isinstance(c, types.CodeType) and c.co_name == _BLOCK_NAME
    )
    _compiled[key] = code
    return code
