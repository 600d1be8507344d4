"""Mutation testing of ato's core modules with mutmut, one package at a time.

Run through nox (``nox -s mutation``, or ``nox -s mutation -- tracker`` for one package); the
session installs the package, its ato dependencies, its test tools and mutmut, then calls::

    python mutation/run.py PACKAGE_DIR MODULE [MODULE ...]

For each package the script copies the package to a scratch folder (mutmut rewrites sources in
a ``mutants/`` folder beside them), runs ``mutmut run`` over the named modules with the package's
own tests, and prints per module: mutants tried, killed, survived, accepted as equivalent, and the
score ``(killed + accepted) / tried``. Surviving mutants that are not listed in
``mutation/accepted.toml`` are printed with their diff, so a re-run shows only news. The exit
status is 1 when any module scores under ``--threshold`` (default 90%).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

HERE = Path(__file__).parent
ACCEPTED_FILE = HERE / "accepted.toml"
KILLED = {"killed", "timeout", "segfault"}  # a crash or a hang is a mutant the tests noticed
PYTEST_ARGS = ["-q", "-x", "-p", "no:cacheprovider", "--import-mode=importlib"]
RESULT_LINE = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+)$")


@dataclass
class ModuleScore:
    """Mutant counts for one source module."""

    module: str
    statuses: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return sum(self.statuses.values())

    @property
    def killed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in KILLED)

    @property
    def score(self) -> float:
        return (self.killed + len(self.accepted)) / self.tried if self.tried else 0.0


def load_accepted() -> dict[str, str]:
    """Accepted equivalent mutants: ``{mutant name: reason}`` from ``accepted.toml``."""
    if not ACCEPTED_FILE.exists():
        return {}
    data = tomllib.loads(ACCEPTED_FILE.read_text(encoding="utf-8"))
    return {name: str(reason) for name, reason in data.get("equivalent", {}).items()}


def module_of(mutant: str) -> str:
    """``ato.adict.core.xǁADictǁget__mutmut_3`` -> ``ato.adict.core``."""
    parts = mutant.split(".")
    return ".".join(p for p in parts[:-1]) if len(parts) > 1 else mutant


def configure(workdir: Path, modules: list[str]) -> None:
    """Append a ``[tool.mutmut]`` table naming the modules to the copied pyproject."""
    listed = ", ".join(f'"{m}"' for m in modules)
    args = ", ".join(f'"{a}"' for a in PYTEST_ARGS)
    with (workdir / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write(f"\n[tool.mutmut]\nonly_mutate = [{listed}]\npytest_add_cli_args = [{args}]\n")


def run_mutmut(workdir: Path, jobs: int) -> None:
    """Run every mutant; mutmut's progress line is noisy, so only its tail is shown."""
    proc = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    tail = proc.stdout.replace("\r", "\n").strip().splitlines()[-2:]
    print("\n".join(tail))
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        raise SystemExit(f"mutmut failed in {workdir} (exit {proc.returncode})")


def collect(workdir: Path, accepted: dict[str, str]) -> dict[str, ModuleScore]:
    """Per-module counts from ``mutmut results --all true``."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    scores: dict[str, ModuleScore] = {}
    for line in out.splitlines():
        match = RESULT_LINE.match(line)
        if not match:
            continue
        name, status = match["name"], match["status"].strip()
        entry = scores.setdefault(module_of(name), ModuleScore(module_of(name)))
        entry.statuses[status] += 1
        if status not in KILLED:
            (entry.accepted if name in accepted else entry.survivors).append(name)
    return scores


def show(workdir: Path, mutant: str) -> str:
    """The diff of one mutant, as mutmut prints it."""
    return subprocess.run(
        [sys.executable, "-m", "mutmut", "show", mutant],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def report(scores: dict[str, ModuleScore], workdir: Path, threshold: float) -> bool:
    """Print the table and the new survivors; True when every module meets the threshold."""
    print(
        f"\n{'module':<32} {'tried':>6} {'killed':>7} {'accepted':>9} {'survived':>9} {'score':>7}"
    )
    ok = True
    for entry in sorted(scores.values(), key=lambda e: e.module):
        print(
            f"{entry.module:<32} {entry.tried:>6} {entry.killed:>7} {len(entry.accepted):>9} "
            f"{len(entry.survivors):>9} {entry.score:>6.1%}"
        )
        ok = ok and entry.score >= threshold
    for entry in scores.values():
        for mutant in entry.survivors:
            print(f"\n--- surviving mutant (not in mutation/accepted.toml): {mutant}")
            print(show(workdir, mutant))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package_dir", type=Path, help="e.g. packages/ato-adict")
    parser.add_argument(
        "modules", nargs="+", help="source paths inside the package, e.g. src/ato/adict/core.py"
    )
    parser.add_argument("--threshold", type=float, default=0.90)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ato-mutation-")) / args.package_dir.name
    shutil.copytree(
        args.package_dir, workdir, ignore=shutil.ignore_patterns("mutants", "__pycache__")
    )
    configure(workdir, args.modules)
    run_mutmut(workdir, args.jobs)
    ok = report(collect(workdir, load_accepted()), workdir, args.threshold)
    print(f"\nmutants kept in {workdir / 'mutants'} (inspect with `mutmut show NAME` there)")
    print(f"MUTATION RESULT: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
