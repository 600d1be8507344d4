"""Shared fixtures: run a script in a subprocess with real argv; no argparse capture leaks
from one test into the next."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ato.scope import external


@pytest.fixture
def run_script(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``run_script(code, *argv)``: write ``code`` to tmp_path/train.py and run it there."""

    def run(code: str, *argv: str) -> subprocess.CompletedProcess:
        script = tmp_path / "train.py"
        script.write_text(textwrap.dedent(code), encoding="utf-8")
        return subprocess.run(
            [sys.executable, "train.py", *argv],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture(autouse=True)
def _no_waiting_capture() -> Iterator[None]:
    yield
    external.stop_capture()
