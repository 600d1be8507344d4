"""Every use of Python's ``ast`` parser and compiler in ato.scope, under one lock.

CPython 3.11 keeps the recursion depth of the syntax-tree constructor in state shared by all
threads, so two threads inside ``ast.parse`` (or ``ast.literal_eval``, or ``compile`` of a
tree) at once can fail with ``SystemError: AST constructor recursion depth mismatch``
(CPython gh-106905). Scopes built in several threads parse command-line values, lazy blocks
and traced functions, so ato.scope does all of it through these functions, which hold one
process-wide lock; other Pythons pay only for an uncontended lock. The results that are
costly to compute (the ``with`` statement of a lazy block, its compiled code) are cached by
their callers, so the lock is rarely held long. Code outside ato.scope that calls ``ast``
in other threads at the same time is not covered by the lock.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast
    import types
    from typing import Any

_LOCK = threading.Lock()


def parse_module(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse(source, filename)`` under the lock.

    Raises:
        SyntaxError, ValueError: as ``ast.parse``.
    """
    import ast

    with _LOCK:
        return ast.parse(source, filename)


def parse_expression(text: str) -> ast.Expression:
    """``ast.parse(text, mode='eval')`` under the lock.

    Raises:
        SyntaxError, ValueError, MemoryError, RecursionError: as ``ast.parse``.
    """
    import ast

    with _LOCK:
        return ast.parse(text, mode="eval")


def literal(text: str) -> Any:
    """``ast.literal_eval(text)`` under the lock (never executes anything).

    Raises:
        ValueError, TypeError, SyntaxError, MemoryError, RecursionError: as
        ``ast.literal_eval`` for text that is not a literal.
    """
    import ast

    with _LOCK:
        return ast.literal_eval(text)


def compile_tree(tree: ast.Module, filename: str) -> types.CodeType:
    """``compile(tree, filename, 'exec')`` of a module's syntax tree, under the lock.

    Raises:
        SyntaxError: as ``compile``.
    """
    with _LOCK:
        return compile(tree, filename, "exec")
