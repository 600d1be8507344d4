"""Importing ato.adict must not pull in heavy or format libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["yaml", "tomllib", "tomli", "tomli_w", "sqlalchemy", "torch", "numpy", "omegaconf"]


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_does_not_load_heavy_modules():
    loaded = _modules_after("import ato.adict\nfrom ato.adict import ADict\nADict(a={'b': 1}).a.b")
    assert not loaded & set(HEAVY)
    assert "ato.adict.files" not in loaded and "ato.adict.xyz" not in loaded


def test_yaml_is_loaded_only_when_a_yaml_file_is_used(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\n")
    loaded = _modules_after(f"from ato.adict import ADict\nADict.from_file({str(path)!r})")
    assert "yaml" in loaded


def test_lazy_names_resolve_and_unknown_names_raise():
    import ato.adict

    assert ato.adict.load_file.__module__ == "ato.adict.files"
    assert ato.adict.compose_hierarchy.__module__ == "ato.adict.compose"
    with pytest.raises(AttributeError, match="not_a_name"):
        _ = ato.adict.not_a_name
