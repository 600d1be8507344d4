"""Access tracking: accessed_keys and get_minimal_config."""

from __future__ import annotations

from ato.adict import ADict


def _cfg():
    return ADict(lr=0.1, unused=1, model={"depth": 50, "width": 2}, layers=[{"k": 3}, {"k": 4}])


def test_no_keys_recorded_without_tracking():
    cfg = _cfg()
    _ = cfg.lr
    assert cfg.accessed_keys == []


def test_attribute_item_and_nested_reads_are_recorded():
    cfg = _cfg().track_access()
    _ = cfg.lr
    _ = cfg["model"]["depth"]
    _ = cfg.layers[1].k
    assert cfg.accessed_keys == ["layers", "layers.1.k", "lr", "model", "model.depth"]


def test_minimal_config_holds_only_read_leaves():
    cfg = _cfg().track_access()
    _ = cfg.lr
    _ = cfg.model.depth
    minimal = cfg.get_minimal_config()
    assert minimal.to_dict() == {"lr": 0.1, "model": {"depth": 50}}
    assert type(minimal) is ADict


def test_values_assigned_during_tracking_are_tracked():
    cfg = ADict(a=1).track_access()
    cfg.new = {"x": 1, "y": 2}
    _ = cfg.new.x
    assert "new.x" in cfg.accessed_keys
    assert cfg.get_minimal_config().to_dict() == {"new": {"x": 1}}


def test_restarting_tracking_clears_records_and_stopping_ends_them():
    cfg = _cfg().track_access()
    _ = cfg.lr
    cfg.track_access()
    assert cfg.accessed_keys == []
    cfg.track_access(False)
    _ = cfg.lr
    assert cfg.accessed_keys == []
    assert cfg.lr == 0.1 and type(cfg) is ADict


def test_multi_key_read_records_each_key():
    cfg = _cfg().track_access()
    _ = cfg["lr", "unused"]
    assert cfg.accessed_keys == ["lr", "unused"]
