"""Hydra's packages in compose_hierarchy: ``# @package`` headers and the ``package=`` argument."""

from __future__ import annotations

from pathlib import Path

import pytest

from ato.adict import ADict, CompositionError, compose_hierarchy


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def two_x(tmp_path: Path) -> Path:
    """An ato 2.x layout: option files carry their own top-level key."""
    write(tmp_path, "config.yaml", "seed: 1\n")
    write(tmp_path, "model/resnet50.yaml", "model:\n  name: resnet50\n  depth: 50\n")
    write(tmp_path, "data/imagenet.json", '{"data": {"name": "imagenet"}}')
    write(tmp_path, "optim/adam.toml", "[optim]\nlr = 0.001\n")
    return tmp_path


def test_default_package_is_the_group(two_x: Path) -> None:
    cfg = ADict.compose_hierarchy(two_x, select={"model": "resnet50"})
    assert cfg.model.model.name == "resnet50"


def test_one_argument_composes_a_2x_layout(two_x: Path) -> None:
    select = {"model": "resnet50", "data": "imagenet", "optim": "adam"}
    cfg = ADict.compose_hierarchy(two_x, select=select, package="_global_")
    assert cfg.to_dict() == {
        "seed": 1,
        "model": {"name": "resnet50", "depth": 50},
        "data": {"name": "imagenet"},
        "optim": {"lr": 0.001},
    }


def test_per_group_package_argument(two_x: Path) -> None:
    select = {"model": "resnet50", "optim": "adam"}
    cfg = compose_hierarchy(two_x, select=select, package={"model": "_global_"})
    assert cfg["model"]["name"] == "resnet50" and cfg["optim"] == {"optim": {"lr": 0.001}}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("# @package _global_\nmodel:\n  name: vit\n", {"model": {"name": "vit"}}),
        ("# @package _group_\nname: vit\n", {"model": {"name": "vit"}}),
        ("# @package backbone.encoder\nname: vit\n", {"backbone": {"encoder": {"name": "vit"}}}),
        ("# @package _group_.enc\nname: vit\n", {"model": {"enc": {"name": "vit"}}}),
        ("# @package _global_.a.b\nname: vit\n", {"a": {"b": {"name": "vit"}}}),
        (
            "# a comment\n\n#   @package   _global_  \nmodel: {name: vit}\n",
            {"model": {"name": "vit"}},
        ),
        ("name: vit\n# @package _global_\n", {"model": {"name": "vit"}}),
    ],
)
def test_package_header(tmp_path: Path, header: str, expected: dict) -> None:
    write(tmp_path, "model/vit.yaml", header)
    assert compose_hierarchy(tmp_path, None, select={"model": "vit"}) == expected


@pytest.mark.parametrize(
    ("ext", "text"),
    [
        (".toml", '# @package _global_\n[model]\nname = "vit"\n'),
        (".xyz", "# @package _global_\nmodel:\n  name: vit\n"),
    ],
)
def test_header_in_other_formats(tmp_path: Path, ext: str, text: str) -> None:
    write(tmp_path, f"model/vit{ext}", text)
    assert compose_hierarchy(tmp_path, None, select={"model": "vit"}) == {"model": {"name": "vit"}}


def test_nested_group_and_header_merge_with_base(tmp_path: Path) -> None:
    write(tmp_path, "config.yaml", "model:\n  backbone:\n    depth: 18\n    act: relu\n")
    write(tmp_path, "model/backbone/deep.yaml", "depth: 101\n")
    write(tmp_path, "extra/glob.yaml", "# @package _global_\nmodel:\n  backbone:\n    act: gelu\n")
    cfg = compose_hierarchy(tmp_path, select={"model/backbone": "deep", "extra": "glob"})
    assert cfg == {"model": {"backbone": {"depth": 101, "act": "gelu"}}}


def test_argument_wins_over_header(tmp_path: Path) -> None:
    write(tmp_path, "model/vit.yaml", "# @package _global_\nname: vit\n")
    cfg = compose_hierarchy(tmp_path, None, select={"model": "vit"}, package="_group_")
    assert cfg == {"model": {"name": "vit"}}


@pytest.mark.parametrize("bad", ["model..x", "1model", "a-b", "x.", "_global_.1"])
def test_invalid_package_names_file_or_argument(tmp_path: Path, bad: str) -> None:
    write(tmp_path, "model/vit.yaml", f"# @package {bad}\nname: vit\n")
    with pytest.raises(CompositionError, match=r"vit\.yaml"):
        compose_hierarchy(tmp_path, None, select={"model": "vit"})
    with pytest.raises(CompositionError, match="package= argument"):
        compose_hierarchy(tmp_path, None, select={"model": "vit"}, package=bad)
