"""One ASHA rung's results, ranked as they arrive: is the best result still waiting for
promotion within the rung's top ``floor(n / eta)``? O(log n) per result and per promotion,
O(1) per question (issue 30: the sorted lists before cost O(n) per insertion and promotion).

Keys are ``(rank_key(metric, mode), trial id)`` pairs, all distinct, smaller is better (ties go
to the lower trial id). The best ``floor(n / eta)`` keys sit in a max-heap (as negated keys)
and the others in a min-heap, so the boundary between them, an order statistic that moves as
``n`` grows, is the root of either heap and moves by heap operations; a third min-heap holds
the keys that may still be promoted (not promoted yet, finite metric).
"""

from __future__ import annotations

import heapq

__all__ = ["Key", "RungRanking"]

#: ``(rank key, trial id)``: ascending order is best first.
Key = tuple[float, int]


def _negated(key: Key) -> Key:
    return (-key[0], -key[1])


def _remove(heap: list[Key], key: Key) -> None:
    """Take ``key`` out of ``heap`` (it must be there); O(n)."""
    place = heap.index(key)
    heap[place] = heap[-1]
    heap.pop()
    heapq.heapify(heap)


class RungRanking:
    """The results of one rung with reduction factor ``eta`` (an int >= 2), split at the
    rung's top ``floor(n / eta)``."""

    def __init__(self, eta: int) -> None:
        self.eta = eta
        self._top: list[Key] = []  # the best floor(n / eta), negated: a max-heap
        self._rest: list[Key] = []
        self._waiting: list[Key] = []

    def __len__(self) -> int:
        return len(self._top) + len(self._rest)

    def __eq__(self, other: object) -> bool:
        """The same keys, the same of them waiting, whatever order they came in; O(n log n)."""
        if not isinstance(other, RungRanking):
            return NotImplemented
        return self.eta == other.eta and self._contents() == other._contents()

    def _contents(self) -> tuple[list[Key], list[Key]]:
        keys = sorted([*map(_negated, self._top), *self._rest])
        return keys, sorted(self._waiting)

    def add(self, key: Key, waiting: bool) -> None:
        """Rank a new result ``key``; ``waiting``: it may be promoted later. O(log n)."""
        if self._top and key < _negated(self._top[0]):
            heapq.heappush(self._top, _negated(key))
        else:
            heapq.heappush(self._rest, key)
        if waiting:
            heapq.heappush(self._waiting, key)
        self._balance()

    def discard(self, key: Key) -> None:
        """Forget the result ``key`` (one that was added), as when a result is replaced; O(n)."""
        if self._top and key <= _negated(self._top[0]):
            _remove(self._top, _negated(key))
        else:
            _remove(self._rest, key)
        if key in self._waiting:
            _remove(self._waiting, key)
        self._balance()

    def _balance(self) -> None:
        # one result added or taken away moves the boundary by at most one key
        top, rest = self._top, self._rest
        kept = (len(top) + len(rest)) // self.eta
        if len(top) > kept:
            heapq.heappush(rest, _negated(heapq.heappop(top)))
        elif len(top) < kept:
            heapq.heappush(top, _negated(heapq.heappop(rest)))

    def promotable(self) -> int | None:
        """The trial id of the best waiting result if it is within the top ``floor(n / eta)``,
        else None; O(1)."""
        if self._waiting and self._top and self._waiting[0] <= _negated(self._top[0]):
            return self._waiting[0][1]
        return None

    def promote(self, trial: int) -> None:
        """Stop waiting for ``trial``, when it is the best waiting result; O(log n)."""
        if self._waiting and self._waiting[0][1] == trial:
            heapq.heappop(self._waiting)

    def best(self) -> Key | None:
        """The best key of the rung, or None without results; O(n / eta)."""
        if self._top:
            return _negated(max(self._top))
        return self._rest[0] if self._rest else None
