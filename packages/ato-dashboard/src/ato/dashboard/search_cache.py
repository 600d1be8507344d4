"""Analysis documents kept per search state, so a page that asks again costs one small query.

A `ViewCache` keeps, for a few recently read searches (and ways of ranking them), what was read
from the database and the documents drawn from it. Each request first reads the search's
[`SearchState`][ato.tracker.SearchState] (one aggregate statement,
[`SQLFinder.get_search_state`][ato.tracker.SQLFinder.get_search_state]); when it equals the
state the kept read was made in, the kept document is answered (or drawn from the kept read),
otherwise the search is read again. The tracker's state changes with every stored run, status,
tag, metric value, heartbeat and derived ``crashed`` status, so a kept document is never older
than the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from ato.tracker import SearchState, SQLFinder

from .search import no_search

#: How many searches (each with one way of ranking) are kept, and documents per search.
SEARCHES, DOCUMENTS = 8, 64


@dataclass
class _Entry:
    state: SearchState
    data: Any
    documents: OrderedDict[Hashable, dict[str, Any]] = field(default_factory=OrderedDict)


class ViewCache:
    """Documents per (search, ranking, view and query), valid while the search's state holds.

    Args:
        searches: how many (search, ranking) reads to keep (least recently used dropped).
        documents: how many documents to keep per read.

    Thread-safe: the dashboard answers requests from a thread pool.
    """

    def __init__(self, searches: int = SEARCHES, documents: int = DOCUMENTS) -> None:
        self.searches, self.documents = searches, documents
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        #: Requests answered from a kept document, and reads of a search (for tests/benchmarks).
        self.hits = self.reads = 0

    def clear(self) -> None:
        """Forget everything kept."""
        with self._lock:
            self._entries.clear()

    def document(
        self,
        finder: SQLFinder,
        search_id: str,
        ranking: Hashable,
        key: Hashable,
        load: Callable[[], tuple[SearchState, Any]],
        render: Callable[[Any], dict[str, Any]],
    ) -> dict[str, Any]:
        """The document ``key`` of search ``search_id`` ranked by ``ranking``: kept, or drawn
        by ``render`` from the kept read, or from a new read by ``load`` (which returns the
        state read just before its rows, and the read) when the search changed.

        A kept document carrying ``cached`` (importance) is answered with ``cached: true``.

        Raises:
            NotFoundError: no run can belong to the search.
            Whatever ``load`` and ``render`` raise (nothing is kept then).
        """
        state = finder.get_search_state(search_id)
        if state is None:
            raise no_search(search_id)
        slot = (search_id, ranking)
        with self._lock:
            entry = self._entries.get(slot)
            if entry is not None and entry.state == state:
                self._entries.move_to_end(slot)
                kept = entry.documents.get(key)
                if kept is not None:
                    entry.documents.move_to_end(key)
                    self.hits += 1
                    return {**kept, "cached": True} if "cached" in kept else kept
            else:
                entry = None
        if entry is None:
            read_state, data = load()
            entry = _Entry(read_state, data)
            with self._lock:
                self.reads += 1
                self._entries[slot] = entry
                while len(self._entries) > self.searches:
                    self._entries.popitem(last=False)
        drawn = render(entry.data)
        with self._lock:
            entry.documents[key] = drawn
            while len(entry.documents) > self.documents:
                entry.documents.popitem(last=False)
        return drawn
