"""ato.adict.interop (config objects to plain data), ato.adict.suggest and ato.adict.modes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import attrs
import pydantic
import pytest
from omegaconf import OmegaConf

from ato.adict import ADict
from ato.adict.interop import is_config, is_omegaconf, to_plain
from ato.adict.modes import check_mode
from ato.adict.suggest import close_matches, did_you_mean


@dataclasses.dataclass
class Optim:
    lr: float = 0.1
    betas: tuple = (0.9, 0.99)


@dataclasses.dataclass
class Train:
    optim: Optim = dataclasses.field(default_factory=Optim)
    layers: list = dataclasses.field(default_factory=lambda: [{"k": 3}])


@attrs.define
class AttrsModel:
    depth: int = 18
    head: dict = attrs.Factory(lambda: {"dim": 64})


class PydanticModel(pydantic.BaseModel):
    name: str = "resnet"
    sizes: list[int] = [1, 2]


EXPECTED = {"optim": {"lr": 0.1, "betas": (0.9, 0.99)}, "layers": [{"k": 3}]}


@pytest.mark.parametrize(
    "config",
    [
        ADict(EXPECTED),
        EXPECTED,
        Train(),
        ADict(optim=Optim(), layers=[ADict(k=3)]),
    ],
    ids=["adict", "dict", "dataclass", "adict-with-dataclass"],
)
def test_equal_content_gives_equal_plain_data(config) -> None:
    plain = to_plain(config)
    assert plain == EXPECTED
    assert type(plain) is dict and type(plain["optim"]) is dict
    assert type(plain["layers"][0]) is dict


def test_attrs_and_pydantic() -> None:
    assert to_plain(AttrsModel()) == {"depth": 18, "head": {"dim": 64}}
    assert to_plain({"m": PydanticModel()}) == {"m": {"name": "resnet", "sizes": [1, 2]}}
    assert is_config(AttrsModel()) and is_config(PydanticModel())
    assert not is_config(AttrsModel) and not is_config(PydanticModel) and not is_config(Optim)


def test_omegaconf_is_resolved_leniently() -> None:
    config = OmegaConf.create(
        {
            "lr": 0.1,
            "copy": "${lr}",
            "broken": "${no.such.key}",
            "missing": "???",
            "items": [1, "${lr}", {"x": "${copy}"}],
            "env": "${oc.env:ATO_SURELY_UNSET_VARIABLE}",
        }
    )
    assert to_plain(config) == {
        "lr": 0.1,
        "copy": 0.1,
        "broken": "${no.such.key}",
        "missing": "???",
        "items": [1, 0.1, {"x": 0.1}],
        "env": "${oc.env:ATO_SURELY_UNSET_VARIABLE}",
    }
    assert to_plain(OmegaConf.create([1, {"a": 2}])) == [1, {"a": 2}]
    assert is_omegaconf(config) and not is_omegaconf({"a": 1})


def test_leaves_are_kept_and_containers_are_new() -> None:
    leaf = object()
    source = {"a": [leaf], "b": (1, 2)}
    plain = to_plain(source)
    assert plain["a"][0] is leaf and plain["a"] is not source["a"]
    assert to_plain(leaf) is leaf and to_plain(3) == 3


def test_cycles_raise_with_the_path_or_take_a_marker() -> None:
    config: dict = {"model": {"layers": []}}
    config["model"]["layers"].append(config["model"])
    with pytest.raises(ValueError, match=r"model\.layers\.0"):
        to_plain(config)
    assert to_plain(config, on_cycle="<cycle>") == {"model": {"layers": ["<cycle>"]}}
    shared = [1]
    assert to_plain({"a": shared, "b": shared}) == {"a": [1], "b": [1]}  # no false cycle


def test_importing_interop_does_not_import_omegaconf() -> None:
    code = (
        "import sys; from ato.adict.interop import to_plain; import dataclasses; "
        "to_plain({'a': [1, (2,)]}); print('omegaconf' in sys.modules, 'pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_suggestions() -> None:
    assert close_matches("lrr", ["lr", "depth", "lr_rate"]) == ["lr", "lr_rate"]
    assert close_matches("lr", ["optim.lr", "optim.momentum"]) == ["optim.lr"]
    assert close_matches("lr", ["lr", 3, None]) == []  # the word itself and non-strings skipped
    assert did_you_mean("depht", ["depth", "width"]) == " Did you mean 'depth'?"
    assert did_you_mean("zzz", ["depth"]) == ""
    assert len(close_matches("a", [f"a{i}" for i in range(9)], n=2)) == 2


@pytest.mark.parametrize(
    ("bad", "hint"),
    [("maximize", "'max'"), ("Min", "'min'"), ("MAXIMUM", "'max'"), ("best", None), (1, None)],
)
def test_check_mode(bad, hint) -> None:
    assert check_mode("max") == "max" and check_mode("min") == "min"

    class MyError(ValueError):
        pass

    with pytest.raises(MyError) as info:
        check_mode(bad, MyError, what="order")
    message = str(info.value)
    assert message.startswith(f"order must be 'max' or 'min', got {bad!r}")
    assert (f"Did you mean {hint}?" in message) if hint else "Did you mean" not in message
