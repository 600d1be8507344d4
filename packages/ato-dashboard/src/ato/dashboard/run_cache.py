"""Conditional answers for a run's JSON documents, so that polling a run costs the database
one small query while nothing changed.

Every answer about one run (``/api/runs/{id}`` and its series) carries a weak ``ETag`` made of
the run's change stamp ([`SQLFinder.get_run_stamp`][ato.tracker.SQLFinder.get_run_stamp]), the
request's path and query and the dashboard's version, with ``Cache-Control: private,
no-cache``: a browser keeps the document and asks again with ``If-None-Match``; while the stamp
is the same the answer is ``304 Not Modified`` with no body (RFC 9110, sections 8.8.3 and
13.1.2; RFC 9111, section 5.2.2.4). The rendered documents of the latest requests are also kept
here, keyed by path and query, so that several pages polling the same run share one reading of
it.

The stamp is read before the document is built: a write landing in between makes the document
newer than its tag, never older, and the next poll sees a new stamp and reads again.

A document built less than `FRESH_FOR_S` seconds ago (half the pages' poll interval) is
answered as it is, under its own tag, without asking the database anything: however many pages
poll a run that is being written, its documents are read at most once per that time. A page
alone, polling every 2 s, never sees such a document; several pages may see one that far behind
the database (the "micro-caching" of HTTP reverse proxies).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from ato.tracker import SQLFinder

from .version import __version__

#: Documents kept (the latest requests, by path and query).
CACHED_DOCUMENTS = 64
#: Seconds a built document is answered without asking the database (half the 2 s poll).
FRESH_FOR_S = 1.0
#: How a browser may keep an answer: store it, but ask again (conditionally) before using it.
REVALIDATE = "private, no-cache"


class RunDocuments:
    """The latest rendered documents about runs, each under the ETag it was answered with.

    Args:
        size: how many documents to keep (the least recently used go first; >= 1).
        fresh_for: seconds a built document is answered without reading the run's stamp
            (>= 0; 0: every request reads it).
        clock: the monotonic clock, in seconds (tests pass their own).

    Raises:
        ValueError: ``size < 1`` or ``fresh_for < 0``.
    """

    def __init__(
        self,
        size: int = CACHED_DOCUMENTS,
        *,
        fresh_for: float = FRESH_FOR_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        if not fresh_for >= 0:
            raise ValueError(f"fresh_for must be a number of seconds >= 0, got {fresh_for!r}")
        self.size = size
        self.fresh_for = fresh_for
        self.clock = clock
        self._kept: OrderedDict[str, tuple[str, bytes, float]] = OrderedDict()
        self._lock = threading.Lock()

    def answer(
        self,
        finder: SQLFinder,
        run_id: int,
        where: str,
        if_none_match: str | None,
        build: Callable[[], bytes],
    ) -> tuple[int, str | None, bytes]:
        """The answer to a request about run ``run_id``: ``(status, etag, body)``.

        Args:
            finder: the database's finder.
            run_id: the run the document is about.
            where: the request's path and query (``/api/runs/3?x=1``): what the document is.
            if_none_match: the request's ``If-None-Match`` header, if any.
            build: renders the document (JSON bytes); called only when no kept one is current
                (built under the run's current stamp, or less than ``fresh_for`` seconds ago).

        Returns:
            ``(304, etag, b"")`` when ``if_none_match`` names the ETag of the document that
            would be answered; else ``(200, etag, body)``; ``(200, None, body)`` for a run
            that does not exist, as far as the stamp saw (``build`` then raises its own
            not-found error, or answers a run created meanwhile).

        Raises:
            Whatever ``finder.get_run_stamp`` and ``build`` raise.
        """
        now = self.clock()
        with self._lock:
            kept = self._kept.get(where)
        if kept is not None and now - kept[2] < self.fresh_for:
            return _reply(kept[0], kept[1], if_none_match)
        stamp = finder.get_run_stamp(run_id)
        if stamp is None:
            return 200, None, build()
        etag = entity_tag(stamp, where)
        body = kept[1] if kept is not None and kept[0] == etag else build()
        with self._lock:
            self._kept[where] = (etag, body, now)
            self._kept.move_to_end(where)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return _reply(etag, body, if_none_match)


def _reply(etag: str, body: bytes, if_none_match: str | None) -> tuple[int, str, bytes]:
    if if_none_match is not None and matches(if_none_match, etag):
        return 304, etag, b""
    return 200, etag, body


def entity_tag(stamp: str, where: str) -> str:
    """The weak ETag of the document at ``where`` (path and query) for a run whose change
    stamp is ``stamp``, from this dashboard version (a new version may shape documents
    differently)."""
    digest = hashlib.blake2b(f"{__version__}\n{where}\n{stamp}".encode(), digest_size=12)
    return f'W/"{digest.hexdigest()}"'


def matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header value (a comma-separated list of entity tags) names
    ``etag``, compared weakly (RFC 9110, section 8.8.3.2: ``W/`` ignored). ``*`` matches
    nothing here: whether a document exists (a metric key may not) is known only once it is
    built, so such a request gets the full answer, which browsers never ask for anyway."""
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in if_none_match.split(","))


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def headers_for(etag: str | None, base: Mapping[str, str]) -> dict[str, Any]:
    """The response headers of a run document: ``base`` plus, with an ``etag``, the ETag and
    `REVALIDATE`; without one (no such run) ``no-store``."""
    if etag is None:
        return {**base, "Cache-Control": "no-store"}
    return {**base, "ETag": etag, "Cache-Control": REVALIDATE}
