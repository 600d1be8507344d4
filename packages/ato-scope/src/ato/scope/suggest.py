""" "Did you mean" hints for mistyped view names and config keys."""

from __future__ import annotations

from collections.abc import Iterable


def close_names(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> list[str]:
    """Up to three candidates similar to ``word``, best first.

    Similarity is `difflib.get_close_matches` (Ratcliff/Obershelp ratio ≥ ``cutoff``,
    0..1). For dotted keys, candidates whose last segment equals ``word``'s last segment come
    first, so ``lr`` suggests ``optim.lr``.
    """
    import difflib

    names = list(dict.fromkeys(candidates))
    leaf = word.rsplit(".", 1)[-1]
    same_leaf = [n for n in names if n != word and n.rsplit(".", 1)[-1] == leaf]
    similar = difflib.get_close_matches(word, names, n=3, cutoff=cutoff)
    return list(dict.fromkeys(same_leaf + similar))[:3]


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """``" Did you mean 'a', 'b'?"`` for `close_names`, or ``""`` when nothing is close."""
    close = close_names(word, candidates, cutoff)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
