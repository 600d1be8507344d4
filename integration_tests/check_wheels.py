"""Packaging check run by ``nox -s build``: each wheel holds only its own sub-package of the
``ato`` namespace, and installs and imports alone in a fresh virtualenv.

Usage: python check_wheels.py WHEEL [WHEEL ...]
Exits non-zero, listing every problem, if any wheel is wrong.
"""

from __future__ import annotations

import pathlib
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
    "ato": ([], []),
}
HEAVY = ["sqlalchemy", "torch", "numpy", "omegaconf", "yaml"]
LIGHT_IMPORTS = {"ato-adict": "ato.adict", "ato-scope": "ato.scope"}
# Extra checks run in the fresh venv: package data that must ship in the wheel.
DATA_PROBES = {
    # the Alembic scripts: env.py, the template and the revisions load from the installed wheel
    "ato-tracker": (
        "from ato.tracker.migrate import MIGRATIONS_DIR, history\n"
        "assert (MIGRATIONS_DIR / 'script.py.mako').is_file(), MIGRATIONS_DIR\n"
        "assert history() and history()[-1].head, history()\n"
    ),
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
        for wheel in wheels:
            problems += check_install(wheel, by_name)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
