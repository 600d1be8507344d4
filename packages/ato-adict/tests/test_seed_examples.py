"""The ADict examples of the product README behave as documented."""

from __future__ import annotations

from ato.adict import ADict


def test_structural_hash_example():
    first = ADict(lr=0.1, epochs=100, model="resnet50")
    second = ADict(lr=0.01, epochs=200, model="resnet101")
    third = ADict(lr=0.1, epochs="100", model="resnet50")
    assert first.get_structural_hash() == second.get_structural_hash()
    assert first.get_structural_hash() != third.get_structural_hash()


def test_auto_nested_example():
    config = ADict.auto()
    config.model.backbone.layers = [64, 128, 256]
    config.data.augmentation.brightness = 0.2
    assert config.model.backbone.layers == [64, 128, 256]
    assert config.to_dict()["data"] == {"augmentation": {"brightness": 0.2}}


def test_format_agnostic_and_safe_update_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.json").write_text('{"lr": 0.1, "model": {"name": "resnet50"}}')
    config = ADict.from_file("config.json")
    config.dump("config.yaml")
    assert ADict.from_file("config.yaml") == config
    config.update_if_absent(lr=0.01, scheduler="cosine")
    assert config.lr == 0.1 and config.scheduler == "cosine"


def test_nested_adict_assignment_example():
    config = ADict.auto()
    config.experiment = ADict(project_name="demo", sql=ADict(db_path="sqlite:///experiments.db"))
    assert config.experiment.sql.db_path == "sqlite:///experiments.db"


def test_compose_hierarchy_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in {
        "configs/config.yaml": "train:\n  epochs: 1\n",
        "configs/model/resnet50.yaml": "depth: 50\nlr: 0.1\n",
        "configs/data/imagenet.yaml": "size: 224\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    config = ADict.compose_hierarchy(
        root="configs",
        config_filename="config",
        select={"model": "resnet50", "data": "imagenet"},
        overrides={"model.lr": 0.01, "train.epochs": 90},
    )
    assert config.model.lr == 0.01 and config.model.depth == 50
    assert config.data.size == 224 and config.train.epochs == 90
