"""The goal table of ``nox -s bench``: every goal the ``bench_*`` scripts recorded (see
``timing.record_goal``), its measured value beside its limit, met or missed; the session runs
it after the scripts.

Usage: ATO_BENCH_RESULTS=results.jsonl python benchmarks/goal_table.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from timing import RESULTS_ENV


def main() -> None:
    path = os.environ.get(RESULTS_ENV)
    if not path or not Path(path).exists():
        print(f"no goals recorded (set {RESULTS_ENV} to a file before running the scripts)")
        return
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    width = max(len(row["goal"]) for row in rows)
    print(f"{'goal':<{width}}  {'measured':>10}  {'limit':>8}  verdict")
    for row in rows:
        unit = row["unit"]
        verdict = "met" if row["value"] <= row["limit"] else "MISSED"
        print(
            f"{row['goal']:<{width}}  {row['value']:>9.2f}{unit:<1}  "
            f"<= {row['limit']:g}{unit:<2} {verdict}"
        )
    missed = sum(row["value"] > row["limit"] for row in rows)
    print(f"{len(rows) - missed} of {len(rows)} goals met")


if __name__ == "__main__":
    main()
