"""Every example of docs/integrations.md (marked ``# runnable example``) runs as printed: one
per framework; an example ending in a comment line prints that line last, the others print
the run's status, ``completed``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[3] / "docs" / "integrations.md"
SECTION = re.compile(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", re.S | re.M)
BLOCK = re.compile(r"^```python\n(# runnable example\n.*?)^```", re.S | re.M)
FRAMEWORKS = ("PyTorch Lightning", "Hugging Face Trainer", "Keras", "XGBoost", "LightGBM", "Optuna")


def _examples() -> dict[str, str]:
    found = {}
    for name, body in SECTION.findall(PAGE.read_text(encoding="utf-8")):
        blocks = BLOCK.findall(body)
        if blocks:
            found[name] = blocks[0]
    return found


EXAMPLES = _examples()


def test_each_framework_has_an_example() -> None:
    assert sorted(EXAMPLES) == sorted(FRAMEWORKS)


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_the_example_runs_and_prints_what_the_page_says(name: str, tmp_path: Path) -> None:
    code = EXAMPLES[name]
    env = {**os.environ, "KERAS_BACKEND": "torch", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last_line = code.rstrip().splitlines()[-1]
    if last_line.startswith("# "):
        assert done.stdout.strip().splitlines()[-1] == last_line[2:]
    else:
        assert "completed" in done.stdout
