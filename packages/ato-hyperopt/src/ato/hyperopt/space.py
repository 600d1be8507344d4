"""Search spaces: validation and the list of values each parameter takes on the grid.

A search space maps a parameter name (a dotted path such as ``optimizer.lr``) to a spec:

- ``FLOAT`` / ``INTEGER``: ``param_range=(low, high)`` (inclusive), ``num_samples`` (>= 1),
  ``space_type`` ``'LINEAR'`` (default) or ``'LOG'``, ``base`` for LOG spacing (default 10 for
  floats, 2 for integers; checked, but it never changes the points, see below).
- ``CATEGORY``: ``categories`` (a non-empty list of any values).

Values are plain Python ``int``/``float`` objects. LOG points are ``base ** e`` for evenly
spaced exponents ``e``, which is the same geometric sequence ``low * (high / low) ** (i / (n - 1))``
in every base, so ``base`` is accepted (ato 2.x specs carry it) and must be a finite number
> 0 and != 1, but the points do not depend on it (they are computed with natural logs); each float is rounded to 12 significant digits, which removes
floating-point noise (``10 ** -5`` comes out as ``1e-05``) and the endpoints are exactly
``low`` and ``high``. Integer points are rounded to the nearest integer and de-duplicated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ato.adict.suggest import close_matches, did_you_mean

from .errors import SearchSpaceError

PARAM_TYPES = ("FLOAT", "INTEGER", "CATEGORY")
SPACE_TYPES = ("LINEAR", "LOG")
_NUMERIC_KEYS = frozenset(
    {"param_type", "param_range", "num_samples", "space_type", "base", "condition"}
)
_CATEGORY_KEYS = frozenset({"param_type", "categories", "condition"})
_SIGNIFICANT_DIGITS = 12
_EXACT_FLOAT_INT = 2**50  # beyond this, float steps cannot round to the nearest int exactly
MAX_LOG_INT = 2**1000  # LOG INTEGER bounds stay below this (points are computed in floats)


def flatten_spaces(search_spaces: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Return ``{dotted path: spec}``; nested groups without ``param_type`` are flattened.

    Args:
        search_spaces: mapping of parameter name (may be dotted) to spec, or to a nested
            mapping of such entries (``{'optimizer': {'lr': spec}}`` == ``{'optimizer.lr': spec}``).

    Raises:
        SearchSpaceError: if a spec is not a mapping, or the search space is empty.
    """
    if not isinstance(search_spaces, Mapping):
        raise SearchSpaceError(
            f"search_spaces must be a mapping of parameter name to spec, "
            f"not {type(search_spaces).__name__}"
        )
    flat: dict[str, Mapping[str, Any]] = {}
    _flatten_into(flat, "", search_spaces)
    if not flat:
        raise SearchSpaceError("search_spaces is empty; give at least one parameter")
    return flat


def _items(mapping: Mapping[str, Any]) -> Any:
    """``mapping.items()``, also for an ADict with a parameter named ``items`` or ``values``."""
    return dict.items(mapping) if isinstance(mapping, dict) else mapping.items()


def _flatten_into(flat: dict[str, Mapping[str, Any]], prefix: str, node: Mapping[str, Any]) -> None:
    for key, spec in _items(node):
        path = f"{prefix}{key}"
        if not isinstance(spec, Mapping):
            raise SearchSpaceError(
                f"search space {path!r}: expected a mapping with 'param_type', "
                f"got {type(spec).__name__} {spec!r}"
            )
        is_group = (
            "param_type" not in spec
            and spec
            and all(isinstance(v, Mapping) for _, v in _items(spec))
        )
        if is_group:
            _flatten_into(flat, path + ".", spec)
        else:
            flat[path] = spec


