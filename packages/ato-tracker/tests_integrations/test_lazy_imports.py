"""Importing ato.tracker, its CLI or ato.tracker.integrations imports no framework, also where
every framework is installed (this session's venv); each integration imports its own only."""

from __future__ import annotations

import subprocess
import sys

import pytest

FRAMEWORKS = (
    *("torch", "lightning", "pytorch_lightning", "transformers", "accelerate"),
    *("keras", "xgboost", "lightgbm", "optuna"),
)


def _imported_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split()) & set(FRAMEWORKS)


def test_importing_the_tracker_and_the_integrations_package_imports_no_framework() -> None:
    assert _imported_after("import ato.tracker, ato.tracker.cli, ato.tracker.integrations") == set()


@pytest.mark.parametrize(
    ("module", "framework", "own"),
    [
        ("xgboost", "import xgboost", {"xgboost"}),
        ("optuna", "import optuna", {"optuna"}),
        ("lightgbm", "pass", set()),  # a plain callable: LightGBM needs no base class
        ("lightning", "import lightning.pytorch.loggers.logger", {"lightning", "torch"}),
        ("transformers", "from transformers import TrainerCallback", {"transformers", "torch"}),
    ],
)
def test_an_integration_imports_its_own_framework_only(
    module: str, framework: str, own: set[str]
) -> None:
    """Exactly the frameworks that importing its framework's base class imports (Lightning and
    transformers import some of the others themselves when installed), its own among them."""
    imported = _imported_after(f"import ato.tracker.integrations.{module}")
    assert own <= imported
    assert imported == _imported_after(framework)
