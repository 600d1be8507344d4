"""The installed ato distributions and their versions (``ato --version``, run provenance)."""

from __future__ import annotations

import functools
import importlib.metadata
import re

#: The version of ato-tracker (the one source the wheel's version is read from).
__version__ = "3.0.0"

_ATO = re.compile(r"ato(?:[-_].+)?")


@functools.lru_cache(maxsize=1)
def ato_versions() -> dict[str, str]:
    """``{distribution name: version}`` of every installed distribution called ``ato`` or
    ``ato-*`` (e.g. ``{'ato-adict': '3.0.0', 'ato-tracker': '3.0.0'}``), sorted by name. Read once per process (cached); callers must not change the result."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").strip()
        if name and _ATO.fullmatch(name.lower()):
            found.setdefault(name.lower().replace("_", "-"), dist.version)
    return dict(sorted(found.items()))
