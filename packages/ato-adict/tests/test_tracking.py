"""Access tracking: accessed_keys and get_minimal_config."""

from __future__ import annotations

import gc

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


def test_get_on_an_existing_key_is_a_read():
    cfg = _cfg().track_access()
    assert cfg.get("lr") == 0.1 and cfg.get("absent", 5) == 5
    assert cfg.accessed_keys == ["lr"]


def test_iteration_membership_raw_and_to_dict_are_not_reads():
    cfg = _cfg().track_access()
    _ = list(cfg), "lr" in cfg, len(cfg), cfg.raw("lr"), cfg.to_dict(), dict(**cfg)
    assert cfg.accessed_keys == []


def test_reading_a_whole_mapping_keeps_it_whole_in_the_minimal_config():
    cfg = _cfg().track_access()
    model = cfg.model
    assert cfg.get_minimal_config() == {"model": {"depth": 50, "width": 2}}
    assert model.depth == 50
    assert cfg.get_minimal_config() == {"model": {"depth": 50}}


def test_lists_are_kept_whole_in_the_minimal_config():
    cfg = _cfg().track_access()
    _ = cfg.layers[1].k
    minimal = cfg.get_minimal_config()
    assert minimal.to_dict() == {"layers": [{"k": 3}, {"k": 4}]}
    assert type(minimal.layers[0]) is ADict


def test_minimal_config_is_an_independent_copy():
    cfg = ADict(model={"sizes": [1, 2]}).track_access()
    _ = cfg.model.sizes
    minimal = cfg.get_minimal_config()
    minimal.model.sizes.append(3)
    assert cfg.model.sizes == [1, 2]
    minimal.model.extra = 1  # the copy is not tracked and not frozen
    assert "model.extra" not in cfg.accessed_keys


def test_nested_node_reports_paths_relative_to_itself():
    cfg = _cfg().track_access()
    _ = cfg.model.depth
    _ = cfg.lr
    assert cfg.model.accessed_keys == ["depth"]
    assert cfg.model.get_minimal_config() == {"depth": 50}


def test_keys_deleted_after_being_read_are_left_out():
    cfg = _cfg().track_access()
    _ = cfg.lr, cfg.unused
    del cfg["unused"]
    assert cfg.get_minimal_config() == {"lr": 0.1}


def test_keys_with_dots_and_non_string_keys():
    cfg = ADict({"a.b": 1, 7: {"c": 2}}).track_access()
    _ = cfg["a.b"], cfg[7]["c"]
    assert cfg.accessed_keys == ["7", "7.c", "a.b"]
    assert cfg.get_minimal_config() == {"a.b": 1, 7: {"c": 2}}


def test_records_of_a_dead_config_never_reach_a_new_one():
    from ato.adict import tracking

    gc.collect()
    before = len(tracking._REGISTRY)
    for _ in range(20):
        tracked = ADict(a=1, b={"c": 2}).track_access()
        _ = tracked.a, tracked.b.c
        del tracked
        gc.collect()  # an ADict is its own __dict__, so the cycle collector frees it
        fresh = ADict(a=1, b={"c": 2})  # often gets the id of the config just freed
        assert fresh.accessed_keys == [] and fresh.get_minimal_config() == {}
    assert len(tracking._REGISTRY) == before  # no entries left behind for dead configs


def test_a_frozen_tracked_adict_refuses_writes() -> None:
    import pytest

    from ato.adict import FrozenConfigError

    cfg = ADict(a=1, model=ADict(depth=3))
    cfg.track_access()
    cfg.freeze()
    with pytest.raises(FrozenConfigError):
        cfg.a = 5
    with pytest.raises(FrozenConfigError):
        cfg.model["depth"] = 4
    assert cfg.a == 1 and cfg.model.depth == 3
    assert cfg.accessed_keys == ["a", "model", "model.depth"]
