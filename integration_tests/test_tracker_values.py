"""Config values from the libraries users train with (numpy, torch, OmegaConf structured
configs) are stored without crashing, as the JSON ``ato.tracker.storage.normalize`` documents."""

from __future__ import annotations

import dataclasses
import enum
import json
import pathlib

from ato import tracker
from ato.adict import ADict


class Optimizer(enum.Enum):
    ADAM = "adam"


def _store(config) -> object:
    logger = tracker.SQLLogger(config)
    run_id = logger.run()
    logger.finish()
    return tracker.SQLFinder(config).find_run(run_id)


def test_numpy_values_are_stored_as_plain_json(tmp_path):
    import numpy as np

    config = ADict(
        lr=np.float32(0.5),
        steps=np.int64(10),
        flag=np.bool_(True),
        grid=np.arange(4).reshape(2, 2),
        nan=np.float64("nan"),
        experiment=ADict(project_name="np", sql=ADict(db_path=f"sqlite:///{tmp_path}/r.db")),
    )
    run = _store(config)
    stored = run.config.to_dict()
    json.dumps(stored, allow_nan=False)
    assert (stored["lr"], stored["steps"], stored["flag"]) == (0.5, 10, True)
    assert (type(stored["lr"]), type(stored["steps"]), type(stored["flag"])) == (float, int, bool)
    assert stored["grid"] == [[0, 1], [2, 3]]
    assert stored["nan"] == "nan"
    plain = {**stored, "lr": 0.5, "steps": 10, "flag": True}
    assert run.structural_hash == tracker.structural_hash(plain)


def test_torch_tensors_are_stored_as_numbers_and_lists(tmp_path):
    import torch

    config = {
        "scale": torch.tensor(2.5),
        "mean": torch.tensor([0.5, 0.25]),
        "experiment": {"project_name": "pt", "sql": {"db_path": f"sqlite:///{tmp_path}/r.db"}},
    }
    stored = _store(config).config
    assert stored.scale == 2.5 and stored.mean == [0.5, 0.25]


@dataclasses.dataclass
class Sql:
    db_path: str = "sqlite:///unused.db"


@dataclasses.dataclass
class Experiment:
    project_name: str = "structured"
    sql: Sql = dataclasses.field(default_factory=Sql)


@dataclasses.dataclass
class Train:
    optimizer: Optimizer = Optimizer.ADAM
    layers: list = dataclasses.field(default_factory=lambda: [64, 32])
    data_dir: str = "data"
    experiment: Experiment = dataclasses.field(default_factory=Experiment)


def test_structured_omegaconf_dataclass_and_adict_store_the_same_json(tmp_path):
    from omegaconf import OmegaConf

    db = f"sqlite:///{tmp_path}/r.db"
    plain = Train(experiment=Experiment(sql=Sql(db)))
    structured = OmegaConf.structured(plain)
    as_adict = ADict(
        optimizer=Optimizer.ADAM,
        layers=(64, 32),
        data_dir=pathlib.PurePosixPath("data"),
        experiment=ADict(project_name="structured", sql=ADict(db_path=db)),
    )
    runs = [_store(config) for config in (plain, structured, as_adict)]
    expected = {
        "optimizer": "adam",
        "layers": [64, 32],
        "data_dir": "data",
        "experiment": {"project_name": "structured", "sql": {"db_path": db}},
    }
    assert [run.config.to_dict() for run in runs] == [expected] * 3
    assert len({run.structural_hash for run in runs}) == 1
