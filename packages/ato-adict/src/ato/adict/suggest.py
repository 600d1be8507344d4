""" "Did you mean" hints for mistyped names: config keys, view names, settings.

The one implementation every ato package uses. Similarity is ``difflib.get_close_matches``
(Ratcliff/Obershelp ratio, 0..1; a candidate is close when the ratio is at least ``cutoff``).
For dotted keys, candidates whose last segment equals the word's last segment come first, so
``lr`` suggests ``optim.lr``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


def close_matches(
    word: object, candidates: Iterable[object], cutoff: float = 0.6, n: int = 3
) -> list[str]:
    """Up to ``n`` string ``candidates`` similar to ``word`` (best first; non-strings and
    ``word`` itself are skipped).

    Args:
        word: the mistyped name (converted with ``str``).
        candidates: the names that exist, in any order; duplicates are ignored.
        cutoff: the least similarity ratio (0..1) of a suggestion.
        n: the most suggestions returned.
    """
    import difflib

    text = str(word)
    names = [c for c in dict.fromkeys(candidates) if isinstance(c, str) and c != text]
    leaf = text.rsplit(".", 1)[-1]
    same_leaf = [c for c in names if c.rsplit(".", 1)[-1] == leaf]
    similar = difflib.get_close_matches(text, names, n=n, cutoff=cutoff)
    return list(dict.fromkeys(same_leaf + similar))[:n]


def did_you_mean(
    word: object, candidates: Iterable[object], cutoff: float = 0.6, n: int = 3
) -> str:
    """``" Did you mean 'a', 'b'?"`` (with a leading space, to end a message) for the
    `close_matches` of ``word``, or ``""`` when nothing is close."""
    close = close_matches(word, candidates, cutoff, n)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
