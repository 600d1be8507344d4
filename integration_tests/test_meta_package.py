"""The ``ato`` meta-package: exact pins at the shared version, the namespace, the command."""

from __future__ import annotations

import importlib.metadata as metadata
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIBRARIES = ["ato-adict", "ato-scope", "ato-tracker", "ato-hyperopt"]


def _pyproject_version(folder: str) -> str:
    """The version from the distribution's one source: the file named by
    ``[tool.hatch.version]``, else the static ``version`` of its pyproject.toml."""
    package = ROOT / "packages" / folder
    text = (package / "pyproject.toml").read_text(encoding="utf-8")
    source = re.search(r'(?ms)^\[tool\.hatch\.version\]\s*^path = "([^"]+)"', text)
    if source:
        assert re.search(r'(?m)^dynamic = \["version"\]', text), f"{folder}: version not dynamic"
        assert not re.search(r"(?m)^version = ", text), f"{folder}: a second, static version"
        text = (package / source.group(1)).read_text(encoding="utf-8")
    match = re.search(r'(?m)^(?:__version__|version) = "([^"]+)"', text)
    assert match, f"no version in packages/{folder}"
    return match.group(1)


def test_every_package_carries_the_meta_version() -> None:
    meta = _pyproject_version("ato")
    assert {name: _pyproject_version(name) for name in LIBRARIES} == dict.fromkeys(LIBRARIES, meta)


def test_meta_pins_each_library_exactly_at_its_version() -> None:
    requires = metadata.requires("ato") or []
    plain = {r.split("==")[0]: r.split("==")[1] for r in requires if "extra ==" not in r}
    assert plain == {name: _pyproject_version(name) for name in LIBRARIES}
    extras = [r for r in requires if "extra ==" in r]
    assert extras and all("==" + _pyproject_version("ato") in r for r in extras)
    assert set(metadata.metadata("ato").get_all("Provides-Extra")) == {
        "distributed",
        "hydra",
        "postgres",
        "mysql",
        "dashboard",
        "optuna",
        "slurm",
        "ray",
        "pandas",
        "all",
    }


def test_installed_versions_match_the_meta_pins() -> None:
    for name in LIBRARIES:
        assert metadata.version(name) == metadata.version("ato")


def test_meta_package_ships_no_code() -> None:
    files = [str(f) for f in metadata.files("ato") or [] if ".dist-info" not in str(f)]
    assert files == []


def test_every_library_imports_and_ato_stays_a_namespace() -> None:
    import ato
    import ato.adict
    import ato.hyperopt
    import ato.scope
    import ato.tracker

    assert getattr(ato, "__file__", None) is None
    assert len(list(ato.__path__)) >= 1


def test_the_ato_command_is_installed() -> None:
    exe = shutil.which("ato") or str(pathlib.Path(sys.executable).parent / "ato")
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "runs" in proc.stdout


def test_every_distribution_has_a_changelog_entry_for_its_version() -> None:
    folders = sorted(
        p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists()
    )
    assert set(LIBRARIES) | {"ato"} <= set(folders)
    for folder in folders:
        changelog = ROOT / "packages" / folder / "CHANGELOG.md"
        assert changelog.exists(), f"packages/{folder} has no CHANGELOG.md"
        text = changelog.read_text(encoding="utf-8")
        headings = re.findall(r"(?m)^## \[([^\]]+)\]", text)
        assert headings[:1] == ["Unreleased"], f"{changelog}: first section must be [Unreleased]"
        version = _pyproject_version(folder)
        assert version in headings, f"{changelog}: no section for {version}"
        docs_page = ROOT / "docs" / "changelog" / f"{folder}.md"
        assert docs_page.exists(), f"no {docs_page} (and mkdocs.yml nav entry) showing it"
        assert f"packages/{folder}/CHANGELOG.md" in docs_page.read_text(encoding="utf-8")
