"""The seams between packages: ato-scope's Scope and ato-tracker's SQLLogger match the
protocols ato-hyperopt declares (at run time and for mypy), and a search through a real Scope
hands trial values over ``Scope.build(extra=...)``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from ato.adict import ADict
from ato.hyperopt import HyperBand, ScopeLike, TrialLogger
from ato.scope import MultiScope, Scope
from ato.tracker import SQLLogger


def _logger_config(tmp_path: Path) -> ADict:
    return ADict(
        experiment=ADict(project_name="seams", sql=ADict(db_path=f"sqlite:///{tmp_path}/r.db"))
    )


def test_real_objects_match_the_protocols(tmp_path: Path) -> None:
    assert isinstance(Scope(), ScopeLike)
    logger = SQLLogger(_logger_config(tmp_path))
    assert isinstance(logger, TrialLogger)
    assert not isinstance(ADict(), TrialLogger)
    assert not isinstance(object(), ScopeLike)


def test_mypy_accepts_scope_and_sqllogger_as_the_protocols(tmp_path: Path) -> None:
    checked = tmp_path / "seams_check.py"
    checked.write_text(
        textwrap.dedent(
            """
            from ato.adict import ADict
            from ato.hyperopt import ScopeLike, TrialLogger
            from ato.hyperopt.protocols import Tracker
            from ato.scope import Scope
            from ato.tracker import SQLLogger


            def scope_side(scope: Scope) -> ScopeLike:
                return scope


            def tracker_side(config: ADict) -> TrialLogger:
                return SQLLogger(config)


            factory: Tracker = SQLLogger
            """
        ),
        encoding="utf-8",
    )
    wrong = tmp_path / "seams_wrong.py"
    wrong.write_text(
        "from ato.hyperopt import ScopeLike\n\n"
        "class NoExtra:\n    def build(self) -> int:\n        return 1\n\n"
        "x: ScopeLike = NoExtra()\n",
        encoding="utf-8",
    )
    run = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    ok = subprocess.run([*run, str(checked)], capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([*run, str(wrong)], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1 and "ScopeLike" in bad.stdout  # the check can fail


def test_a_search_through_a_scope_leaves_no_view_and_names_the_search(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py"])
    scope = Scope()
    scope.observe("base", {"lr": 1.0, "depth": 3}, default=True)

    @scope.observe(default=True, lazy=True)
    def derived(config):
        config.min_lr = config.lr / 10

    spaces = {"lr": {"param_type": "CATEGORY", "categories": [0.1, 0.2, 0.3]}}
    search = HyperBand(scope, spaces, halving_rate=0.5, num_min_samples=2)
    seen = []

    def train(config):
        seen.append((config.lr, config.min_lr, str(scope.provenance["lr"][-1].source)))
        return config.lr

    search.main(train)()
    assert {lr for lr, _, _ in seen} == {0.1, 0.2, 0.3}
    assert all(abs(min_lr - lr / 10) < 1e-12 and who == "search" for lr, min_lr, who in seen)
    assert scope.view_names == ["base", "derived"]
    assert scope.build([]).lr == 1.0  # outside a search nothing changed


def test_a_multiscope_is_refused_with_a_clear_error() -> None:
    import pytest

    from ato.hyperopt import ConfigTypeError

    spaces = {"a.x": {"param_type": "CATEGORY", "categories": [1]}}
    with pytest.raises(ConfigTypeError, match="extra"):
        HyperBand(MultiScope(Scope(name="a")), spaces, halving_rate=0.5, num_min_samples=2)
