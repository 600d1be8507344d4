"""Did-you-mean hints for mistyped project, run, metric and param names: the shared
algorithm of `ato.adict.suggest` (``val_acc`` finds ``val/acc``, ``Train-Loss`` finds
``train/loss``), ending with the known names when nothing is close."""

from __future__ import annotations

from collections.abc import Iterable

from ato.adict.suggest import close_matches, did_you_mean, fold

__all__ = ["SHOWN", "close_names", "fold", "hint"]

SHOWN = 12


def close_names(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` candidates close to ``word``, best first
    (`ato.adict.suggest.close_matches`)."""
    return close_matches(word, candidates, n=limit)


def hint(word: str, candidates: Iterable[str], what: str) -> str:
    """The end of a not-found message: ``" Did you mean 'a'?"`` when something is close,
    else the known ``what`` (e.g. ``'metrics'``), at most 12 of them, or that there are none."""
    names = list(dict.fromkeys(candidates))
    close = did_you_mean(word, names)
    if close:
        return close
    if not names:
        return f" There are no {what}."
    shown = ", ".join(repr(n) for n in names[:SHOWN])
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f" Known {what}: {shown}{more}."
