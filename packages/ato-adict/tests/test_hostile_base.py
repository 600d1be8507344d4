"""`_base_` chains and composition never run code from data files nor leave the config root;
diamonds are read once per file; a .py config cannot end the program."""

from __future__ import annotations

import pytest

from ato.adict import (
    ADict,
    CompositionError,
    ConfigFileError,
    compose_hierarchy,
    load_mm_config,
    mmconfig,
)

HELPER = "import pathlib\npathlib.Path(__file__).with_name('ran.txt').write_text('ran')\nx = 1\n"


@pytest.mark.parametrize("top", ["cfg.yaml", "cfg.json", "cfg.toml", "cfg.xyz"])
def test_a_data_file_never_runs_a_python_base(tmp_path, write, top):
    write("helper.py", HELPER)
    text = {
        "cfg.yaml": "_base_: helper.py\ny: 2\n",
        "cfg.json": '{"_base_": ["helper.py"], "y": 2}',
        "cfg.toml": '_base_ = "helper.py"\ny = 2\n',
        "cfg.xyz": "_base_: helper.py\ny: 2\n",
    }[top]
    path = write(top, text)
    with pytest.raises(CompositionError, match="'helper.py' is Python code") as info:
        load_mm_config(path)
    assert "allow_python=True" in str(info.value)
    assert not (tmp_path / "ran.txt").exists()
    assert load_mm_config(path, allow_python=True) == {"x": 1, "y": 2}
    assert (tmp_path / "ran.txt").exists()


def test_a_python_base_of_a_python_base_of_yaml_needs_the_opt_in_too(tmp_path, write):
    write("inner.py", HELPER)
    write("outer.yaml", "_base_: [ok.yaml]\n")
    write("ok.yaml", "_base_: inner.py\n")
    with pytest.raises(CompositionError, match="Python code"):
        load_mm_config(tmp_path / "outer.yaml")
    assert not (tmp_path / "ran.txt").exists()


def test_a_python_top_level_file_runs_its_python_bases(write):
    write("base.py", "x = 1\n")
    path = write("top.py", "_base_ = 'base.py'\ny = 2\n")
    assert load_mm_config(path) == {"x": 1, "y": 2}


@pytest.mark.parametrize(
    "base",
    ["../outside/secret.yaml", "../../outside/secret.yaml", "sub/../../outside/secret.yaml"],
)
def test_bases_stay_inside_the_folder_of_a_data_file(tmp_path, write, base):
    write("outside/secret.yaml", "token: hunter2\n")
    depth = base.count("../") - base.count("sub/")
    folder = "/".join(["cfg"] * depth)
    path = write(f"{folder}/top.yaml", f"_base_: {base}\n")
    with pytest.raises(CompositionError, match="leaves the config root") as info:
        load_mm_config(path)
    assert "secret.yaml" in str(info.value) and "root=" in str(info.value)


def test_an_absolute_base_outside_the_root_is_refused(tmp_path, write):
    secret = write("outside/secret.yaml", "token: hunter2\n")
    path = write("cfg/top.yaml", f"_base_: {secret}\n")
    with pytest.raises(CompositionError, match="leaves the config root"):
        load_mm_config(path)
    assert load_mm_config(path, root=tmp_path) == {"token": "hunter2"}


def test_root_allows_openmmlab_layouts_and_confines_python_files(tmp_path, write):
    write("configs/_base_/model.yaml", "model: {depth: 50}\n")
    top = write("configs/retina/r101.yaml", "_base_: ../_base_/model.yaml\nmodel: {depth: 101}\n")
    with pytest.raises(CompositionError, match="leaves the config root"):
        ADict.from_mm_config(top)
    cfg = ADict.from_mm_config(top, root=tmp_path / "configs")
    assert cfg.model.depth == 101
    write("secret.py", "token = 'x'\n")
    py_top = write("configs/top.py", "_base_ = '../secret.py'\n")
    assert load_mm_config(py_top) == {"token": "x"}  # .py: code, not confined by default
    with pytest.raises(CompositionError, match="leaves the config root"):
        load_mm_config(py_top, root=tmp_path / "configs")
    assert ADict().load_mm_config(top, root=tmp_path / "configs").model.depth == 101


