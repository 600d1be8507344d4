from __future__ import annotations

import dataclasses

import omegaconf
import pytest

from ato.adict import ADict
from ato.hyperopt import ConfigPathError, ConfigTypeError, GridSpaceMixIn, HyperBand
from ato.hyperopt.configs import to_adict, with_values

LR = dict(param_type="FLOAT", param_range=(1e-3, 1e-1), num_samples=3, space_type="LOG")
DEPTH = dict(param_type="CATEGORY", categories=[18, 50])
SPACES = {"optimizer.lr": LR, "model.depth": DEPTH}


@dataclasses.dataclass
class Optim:
    lr: float = 0.5
    momentum: float = 0.9


@dataclasses.dataclass
class Model:
    depth: int = 34
    extra: dict = dataclasses.field(default_factory=lambda: {"dropout": 0.1})


@dataclasses.dataclass
class TrainConfig:
    optimizer: Optim = dataclasses.field(default_factory=Optim)
    model: Model = dataclasses.field(default_factory=Model)
    epochs: int = 3


@dataclasses.dataclass(frozen=True)
class Frozen:
    lr: float = 0.1


def test_adict_copy_gets_values_at_dotted_paths_and_base_is_untouched() -> None:
    base = ADict(optimizer=ADict(lr=0.5, momentum=0.9), model=ADict(depth=34))
    configs = GridSpaceMixIn.prepare_distributions(base, SPACES)
    assert len(configs) == 6
    assert configs[0].optimizer.lr == 1e-3 and configs[0].model.depth == 18
    assert configs[0].optimizer.momentum == 0.9
    assert all(type(c) is ADict for c in configs)
    assert base.optimizer.lr == 0.5 and base.model.depth == 34
    configs[0].optimizer.momentum = 0.1
    assert configs[1].optimizer.momentum == 0.9


def test_missing_intermediate_keys_are_created() -> None:
    config = with_values(ADict(), {"a.b.c": 1})
    assert config.a.b.c == 1
    plain = with_values({}, {"a.b": 2})
    assert plain == {"a": {"b": 2}} and type(plain["a"]) is dict


def test_frozen_adict_stays_frozen() -> None:
    base = ADict(lr=0.5).freeze()
    config = with_values(base, {"lr": 0.1}, num_halved=2)
    assert config.frozen and config.lr == 0.1 and config.__num_halved__ == 2
    assert base.lr == 0.5


def test_plain_dict_copy_is_a_dict() -> None:
    base = {"optimizer": {"lr": 0.5}, "model": {"depth": 34}}
    configs = GridSpaceMixIn.prepare_distributions(base, SPACES)
    assert type(configs[-1]) is dict
    assert configs[-1] == {"optimizer": {"lr": 0.1}, "model": {"depth": 50}}
    assert base["optimizer"]["lr"] == 0.5


def test_dataclass_copy_is_the_same_dataclass_with_nested_fields_replaced() -> None:
    base = TrainConfig()
    configs = GridSpaceMixIn.prepare_distributions(base, SPACES)
    last = configs[-1]
    assert isinstance(last, TrainConfig)
    assert last.optimizer == Optim(lr=0.1, momentum=0.9)
    assert last.model.depth == 50
    assert base.optimizer.lr == 0.5 and base.model.depth == 34
    assert last.model.extra is not base.model.extra


def test_dataclass_path_into_a_dict_field_and_num_halved() -> None:
    config = with_values(TrainConfig(), {"model.extra.dropout": 0.3}, num_halved=1)
    assert config.model.extra == {"dropout": 0.3}
    assert config.__num_halved__ == 1
    flat = to_adict(config)
    assert flat.model.extra.dropout == 0.3 and flat.__num_halved__ == 1


def test_frozen_dataclass_is_supported() -> None:
    config = with_values(Frozen(), {"lr": 0.01}, num_halved=0)
    assert config.lr == 0.01 and config.__num_halved__ == 0


