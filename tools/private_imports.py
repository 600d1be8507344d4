"""No package imports a private module of ato-tracker.

The rule (one, applied everywhere): the public modules of ato-tracker are the ones listed in
``PUBLIC_TRACKER_MODULES``; every other module under ``ato.tracker`` (its rooms ``storage``,
``write``, ``read`` and everything in them, the CLI's and the importers' inner modules) is
private to the ato-tracker distribution. A public module's public names are its ``__all__``.

Checked: the sources of the other packages (``packages/*/src`` except ato-tracker's own, which
also holds ``ato.db_routers``) and ``examples/``. Tests (``packages/*/tests*``,
``integration_tests/``) and ``benchmarks/`` may import private modules: they test and measure
the internals. Every ``import`` counts, also those inside functions. Nothing is imported; the
files are parsed.

Run by ``nox -s lint``. Before checking, it makes sure it finds a private import at all, on a
small file it writes, so a broken checker fails instead of passing.

Usage: python tools/private_imports.py
"""

from __future__ import annotations

import ast
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRACKER_SRC = ROOT / "packages/ato-tracker/src"

#: The public modules of ato-tracker; the rest of ``ato.tracker`` is private to it.
PUBLIC_TRACKER_MODULES = frozenset(
    {
        "ato.tracker",  # SQLLogger, SQLFinder, Database, RunStatus, results, errors: its __all__
        "ato.tracker.answers",  # the search-answer rule (documented on the API pages)
        "ato.tracker.migrate",  # ato db upgrade / current / history as functions
        "ato.tracker.errors",  # every exception (also exported by ato.tracker)
        "ato.tracker.importers",  # from_optuna, from_mlflow, from_tensorboard
        "ato.tracker.hydra",  # the Hydra callback (named in Hydra configs)
        "ato.tracker.cli",  # main(): the ``ato`` command's tracker subcommands
        "ato.tracker.search_runs",  # the search-run contract: tags built and parsed
        "ato.tracker.search_jobs",  # the job queue of shared-database searches
        "ato.tracker.testing",  # the pytest plugin: database fixtures
        "ato.tracker.integrations",  # framework integrations, one module each
        "ato.tracker.integrations.lightning",
        "ato.tracker.integrations.transformers",
        "ato.tracker.integrations.keras",
        "ato.tracker.integrations.xgboost",
        "ato.tracker.integrations.lightgbm",
        "ato.tracker.integrations.optuna",
    }
)

# Private imports tolerated for now (file relative to the repository root -> the private
# modules it imports); none since the dashboard reads through the public read API (issue 23).
KNOWN_EXCEPTIONS: dict[str, frozenset[str]] = {}


def checked_files() -> list[pathlib.Path]:
    """The files the rule applies to: other packages' sources and the examples."""
    files = [
        path
        for src in sorted(ROOT.glob("packages/*/src"))
        if src != TRACKER_SRC
        for path in sorted(src.rglob("*.py"))
    ]
    return files + sorted((ROOT / "examples").rglob("*.py"))


def tracker_modules(src: pathlib.Path = TRACKER_SRC) -> set[str]:
    """Every module name of the ``ato.tracker`` package, read from its source folder."""
    names = set()
    for path in (src / "ato" / "tracker").rglob("*.py"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join(parts))
    return names


def imported_modules(source: str, modules: set[str]) -> set[str]:
    """The ``ato.tracker`` modules ``source`` imports (``from P import m`` counts as ``P.m``
    when ``m`` is a module, and as ``P`` when some name is not)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ato.tracker"))
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if not (node.module == "ato.tracker" or node.module.startswith("ato.tracker.")):
                continue
            submodules = {f"{node.module}.{a.name}" for a in node.names} & modules
            found.update(submodules)
            if len(submodules) < len(node.names):  # some names are defined in the module
                found.add(node.module)
    return found


def violations(
    files: list[pathlib.Path], modules: set[str], exceptions: dict[str, frozenset[str]]
) -> list[str]:
    """One line per private tracker module a file imports that its exceptions do not list,
    and per listed exception that is no longer needed (so the list only shrinks)."""
    out = []
    for path in files:
        name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        private = {
            m
            for m in imported_modules(path.read_text(encoding="utf-8"), modules)
            if m not in PUBLIC_TRACKER_MODULES
        }
        allowed = exceptions.get(name, frozenset())
        out += [f"{name}: imports the private module {m}" for m in sorted(private - allowed)]
        out += [
            f"{name}: no longer imports {m}; delete it from KNOWN_EXCEPTIONS"
            for m in sorted(allowed - private)
        ]
    return out


def self_check() -> None:
    """The checker must flag a private import inside a function, pass a public one, and
    flag a stale exception.

    Raises:
        SystemExit: it does not (the checker itself is broken).
    """
    modules = {"ato.tracker", "ato.tracker.read", "ato.tracker.read.series"}
    with tempfile.TemporaryDirectory() as tmp:
        bad = pathlib.Path(tmp) / "bad.py"
        bad.write_text("def f():\n    from ato.tracker.read import series, x\n")
        good = pathlib.Path(tmp) / "good.py"
        good.write_text("from ato.tracker import SQLFinder\n")
        got = violations([bad, good], modules, {str(good): frozenset({"ato.tracker.read"})})
    want = [
        f"{bad}: imports the private module ato.tracker.read",
        f"{bad}: imports the private module ato.tracker.read.series",
        f"{good}: no longer imports ato.tracker.read; delete it from KNOWN_EXCEPTIONS",
    ]
    if got != want:
        raise SystemExit(f"private_imports.py is broken: found {got}, expected {want}")


def main() -> int:
    self_check()
    modules = tracker_modules()
    missing = PUBLIC_TRACKER_MODULES - modules
    if missing:
        print(f"PUBLIC_TRACKER_MODULES names modules that do not exist: {sorted(missing)}")
        return 1
    found = violations(checked_files(), modules, KNOWN_EXCEPTIONS)
    for line in found:
        print(line)
    if not found:
        known = sum(len(v) for v in KNOWN_EXCEPTIONS.values())
        print(f"no private ato.tracker import outside ato-tracker ({known} known exceptions)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
