"""Garbage collection paused while a JSON document is built.

A runs table of 10,000 runs allocates millions of small lists, dicts and tuples, none of them
in a reference cycle; CPython's cyclic collector still scans them again and again as they are
made (about a third of the time spent building such a document). Reference counting frees
them either way, so the collector is paused for the request and resumed afterwards.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0  # requests inside collection_paused()
_was_enabled = True


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the block runs (requests may overlap: it
    resumes when the last one leaves, and only if it was enabled when the first came in)."""
    global _active, _was_enabled
    with _lock:
        if _active == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _was_enabled:
                gc.enable()
