"""OpenMMLab configs: _base_ chains, _delete_, cycles and missing bases."""

from __future__ import annotations

import pytest

from ato.adict import ADict, CompositionError, ConfigFileNotFoundError, load_mm_config


@pytest.fixture
def mm(write, tmp_path):
    write(
        "configs/_base_/models/faster_rcnn.py",
        """
        model = dict(
            type="FasterRCNN",
            backbone=dict(type="ResNet", depth=50, norm=dict(type="BN", eps=1e-5)),
            neck=dict(type="FPN", channels=[256, 512]),
        )
        """,
    )
    write("configs/_base_/schedule.yaml", "optimizer:\n  type: SGD\n  lr: 0.02\nepochs: 12\n")
    write(
        "configs/faster_rcnn/r101.py",
        """
        import os

        _base_ = ["../_base_/models/faster_rcnn.py", "../_base_/schedule.yaml"]
        model = dict(backbone=dict(depth=101, norm=dict(_delete_=True, type="GN", groups=32)))
        optimizer = dict(lr=0.01)
        work_dir = os.path.join("work", "r101")

        def helper():
            return 1
        """,
    )
    return tmp_path / "configs"


def test_base_chain_deep_merges_and_strips_markers(mm):
    cfg = load_mm_config(mm / "faster_rcnn/r101.py")
    assert cfg == {
        "model": {
            "type": "FasterRCNN",
            "backbone": {"type": "ResNet", "depth": 101, "norm": {"type": "GN", "groups": 32}},
            "neck": {"type": "FPN", "channels": [256, 512]},
        },
        "optimizer": {"type": "SGD", "lr": 0.01},
        "epochs": 12,
        "work_dir": "work/r101",
    }


def test_adict_entry_points(mm):
    cfg = ADict.from_mm_config(mm / "faster_rcnn/r101.py")
    assert cfg.model.backbone.depth == 101
    base = ADict(epochs=1, extra={"keep": True}, optimizer={"momentum": 0.9})
    assert base.load_mm_config(mm / "faster_rcnn/r101.py") is base
    assert base.extra.keep and base.epochs == 12
    assert base.optimizer.to_dict() == {"momentum": 0.9, "type": "SGD", "lr": 0.01}


def test_delete_without_anything_to_replace_is_dropped(write, tmp_path):
    path = write("c.py", "model = dict(_delete_=True, a=1)\n")
    assert load_mm_config(path) == {"model": {"a": 1}}


def test_base_as_string_in_yaml(write, tmp_path):
    write("b.json", '{"a": {"x": 1, "y": 2}}')
    path = write("c.yaml", "_base_: b.json\na:\n  y: 3\n")
    assert load_mm_config(path) == {"a": {"x": 1, "y": 3}}


def test_missing_base_names_the_chain(write, tmp_path):
    write("a.py", "_base_ = 'b.py'\nx = 1\n")
    write("b.py", "_base_ = ['missing.py']\ny = 1\n")
    with pytest.raises(CompositionError) as info:
        load_mm_config(tmp_path / "a.py")
    message = str(info.value)
    assert "not found" in message
    assert message.index("a.py") < message.index("b.py -> ") < message.index("missing.py")


def test_cycle_is_detected(write, tmp_path):
    write("a.py", "_base_ = 'b.py'\n")
    write("b.py", "_base_ = 'a.py'\n")
    with pytest.raises(CompositionError, match="cycle"):
        load_mm_config(tmp_path / "a.py")


def test_bad_base_type(write):
    path = write("a.py", "_base_ = 3\n")
    with pytest.raises(CompositionError, match="_base_ must be"):
        load_mm_config(path)


def test_missing_top_file(tmp_path):
    with pytest.raises(ConfigFileNotFoundError):
        load_mm_config(tmp_path / "nope.py")
