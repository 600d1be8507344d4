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


def best_ns(stmt: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=REPEAT)) / number * 1e9


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


def time_dict() -> dict[str, float]:
    source = nested_source()
    d = {"model": {"lr": 0.1}}
    inner = d["model"]

    def get() -> Any:
        return d["model"]["lr"]

    def set_() -> None:
        d["model"]["lr"] = 0.2

    assert inner is d["model"]
    return {
        "get": best_ns(get, 500_000),
        "set": best_ns(set_, 500_000),
        "construct": best_ns(lambda: copy.deepcopy(source), 50),
    }


def time_library(make: Callable[[dict], Any]) -> dict[str, float]:
    source = nested_source()
    cfg = make({"model": {"lr": 0.1}})

    def get() -> Any:
        return cfg.model.lr

    def set_() -> None:
        cfg.model.lr = 0.2

    set_()
    assert cfg.model.lr == 0.2
    return {
        "get": best_ns(get, 200_000),
        "set": best_ns(set_, 200_000),
        "construct": best_ns(lambda: make(source), 20),
    }


def main() -> None:
    baseline = time_dict()
    results = {name: time_library(make) for name, make in _peers().items()}
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
