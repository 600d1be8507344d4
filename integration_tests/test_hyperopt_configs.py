"""HyperBand over configs that are not ADicts: real OmegaConf, plain dicts, dataclasses."""

from __future__ import annotations

import dataclasses

import omegaconf

from ato.adict import ADict
from ato.hyperopt import HyperBand

SPACES = {
    "optim.lr": dict(param_type="FLOAT", param_range=(1e-4, 1e-1), num_samples=4, space_type="LOG"),
    "model.layers": dict(param_type="INTEGER", param_range=(2, 8), num_samples=3, space_type="LOG"),
}


def _metric(lr: float, layers: int) -> float:
    return -abs(lr - 1e-2) * 10 - abs(layers - 4) / 10


def test_omegaconf_struct_config_with_interpolation() -> None:
    base = omegaconf.OmegaConf.create(
        {"optim": {"lr": 0.5, "name": "adam"}, "model": {"layers": 1, "tag": "L${model.layers}"}}
    )
    omegaconf.OmegaConf.set_struct(base, True)
    hb = HyperBand(base, SPACES, halving_rate=0.5, num_min_samples=2)
    seen = []

    @hb.main
    def train(config):
        assert isinstance(config, omegaconf.DictConfig)
        assert config.model.tag == f"L{config.model.layers}"
        assert config["__num_halved__"] >= 0
        seen.append((config.optim.lr, config.model.layers))
        return _metric(config.optim.lr, config.model.layers)

    result = train()
    assert seen[:3] == [(1e-4, 2), (1e-4, 4), (1e-4, 8)]
    assert (result.config.optim.lr, result.config.model.layers) == (1e-2, 4)
    assert result.config.model.tag == "L4"  # resolved in the result
    assert base.optim.lr == 0.5 and omegaconf.OmegaConf.is_struct(base)


def test_plain_dict_config() -> None:
    base = {"optim": {"lr": 0.5}, "model": {"layers": 1}}
    hb = HyperBand(base, SPACES, halving_rate=0.5, num_min_samples=2)
    result = hb.main(lambda c: _metric(c["optim"]["lr"], c["model"]["layers"]))()
    assert result.config == ADict(
        optim={"lr": 1e-2}, model={"layers": 4}, __num_halved__=len(result.logs) - 1
    )


@dataclasses.dataclass
class Optim:
    lr: float = 0.5
    name: str = "adam"


@dataclasses.dataclass
class Model:
    layers: int = 1


@dataclasses.dataclass
class Config:
    optim: Optim = dataclasses.field(default_factory=Optim)
    model: Model = dataclasses.field(default_factory=Model)


def test_dataclass_config() -> None:
    hb = HyperBand(Config(), SPACES, halving_rate=0.5, num_min_samples=2)

    @hb.main
    def train(config):
        assert isinstance(config, Config) and isinstance(config.optim, Optim)
        return _metric(config.optim.lr, config.model.layers)

    result = train()
    assert result.config.optim == {"lr": 1e-2, "name": "adam"}
    assert result.config.model.layers == 4


def test_omegaconf_from_a_structured_dataclass() -> None:
    base = omegaconf.OmegaConf.structured(Config())
    hb = HyperBand(base, SPACES, halving_rate=0.5, num_min_samples=2)

    @hb.main
    def train(config):
        assert isinstance(config.optim.lr, float)
        return _metric(config.optim.lr, config.model.layers)

    assert train().config.optim.lr == 1e-2
