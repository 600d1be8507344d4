"""ADict speed next to a plain dict and its peers (addict, python-box, ml_collections, OmegaConf).

Run: ``python benchmarks/bench_adict.py`` (or ``nox -s bench``). Every operation is timed for
every library in the same process, best of several repeats, and printed as nanoseconds per
operation and as a ratio to the plain-dict baseline of that operation.

Operations:
    get        ``cfg.model.lr``            baseline ``d['model']['lr']``            target <= 3x
    set        ``cfg.model.lr = v``        baseline ``d['model']['lr'] = v``        target <= 4x
    construct  ``Lib(nested)`` from a 1,000-leaf nested dict
                                         baseline ``copy.deepcopy(nested)``      target <= 3x
A peer that is not installed is skipped with a note.
"""

from __future__ import annotations

import copy
import importlib
import sys
import timeit
from collections.abc import Callable
from typing import Any

from ato.adict import ADict

REPEAT = 7
TARGETS = {"get": 3.0, "set": 4.0, "construct": 3.0}


def nested_source(groups: int = 20, leaves: int = 50) -> dict[str, Any]:
    """A config of ``groups * leaves`` leaves (1,000 by default), two levels deep."""
    return {
        f"group{g}": {
            **{f"p{i}": (i * 0.5 if i % 3 else f"v{i}") for i in range(leaves - 2)},
            "sizes": [g, g + 1, g + 2],
            "block": {"depth": g, "act": "relu"},
        }
        for g in range(groups)
    }


def _operations(make: Callable[[dict], Any] | None) -> dict[str, Callable[[], Any]]:
    """The three timed callables for one library (``None``: the plain-dict baseline)."""
    source = nested_source()
    if make is None:
        d = {"model": {"lr": 0.1}}

        def get() -> Any:
            return d["model"]["lr"]

        def set_() -> None:
            d["model"]["lr"] = 0.2

        return {"get": get, "set": set_, "construct": lambda: copy.deepcopy(source)}

    cfg = make({"model": {"lr": 0.1}})

    def get_attr() -> Any:
        return cfg.model.lr

    def set_attr() -> None:
        cfg.model.lr = 0.2

    set_attr()
    assert get_attr() == 0.2, "attribute write did not stick"
    return {"get": get_attr, "set": set_attr, "construct": lambda: make(source)}


def _peers() -> dict[str, Callable[[dict], Any]]:
    makers: dict[str, Callable[[dict], Any]] = {"ADict": ADict}
    optional = {
        "addict": ("addict", lambda m: m.Dict),
        "python-box": ("box", lambda m: m.Box),
        "ml_collections": ("ml_collections", lambda m: m.ConfigDict),
        "OmegaConf": ("omegaconf", lambda m: m.OmegaConf.create),
    }
    for label, (module, pick) in optional.items():
        try:
            makers[label] = pick(importlib.import_module(module))
        except ImportError:
            print(f"note: {label} is not installed; skipped", file=sys.stderr)
    return makers


def measure(libraries: dict[str, dict[str, Callable[[], Any]]]) -> dict[str, dict[str, float]]:
    """Best ns/op per library and operation; repeats are interleaved across libraries so
    machine noise hits all of them alike."""
    best: dict[str, dict[str, float]] = {name: {} for name in libraries}
    for op in TARGETS:
        timers = {name: timeit.Timer(ops[op]) for name, ops in libraries.items()}
        numbers = {name: max(1, timer.autorange()[0] // 4) for name, timer in timers.items()}
        for _ in range(REPEAT):
            for name, timer in timers.items():
                ns = timer.timeit(numbers[name]) / numbers[name] * 1e9
                best[name][op] = min(ns, best[name].get(op, ns))
    return best


def main() -> None:
    libraries = {"dict": _operations(None)}
    libraries.update({name: _operations(make) for name, make in _peers().items()})
    results = measure(libraries)
    baseline = results.pop("dict")
    ops = list(TARGETS)
    print(f"Python {sys.version.split()[0]}; best of {REPEAT}; ns/op (ratio to plain dict)")
    print(f"{'library':<16}" + "".join(f"{op:>24}" for op in ops))
    print(f"{'dict (baseline)':<16}" + "".join(f"{baseline[op]:>17.0f} (1.00x)" for op in ops))
    for name, res in results.items():
        cells = "".join(f"{res[op]:>17.0f} ({res[op] / baseline[op]:.2f}x)" for op in ops)
        print(f"{name:<16}{cells}")
    print()
    ours = results["ADict"]
    for op in ops:
        ratio = ours[op] / baseline[op]
        verdict = "met" if ratio <= TARGETS[op] else "MISSED"
        peers = ", ".join(
            f"{name} {res[op] / ours[op]:.1f}x slower"
            for name, res in results.items()
            if name != "ADict"
        )
        print(f"ADict {op}: {ratio:.2f}x dict (target <= {TARGETS[op]:.0f}x, {verdict}); {peers}")


if __name__ == "__main__":
    main()
