"""The Ray example of docs/hyperopt.md runs as a script (it starts and stops its own local Ray;
docs blocks marked plain runnable run in the integration session, which has no Ray)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs" / "hyperopt.md"
RAY_MARK = "<!-- runnable with ray: nox -s ray -->"


def test_the_docs_ray_example_runs(tmp_path: pathlib.Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("```python\n", text.index(RAY_MARK)) + len("```python\n")
    script = tmp_path / "example.py"
    script.write_text(text[start : text.index("```", start)])
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"answer: lr=[0-9.e-]+ at budget 9", done.stdout.strip().splitlines()[-1])
