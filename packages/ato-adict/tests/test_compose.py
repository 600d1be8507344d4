"""compose_hierarchy: Hydra-style config groups."""

from __future__ import annotations

import warnings

import pytest

from ato.adict import ADict, CompositionError, CompositionWarning, compose_hierarchy


@pytest.fixture
def configs(write, tmp_path):
    write("configs/config.yaml", "model:\n  dropout: 0.1\ntrain:\n  epochs: 10\n")
    write("configs/model/resnet50.yaml", "name: resnet50\ndepth: 50\n")
    write("configs/model/resnet101.json", '{"name": "resnet101", "depth": 101}')
    write("configs/model/wide.toml", "width = 2\n")
    write("configs/data/imagenet.xyz", "name: imagenet\nsize: 224\n")
    write("configs/data/cifar10.py", "name = 'cifar10'\nsize = 32\n")
    write("configs/model/backbone/tiny.yaml", "channels: 8\n")
    return tmp_path / "configs"


def test_base_and_selected_options_merge_under_group_keys(configs):
    cfg = ADict.compose_hierarchy(configs, select={"model": "resnet50", "data": "cifar10"})
    assert type(cfg) is ADict
    assert cfg.to_dict() == {
        "model": {"dropout": 0.1, "name": "resnet50", "depth": 50},
        "train": {"epochs": 10},
        "data": {"name": "cifar10", "size": 32},
    }


def test_list_of_options_merges_in_order(configs):
    cfg = compose_hierarchy(configs, select={"model": ["resnet50", "resnet101", "wide"]})
    assert cfg["model"] == {"dropout": 0.1, "name": "resnet101", "depth": 101, "width": 2}


def test_nested_group_goes_under_dotted_key(configs):
    cfg = compose_hierarchy(configs, select={"model": "resnet50", "model/backbone": "tiny"})
    assert cfg["model"]["backbone"] == {"channels": 8}
    assert cfg["model"]["name"] == "resnet50"


def test_overrides_apply_last_by_dotted_path(configs):
    cfg = ADict.compose_hierarchy(
        configs,
        select={"model": "resnet50"},
        overrides={"model.depth": 34, "train.optim.lr": 0.1},
    )
    assert cfg.model.depth == 34 and cfg.train.optim.lr == 0.1 and cfg.train.epochs == 10


def test_missing_option_names_group_and_existing_options(configs):
    with pytest.raises(CompositionError) as info:
        compose_hierarchy(configs, select={"model": "vit"})
    message = str(info.value)
    assert "'model'" in message and "'vit'" in message
    assert "backbone" not in message
    assert "resnet101, resnet50, wide" in message


def test_missing_group_directory_lists_groups(configs):
    with pytest.raises(CompositionError, match="groups that exist: data, model"):
        compose_hierarchy(configs, select={"optim": "adam"})


def test_on_missing_warn_and_ignore_skip_the_option(configs):
    with pytest.warns(CompositionWarning, match="'vit'"):
        cfg = compose_hierarchy(configs, select={"model": ["vit", "wide"]}, on_missing="warn")
    assert cfg["model"] == {"dropout": 0.1, "width": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = compose_hierarchy(configs, select={"model": "vit"}, on_missing="ignore")
    assert cfg["model"] == {"dropout": 0.1}


def test_invalid_on_missing_value(configs):
    with pytest.raises(ValueError, match="on_missing"):
        compose_hierarchy(configs, on_missing="skip")


def test_required_keys_missing_are_listed(configs):
    with pytest.raises(CompositionError, match=r"model\.name, data\.size"):
        compose_hierarchy(configs, required=["model.name", "train.epochs", "data.size"])
    cfg = compose_hierarchy(configs, select={"model": "resnet50"}, required=["model.name"])
    assert cfg["model"]["name"] == "resnet50"


def test_missing_base_config_follows_on_missing(tmp_path, write):
    write("root/model/a.yaml", "x: 1\n")
    with pytest.raises(CompositionError, match="no base config config"):
        compose_hierarchy(tmp_path / "root")
    assert compose_hierarchy(tmp_path / "root", select={"model": "a"}, on_missing="ignore") == {
        "model": {"x": 1}
    }
    assert compose_hierarchy(tmp_path / "root", config_filename=None) == {}


def test_other_base_name_and_extension(tmp_path, write):
    write("root/main.toml", "seed = 1\n")
    assert compose_hierarchy(tmp_path / "root", config_filename="main") == {"seed": 1}


def test_ambiguous_stem_is_an_error(tmp_path, write):
    write("root/config.yaml", "a: 1\n")
    write("root/config.json", '{"a": 2}')
    with pytest.raises(CompositionError, match=r"ambiguous.*config\.json, config\.yaml"):
        compose_hierarchy(tmp_path / "root")


def test_root_must_be_a_directory(tmp_path):
    with pytest.raises(CompositionError, match="not a directory"):
        compose_hierarchy(tmp_path / "nope")
