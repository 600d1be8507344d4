"""No import cycle among the modules of a package, and no import from a room of a package into
a later one (``ROOMS``): every ``import`` statement counts, also those inside functions (a cycle
there still ties two modules into one unit of change).

Run by ``nox -s lint`` over the packages listed in ``CHECKED`` (read from their sources; nothing
is imported). Before checking them it makes sure it finds cycles at all, on a small package it
writes with a known cycle, so a broken checker fails instead of passing.

Usage: python tools/import_cycles.py
"""

from __future__ import annotations

import ast
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Package -> its source folder: every package of the monorepo.
CHECKED = {
    "ato.adict": ROOT / "packages/ato-adict/src/ato/adict",
    "ato.scope": ROOT / "packages/ato-scope/src/ato/scope",
    "ato.tracker": ROOT / "packages/ato-tracker/src/ato/tracker",
    "ato.hyperopt": ROOT / "packages/ato-hyperopt/src/ato/hyperopt",
    "ato.dashboard": ROOT / "packages/ato-dashboard/src/ato/dashboard",
}


# Rooms of a package, lowest first: a module of a room may import its own room and the rooms
# before it, never one after it (the storage never imports the write or read path, and the
# read path never imports the write path).
ROOMS = {
    "ato.tracker": ["storage", "read", "write"],
}


def upward_imports(graph: dict[str, set[str]], package: str, rooms: list[str]) -> list[str]:
    """``'a imports b'`` for each import from a room into a later room of ``package``."""

    def room(module: str) -> int | None:
        parts = module.removeprefix(package + ".").split(".")
        return rooms.index(parts[0]) if module != package and parts[0] in rooms else None

    out = []
    for module in sorted(graph):
        here = room(module)
        for target in sorted(graph[module]):
            there = room(target)
            if here is not None and there is not None and there > here:
                out.append(f"{module} imports {target}")
    return out


def module_graph(package_dir: pathlib.Path, package: str) -> dict[str, set[str]]:
    """``{module: modules of the same package it imports}`` from the source files."""
    modules = {}
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join([package, *parts])] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def self_check() -> None:
    """The checker must find a three-module cycle, a cycle through a function-level relative
    import, and nothing in an acyclic graph.

    Raises:
        SystemExit: it does not (the checker itself is broken).
    """
    with tempfile.TemporaryDirectory() as tmp:
        pkg = pathlib.Path(tmp) / "p"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("from .a import x\n")
        (pkg / "a.py").write_text("def f():\n    from . import b\nx = 1\n")
        (pkg / "b.py").write_text("from p.a import x\n")
        found = cycles(module_graph(pkg, "p"))
    expected = [
        (cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}), [["a", "b", "c"]]),
        (cycles({"a": {"b"}, "b": set()}), []),
        (found, [["p.a", "p.b"]]),
        (
            upward_imports(
                {"p.low.a": {"p.high.b"}, "p.high.b": {"p.low.a"}}, "p", ["low", "high"]
            ),
            ["p.low.a imports p.high.b"],
        ),
    ]
    for got, want in expected:
        if got != want:
            raise SystemExit(f"import_cycles.py is broken: found {got}, expected {want}")


def main() -> int:
    self_check()
    failed = False
    for package, folder in CHECKED.items():
        graph = module_graph(folder, package)
        if len(graph) < 5:
            print(f"{package}: only {len(graph)} modules found in {folder}")
            failed = True
        for cycle in cycles(graph):
            print(f"{package}: import cycle among {', '.join(cycle)}")
            failed = True
        for line in upward_imports(graph, package, ROOMS.get(package, [])):
            print(f"{package}: {line} (rooms, lowest first: {', '.join(ROOMS[package])})")
            failed = True
    if not failed:
        print(f"no import cycle in {', '.join(CHECKED)}; rooms in order in {', '.join(ROOMS)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
