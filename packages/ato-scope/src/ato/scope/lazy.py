"""``with Scope.lazy():`` blocks: parts of a normal view deferred until after the CLI overrides.

How it works. While a scope runs its normal views it opens a *capture* (a context variable).
Entering ``Scope.lazy()`` inside a capture

1. locates the ``with`` statement in the view's source file (via `linecache` and
   `ast`), compiles its body as a function whose keyword-only parameters are the view's
   local variables at that moment (so ``config`` and any helper variables are available), and
   records it with those locals;
2. skips the body: `sys.settrace` plus a line-trace hook on the view's frame raise an
   internal signal (a ``BaseException``, so ``except Exception`` in user code never sees it) on
   the first line of the body, which ``__exit__`` swallows, so the view continues after the
   block. The trace function and the frame's own trace hook that were installed before
   ``__enter__`` (a debugger, coverage.py) are put back in ``__exit__``.

After the CLI overrides are applied, the scope calls each recorded block, which therefore sees
the command-line values. Outside a capture (e.g. when the block is already being replayed, or
in plain code) ``Scope.lazy()`` does nothing and the body runs normally.

The compiled code is the program's own source file, never command-line text. Line numbers are
kept, so tracebacks from a deferred block point at the original file and line.

Verified with CPython 3.10 to 3.13, under coverage.py (C, Python and ``sys.monitoring`` cores)
and pdb; `sys.settrace` is per thread and the capture is a context variable, so threads
building scopes at the same time do not interfere (their skips take turns, and sources are
parsed through `ato.scope.syntax`). Limits:

* the view must come from a source file (a script, a module, a notebook cell); code typed
  into a bare ``python`` prompt or run from ``.pyc`` files only raises
  [`LazyBlockError`][ato.scope.LazyBlockError];
* the body must start on its own line (not ``with Scope.lazy(): x = 1``);
* the body runs later as a function of its own: rebinding a local variable inside it does not
  affect the rest of the view (which already ran), ``return`` only ends the block, and
  ``break``/``continue`` aimed at a loop around the block, ``yield``, ``await`` and
  ``nonlocal``/``global`` of a view's local are rejected with ``LazyBlockError``;
* a bare ``except:`` or ``except BaseException:`` inside the block catches the skip signal
  during the normal phase (it would run its handler then); catch ``Exception`` instead;
* locals are captured by reference: a mutable object edited by the view after the block is
  seen edited when the block runs;
* while a view skips a block, the previous trace function is suspended for the skipped
  lines only, so a debugger does not stop there: breakpoints inside the block fire when the
  block is replayed after the CLI overrides.
"""

from __future__ import annotations

import sys
import threading
from collections import namedtuple
from collections.abc import Callable
from contextvars import ContextVar

from .errors import LazyBlockError
from .syntax import compile_tree, parse_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast
    import types
    from typing import Any

_CAPTURE: ContextVar[list[DeferredBlock] | None] = ContextVar("ato_scope_lazy", default=None)
_BLOCK_NAME = "__ato_lazy_block__"
# Held from a skip's first sys.settrace to its last (CPython itself calls it when the skip
# signal leaves the trace function): on CPython 3.10 and 3.11, a thread calling sys.settrace
# while another is inside it (running an audit hook, which may hand the GIL over) raises
# RuntimeError('Cannot install a trace function while another ... is being installed').
_TRACE_LOCK = threading.RLock()
_CO_GENERATOR = 0x20  # inspect.CO_GENERATOR, without importing inspect
_withs: dict[tuple[str, int, int], ast.With] = {}
_compiled: dict[tuple[str, int, tuple[str, ...], int], types.CodeType] = {}


class DeferredBlock(namedtuple("DeferredBlock", "function arguments file line")):
    """A captured ``with Scope.lazy():`` body and the locals it runs with."""

    __slots__ = ()

    function: Callable[..., Any]
    arguments: dict[str, Any]
    file: str
    line: int

    def run(self) -> None:
        """Run the block with the captured locals (after the command-line overrides)."""
        self.function(**self.arguments)


