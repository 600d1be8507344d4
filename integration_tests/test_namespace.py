"""``ato`` is a PEP 420 namespace shared by every installed ato distribution.

A single ``ato/__init__.py`` shipped by any distribution would turn ``ato`` into a regular
package and hide the sub-packages of the others, so this checks the installed files.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata

import pytest

ATO_DISTRIBUTIONS = {"ato", "ato-adict", "ato-scope", "ato-tracker", "ato-hyperopt"}


def _installed() -> list[metadata.Distribution]:
    found = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in ATO_DISTRIBUTIONS:
            found[name] = dist
    return [found[name] for name in sorted(found)]


def test_ato_adict_is_installed():
    assert "ato-adict" in {d.metadata["Name"].lower() for d in _installed()}


def test_ato_is_a_namespace_package():
    ato = importlib.import_module("ato")
    assert getattr(ato, "__file__", None) is None
    assert type(ato.__path__).__name__ == "_NamespacePath"
    assert ato.__spec__.origin in (None, "namespace")


@pytest.mark.parametrize("dist", _installed(), ids=lambda d: d.metadata["Name"])
def test_no_distribution_ships_ato_init_or_top_level_files(dist):
    files = [str(f).replace("\\", "/") for f in dist.files or []]
    offenders = [
        f
        for f in files
        if f.startswith("ato/") and f.count("/") == 1  # directly inside ato/
    ]
    assert offenders == [], f"{dist.metadata['Name']} ships {offenders}; ato must stay a namespace"


SUB_PACKAGES = {
    "ato-adict": ["ato.adict", "ato.xyz"],  # ato.xyz, ato.parser: ato 2.x module paths
    "ato-scope": ["ato.scope", "ato.parser"],
    "ato-tracker": ["ato.tracker"],
    "ato-hyperopt": ["ato.hyperopt"],
}


def test_every_installed_sub_package_imports_next_to_the_others():
    names = {d.metadata["Name"].lower().replace("_", "-") for d in _installed()}
    modules = [m for name in sorted(names) for m in SUB_PACKAGES.get(name, [])]
    assert "ato.adict" in modules
    for module in modules:
        imported = importlib.import_module(module)
        assert imported.__file__ is not None, module
        assert imported.__name__ == module
