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