class _SkipBlock(BaseException):
    """Internal signal that skips a lazy block's body during the normal phase."""


def _ignore_events(frame: Any, event: str, arg: Any) -> None:
    return None


class LazyBlock:
    """The context manager returned by [`ato.scope.Scope.lazy`][ato.scope.Scope.lazy]."""

    def __init__(self) -> None:
        self._frame: Any = None
        self._saved: tuple[Any, Any, bool] = (None, None, True)

    def __enter__(self) -> LazyBlock:
        sink = _CAPTURE.get()
        if sink is None:
            return self
        frame = sys._getframe(1)
        block, first, last = capture(frame)
        sink.append(block)
        self._frame = frame
        self._saved = (sys.gettrace(), frame.f_trace, frame.f_trace_lines)

        from opcode import opmap

        code, nop = frame.f_code.co_code, opmap["NOP"]

        def skip(f: Any, event: str, arg: Any) -> Any:
            # a NOP (e.g. the line of a leading 'try:') lies outside the with's exception
            # handler on CPython 3.11+, and running it is harmless: wait for the next line
            if event == "line" and first <= f.f_lineno <= last and code[f.f_lasti] != nop:
                raise _SkipBlock
            return skip

        _TRACE_LOCK.acquire()  # released by __exit__, after the skip
        try:
            sys.settrace(_ignore_events)
        except BaseException:
            _TRACE_LOCK.release()
            raise
        frame.f_trace_lines = True
        frame.f_trace = skip
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if self._frame is None:
            return False
        global_trace, frame_trace, trace_lines = self._saved
        self._frame.f_trace = frame_trace
        self._frame.f_trace_lines = trace_lines
        try:
            sys.settrace(global_trace)
        finally:
            self._frame = None
            _TRACE_LOCK.release()
        return exc_type is _SkipBlock


def open_capture(sink: list[DeferredBlock]) -> Any:
    """Start capturing lazy blocks into ``sink``; returns the token for `close_capture`."""
    return _CAPTURE.set(sink)


def close_capture(token: Any) -> None:
    """End the capture started by `open_capture` (restores the enclosing one)."""
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


def _find_with(filename: str, lineno: int, module_globals: dict[str, Any]) -> ast.With:
    import ast
    import linecache

    lines = linecache.getlines(filename, module_globals)
    if not lines:
        raise LazyBlockError(
            f"cannot read the source of {filename} to defer the 'with Scope.lazy():' block at "
            f"line {lineno}; lazy blocks need a source file. Use @scope.observe(lazy=True) instead"
        )
    key = (filename, lineno, len(lines))
    found = _withs.get(key)
    if found is not None:
        return found
    tree = parse_module("".join(lines), filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
            item.context_expr.lineno <= lineno <= (item.context_expr.end_lineno or lineno)
            for item in node.items
        ):
            _withs[key] = node
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
    module = parse_module(f"def {_BLOCK_NAME}({params}):\n    pass\n")
    function_def = module.body[0]
    assert isinstance(function_def, ast.FunctionDef)  # noqa: S101 - invariant, narrows the type
    function_def.body = copy.deepcopy(node.body)
    ast.fix_missing_locations(module)
    try:
        module_code = compile_tree(module, filename)
    except SyntaxError as exc:
        raise LazyBlockError(
            f"{filename}:{exc.lineno or node.lineno}: the 'with Scope.lazy():' block cannot run "
            f"on its own after the command line ({exc.msg}); keep break/continue/yield and "
            "nonlocal/global statements outside the block"
        ) from None
    code = next(
        c
        for c in module_code.co_consts
        if isinstance(c, types.CodeType) and c.co_name == _BLOCK_NAME
    )
    if code.co_flags & _CO_GENERATOR:
        raise LazyBlockError(
            f"{filename}:{node.lineno}: a 'with Scope.lazy():' block cannot contain 'yield': "
            "it runs later as a plain function; move the yield outside the block"
        )
    _compiled[key] = code
    return code
