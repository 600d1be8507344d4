"""Importing ato.tracker or ato.tracker.integrations imports no framework, also where every
framework is installed (this session's venv)."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = ("torch", "lightning", "pytorch_lightning", "transformers", "accelerate")


def test_importing_the_tracker_and_the_integrations_package_imports_no_framework() -> None:
    script = (
        "import sys, ato.tracker, ato.tracker.integrations\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