def grid_values(name: str, spec: Mapping[str, Any]) -> list[Any]:
    """Validate one spec and return the values of parameter ``name`` on the grid.

    Args:
        name: the parameter's (dotted) name, used in error messages.
        spec: the parameter's spec (see the module docstring).

    Returns:
        A non-empty list: floats (FLOAT), distinct ints in ascending order (INTEGER), or a
        copy of ``categories`` (CATEGORY).

    Raises:
        SearchSpaceError: naming ``name`` for a missing or unknown ``param_type`` or
            ``space_type``, unknown keys, ``param_range`` that is not ``(low, high)`` with
            ``low <= high``, a LOG range touching values <= 0, a LOG ``base`` <= 0 or == 1,
            ``num_samples`` < 1, or empty ``categories``.
    """
    param_type = _param_type(name, spec)
    if param_type == "CATEGORY":
        _check_keys(name, spec, _CATEGORY_KEYS)
        return _categories(name, spec)
    _check_keys(name, spec, _NUMERIC_KEYS)
    is_int = param_type == "INTEGER"
    low, high = _param_range(name, spec, is_int)
    num = _num_samples(name, spec)
    if is_int:  # an integer range has at most high - low + 1 distinct points
        num = min(num, high - low + 1)
    space_type = str(spec.get("space_type", "LINEAR")).upper()
    if space_type not in SPACE_TYPES:
        raise SearchSpaceError(
            f"search space {name!r}: unknown space_type {spec.get('space_type')!r}; "
            f"use one of {', '.join(SPACE_TYPES)}"
        )
    if is_int and space_type == "LINEAR" and max(abs(low), abs(high)) > _EXACT_FLOAT_INT:
        return int_grid_values(name, low, high, num)
    if is_int and space_type == "LOG" and high > MAX_LOG_INT:
        raise SearchSpaceError(
            f"search space {name!r}: LOG INTEGER bounds must be below 2**1000, got high={high!r}; "
            f"use space_type='LINEAR' for larger integers"
        )
    if space_type == "LOG":
        points = _log_points(name, spec, low, high, num, default_base=2 if is_int else 10)
    else:
        points = _linear_points(low, high, num)
    if is_int:
        return _distinct_ints(points)
    return [float(p) for p in points]


