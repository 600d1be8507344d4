"""Pure helpers turning tracker results into JSON values (no database, no web)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ato.adict import ADict
from ato.tracker.results import MetricSummary, Run
from ato.tracker.settings import hide_password

#: Config keys the searches themselves set on each trial (round index, budget): not parameters.
SEARCH_KEYS = frozenset({"__num_halved__", "__budget__", "__rung__", "__trial_id__"})
_LOWER_IS_BETTER = re.compile(r"loss|err|mse|mae|rmse|perplexity|nll|cost|regret|time", re.I)


def json_number(value: float | None) -> float | None:
    """``value`` for JSON: NaN and infinities (not valid JSON) become ``None``."""
    return value if value is None or math.isfinite(value) else None


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 text of an aware UTC ``datetime`` (or ``None``)."""
    return None if moment is None else moment.isoformat()


def duration_s(run: Run) -> float | None:
    """Seconds from start to end; ``None`` while the run has no end time."""
    return None if run.end_time is None else (run.end_time - run.start_time).total_seconds()


def guess_mode(key: str) -> str:
    """``'min'`` for keys that name a loss, error or cost (``val_loss``, ``err@1``), else
    ``'max'``; the pages let the user switch."""
    return "min" if _LOWER_IS_BETTER.search(key) else "max"


def plain_config(run: Run) -> dict[str, Any]:
    """The run's config as plain JSON data, any stored database password hidden."""
    config: dict[str, Any] = ADict.to_dict(run.config)
    return _hide_url_passwords(config)  # type: ignore[no-any-return]


def flat_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """A stored config (plain JSON data) as dotted keys (see ``flatten``), any URL
    password hidden."""
    flat = flatten(config)
    for key, value in flat.items():
        if isinstance(value, str) and "://" in value and "@" in value:
            flat[key] = hide_password(value)
    return flat


def _hide_url_passwords(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _hide_url_passwords(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_url_passwords(v) for v in value]
    if isinstance(value, str) and "://" in value and "@" in value:
        return hide_password(value)
    return value


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{'model': {'lr': 0.1}}`` -> ``{'model.lr': 0.1}``; lists stay values, an empty
    mapping stays ``{}`` under its own path."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if value and (type(value) is dict or isinstance(value, Mapping)):  # dict: fast path
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differing_keys(flats: Sequence[Mapping[str, Any]]) -> list[str]:
    """Sorted dotted keys whose value (or presence) is not the same in every flat config
    (``1``, ``1.0`` and ``True`` count as different values)."""
    if not flats:
        return []
    keys = sorted(set().union(*flats))
    marker = object()
    differing = []
    for key in keys:
        first = _typed(flats[0].get(key, marker))
        if any(_typed(flat.get(key, marker)) != first for flat in flats[1:]):
            differing.append(key)
    return differing


def _typed(value: Any) -> tuple[type, Any]:
    return type(value), value if not isinstance(value, (list, dict)) else repr(value)


def summary(summary_: MetricSummary) -> dict[str, Any]:
    """A metric summary as JSON: ``last``, ``last_step``, ``min``, ``max``, ``count``."""
    finite = math.isfinite
    last, low, high = summary_.last, summary_.min, summary_.max
    return {
        "last": last if finite(last) else None,
        "last_step": summary_.last_step,
        "min": low if low is None or finite(low) else None,
        "max": high if high is None or finite(high) else None,
        "count": summary_.count,
    }


def tag_values(tags: Iterable[str]) -> dict[str, str]:
    """``['search:ab12', 'round:1', 'baseline']`` -> ``{'search': 'ab12', 'round': '1'}``
    (``name:value`` tags only; the first one of a name wins)."""
    values: dict[str, str] = {}
    for tag in tags:
        name, sep, value = tag.partition(":")
        if sep and name and name not in values:
            values[name] = value
    return values


def as_number(text: str | None) -> float | None:
    """``'3'`` -> ``3.0``; ``None`` for missing or non-numeric text."""
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