def test_dataclass_missing_field_is_a_clear_error() -> None:
    with pytest.raises(ConfigPathError, match=r"'optimizer.beta'.*no field 'beta'"):
        with_values(TrainConfig(), {"optimizer.beta": 0.1})


def test_path_through_a_scalar_is_a_clear_error() -> None:
    with pytest.raises(ConfigPathError, match=r"'epochs.x'.*'epochs' holds a int"):
        with_values({"epochs": 3}, {"epochs.x": 1})


def test_search_reports_bad_paths_at_construction() -> None:
    with pytest.raises(ConfigPathError, match=r"optimizer\.beta"):
        HyperBand(TrainConfig(), {"optimizer.beta": LR}, halving_rate=0.5, num_min_samples=1)


def test_unsupported_config_types_are_rejected() -> None:
    with pytest.raises(ConfigTypeError, match="got int"):
        HyperBand(3, {"lr": LR}, halving_rate=0.5, num_min_samples=1)
    with pytest.raises(ConfigTypeError, match="None"):
        HyperBand(None, {"lr": LR}, halving_rate=0.5, num_min_samples=1)

    @dataclasses.dataclass(slots=True)
    class Slotted:
        lr: float = 0.1

    with pytest.raises(ConfigTypeError, match="__slots__"):
        HyperBand(Slotted(), {"lr": LR}, halving_rate=0.5, num_min_samples=1)


def test_omegaconf_copy_keeps_type_struct_mode_and_interpolations() -> None:
    base = omegaconf.OmegaConf.create(
        {"optimizer": {"lr": 0.5}, "model": {"depth": 34}, "tag": "d${model.depth}"}
    )
    omegaconf.OmegaConf.set_struct(base, True)
    configs = GridSpaceMixIn.prepare_distributions(base, SPACES)
    last = configs[-1]
    assert isinstance(last, omegaconf.DictConfig)
    assert last.optimizer.lr == 0.1 and last.tag == "d50"
    assert base.optimizer.lr == 0.5
    trial = with_values(base, {"new.key": 1}, num_halved=2)
    assert trial.new.key == 1 and trial["__num_halved__"] == 2
    assert to_adict(trial).tag == "d34"


@pytest.mark.parametrize("base", [{"blocks": []}, ADict(blocks=[])], ids=["dict", "ADict"])
def test_a_trial_mutating_a_category_value_does_not_change_the_grid(base) -> None:
    from ato.hyperopt import HyperBand

    spaces = {
        "blocks": {"param_type": "CATEGORY", "categories": [[1, 2], [3]]},
        "x": {"param_type": "INTEGER", "param_range": (0, 1), "num_samples": 2},
    }
    search = HyperBand(base, spaces, halving_rate=0.5, num_min_samples=2)
    seen = []

    @search.main
    def train(config):
        seen.append(list(config["blocks"]))
        config["blocks"].append(99)
        return config["x"] + len(config["blocks"])

    search_result = train()
    assert all(99 not in blocks for blocks in seen)
    assert 99 not in search_result.config.blocks


def test_a_search_key_close_to_an_existing_key_warns() -> None:
    import warnings

    from ato.hyperopt.errors import NewKeyWarning

    spaces = {"lrr": {"param_type": "FLOAT", "param_range": (0.1, 0.2), "num_samples": 2}}
    with pytest.warns(NewKeyWarning, match=r"'lrr'.*the top level.*Did you mean 'lr'") as seen:
        HyperBand(ADict(lr=0.0, epochs=3), spaces, halving_rate=0.5, num_min_samples=1)
    # the warning names the user's line (under mutation testing, mutmut's trampoline frame)
    assert seen[0].filename == __file__ or seen[0].filename.endswith(
        "mutmut/mutation/trampoline.py"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", NewKeyWarning)  # a key with no look-alike is deliberate
        HyperBand(ADict(epochs=3), {"dropout": spaces["lrr"]}, halving_rate=0.5, num_min_samples=1)
        HyperBand({}, spaces, halving_rate=0.5, num_min_samples=1)
