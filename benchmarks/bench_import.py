"""Import cost of ``ato.adict`` (and ``ato.scope`` when installed) over a bare interpreter.

Run: ``python benchmarks/bench_import.py [RUNS]`` (or ``nox -s bench``). Each command is started
``RUNS`` times (default 20), interleaved so machine noise hits all of them alike; the median
wall time of ``python -c 'import X'`` minus that of ``python -c pass`` is printed in
milliseconds. Targets: ``ato.adict`` <= +20 ms, ``ato.scope`` <= +30 ms.
"""

from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys
import time

TARGETS_MS = {"ato.adict": 20.0, "ato.scope": 30.0}


def wall_seconds(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 20
    modules = [m for m in TARGETS_MS if installed(m)]
    for missing in sorted(set(TARGETS_MS) - set(modules)):
        print(f"note: {missing} is not installed; skipped", file=sys.stderr)
    codes = {"pass": "pass", **{m: f"import {m}" for m in modules}}
    for code in codes.values():  # warm the file-system cache and .pyc files
        wall_seconds(code)
    samples: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            samples[name].append(wall_seconds(code))
    base = statistics.median(samples["pass"]) * 1000
    print(f"Python {sys.version.split()[0]}; median of {runs} runs; python -c pass = {base:.1f} ms")
    for module in modules:
        extra = statistics.median(samples[module]) * 1000 - base
        verdict = "met" if extra <= TARGETS_MS[module] else "MISSED"
        print(
            f"import {module}: +{extra:.1f} ms (target <= +{TARGETS_MS[module]:.0f} ms, {verdict})"
        )


if __name__ == "__main__":
    main()
