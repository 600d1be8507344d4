"""Python config files (trusted code run with runpy)."""

from __future__ import annotations

import pytest

from ato.adict import ADict, ConfigFileError, load_file


def test_public_plain_data_names_become_keys(write):
    path = write(
        "cfg.py",
        """
        import math
        import re
        from collections import OrderedDict

        lr = 1e-3
        model = dict(depth=math.floor(50.5), layers=[64, 128], pair=(1, 2))
        name = "exp"
        _private = 1
        ordered = OrderedDict(a=1)
        pattern = re.compile("x")
        mixed = [1, pattern]

        def helper():
            return 1

        class Thing:
            pass

        computed = helper() + 1
        """,
    )
    assert load_file(path) == {
        "lr": 0.001,
        "model": {"depth": 50, "layers": [64, 128], "pair": (1, 2)},
        "name": "exp",
        "ordered": {"a": 1},
        "computed": 2,
    }
    assert ADict.from_file(path).model.depth == 50


def test_syntax_error_names_file_and_line(write):
    path = write("bad.py", "a = 1\nb = (\n")
    with pytest.raises(ConfigFileError, match="invalid Python") as info:
        load_file(path)
    assert info.value.line is not None and "bad.py" in str(info.value)


def test_exception_while_running_names_file_and_line(write):
    path = write("raises.py", "a = 1\nb = 1 / 0\n")
    with pytest.raises(ConfigFileError, match="ZeroDivisionError") as info:
        load_file(path)
    assert info.value.line == 2
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_main_guard_does_not_run(write):
    path = write("guard.py", "a = 1\nif __name__ == '__main__':\n    raise SystemExit('ran')\n")
    assert load_file(path) == {"a": 1}


def test_dump_writes_readable_assignments_that_load_back(tmp_path):
    cfg = ADict(model={"name": "unet", "widths": [32, 64]}, lr=1e-3, bad=float("nan"))
    path = tmp_path / "out.py"
    cfg.dump(path)
    text = path.read_text()
    assert "model = {\n    'name': 'unet',\n    'widths': [32, 64],\n}" in text
    assert 'bad = float("nan")' in text
    back = load_file(path)
    assert back["model"] == {"name": "unet", "widths": [32, 64]} and back["lr"] == 1e-3
    assert back["bad"] != back["bad"]


@pytest.mark.parametrize("key", ["not valid", "class", "_private", "1st"])
def test_dump_refuses_keys_that_are_not_public_identifiers(tmp_path, key):
    path = tmp_path / "out.py"
    with pytest.raises(ConfigFileError, match="identifier"):
        ADict({key: 1}).dump(path)
    assert not path.exists()
