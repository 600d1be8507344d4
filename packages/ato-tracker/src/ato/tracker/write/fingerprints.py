"""Accept code fingerprints in the shapes ato-scope (or a user) may hand them over."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import FingerprintFormatError

TRACE_TYPES = ("static", "runtime")


def iter_fingerprints(source: Any) -> Iterator[tuple[str, str, str]]:
    """Yield ``(trace_id, trace_type, fingerprint)`` triples from ``source``.

    ``source`` is an object with a ``fingerprints`` attribute (e.g. an ato-scope ``Scope``) or
    that mapping itself: ``trace_id -> entry``, where an entry is

    - a ``(trace_type, fingerprint)`` pair,
    - a bare fingerprint string (taken as ``'static'``),
    - a mapping ``{trace_type: fingerprint}`` (several types for one trace id), or
    - an object with ``trace_type`` and ``fingerprint`` attributes.

    Raises:
        FingerprintFormatError: ``source`` or an entry has none of these shapes.
    """
    mapping = getattr(source, "fingerprints", source)
    if callable(mapping) and not isinstance(mapping, Mapping):
        mapping = mapping()
    if not isinstance(mapping, Mapping):
        raise FingerprintFormatError(
            f"expected a mapping trace_id -> (trace_type, fingerprint) or an object with a "
            f"'fingerprints' mapping, got {type(source).__name__}"
        )
    for trace_id, entry in mapping.items():
        for trace_type, fingerprint in _entry_pairs(trace_id, entry):
            yield str(trace_id), str(trace_type), str(fingerprint)


def _entry_pairs(trace_id: Any, entry: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(entry, str):
        yield "static", entry
    elif isinstance(entry, Mapping):
        yield from entry.items()
    elif isinstance(entry, (tuple, list)) and len(entry) == 2:
        yield entry[0], entry[1]
    elif hasattr(entry, "trace_type") and hasattr(entry, "fingerprint"):
        yield entry.trace_type, entry.fingerprint
    else:
        raise FingerprintFormatError(
            f"fingerprint entry for trace {trace_id!r} is {entry!r}; expected "
            "(trace_type, fingerprint), a fingerprint string, {trace_type: fingerprint} "
            "or an object with trace_type and fingerprint attributes"
        )
