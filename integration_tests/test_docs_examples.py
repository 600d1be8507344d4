"""Every code block in README.md and docs/ that is marked runnable is executed.

Mark a block by putting ``<!-- runnable -->`` on the line just before its opening fence.
Each block runs as its own script with ``python`` in a fresh temporary directory, so a
block must be self-contained (it may write files in its working directory).
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MARK = "<!-- runnable -->"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


def _runnable_blocks() -> list[tuple[str, str]]:
    blocks = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()].rstrip().splitlines()
            if before and before[-1].strip() == MARK:
                line = text[: match.start()].count("\n") + 1
                blocks.append((f"{doc.relative_to(ROOT)}:{line}", match.group(1)))
    return blocks


BLOCKS = _runnable_blocks()


def test_some_blocks_are_marked() -> None:
    assert len(BLOCKS) >= 4, "README/docs should carry runnable examples"


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_runnable_block(where: str, code: str, tmp_path: pathlib.Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{where} failed:\n{proc.stdout}\n{proc.stderr}"
