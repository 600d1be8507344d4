from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import pathlib

import omegaconf
import pytest

from ato.adict import ADict
from ato.tracker import normalize_config, structural_hash


@dataclasses.dataclass
class Model:
    backbone: str = "resnet"
    depth: int = 50


@dataclasses.dataclass
class Config:
    model: Model = dataclasses.field(default_factory=Model)
    lr: float = 0.1
    layers: tuple = (1, 2)


PLAIN = {"model": {"backbone": "resnet", "depth": 50}, "lr": 0.1, "layers": [1, 2]}


def test_adict_dict_and_dataclass_give_the_same_json_and_hash():
    configs = [ADict(PLAIN), PLAIN, Config(), {**PLAIN, "layers": (1, 2)}]
    normalized = [normalize_config(c) for c in configs]
    assert all(n == PLAIN for n in normalized)
    assert len({structural_hash(n) for n in normalized}) == 1


def test_omegaconf_is_resolved():
    cfg = omegaconf.OmegaConf.create(
        {"model": {"backbone": "resnet", "depth": 50}, "lr": 0.1, "layers": [1, 2], "lr2": "${lr}"}
    )
    normalized = normalize_config(cfg)
    assert normalized == {**PLAIN, "lr2": 0.1}
    assert structural_hash({k: v for k, v in normalized.items() if k != "lr2"}) == structural_hash(
        PLAIN
    )


def test_hash_differs_when_structure_differs():
    assert structural_hash(PLAIN) != structural_hash({**PLAIN, "lr": "0.1"})
    assert structural_hash(PLAIN) == structural_hash({**PLAIN, "lr": 0.5})


class Color(enum.Enum):
    RED = "red"


class Opaque:
    def __repr__(self):
        return "Opaque()"


class ScalarLike:
    """Mimics a numpy scalar (has .item())."""

    def item(self):
        return 3


class ArrayLike:
    def tolist(self):
        return [[1, 2], [3, 4]]


def test_values_json_cannot_hold_are_converted_and_serializable():
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    cfg = {
        "path": pathlib.Path("data") / "x.csv",
        "color": Color.RED,
        "tags": {"b", "a"},
        "mixed": {1, "a"},
        "when": when,
        "day": dt.date(2024, 1, 2),
        "raw": b"\x01\xff",
        "nan": float("nan"),
        "inf": float("-inf"),
        "cplx": 1 + 2j,
        "obj": Opaque(),
        "fn": normalize_config,
        "scalar": ScalarLike(),
        "array": ArrayLike(),
        3: "int key",
    }
    out = normalize_config(cfg)
    json.dumps(out, allow_nan=False)
    assert out["path"] == str(pathlib.Path("data") / "x.csv")
    assert out["color"] == "red"
    assert out["tags"] == ["a", "b"]
    assert sorted(map(str, out["mixed"])) == ["1", "a"]
    assert out["when"] == "2024-01-02T03:04:05+00:00"
    assert out["day"] == "2024-01-02"
    assert out["raw"] == "01ff"
    assert (out["nan"], out["inf"]) == ("nan", "-inf")
    assert out["cplx"] == "(1+2j)"
    assert out["obj"] == "Opaque()"
    assert out["fn"] == "ato.tracker.storage.normalize.normalize_config"
    assert out["scalar"] == 3
    assert out["array"] == [[1, 2], [3, 4]]
    assert out["3"] == "int key"


def test_numeric_subclasses_become_plain_types():
    class MyFloat(float):
        pass

    class Level(enum.IntEnum):
        HIGH = 2

    out = normalize_config({"x": MyFloat(1.5), "level": Level.HIGH})
    assert type(out["x"]) is float and out["level"] == 2 and type(out["level"]) is int
    assert structural_hash(out) == structural_hash({"x": 1.5, "level": 2})


def test_cycles_do_not_recurse_forever():
    cfg: dict = {"a": 1}
    cfg["self"] = cfg
    assert normalize_config(cfg) == {"a": 1, "self": "<cycle>"}


def test_none_and_non_mapping_configs():
    assert normalize_config(None) == {}
    assert normalize_config([1, 2]) == {"value": [1, 2]}


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_run_with_odd_config_values_is_stored(make_config, value):
    from ato.tracker import SQLFinder, SQLLogger

    cfg = make_config(path=pathlib.Path("a"), odd=value, obj=Opaque(), color=Color.RED)
    logger = SQLLogger(cfg)
    run_id = logger.run()
    logger.finish()
    run = SQLFinder(cfg).find_run(run_id)
    assert run.config.path == "a" and run.config.obj == "Opaque()" and run.config.color == "red"
    assert run.config.odd in ("nan", "inf")
    assert run.structural_hash == structural_hash(normalize_config(cfg))


def test_adict_keys_that_shadow_methods_are_normalized():
    cfg = ADict(items=1, keys=[2], to_dict="x", model=ADict(values=3, get=4))
    out = normalize_config(cfg)
    assert out == {"items": 1, "keys": [2], "to_dict": "x", "model": {"values": 3, "get": 4}}
    assert structural_hash(out) == structural_hash(dict(out))


class BrokenRepr:
    def __repr__(self):
        raise RuntimeError("repr is broken")


def test_an_object_whose_repr_raises_is_stored_by_its_type_name():
    assert normalize_config({"obj": BrokenRepr()}) == {
        "obj": f"<{__name__}.BrokenRepr object>",
    }


def test_run_with_shadowing_keys_is_stored_and_shown(make_config):
    from ato.tracker import SQLFinder, SQLLogger
    from ato.tracker.cli.records import run_record

    cfg = make_config(items=1, to_dict="x")
    logger = SQLLogger(cfg)
    run_id = logger.run()
    logger.finish()
    run = SQLFinder(cfg).find_run(run_id)
    record = run_record(run, {})
    assert (record["config"]["items"], record["config"]["to_dict"]) == (1, "x")
