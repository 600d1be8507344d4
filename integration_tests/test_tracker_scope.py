"""ato-tracker with a real ato-scope Scope (fingerprints) and with every supported config type."""

from __future__ import annotations

import dataclasses

from ato import scope as scope_module
from ato import tracker
from ato.adict import ADict


def _experiment(db: str, project: str) -> ADict:
    return ADict(project_name=project, sql=ADict(db_path=db))


def _traced_scope(scale: float) -> object:
    scope = scope_module.Scope()

    @scope.trace(trace_id="forward")
    def forward(x):
        return x * 2

    @scope.runtime_trace(trace_id="output")
    def output():
        return [scale, scale * 2]

    output()
    return scope


def test_scope_fingerprints_drive_trace_queries(tmp_path):
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    cfg = ADict(lr=0.1, experiment=_experiment(db, "traced"))
    run_ids = []
    for scale in (1.0, 1.0, 2.0):
        logger = tracker.SQLLogger(cfg)
        run_ids.append(logger.run())
        assert logger.log_fingerprints(_traced_scope(scale)) == 2
        logger.finish()

    finder = tracker.SQLFinder(cfg)
    first, second, third = run_ids
    same_code = finder.find_similar_runs_by_trace(first, "forward", "static")
    assert [run.id for run in same_code] == [second, third]
    same_output = finder.find_similar_runs_by_trace(first, "output", "runtime")
    assert [run.id for run in same_output] == [second]
    stats = finder.get_trace_statistics("traced", "output")
    assert stats["runtime_trace_versions"] == 2 and stats["static_trace_versions"] == 0
    assert finder.get_trace_statistics("traced", "forward")["static_trace_versions"] == 1


@dataclasses.dataclass
class Sql:
    db_path: str


@dataclasses.dataclass
class Experiment:
    project_name: str
    sql: Sql


@dataclasses.dataclass
class TrainConfig:
    lr: float
    layers: tuple
    experiment: Experiment


def test_omegaconf_dict_dataclass_and_adict_configs_are_equivalent(tmp_path):
    from omegaconf import OmegaConf

    db = f"sqlite:///{tmp_path / 'runs.db'}"
    plain = {
        "lr": 0.1,
        "layers": [64, 64],
        "experiment": {"project_name": "types", "sql": {"db_path": db}},
    }
    omega = OmegaConf.create(plain)
    configs = [
        ADict(plain),
        plain,
        omega,
        TrainConfig(lr=0.1, layers=(64, 64), experiment=Experiment("types", Sql(db))),
    ]
    ids = []
    for config in configs:
        logger = tracker.SQLLogger(config)
        ids.append(logger.run())
        logger.log_metric("acc", 0.5, 0)
        logger.finish()
    finder = tracker.SQLFinder(db)
    runs = finder.find_runs(ids)
    assert len({run.structural_hash for run in runs}) == 1
    assert all(run.config.to_dict() == {**plain} for run in runs)
    assert [run.id for run in finder.find_similar_runs(ids[0])] == ids[1:]


def test_omegaconf_interpolations_are_stored_resolved(tmp_path):
    from omegaconf import OmegaConf

    db = f"sqlite:///{tmp_path / 'runs.db'}"
    config = OmegaConf.create(
        {
            "base_lr": 0.1,
            "optimizer": {"lr": "${base_lr}"},
            "experiment": {"project_name": "omega", "sql": {"db_path": db}},
        }
    )
    logger = tracker.SQLLogger(config)
    run_id = logger.run()
    logger.finish()
    assert tracker.SQLFinder(db).find_run(run_id).config.optimizer.lr == 0.1


def test_a_run_under_a_scope_can_be_explained_afterwards(tmp_path, capsys):
    from ato.tracker.cli import main

    db = f"sqlite:///{tmp_path / 'runs.db'}"
    scope = scope_module.Scope()

    @scope.observe(default=True)
    def defaults(config):
        config.lr = 0.1
        config.experiment = _experiment(db, "scoped")

    @scope.observe(priority=1)
    def fast(config):
        config.lr = 0.5

    config = scope.build(["fast", "+epochs=3"])
    logger = tracker.SQLLogger(config, scope=scope)
    with logger.start_run() as run:
        pass
    stored = tracker.SQLFinder(db).find_run(run.id).provenance.scope
    assert stored.views[:2] == ["defaults", "fast"] and stored.overrides == ["+epochs=3"]
    assert main(["--db", db, "runs", "explain", str(run.id), "lr"]) == 0
    out = capsys.readouterr().out
    assert "lr = 0.5 ← fast" in out and "overrode 0.1 ← defaults" in out
    assert main(["--db", db, "runs", "explain", str(run.id), "epochs"]) == 0
    assert "epochs = 3 ← CLI +epochs=3" in capsys.readouterr().out


README_SCOPE_WITH_TRACKER = """
from ato.scope import Scope
from ato.tracker import SQLLogger

scope = Scope()


@scope.observe(default=True)
def defaults(config):
    config.lr = 1e-3
    config.epochs = 10
    config.experiment.project_name = "readme"
    config.experiment.sql.db_path = "sqlite:///experiments.db"


@scope.observe()
def long_run(config):
    config.epochs = 100


@scope
def train(config):
    print(f"training for {config.epochs} epochs at lr={config.lr}")
    with SQLLogger(config).start_run() as run:
        run.log_metric("loss", 0.5, 0)
    print("run", run.id)


if __name__ == "__main__":
    train()
"""


def test_the_readme_scope_example_with_a_tracker_is_explained_without_wiring(tmp_path, capsys):
    """The README's Scope example plus a logger made from the injected config alone (no
    ``scope=``): ``ato runs explain`` answers for the run."""
    import subprocess
    import sys

    from ato.tracker.cli import main

    (tmp_path / "train.py").write_text(README_SCOPE_WITH_TRACKER, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "train.py", "long_run", "lr=0.01"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "training for 100 epochs at lr=0.01" in done.stdout
    run_id = done.stdout.split("run ")[-1].strip()
    db = f"sqlite:///{tmp_path / 'experiments.db'}"
    assert main(["--db", db, "runs", "explain", run_id, "epochs"]) == 0
    out = capsys.readouterr().out
    assert "Views applied: defaults → long_run → (CLI Inputs)" in out
    assert "epochs = 100 ← long_run (train.py:" in out and "overrode 10 ← defaults" in out
    assert main(["--db", db, "runs", "explain", run_id, "lr"]) == 0
    assert "lr = 0.01 ← CLI lr=0.01" in capsys.readouterr().out
