"""The Keras, XGBoost, LightGBM and Optuna examples of docs/integrations.md run and print what
the page says they print (the comment line after the last ``print``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[3] / "docs" / "integrations.md"
SECTION = re.compile(r"^## (\w+)\n(.*?)(?=^## |\Z)", re.S | re.M)
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
MINE = ("Keras", "XGBoost", "LightGBM", "Optuna")


def _examples() -> dict[str, str]:
    text = PAGE.read_text(encoding="utf-8")
    found = {}
    for name, body in SECTION.findall(text):
        blocks = BLOCK.findall(body)
        if name in MINE and blocks:
            found[name] = blocks[0]
    return found


EXAMPLES = _examples()


def test_each_framework_has_an_example() -> None:
    assert sorted(EXAMPLES) == sorted(MINE)


@pytest.mark.parametrize("name", MINE)
def test_the_example_prints_what_the_page_says(name: str, tmp_path: Path) -> None:
    code = EXAMPLES[name]
    expected = re.findall(r"^# (.*)$", code, re.M)[-1]
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == expected
