"""Did-you-mean hints for mistyped project, run, metric and param names.

Names are compared after folding case and treating ``_``, ``-``, ``/``, ``.``, ``:`` and
spaces as one separator, so ``val_acc`` finds ``val/acc`` and ``Train-Loss`` finds
``train/loss``; remaining near misses use ``difflib.get_close_matches`` (Ratcliff/Obershelp
ratio >= 0.6) on the folded names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s_\-/.:]+")
SHOWN = 12


def fold(name: str) -> str:
    """``name`` lower-cased with every run of separators replaced by a single ``_``."""
    return _SEPARATORS.sub("_", name.strip().lower())


def close_names(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` candidates close to ``word``, best first: equal after ``fold``,
    then the same last segment (``lr`` -> ``optim.lr``), then similar spellings."""
    names = list(dict.fromkeys(candidates))
    folded: dict[str, list[str]] = {}
    for name in names:
        folded.setdefault(fold(name), []).append(name)
    target = fold(word)
    exact = folded.get(target, [])
    same_leaf = [n for n in names if re.split(r"[/.]", n)[-1].lower() == word.lower()]
    similar = [
        name
        for match in difflib.get_close_matches(target, list(folded), n=limit, cutoff=0.6)
        for name in folded[match]
    ]
    found = [n for n in dict.fromkeys(exact + same_leaf + similar) if n != word]
    return found[:limit]


def hint(word: str, candidates: Iterable[str], what: str) -> str:
    """The end of a not-found message: ``" Did you mean 'a'?"`` when something is close,
    else the known ``what`` (e.g. ``'metrics'``), at most 12 of them, or that there are none."""
    names = list(dict.fromkeys(candidates))
    close = close_names(word, names)
    if close:
        return f" Did you mean {', '.join(repr(c) for c in close)}?"
    if not names:
        return f" There are no {what}."
    shown = ", ".join(repr(n) for n in names[:SHOWN])
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f" Known {what}: {shown}{more}."
