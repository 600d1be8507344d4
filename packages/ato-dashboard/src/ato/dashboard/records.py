"""Pure helpers turning tracker results into JSON values (no database, no web)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ato.adict import ADict
from ato.tracker import MetricSummary, Run, hide_password

#: Config keys the searches themselves set on each trial (round index, budget): not parameters.
SEARCH_KEYS = frozenset({"__num_halved__", "__budget__", "__rung__", "__trial_id__"})
#: (is NaN, is positive) of a non-finite float -> its JSON text.
NON_FINITE_TEXT = {(True, False): "nan", (False, True): "inf", (False, False): "-inf"}
#: A positive numeric parameter spanning this factor or more is drawn (and analysed) on a log scale.
LOG_RATIO = 8.0
_MISSING = object()  # a key a config lacks
#: A config key's value in a run that lacks the key (see `group_label`).
MISSING = _MISSING
_LEAF_TYPES = frozenset({str, int, float, bool, list, type(None)})  # never a mapping
_LOWER_IS_BETTER = re.compile(r"loss|err|mse|mae|rmse|perplexity|nll|cost|regret|time", re.I)


def json_number(value: float | None) -> float | None:
    """``value`` for JSON: NaN and infinities (not valid JSON) become ``None``."""
    return value if value is None or math.isfinite(value) else None


def non_finite_counts(values: Iterable[float]) -> dict[str, int]:
    """How many of ``values`` are NaN, +inf and -inf: ``{'nan': n, 'inf': n, '-inf': n}``."""
    counts = {"nan": 0, "inf": 0, "-inf": 0}
    for value in values:
        if value - value != 0:  # not finite
            counts["nan" if value != value else "inf" if value > 0 else "-inf"] += 1
    return counts


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


def plain_provenance(run: Run) -> dict[str, Any]:
    """How the run was launched (``{}`` when not recorded) as plain JSON data, any database
    password in it (a ``--db`` URL in ``argv``, say) hidden."""
    provenance: dict[str, Any] = ADict.to_dict(run.provenance) if run.provenance else {}
    return _hide_url_passwords(provenance)  # type: ignore[no-any-return]


def _hide_url_passwords(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _hide_url_passwords(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_url_passwords(v) for v in value]
    if isinstance(value, str) and "://" in value and "@" in value:
        return hide_password(value)
    return value


def flatten(config: Mapping[str, Any]) -> dict[str, Any]:
    """``{'model': {'lr': 0.1}}`` -> ``{'model.lr': 0.1}`` (keys sorted; lists stay values, an
    empty mapping stays ``{}`` under its own path, any URL password hidden): one config
    through `config_columns`, which holds the flattening rule."""
    columns, _ = config_columns([config])
    return {path: column[0] for path, column in columns.items()}


def config_columns(
    configs: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, list[Any]], dict[str, list[int]]]:
    """Stored configs (plain JSON data) as the columns of `param_columns` - one list per
    dotted key (``{'model': {'lr': 0.1}}`` gives ``model.lr``; lists stay values, an empty
    mapping stays ``{}`` under its own path), any URL password hidden - in one pass, without
    a flat dict per config (a runs table flattens thousands)."""
    columns: dict[str, list[Any]] = {}
    marker = _MISSING
    size = len(configs)

    def walk(config: Mapping[str, Any], prefix: str, i: int) -> None:
        for key, value in config.items():
            kind = type(value)
            if kind not in _LEAF_TYPES and value and (kind is dict or isinstance(value, Mapping)):
                walk(value, f"{prefix}{key}.", i)
                continue
            if kind is str and "://" in value and "@" in value:
                value = hide_password(value)
            column = columns.get(path := f"{prefix}{key}")
            if column is None:
                column = columns[path] = [marker] * size
            column[i] = value

    for i, config in enumerate(configs):
        walk(config, "", i)
    missing: dict[str, list[int]] = {}
    for path, column in columns.items():
        if marker in column:
            missing[path] = [i for i, value in enumerate(column) if value is marker]
            columns[path] = [None if value is marker else value for value in column]
    return dict(sorted(columns.items())), missing


def group_label(value: Any) -> str:
    """A config value as the text that names its group: texts as they are, other values as
    JSON (``0.1``, ``true``, ``[1, 2]``), ``'(missing)'`` for `MISSING`."""
    if value is _MISSING:
        return "(missing)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def differing_keys(flats: Sequence[Mapping[str, Any]]) -> list[str]:
    """Sorted dotted keys whose value (or presence) is not the same in every flat config
    (``1``, ``1.0`` and ``True`` count as different values)."""
    return differing_columns(*param_columns(flats))


def param_columns(
    flats: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, list[Any]], dict[str, list[int]]]:
    """Flat configs as columns: ``({key: [value of config i, ...]}, {key: [i, ...]})``, the
    second listing, for keys some configs lack, the indexes of those configs (their entry in
    the first is ``None``)."""
    keys = sorted(set().union(*flats)) if flats else []
    marker = object()
    columns: dict[str, list[Any]] = {}
    missing: dict[str, list[int]] = {}
    for key in keys:
        column = [flat.get(key, marker) for flat in flats]
        if marker in column:
            missing[key] = [i for i, value in enumerate(column) if value is marker]
            column = [None if value is marker else value for value in column]
        columns[key] = column
    return columns, missing


def differing_columns(
    columns: Mapping[str, list[Any]], missing: Mapping[str, list[int]]
) -> list[str]:
    """Sorted keys of `param_columns` whose value (or presence) is not the same in every
    config (``1``, ``1.0`` and ``True`` count as different values)."""
    differing = []
    for key in sorted(columns):
        column = columns[key]
        if key in missing or (column and not _all_same(column)):
            differing.append(key)
    return differing


def _all_same(column: list[Any]) -> bool:
    first = column[0]
    kind = type(first)
    if isinstance(first, (list, dict)):
        return all(type(v) is kind and repr(v) == repr(first) for v in column)
    return column.count(first) == len(column) and all(type(v) is kind for v in column)


def summary(summary_: MetricSummary) -> dict[str, Any]:
    """A metric summary as JSON: ``last``, ``last_step``, ``min``, ``max``, ``count``; a NaN
    or infinite value as the text ``'nan'``, ``'inf'`` or ``'-inf'`` (see `json_value`)."""
    return {
        "last": json_value(summary_.last),
        "last_step": summary_.last_step,
        "min": json_value(summary_.min),
        "max": json_value(summary_.max),
        "count": summary_.count,
    }


def json_value(value: float | None) -> float | str | None:
    """A summary value for JSON, which has no NaN or infinity: those become the texts
    ``'nan'``, ``'inf'`` and ``'-inf'`` (what Python prints), so that a table can show that
    a run diverged instead of a blank."""
    if value is None or value - value == 0:
        return value
    return NON_FINITE_TEXT[value != value, value > 0]


def as_number(text: str | None) -> float | None:
    """``'3'`` -> ``3.0``; ``None`` for missing or non-numeric text."""
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
