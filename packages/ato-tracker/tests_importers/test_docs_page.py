"""The Python examples of docs/moving-to-ato.md run and print what the page says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[3] / "docs" / "moving-to-ato.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PRINTED = re.compile(r"^print\(.*\)  # (.*)$", re.M)
EXAMPLES = BLOCK.findall(PAGE.read_text(encoding="utf-8"))


def test_the_page_has_an_example_per_source() -> None:
    sources = [re.search(r"from_(optuna|mlflow|tensorboard)\(", code) for code in EXAMPLES]
    assert sorted(s.group(1) for s in sources if s) == ["mlflow", "optuna", "tensorboard"]


@pytest.mark.parametrize("code", EXAMPLES, ids=["optuna", "mlflow", "tensorboard"])
def test_an_example_prints_what_its_comments_say(code: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == PRINTED.findall(code)