def int_grid_values(name: str, low: int, high: int, num: int) -> list[int]:
    """Evenly spaced distinct ints from ``low`` to ``high`` computed exactly (any size)."""
    if num == 1 or low == high:
        return [low]
    span, steps = high - low, num - 1
    return list(dict.fromkeys(low + (2 * span * i + steps) // (2 * steps) for i in range(num)))


def _param_type(name: str, spec: Mapping[str, Any]) -> str:
    if "param_type" not in spec:
        close = close_matches("param_type", spec, n=1)
        hint = f" (found {close[0]!r}: did you mean 'param_type'?)" if close else ""
        raise SearchSpaceError(
            f"search space {name!r} has no 'param_type'{hint}; set it to one of "
            f"{', '.join(PARAM_TYPES)}"
        )
    raw = spec["param_type"]
    param_type = raw.upper() if isinstance(raw, str) else raw
    if param_type not in PARAM_TYPES:
        raise SearchSpaceError(
            f"search space {name!r}: unknown param_type {raw!r}; use one of {', '.join(PARAM_TYPES)}"
        )
    return param_type


def _check_keys(name: str, spec: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = [k for k in spec if k not in allowed]
    if unknown:
        key = unknown[0]
        hint = did_you_mean(key, sorted(allowed), n=1)
        raise SearchSpaceError(
            f"search space {name!r} ({str(spec['param_type']).upper()}): unknown key {key!r}."
            f"{hint} Allowed keys: {', '.join(sorted(allowed))}"
        )


def _categories(name: str, spec: Mapping[str, Any]) -> list[Any]:
    categories: Any = spec.get("categories")
    if isinstance(categories, (str, bytes, Mapping)) or not hasattr(categories, "__iter__"):
        raise SearchSpaceError(
            f"search space {name!r} (CATEGORY): 'categories' must be a list of values, "
            f"got {categories!r}"
        )
    values = list(categories)
    if not values:
        raise SearchSpaceError(
            f"search space {name!r} (CATEGORY): 'categories' is empty; list at least one value"
        )
    return values


def _param_range(name: str, spec: Mapping[str, Any], is_int: bool) -> tuple[Any, Any]:
    where = f"search space {name!r}"
    raw = spec.get("param_range")
    if raw is None:
        raise SearchSpaceError(f"{where} has no 'param_range'; give (low, high)")
    try:
        low, high = raw
    except (TypeError, ValueError):
        raise SearchSpaceError(f"{where}: param_range must be (low, high), got {raw!r}") from None
    for bound in (low, high):
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or (isinstance(bound, float) and not math.isfinite(bound))
        ):
            raise SearchSpaceError(
                f"{where}: param_range bounds must be finite numbers, got {raw!r}"
            )
        if is_int and bound != int(bound):
            raise SearchSpaceError(
                f"{where} (INTEGER): param_range bounds must be integers, got {raw!r}"
            )
    if low > high:
        raise SearchSpaceError(f"{where}: param_range low {low!r} > high {high!r}; swap them")
    if is_int:
        return int(low), int(high)
    return float(low), float(high)


def _num_samples(name: str, spec: Mapping[str, Any]) -> int:
    num = spec.get("num_samples")
    if num is None:
        raise SearchSpaceError(f"search space {name!r} has no 'num_samples'; give an int >= 1")
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise SearchSpaceError(
            f"search space {name!r}: num_samples must be an int >= 1, got {num!r}"
        )
    return num


def _linear_points(low: float, high: float, num: int) -> list[float]:
    steps = max(num - 1, 1)
    step = (high - low) / steps
    if math.isfinite(step):
        return _spaced(low, high, num, lambda i: low + step * i)
    # the span overflows a float (e.g. -1e308 .. 1e308): interpolate between the bounds instead
    return _spaced(low, high, num, lambda i: low * (1 - i / steps) + high * (i / steps))


def _log_points(
    name: str, spec: Mapping[str, Any], low: float, high: float, num: int, default_base: float
) -> list[float]:
    base = spec.get("base", default_base)
    if (
        isinstance(base, bool)
        or not isinstance(base, (int, float))
        or not 0 < base < math.inf
        or base == 1
    ):
        raise SearchSpaceError(
            f"search space {name!r}: LOG base must be a finite number > 0 and != 1, got {base!r} "
            f"(it does not change the points: a geometric grid is the same in every base)"
        )
    if low <= 0:
        raise SearchSpaceError(
            f"search space {name!r}: a LOG space needs param_range > 0, got low={low!r}; "
            f"use space_type='LINEAR' or a positive low bound"
        )
    lo_exp, hi_exp = math.log(low), math.log(high)
    step = (hi_exp - lo_exp) / max(num - 1, 1)
    # inner exponents stay below log(high), so exp() cannot overflow for finite bounds
    return _spaced(low, high, num, lambda i: math.exp(lo_exp + step * i))


def _spaced(low: float, high: float, num: int, point: Callable[[int], float]) -> list[float]:
    """``num`` points from exactly ``low`` to exactly ``high``; the inner ones are
    ``point(i)`` for ``i = 1 .. num - 2``, cleaned by `_clean`."""
    if num == 1:
        return [low]
    inner = [_clean(point(i), low, high) for i in range(1, num - 1)]
    return [low, *inner, high]


def _clean(value: float, low: float, high: float) -> float:
    """``value`` rounded to 12 significant digits, kept inside ``[low, high]``."""
    return min(max(float(f"{value:.{_SIGNIFICANT_DIGITS}g}"), low), high)


def _distinct_ints(points: list[float]) -> list[int]:
    seen: dict[int, None] = {}
    low, high = points[0], points[-1]  # exact ints: the endpoints are the bounds themselves
    for p in points:
        value = p if isinstance(p, int) else math.floor(p + 0.5)
        seen.setdefault(min(max(value, int(low)), int(high)), None)
    return list(seen)
