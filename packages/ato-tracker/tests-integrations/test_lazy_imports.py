"""Importing ato.tracker (and its CLI) imports no framework; each integration imports its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

FRAMEWORKS = ("keras", "xgboost", "lightgbm", "optuna", "torch")


def _imported_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split()) & set(FRAMEWORKS)


def test_importing_the_tracker_imports_no_framework() -> None:
    assert _imported_after("import ato.tracker, ato.tracker.cli, ato.tracker.integrations") == set()


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("xgboost", {"xgboost"}),
        ("optuna", {"optuna"}),
        ("lightgbm", set()),  # a plain callable: LightGBM needs no base class
    ],
)
def test_an_integration_imports_its_own_framework_only(module: str, imported: set[str]) -> None:
    assert _imported_after(f"import ato.tracker.integrations.{module}") == imported
