"""Importing ato.tracker, its CLI or ato.tracker.integrations imports no framework, also where
every framework is installed (this session's venv); each integration imports its own only."""

from __future__ import annotations

import json
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


MISSING = {  # integration -> the modules blocked to make its framework absent
    "lightning": ("lightning", "pytorch_lightning"),
    "transformers": ("transformers",),
    "keras": ("keras",),
    "xgboost": ("xgboost",),
    "lightgbm": ("lightgbm",),
    "optuna": ("optuna",),
}


def _import_errors(cases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """What importing each integration raises where its blocked modules cannot be imported
    (``sys.modules[name] = None``, as Python does for a module that is absent); one
    interpreter for all, the blocks lifted between cases."""
    code = (
        "import sys, json\n"
        f"cases = {cases!r}\n"
        "errors = {}\n"
        "for module, blocked in cases.items():\n"
        "    for name in blocked:\n"
        "        sys.modules[name] = None\n"
        "    try:\n"
        "        __import__('ato.tracker.integrations.' + module)\n"
        "        errors[module] = ''\n"
        "    except Exception as error:\n"
        "        errors[module] = f'{type(error).__name__}: {error}'\n"
        "    for name in blocked:\n"
        "        del sys.modules[name]\n"
        "print(json.dumps(errors))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def test_a_missing_framework_is_a_missing_dependency_naming_the_extra() -> None:
    assert _import_errors(MISSING) == {
        module: f"MissingDependencyError: ato.tracker.integrations.{module} needs "
        f"{blocked[0]}, which is not installed; install it with: pip install "
        f"'ato-tracker[{module}]'"
        for module, blocked in MISSING.items()
    }


def test_lightning_falls_back_to_pytorch_lightning() -> None:
    code = (
        "import sys\n"
        "sys.modules['lightning'] = None\n"
        "from ato.tracker.integrations.lightning import AtoLogger\n"
        "print(AtoLogger.__mro__[1].__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "pytorch_lightning.loggers.logger"


def test_a_framework_missing_a_dependency_of_its_own_says_which() -> None:
    """Lightning is installed but torch cannot be imported: torch's error, not a wrong hint
    to install Lightning."""
    error = _import_errors({"lightning": ("torch",)})["lightning"]
    assert error.startswith("ModuleNotFoundError: import of torch halted; None in sys.modules")
