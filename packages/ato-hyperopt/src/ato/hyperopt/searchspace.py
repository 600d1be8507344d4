"""A parsed search space: parameters with their domains and conditions, as samplers see it.

Each parameter is a ``Param``. A spec (see ``ato.hyperopt.space``) may carry
``condition={'optim.name': 'sgd'}``: the parameter exists in a trial only when every named
parameter is itself active and has that value (or one of the values, when a list, tuple or set
is given). Conditions may chain (``a`` on ``b`` on ``c``) but never form a cycle.

The grid of a space is expanded parameter by parameter in dependency order; a parameter whose
condition fails is left out of the point instead of multiplying it, so the grid of
``{optim.name: [sgd, adam], momentum: 3 values if sgd}`` has 3 + 1 = 4 points, not 6. Repeated
values of an axis (a degenerate range ``(0.3, 0.3)``, or points that coincide after rounding,
or repeated categories) count once; they are found in linear time by hashing. The number of
points is computed from the number of distinct values of each axis before anything is
expanded; above ``MAX_GRID_SIZE`` (or the limit given to the grid sampler) the grid is refused
with a ``ato.hyperopt.errors.SearchSettingError``.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import SearchSettingError, SearchSpaceError
from .space import (
    _CATEGORY_KEYS,
    _NUMERIC_KEYS,
    MAX_LOG_INT,
    SPACE_TYPES,
    _categories,
    _check_keys,
    _param_range,
    _param_type,
    flatten_spaces,
    grid_values,
)

#: Largest grid (number of points) a grid search expands by default.
MAX_GRID_SIZE = 100_000


@dataclass(frozen=True)
class Param:
    """One parameter of a search space.

    Attributes:
        name: dotted path into the config (``optimizer.lr``).
        kind: ``'FLOAT'``, ``'INTEGER'`` or ``'CATEGORY'``.
        low, high: inclusive bounds (numbers; None for CATEGORY).
        log: True for ``space_type='LOG'``.
        categories: the choices (CATEGORY only, else empty).
        condition: ``{parent name: tuple of allowed values}`` (empty: always active).
        spec: the spec as given.
    """

    name: str
    kind: str
    low: Any = None
    high: Any = None
    log: bool = False
    categories: tuple[Any, ...] = ()
    condition: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    spec: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def is_active(self, values: Mapping[str, Any]) -> bool:
        """True when every parent named in the condition is in ``values`` with an allowed value."""
        return all(
            parent in values and _is_among(values[parent], allowed)
            for parent, allowed in self.condition.items()
        )

    def sample(self, rng: random.Random) -> Any:
        """One random value: uniform for LINEAR numbers and categories, log-uniform for LOG.

        LOG integers are drawn log-uniformly from ``[low - 0.5, high + 0.5]`` and rounded (as
        Optuna does), so every integer keeps the weight of its share of the log axis."""
        if self.kind == "CATEGORY":
            return self.categories[rng.randrange(len(self.categories))]
        if self.kind == "INTEGER":
            if not self.log:
                return rng.randint(self.low, self.high)
            lo, hi = math.log(self.low - 0.5), math.log(self.high + 0.5)
            rounded = round(math.exp(rng.uniform(lo, hi)))
            return min(max(rounded, self.low), self.high)
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            u = rng.random()
            value = self.low * (1 - u) + self.high * u
        return min(max(value, self.low), self.high)


class SearchSpace:
    """Every parameter of a search space, validated, in dependency order.

    Args:
        search_spaces: parameter name (dotted, or nested groups) -> spec; see
            ``ato.hyperopt.space``. ``num_samples`` is needed only by the grid.

    Raises:
        SearchSpaceError: a spec is invalid, a condition names an unknown parameter or a value
            its parent can never take, or conditions form a cycle (the message names them).
    """

    def __init__(self, search_spaces: Mapping[str, Any]) -> None:
        self.specs = flatten_spaces(search_spaces)
        params = {name: _parse(name, spec) for name, spec in self.specs.items()}
        _check_conditions(params)
        self.names: list[str] = list(params)
        self.params: list[Param] = _dependency_order(params)
        self.by_name = params

    @property
    def is_conditional(self) -> bool:
        """True when some parameter has a condition."""
        return any(p.condition for p in self.params)

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """A random point ``{name: value}`` holding only the active parameters, in the order
        of the search space."""
        point: dict[str, Any] = {}
        for param in self.params:
            if param.is_active(point):
                point[param.name] = param.sample(rng)
        return self.ordered(point)

    def ordered(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """``point`` with its keys in the order the search space lists them."""
        return {name: point[name] for name in self.names if name in point}

    # -- the grid -------------------------------------------------------------------------
    def grid_axes(self, limit: int | None = None) -> dict[str, list[Any]]:
        """``{name: distinct grid values}`` in the search space's order.

        Args:
            limit: refuse as soon as one axis has more than ``limit`` distinct values (each of
                them is in at least one grid point), before the other axes are built.

        Raises:
            SearchSpaceError: a numeric spec lacks ``num_samples`` or is otherwise invalid.
            SearchSettingError: an axis has more than ``limit`` distinct values.
        """
        axes: dict[str, list[Any]] = {}
        for name in self.names:
            values = grid_values(name, self.specs[name])
            axes[name] = _distinct(values, limit)
            if limit is not None and len(axes[name]) > limit:
                complete = len(axes[name]) == len(values)  # else cut short: more than that
                self._too_big(len(values) if complete else None, limit)
        return axes

    def grid_size(self, limit: int = MAX_GRID_SIZE) -> int:
        """Number of grid points, computed from the number of distinct values of each axis
        without expanding the grid when there are no conditions (and with at most ``limit``
        partial points when there are). Each axis is de-duplicated in linear time and at most
        ``limit + 1`` of its distinct values are collected.

        Raises:
            SearchSettingError: the grid has more than ``limit`` points.
        """
        return self._sized_axes(limit)[0]

    def _sized_axes(self, limit: int) -> tuple[int, dict[str, list[Any]]]:
        """``(grid size, axes)``, refusing above ``limit`` before anything is expanded."""
        self._check_axis_bounds(limit)
        axes = self.grid_axes(limit)
        linked = self._linked_names()
        free = math.prod(len(axes[name]) for name in self.names if name not in linked)
        if free > limit:
            self._too_big(free, limit)
        count = free * sum(1 for _ in self._expand(axes, linked, limit // max(free, 1)))
        if count > limit:
            self._too_big(count, limit)
        return count, axes

    def grid_points(self, limit: int = MAX_GRID_SIZE) -> list[dict[str, Any]]:
        """Every grid point as ``{name: value}`` (active parameters only); the last parameter of
        the search space varies fastest.

        Raises:
            SearchSettingError: the grid has more than ``limit`` points (checked first).
        """
        axes = self._sized_axes(limit)[1]
        if not self.is_conditional:
            names = self.names
            return [
                dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())
            ]
        return [self.ordered(p) for p in self._expand(axes, set(self.names), limit)]

    def _expand(
        self, axes: dict[str, list[Any]], names: set[str], limit: int
    ) -> Iterator[dict[str, Any]]:
        """Points over the parameters ``names`` in search-space order, skipping inactive ones;
        stops with SearchSettingError after ``limit`` points."""
        order = sorted(
            (p for p in self.params if p.name in names),
            key=lambda p: (self._depth(p.name), self.names.index(p.name)),
        )
        partial: list[dict[str, Any]] = [{}]
        for param in order:
            grown: list[dict[str, Any]] = []
            for point in partial:
                if param.is_active(point):
                    grown.extend({**point, param.name: v} for v in axes[param.name])
                else:
                    grown.append(point)
                if len(grown) > limit:
                    self._too_big(None, limit)
            partial = grown
        yield from partial

    def _depth(self, name: str) -> int:
        parents = self.by_name[name].condition
        return 1 + max((self._depth(p) for p in parents), default=-1)

    def _linked_names(self) -> set[str]:
        """Parameters that take part in a condition, as child or parent."""
        linked: set[str] = set()
        for param in self.params:
            if param.condition:
                linked.add(param.name)
                linked.update(param.condition)
        return linked

    def _check_axis_bounds(self, limit: int) -> None:
        """Refuse before expanding an axis whose ``num_samples`` alone exceeds ``limit``."""
        for name, spec in self.specs.items():
            num = spec.get("num_samples")
            if isinstance(num, int) and num > limit:
                span = self.by_name[name]
                if span.kind == "INTEGER" and span.high - span.low + 1 <= limit:
                    continue
                self._too_big(num, limit)

    def _too_big(self, count: int | None, limit: int) -> None:
        size = f"{count:,} points" if count is not None else "more points"
        raise SearchSettingError(
            f"the grid of this search space has {size}, above the limit of {limit:,}; "
            f"use RandomSampler (or OptunaSampler) with a number of trials instead of the grid, "
            f"lower num_samples, or raise the limit with GridSampler(max_size=...)"
        )


def _is_among(value: Any, allowed: tuple[Any, ...]) -> bool:
    return any(type(value) is type(a) and value == a for a in allowed) or any(
        value == a and not isinstance(a, bool) and not isinstance(value, bool) for a in allowed
    )


def _distinct(values: list[Any], limit: int | None = None) -> list[Any]:
    """``values`` without repeats (same type and equal value), first occurrence kept; stops
    once it holds more than ``limit`` values.

    Linear time: values are looked up by a hashable key (``_identity_key``); only values with
    none (unhashable objects other than lists, tuples, sets and dicts) are compared one by one,
    and only with each other.
    """
    out: list[Any] = []
    keys: set[Any] = set()
    unkeyed: list[Any] = []
    for value in values:
        key = _identity_key(value)
        if key is None:
            if any(type(value) is type(seen) and value == seen for seen in unkeyed):
                continue
            unkeyed.append(value)
        elif key in keys:
            continue
        else:
            keys.add(key)
        out.append(value)
        if limit is not None and len(out) > limit:
            break
    return out


_SCALARS = frozenset({str, int, float, bool, type(None), bytes})


def _identity_key(value: Any) -> Any:
    """A hashable key equal for two values exactly when they have the same type and are equal
    (containers: element by element, with the same rule), or None when there is none."""
    if type(value) in _SCALARS:
        return (type(value), value)
    if isinstance(value, (list, tuple)):
        items = tuple(_identity_key(v) for v in value)
        return None if None in items else (type(value), items)
    if isinstance(value, dict):
        pairs = [(_identity_key(k), _identity_key(v)) for k, v in value.items()]
        if any(None in pair for pair in pairs):
            return None
        return (type(value), frozenset(pairs))
    if isinstance(value, (set, frozenset)):
        items = tuple(_identity_key(v) for v in value)
        return None if None in items else (type(value), frozenset(items))
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value), value)


def _parse(name: str, spec: Mapping[str, Any]) -> Param:
    kind = _param_type(name, spec)
    condition = _parse_condition(name, spec.get("condition"))
    if kind == "CATEGORY":
        _check_keys(name, spec, _CATEGORY_KEYS)
        return Param(
            name, kind, categories=tuple(_categories(name, spec)), condition=condition, spec=spec
        )
    _check_keys(name, spec, _NUMERIC_KEYS)
    is_int = kind == "INTEGER"
    low, high = _param_range(name, spec, is_int)
    space_type = str(spec.get("space_type", "LINEAR")).upper()
    if space_type not in SPACE_TYPES:
        raise SearchSpaceError(
            f"search space {name!r}: unknown space_type {spec.get('space_type')!r}; "
            f"use one of {', '.join(SPACE_TYPES)}"
        )
    log = space_type == "LOG"
    if log and low <= 0:
        raise SearchSpaceError(
            f"search space {name!r}: a LOG space needs param_range > 0, got low={low!r}; "
            f"use space_type='LINEAR' or a positive low bound"
        )
    if log and is_int and high > MAX_LOG_INT:
        raise SearchSpaceError(
            f"search space {name!r}: LOG INTEGER bounds must be below 2**1000, got high={high!r}; "
            f"use space_type='LINEAR' for larger integers"
        )
    return Param(name, kind, low, high, log, condition=condition, spec=spec)


def _parse_condition(name: str, raw: Any) -> dict[str, tuple[Any, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not raw:
        raise SearchSpaceError(
            f"search space {name!r}: condition must be a non-empty mapping of another "
            f"parameter's name to a value or a list of values, got {raw!r}"
        )
    out: dict[str, tuple[Any, ...]] = {}
    for parent, allowed in raw.items():
        values = (
            tuple(allowed) if isinstance(allowed, (list, tuple, set, frozenset)) else (allowed,)
        )
        if not values:
            raise SearchSpaceError(
                f"search space {name!r}: condition on {parent!r} allows no value; list at least one"
            )
        out[str(parent)] = values
    return out


def _check_conditions(params: dict[str, Param]) -> None:
    from ato.adict.suggest import did_you_mean

    for param in params.values():
        for parent, allowed in param.condition.items():
            if parent not in params:
                hint = did_you_mean(parent, params, n=1)
                raise SearchSpaceError(
                    f"search space {param.name!r}: condition names {parent!r}, which is not a "
                    f"parameter of the search space.{hint}"
                )
            if parent == param.name:
                raise SearchSpaceError(
                    f"search space {param.name!r}: a condition cannot name itself"
                )
            source = params[parent]
            if source.kind == "CATEGORY" and not any(
                _is_among(v, source.categories) for v in allowed
            ):
                raise SearchSpaceError(
                    f"search space {param.name!r}: condition {parent!r} in {list(allowed)!r} can "
                    f"never hold; {parent!r} takes {list(source.categories)!r}"
                )


def _dependency_order(params: dict[str, Param]) -> list[Param]:
    """Parents before children, otherwise the given order; SearchSpaceError on a cycle."""
    done: dict[str, None] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name) :], name])
            raise SearchSpaceError(
                f"search space conditions form a cycle: {cycle}; a parameter cannot depend on "
                f"itself through other parameters"
            )
        visiting.append(name)
        for parent in params[name].condition:
            visit(parent)
        visiting.pop()
        done[name] = None

    for name in params:
        visit(name)
    return [params[name] for name in done]
