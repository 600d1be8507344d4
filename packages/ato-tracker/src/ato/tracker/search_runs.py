"""The search-run contract, public: how a search's facts (search id, bracket, rung, trial id,
budget, mode, ranked metric key, answer flag) are stored as run tags and read back.

Its one implementation is `ato.tracker.storage.search_runs` (the storage room owns the format);
ato-hyperopt never imports it: it passes the facts through its ``SearchRunLogger`` protocol and
`SQLLogger` stores them here.
"""

from .storage import search_runs as _contract
from .storage.search_runs import *  # noqa: F403 - every public name of the contract

__all__ = _contract.__all__
