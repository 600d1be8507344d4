"""ADict attribute set and get, variant by variant, next to a plain dict (issue 30).

Run: ``python benchmarks/bench_adict_attrs.py`` (or ``nox -s bench``). Goals: set
``cfg.model.lr = v`` <= 2.5x ``d['model']['lr'] = v``; get ``cfg.model.lr`` <= 1.5x
``d['model']['lr']``. Each variant is an ``ADict`` subclass that changes one thing; every
timing is the best of many short runs, interleaved so that machine load hits all alike, and
each ratio is to the plain dict of the same run. The "bound" rows are not usable designs: they
drop conversion of nested mappings and the protocol-key guard, or the "did you mean" error of
a missing attribute, to show what the rest of the cost is made of.

What the rows showed on CPython 3.10-3.13 (issue 30): calling a Python ``__setattr__`` at all
("Python frame only", a body of ``pass``) costs 1.6-2.0x a dict store; the store itself, which
must bypass ADict's own ``__setitem__``, is a call of the slot wrapper ``dict.__setitem__`` (no
vectorcall: it packs its arguments into tuples twice), which alone brings "store only" to 3.1x
on 3.11 (quiet machine; 3.4-4.4x under load). A method descriptor with a fast call
(``dict.setdefault``) would cost half as much, but no such method stores unconditionally. The
conversion test and the protocol-key test add little on top. So no Python-level ``__setattr__``
that stores reaches 2.5x; "C store, no checks" (``__setattr__ = dict.__setitem__``, 2.2x on
3.10/3.11, up to 3.0x on 3.12/3.13) and no ``__setattr__`` at all (CPython stores into the
instance dict directly, about 1.2x) give up converting assigned mappings and the protocol-key
guard, which the tests require. Meeting the set goal with both kept needs a C-level
``__setattr__`` (an extension module).
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from typing import Any

from timing import record_goal

from ato.adict import ADict
from ato.adict.core import _SCALARS, _convert, _guard

REPEAT = 41
NUMBER = 20_000
GOALS = {"set": 2.5, "get": 1.5}
_dict_set = dict.__setitem__


class Sliced(ADict):
    """The one shipped before: ``value.__class__`` and a ``key[:2]`` slice for the guard test."""

    def __setattr__(self, key: str, value: Any) -> None:
        if value.__class__ not in _SCALARS:
            value = _convert(value, self.__class__)
        _dict_set(self, key, value)
        if key[:2] == "__":
            _guard(self, key)


class StartsWith(ADict):
    """As the shipped one, with ``key.startswith('__')`` for the protocol-key test."""

    def __setattr__(self, key: str, value: Any, _set: Any = _dict_set, _s: Any = _SCALARS) -> None:
        _set(self, key, value if type(value) in _s else _convert(value, self.__class__))
        if key.startswith("__"):
            _guard(self, key)


class FirstChar(ADict):
    """As the shipped one, with a test of the first character, then a slice, for the guard."""

    def __setattr__(self, key: str, value: Any, _set: Any = _dict_set, _s: Any = _SCALARS) -> None:
        _set(self, key, value if type(value) in _s else _convert(value, self.__class__))
        if key[:1] == "_" and key[:2] == "__":
            _guard(self, key)


class StoreOnlyBound(ADict):
    """Bound: a Python ``__setattr__`` that only stores (no conversion, no guard)."""

    def __setattr__(self, key: str, value: Any, _set: Any = _dict_set) -> None:
        _set(self, key, value)


class FrameOnlyBound(ADict):
    """Bound: a Python ``__setattr__`` that does nothing: the cost of calling Python code from
    the interpreter's attribute store (``slot_tp_setattro`` -> a new frame) and nothing else."""

    def __setattr__(self, key: str, value: Any) -> None:
        pass


class CStoreBound(ADict):
    """Bound: ``__setattr__`` is ``dict.__setitem__`` itself (C, no Python frame): no conversion
    of nested mappings and no protocol-key guard on attribute writes."""

    __setattr__ = dict.__setitem__  # type: ignore[assignment]


class NoGetattrBound(dict):  # type: ignore[type-arg]
    """Bound: the mapping as its own ``__dict__`` without ADict's ``__getattr__``."""

    def __init__(self, source: dict[str, Any]) -> None:
        super().__init__(
            {k: NoGetattrBound(v) if isinstance(v, dict) else v for k, v in source.items()}
        )
        object.__setattr__(self, "__dict__", self)


VARIANTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "ADict (shipped)": ADict,
    "before: slice, __class__": Sliced,
    "startswith": StartsWith,
    "first character": FirstChar,
    "bound: store only": StoreOnlyBound,
    "bound: Python frame only": FrameOnlyBound,
    "bound: C store, no checks": CStoreBound,
    "bound: no __getattr__": NoGetattrBound,
}


def _timers() -> dict[str, dict[str, Callable[[], Any]]]:
    plain = {"model": {"lr": 0.1}}

    def dict_set() -> None:
        plain["model"]["lr"] = 0.2

    def dict_get() -> Any:
        return plain["model"]["lr"]

    timers = {"dict": {"set": dict_set, "get": dict_get}}
    for name, make in VARIANTS.items():
        cfg = make({"model": {"lr": 0.1}})

        def set_attr(cfg: Any = cfg) -> None:
            cfg.model.lr = 0.2

        def get_attr(cfg: Any = cfg) -> Any:
            return cfg.model.lr

        timers[name] = {"set": set_attr, "get": get_attr}
    return timers


def measure() -> dict[str, dict[str, float]]:
    """Best ns/op per variant and operation."""
    timers = _timers()
    best: dict[str, dict[str, float]] = {name: {} for name in timers}
    for _ in range(REPEAT):
        for name, ops in timers.items():
            for op, fn in ops.items():
                ns = timeit.timeit(fn, number=NUMBER) / NUMBER * 1e9
                best[name][op] = min(ns, best[name].get(op, ns))
    return best


def main() -> None:
    best = measure()
    base = best["dict"]
    print(f"Python {sys.version.split()[0]}; best of {REPEAT} x {NUMBER:,}; ns/op (ratio to dict)")
    print(f"{'variant':<28}{'set':>20}{'get':>20}")
    for name, res in best.items():
        cells = "".join(f"{res[op]:>11.0f} ({res[op] / base[op]:.2f}x)" for op in GOALS)
        print(f"{name:<28}{cells}")
    shipped = best["ADict (shipped)"]
    for op, goal in GOALS.items():
        ratio = shipped[op] / base[op]
        verdict = "met" if ratio <= goal else "MISSED"
        print(f"ADict {op}: {ratio:.2f}x dict (goal <= {goal}x, {verdict})")
        record_goal(f"ADict attribute {op} / dict", ratio, goal)


if __name__ == "__main__":
    main()
