"""Packaging check run by ``nox -s build``: each wheel holds only its own sub-package of the
``ato`` namespace, and installs and imports alone in a fresh virtualenv.

Usage: python check_wheels.py WHEEL [WHEEL ...]
Exits non-zero, listing every problem, if any wheel is wrong.
"""

from __future__ import annotations

import email.parser
import pathlib
import re
import subprocess
import sys
import tempfile
import venv
import zipfile

# distribution -> (sub-packages it must ship, ato siblings it depends on)
EXPECTED = {
    "ato-adict": (["adict", "xyz"], []),  # ato.xyz: the 2.x module path (an alias)
    "ato-scope": (["scope", "parser"], ["ato-adict"]),  # ato.parser: 2.x module path
    "ato-tracker": (["tracker", "db_routers"], ["ato-adict"]),
    "ato-hyperopt": (["hyperopt"], ["ato-adict"]),
    "ato-dashboard": (["dashboard"], ["ato-adict", "ato-tracker"]),
    "ato": ([], []),
}
HEAVY = ["sqlalchemy", "torch", "numpy", "omegaconf", "yaml"]
LIGHT_IMPORTS = {"ato-adict": "ato.adict", "ato-scope": "ato.scope"}
# Extra checks run in the fresh venv: package data that must ship in the wheel.
DATA_PROBES = {
    # the Alembic scripts: env.py, the template and the revisions load from the installed wheel
    "ato-tracker": (
        "from ato.tracker.storage.revisions import MIGRATIONS_DIR, history\n"
        "assert (MIGRATIONS_DIR / 'script.py.mako').is_file(), MIGRATIONS_DIR\n"
        "assert history() and history()[-1].head, history()\n"
    ),
}
# Data files a wheel must carry besides its modules (the dashboard works offline from them).
DATA_FILES = {
    "ato-dashboard": [
        "ato/dashboard/static/vendor/uPlot.iife.min.js",
        "ato/dashboard/static/vendor/uPlot.LICENSE",
        "ato/dashboard/static/dashboard.css",
        "ato/dashboard/templates/base.html",
    ],
}


def dist_name(wheel: pathlib.Path) -> str:
    return wheel.name.split("-")[0].replace("_", "-")


def check_contents(wheel: pathlib.Path) -> list[str]:
    name = dist_name(wheel)
    subs, _ = EXPECTED[name]
    problems = []
    with zipfile.ZipFile(wheel) as zf:
        files = [f for f in zf.namelist() if ".dist-info/" not in f]
    for f in files:
        parts = f.split("/")
        if parts[0] != "ato" or len(parts) < 3 or parts[1] not in subs:
            problems.append(f"{wheel.name}: file outside ato/{{{','.join(subs)}}}/: {f}")
    if subs and f"ato/{subs[0]}/py.typed" not in files:
        problems.append(f"{wheel.name}: missing ato/{subs[0]}/py.typed")
    if subs and f"ato/{subs[0]}/__init__.py" not in files:
        problems.append(f"{wheel.name}: missing ato/{subs[0]}/__init__.py")
    for data_file in DATA_FILES.get(name, []):
        if data_file not in files:
            problems.append(f"{wheel.name}: missing data file {data_file}")
    return problems


URL_LABELS = {"Documentation", "Source", "Changelog", "Issues"}


def wheel_metadata(wheel: pathlib.Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        name = next(f for f in zf.namelist() if f.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(zf.read(name).decode("utf-8"))


def check_versions(wheels: dict[str, pathlib.Path]) -> list[str]:
    """Every distribution carries the meta-package's version and the meta pins each one exactly
    at it; every wheel names its documentation, source, changelog and issues."""
    meta = {name: wheel_metadata(w) for name, w in wheels.items()}
    problems = []
    for name, data in meta.items():
        labels = {u.split(",")[0].strip() for u in data.get_all("Project-URL") or []}
        if URL_LABELS - labels:
            problems.append(f"{name}: Project-URL missing {sorted(URL_LABELS - labels)}")
    if "ato" not in meta:
        return [*problems, "the meta-package ato was not built"]
    version = meta["ato"]["Version"]
    for name, data in meta.items():
        if data["Version"] != version:
            problems.append(f"{name} is at {data['Version']}, the meta-package ato at {version}")
    pins = {}
    for req in meta["ato"].get_all("Requires-Dist") or []:
        match = re.match(r"(ato-[a-z]+)(?:\[[a-z,]+\])?\s*\(?==\s*([^;\s)]+)", req)
        if match is None:
            problems.append(f"ato: requirement not pinned with ==: {req}")
        else:
            pins.setdefault(match.group(1), set()).add(match.group(2))
    for name in sorted(set(meta) - {"ato"}):
        if name not in pins:
            problems.append(f"ato does not pin {name}")
    for name, versions in sorted(pins.items()):
        built = meta[name]["Version"] if name in meta else None
        if versions != {built}:
            problems.append(f"ato pins {name} at {sorted(versions)}, the wheel is {built}")
    return problems


def check_install(wheel: pathlib.Path, all_wheels: dict[str, pathlib.Path]) -> list[str]:
    name = dist_name(wheel)
    subs, siblings = EXPECTED[name]
    if not subs:
        return []
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f"check-{name}-"))
    venv.create(tmp / "venv", with_pip=True)
    python = str(tmp / "venv" / "bin" / "python")
    wheels = [str(wheel)] + [str(all_wheels[s]) for s in siblings]
    pip = subprocess.run(
        [python, "-m", "pip", "install", "-q", *wheels], capture_output=True, text=True
    )
    if pip.returncode:
        return [f"{wheel.name}: pip install failed:\n{pip.stderr}"]
    module = f"ato.{subs[0]}"
    probe = (
        "import sys, ato\n"
        f"import {module}\n"
        "assert getattr(ato, '__file__', None) is None, 'ato has an __init__.py: ' + str(ato.__file__)\n"
        "assert type(ato.__path__).__name__ == '_NamespacePath', type(ato.__path__)\n"
        f"assert 'site-packages' in {module}.__file__, {module}.__file__\n"
        "from importlib.metadata import version\n"
        f"v = getattr({module}, '__version__', None)\n"
        f"assert v in (None, version({name!r})), '__version__ ' + v + ' != ' + version({name!r})\n"
    )
    if name in LIGHT_IMPORTS:
        probe += f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        probe += "assert not heavy, 'importing pulled in ' + repr(heavy)\n"
    probe += DATA_PROBES.get(name, "")
    run = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=tmp)
    if run.returncode:
        return [f"{wheel.name}: import check failed:\n{run.stderr}"]
    print(f"ok: {wheel.name} installs alone and imports {module} from a fresh venv")
    return []


def main(argv: list[str]) -> int:
    wheels = [pathlib.Path(a) for a in argv]
    by_name = {dist_name(w): w for w in wheels}
    unknown = [w.name for w in wheels if dist_name(w) not in EXPECTED]
    problems = [f"unknown distribution: {u}" for u in unknown]
    for wheel in wheels:
        if dist_name(wheel) in EXPECTED:
            problems += check_contents(wheel)
    if not problems:
        problems += check_versions(by_name)
    if not problems:
        for wheel in wheels:
            problems += check_install(wheel, by_name)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
