"""Code fingerprints: static (normalized source) and runtime (hash of a function's output).

Static algorithm: the function's source (`inspect.getsource`, dedented) is parsed with
`ast`; then decorators of the traced function are dropped, docstrings are dropped, every
run of consecutive ``import``/``from ... import`` statements is sorted, and dict literals whose
keys are all constants are sorted by key. The result is dumped with ``ast.dump`` without line
and column attributes and hashed with SHA-256. Comments, blank lines, formatting, docstrings,
import order and dict-literal order therefore do not change the fingerprint; any change to the
code's syntax tree (names, constants, statements) does.

Runtime algorithm: SHA-256 of ``pickle.dumps(output, protocol=4)``; when the output cannot be
pickled, SHA-256 of its ``repr()``. Equal outputs of picklable, deterministic types give equal
fingerprints across processes (note: ``set`` iteration order, and thus its pickle, varies with
hash randomization for strings; inspect such outputs into a sorted list first).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable

from .errors import TraceError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast
    from typing import Any


class Fingerprint(namedtuple("Fingerprint", "kind digest")):
    """``(kind, digest)``: kind is ``'static'`` or ``'runtime'``, digest a SHA-256 hex string."""

    __slots__ = ()

    kind: str
    digest: str


def static_fingerprint(fn: Callable[..., Any]) -> str:
    """SHA-256 hex digest of ``fn``'s normalized source (see the module docstring).

    Raises:
        TraceError: ``fn`` has no Python source (builtins, code typed in a bare REPL).
    """
    import inspect
    import textwrap

    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise TraceError(
            f"cannot read the source of {fn!r} to fingerprint it ({exc}); trace functions "
            "defined in a file or notebook cell"
        ) from None
    import hashlib

    return hashlib.sha256(normalized_dump(source).encode("utf-8")).hexdigest()


def normalized_dump(source: str) -> str:
    """The normalized ``ast.dump`` of ``source`` that `static_fingerprint` hashes."""
    import ast

    from .syntax import parse_module

    tree = parse_module(source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            node.decorator_list = []
    tree = _normalizer()().visit(tree)
    return ast.dump(tree, include_attributes=False)


_NORMALIZER: list[type] = []


def _normalizer() -> type:
    """The AST transformer class (built on first use so importing ato.scope skips ``ast``)."""
    import ast

    if not _NORMALIZER:

        class Normalizer(ast.NodeTransformer):
            generic_visit = _generic_visit
            visit_Dict = _visit_dict  # noqa: N815 - the name NodeTransformer dispatches on

        _NORMALIZER.append(Normalizer)
    return _NORMALIZER[0]


def _generic_visit(self: Any, node: ast.AST) -> ast.AST:
    import ast

    ast.NodeTransformer.generic_visit(self, node)
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and all(isinstance(s, ast.stmt) for s in body):
        # ``body`` was found with getattr above; ast.AST itself declares no such attribute.
        node.body = _sort_imports(_drop_docstring(node, body))  # type: ignore[attr-defined]
    return node


def _visit_dict(self: Any, node: ast.Dict) -> ast.AST:
    import ast

    self.generic_visit(node)
    if node.keys and all(isinstance(k, ast.Constant) for k in node.keys):
        pairs = sorted(
            zip(node.keys, node.values, strict=True),
            # keys were checked to be ast.Constant just above; typeshed says ``expr | None``
            key=lambda kv: (type(kv[0].value).__name__, repr(kv[0].value)),  # type: ignore[union-attr]
        )
        node.keys = [k for k, _ in pairs]
        node.values = [v for _, v in pairs]
    return node


def _drop_docstring(node: ast.AST, body: list[ast.stmt]) -> list[ast.stmt]:
    import ast

    if not isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return body
    first = body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return body[1:] or [ast.Pass()]
    return body


def _sort_imports(body: list[ast.stmt]) -> list[ast.stmt]:
    import ast

    out: list[ast.stmt] = []
    run: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            stmt.names.sort(key=lambda alias: (alias.name, alias.asname or ""))
            run.append(stmt)
            continue
        out.extend(sorted(run, key=ast.dump))
        run = []
        out.append(stmt)
    out.extend(sorted(run, key=ast.dump))
    return out


def runtime_fingerprint(output: Any) -> str:
    """SHA-256 hex digest of ``output`` (pickle protocol 4, else ``repr``)."""
    import pickle

    try:
        data = pickle.dumps(output, protocol=4)
    except Exception:  # unpicklable objects: fall back to their text form
        data = repr(output).encode("utf-8", "backslashreplace")
    import hashlib

    return hashlib.sha256(data).hexdigest()
