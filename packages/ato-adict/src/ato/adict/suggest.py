""" "Did you mean" hints for mistyped names: config keys, view names, settings, metric and
project names. The one implementation every ato package uses.

Algorithm, best suggestions first:

1. names equal to the word once both are *folded*: lower-cased, with every run of ``_``,
   ``-``, ``/``, ``.``, ``:`` and spaces made one ``_`` (``val_acc`` finds ``val/acc``,
   ``Train-Loss`` finds ``train/loss``);
2. names whose last segment (after ``.`` or ``/``) equals the word's last segment, ignoring
   case (``lr`` finds ``optim.lr``);
3. names whose folded spelling is similar: ``difflib.get_close_matches`` (Ratcliff/Obershelp
   ratio, 0..1, at least ``cutoff``) on the folded names.

The word itself and non-string candidates are never suggested.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s_\-/.:]+")
_SEGMENT = re.compile(r"[/.]")


def fold(name: str) -> str:
    """``name`` lower-cased with every run of separators replaced by a single ``_``."""
    return _SEPARATORS.sub("_", name.strip().lower())


def close_matches(
    word: object, candidates: Iterable[object], cutoff: float = 0.6, n: int = 3
) -> list[str]:
    """Up to ``n`` string ``candidates`` close to ``word``, best first (module docstring).

    Args:
        word: the mistyped name (converted with ``str``).
        candidates: the names that exist, in any order; duplicates are ignored.
        cutoff: the least similarity ratio (0..1) of a spelling suggestion (step 3).
        n: the most suggestions returned.
    """
    import difflib

    text = str(word)
    names = [c for c in dict.fromkeys(candidates) if isinstance(c, str) and c != text]
    folded: dict[str, list[str]] = {}
    for name in names:
        folded.setdefault(fold(name), []).append(name)
    target = fold(text)
    leaf = _SEGMENT.split(text)[-1].lower()
    same_leaf = [c for c in names if _SEGMENT.split(c)[-1].lower() == leaf]
    similar = [
        name
        for match in difflib.get_close_matches(target, list(folded), n=n, cutoff=cutoff)
        for name in folded[match]
    ]
    return list(dict.fromkeys(folded.get(target, []) + same_leaf + similar))[:n]


def did_you_mean(
    word: object, candidates: Iterable[object], cutoff: float = 0.6, n: int = 3
) -> str:
    """``" Did you mean 'a', 'b'?"`` (with a leading space, to end a message) for the
    `close_matches` of ``word``, or ``""`` when nothing is close."""
    close = close_matches(word, candidates, cutoff, n)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
