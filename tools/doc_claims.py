"""No table in the README or the docs calls a feature missing that ato's public API provides.

Each `Claim` names a feature, the public names that provide it (checked against the installed
packages: every name must import, and a ``Name(param)`` must take that parameter) and what a
table says when it denies the feature. Every Markdown table of README.md, docs/ and the
packages' READMEs is read row by row: a row whose first cell matches a claim's ``label`` and
whose ato text matches its ``denial`` (and not its ``unless``) fails the check. The ato text is
the cell under a header ``ato`` (the comparison tables), else the whole row (tables about ato
itself). When a feature goes away, the claim fails first: remove it together with the feature.

Run by ``nox -s docs`` (the libraries installed). Before the pages it checks itself on the
rows that were wrong in the docs of 2026-12 (Web UI "no", the search "over a grid", "one
bracket"), so a broken checker fails instead of passing.

Usage: python tools/doc_claims.py [FILE.md ...]
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import re
import sys
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = ["README.md", "docs/*.md", "packages/*/README.md"]


@dataclass(frozen=True)
class Claim:
    """``feature`` is provided by ``names``; a table row about it (first cell matching
    ``label``) denies it when its ato text matches ``denial`` but not ``unless``."""

    feature: str
    names: tuple[str, ...]
    label: str
    denial: str
    unless: str = r"(?!)"


SEARCH_ROWS = r"algorithm|sampl|schedul|search|hyperopt"
CLAIMS = [
    Claim(
        "a web UI",
        ("ato.dashboard.create_app", "ato.dashboard.cli.main"),
        label=r"web ui|\bui\b|dashboard",
        denial=r"^\W*no\b|\bnone\b|terminal only",
    ),
    Claim(
        "sampling beyond a grid",
        ("ato.hyperopt.RandomSampler", "ato.hyperopt.OptunaSampler"),
        label=SEARCH_ROWS,
        denial=r"\bover a grid\b|\bgrid only\b|\bonly (over )?(a|the) grid\b",
        unless=r"\brandom\b|optuna",
    ),
    Claim(
        "Hyperband with every bracket",
        ("ato.hyperopt.HyperbandSchedule",),
        label=SEARCH_ROWS,
        denial=r"\b(one|single) bracket\b",
        unless=r"HyperbandSchedule|\b(every|all|several) brackets\b",
    ),
    Claim(
        "asynchronous successive halving (ASHA)",
        ("ato.hyperopt.ASHASchedule",),
        label=SEARCH_ROWS,
        denial=r"\b(no|without) (asha|asynchronous)\b|\bsynchronous only\b",
    ),
    Claim(
        "continuing a promoted trial from its checkpoint",
        ("ato.hyperopt.trial_context", "ato.hyperopt.TrialContext"),
        label=r"budget|checkpoint|continu|fidelity",
        denial=r"\bretrain(s|ed)? from scratch\b|\bno checkpoint",
    ),
    Claim(
        "resuming an interrupted search",
        ("ato.hyperopt.Search(resume)", "ato.hyperopt.Search(search_id)"),
        label=r"resum",
        denial=r"^\W*no\b|not supported",
    ),
    Claim(
        "time limits for trials and searches",
        ("ato.hyperopt.Search(trial_timeout)", "ato.hyperopt.Search(timeout)"),
        label=r"time ?limit|timeout",
        denial=r"^\W*no\b|not supported",
    ),
    Claim(
        "distributed search",
        ("ato.hyperopt.TorchDistributedExecutor", "ato.hyperopt.DistributedHyperBand"),
        label=r"distributed|parallel",
        denial=r"^\W*no\b|not supported|one process only",
    ),
    Claim(
        "per-key provenance of config values",
        ("ato.scope.Scope.provenance",),
        label=r"provenance|history|which source",
        denial=r"^\W*no\b",
    ),
]

# Rows of the docs of 2026-12-06 that denied what the API provided, and rows that do not.
FALSE_ROWS = """\
| | ato | MLflow |
|---|---|---|
| Web UI | no (terminal tables with `ato runs ...`) | yes |
| Algorithms | successive halving over a grid (one bracket of Hyperband; `HyperBand` is the class's name) | TPE |

| distribution | import | what it does | guide |
|---|---|---|---|
| `ato-hyperopt` | `ato.hyperopt` | successive halving / Hyperband over a grid, in one process or over `torch.distributed` | x |
"""
TRUE_ROWS = """\
| | ato | MLflow |
|---|---|---|
| Web UI | `ato dashboard`: a local page | yes |
| Server needed | no | no for local use; yes for a shared UI |
| Samplers | grid, random or Optuna sampling | TPE |
| Schedules | one successive-halving bracket, Hyperband (`HyperbandSchedule`), ASHA | pruners |
"""


def resolve(name: str) -> str | None:
    """None if the installed API provides ``name`` (``pkg.mod.Attr`` or ``pkg.mod.Callable(param)``),
    else why not."""
    match = re.fullmatch(r"([\w.]+?)(?:\((\w+)\))?", name)
    if match is None:
        return f"{name!r} is not a dotted name"
    path, param = match.groups()
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                target = getattr(target, attr)
        except AttributeError:
            return f"{path} does not exist"
        if param and param not in inspect.signature(target).parameters:
            return f"{path} takes no parameter {param!r}"
        return None
    return f"no module of {path} imports"


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table line; a ``|`` inside backticks does not split."""
    cells, cell, code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            code = not code
        if char == "|" and not code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
    return [*cells, cell.strip()]


def tables(text: str) -> list[tuple[int, list[str], list[list[str]]]]:
    """``(line of the header, header cells, [(line, cells) ...])`` of every table in ``text``."""
    found: list = []
    lines = text.splitlines()
    number = 0
    while number < len(lines) - 1:
        is_table = lines[number].lstrip().startswith("|")
        if is_table and re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", lines[number + 1]):
            header, rows, row = split_row(lines[number]), [], number + 2
            while row < len(lines) and lines[row].lstrip().startswith("|"):
                rows.append((row + 1, split_row(lines[row])))
                row += 1
            found.append((number + 1, header, rows))
            number = row
        else:
            number += 1
    return found


def denials(text: str) -> list[tuple[int, Claim, str]]:
    """``(line, claim, ato text)`` of every table row of ``text`` that denies a claimed feature."""
    out = []
    for _, header, rows in tables(text):
        column = header.index("ato") if "ato" in header else None
        for line, cells in rows:
            said = cells[column] if column is not None and column < len(cells) else " ".join(cells)
            out += [
                (line, claim, said)
                for claim in CLAIMS
                if re.search(claim.label, cells[0], re.I)
                and re.search(claim.denial, said, re.I)
                and not re.search(claim.unless, said, re.I)
            ]
    return out


def self_check() -> None:
    """Each wrong row of ``FALSE_ROWS`` is caught (four denials: the web UI, "over a grid"
    and "one bracket" in one row, "over a grid" in another) and no row of ``TRUE_ROWS`` is.

    Raises:
        SystemExit: it is not (the checker itself is broken).
    """
    caught = [(line, claim.feature) for line, claim, _ in denials(FALSE_ROWS)]
    expected = [
        (3, "a web UI"),
        (4, "sampling beyond a grid"),
        (4, "Hyperband with every bracket"),
        (8, "sampling beyond a grid"),
    ]
    if caught != expected:
        raise SystemExit(f"doc_claims.py is broken: caught {caught}, expected {expected}")
    wrongly = [(line, claim.feature) for line, claim, _ in denials(TRUE_ROWS)]
    if wrongly:
        raise SystemExit(f"doc_claims.py is broken: it flags true rows {wrongly}")


def main(argv: list[str]) -> int:
    self_check()
    problems = [
        f"claim {claim.feature!r}: {why}; fix the claim in tools/doc_claims.py"
        for claim in CLAIMS
        for why in filter(None, map(resolve, claim.names))
    ]
    pages = [pathlib.Path(a) for a in argv] or sorted(
        {p for pattern in PAGES for p in ROOT.glob(pattern)}
    )
    for page in pages:
        shown = page.relative_to(ROOT) if page.is_relative_to(ROOT) else page
        problems += [
            f"{shown}:{line}: this row says ato lacks {claim.feature}, but "
            f"{', '.join(claim.names)} provide it: {said[:100]!r}"
            for line, claim, said in denials(page.read_text(encoding="utf-8"))
        ]
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{len(CLAIMS)} feature claims hold in {len(pages)} pages")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