@pytest.mark.parametrize("depth", [12, 26, 60])
def test_diamonds_read_each_file_once(tmp_path, write, monkeypatch, depth):
    for i in range(depth):
        write(f"f{i}.yaml", f"_base_: [f{i + 1}.yaml, f{i + 1}.yaml]\nk{i}: {i}\n")
    write(f"f{depth}.yaml", "leaf: true\n")
    reads: list[str] = []
    original = mmconfig.load_file

    def counting(path):
        reads.append(str(path))
        return original(path)

    monkeypatch.setattr(mmconfig, "load_file", counting)
    cfg = load_mm_config(tmp_path / "f0.yaml")
    assert len(reads) == depth + 1 == len(set(reads))
    assert cfg == {"leaf": True, **{f"k{i}": i for i in range(depth)}}


def test_cycles_are_still_reported_with_each_file_read_once(write, tmp_path):
    write("a.yaml", "_base_: [b.yaml, c.yaml]\n")
    write("b.yaml", "_base_: c.yaml\n")
    write("c.yaml", "_base_: a.yaml\n")
    with pytest.raises(CompositionError, match="_base_ cycle"):
        load_mm_config(tmp_path / "a.yaml")


@pytest.fixture
def configs(tmp_path, write):
    write("outside/secret.yaml", "token: hunter2\n")
    write("configs/config.yaml", "seed: 1\n")
    write("configs/model/resnet.yaml", "name: resnet\n")
    return tmp_path / "configs"


@pytest.mark.parametrize(
    "select",
    [
        {"model": "../../outside/secret"},
        {"model": "../model/resnet"},
        {"model": "/etc/passwd"},
        {"model": "./resnet"},
        {"model": ""},
        {"model": "a//b"},
        {"model": "..\\..\\outside\\secret"},
        {"..": "outside/secret"},
        {"../..": "secret"},
        {"model/..": "resnet"},
        {"/model": "resnet"},
        {"": "resnet"},
    ],
)
def test_compose_selections_stay_inside_the_root(configs, select):
    with pytest.raises(CompositionError, match="inside the config root"):
        compose_hierarchy(configs, select=select)


@pytest.mark.parametrize("name", ["../outside/secret", "/tmp/x", "sub/../../x", ".", ""])
def test_compose_config_filename_stays_inside_the_root(configs, name):
    with pytest.raises(CompositionError, match="config_filename"):
        ADict.compose_hierarchy(configs, config_filename=name)


def test_compose_plain_names_still_work(configs):
    cfg = compose_hierarchy(configs, select={"model/": "resnet"})
    assert cfg == {"seed": 1, "model": {"name": "resnet"}}


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("import sys\nsys.exit(3)\n", "sys.exit(3)"),
        ("import sys\nsys.exit()\n", "sys.exit(None)"),
        ("raise SystemExit('bye')\n", "sys.exit('bye')"),
        ("x = 1\nexit(0)\n", "sys.exit(0)"),
        ("def f():\n    quit(2)\nf()\n", "sys.exit(2)"),
    ],
)
def test_a_python_config_that_exits_gives_a_config_file_error(write, code, shown):
    path = write("c.py", code)
    with pytest.raises(ConfigFileError) as info:
        ADict.from_file(path)
    assert shown in str(info.value) and info.value.path == str(path)
    assert info.value.line is not None


def test_exit_in_a_python_base_is_reported_too(write, tmp_path):
    write("base.py", "import sys\nsys.exit(1)\n")
    with pytest.raises(ConfigFileError, match=r"sys\.exit\(1\)"):
        load_mm_config(write("top.py", "_base_ = 'base.py'\n"))


def test_keyboard_interrupt_is_not_swallowed(write):
    with pytest.raises(KeyboardInterrupt):
        ADict.from_file(write("c.py", "raise KeyboardInterrupt\n"))


@pytest.mark.parametrize(
    "code", ["raise GeneratorExit\n", "class Stop(BaseException):\n    pass\n\nraise Stop('x')\n"]
)
def test_other_base_exceptions_give_config_file_errors(write, code):
    with pytest.raises(ConfigFileError, match="running the config raised") as info:
        ADict.from_file(write("c.py", code))
    assert info.value.line is not None
