"""Every check of the ato monorepo runs through nox.

``nox`` (no arguments) runs the default sessions: one test session per package, the
integration tests, lint, build and docs. Not in the default run: ``demo``, ``bench`` (the
side-by-side benchmarks) and ``bump`` (set one version everywhere).
"""

from __future__ import annotations

import pathlib
import tempfile

import nox

ROOT = pathlib.Path(__file__).parent
PACKAGES_DIR = ROOT / "packages"
TEST_TOOLS = ["pytest>=8", "hypothesis>=6.100"]
TORCH = "torch==2.13.0"
PYTEST = ["pytest", "-q", "--import-mode=importlib", "-p", "no:cacheprovider"]

# Short name -> (distribution folder, ato siblings it needs, extras to install).
PACKAGES: dict[str, tuple[str, list[str], str]] = {
    "adict": ("ato-adict", [], ""),
    "scope": ("ato-scope", ["ato-adict"], ""),
    "tracker": ("ato-tracker", ["ato-adict"], "[postgres,mysql]"),
    "hyperopt": ("ato-hyperopt", ["ato-adict"], ""),
}
# Third-party libraries a package's tests use to check interoperation (never ato siblings,
# never dependencies of the package itself), so that no package test is skipped.
TEST_PEERS: dict[str, list[str]] = {
    "adict": ["numpy", "omegaconf"],  # numpy scalars in dumps; OmegaConf reads ato's YAML
    "tracker": ["omegaconf"],
    "hyperopt": ["omegaconf", "tqdm", "optuna"],
}

nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = False


def _pkg(folder: str) -> str:
    return str(PACKAGES_DIR / folder)


LIBRARIES = [_pkg(folder) for folder, _, _ in PACKAGES.values()]  # the four, not the meta


def _make_test_session(short: str) -> None:
    folder, siblings, extras = PACKAGES[short]

    def tests(session: nox.Session) -> None:
        peers = TEST_PEERS.get(short, [])
        session.install(*TEST_TOOLS, *peers, *[_pkg(s) for s in siblings], _pkg(folder) + extras)
        session.run(*PYTEST, str(PACKAGES_DIR / folder / "tests"), *session.posargs)

    tests.__doc__ = f"{folder}'s tests, in a venv holding only it and its ato dependencies."
    nox.session(name=f"tests-{short}")(tests)


for _short in PACKAGES:
    _make_test_session(_short)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check over the whole tree."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


def _built_packages() -> list[pathlib.Path]:
    return sorted(p for p in PACKAGES_DIR.iterdir() if (p / "pyproject.toml").exists())


def _build_all(session: nox.Session) -> dict[str, pathlib.Path]:
    """Build wheel + sdist of every package into a temp dir; return {dist name: wheel}."""
    session.install("build", "hatchling")
    dist = pathlib.Path(tempfile.mkdtemp(prefix="ato-dist-"))
    for pkg in _built_packages():
        session.run(
            "python",
            "-m",
            "build",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(pkg),
            silent=True,
        )
    return {w.name.split("-")[0].replace("_", "-"): w for w in dist.glob("*.whl")}


@nox.session
def build(session: nox.Session) -> None:
    """Build every package, check each wheel's files, install each wheel alone in a fresh venv."""
    wheels = _build_all(session)
    checker = ROOT / "integration_tests" / "check_wheels.py"
    session.run("python", str(checker), *map(str, wheels.values()))


@nox.session
def integration(session: nox.Session) -> None:
    """Cross-package tests against the installed wheels (and real services when configured)."""
    wheels = _build_all(session)
    session.install(TORCH)  # the pinned CPU build first, so no extra pulls a CUDA torch
    targets = [str(w) for name, w in wheels.items() if name != "ato"]
    targets.append(f"{wheels['ato']}[all]")  # the meta-package with every extra
    session.install(*TEST_TOOLS, *targets, "omegaconf", "hydra-core", "scikit-learn")
    session.chdir(tempfile.mkdtemp(prefix="ato-integration-"))
    tests_dir = str(ROOT / "integration_tests")
    session.run(*PYTEST, "--rootdir", tests_dir, tests_dir, *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main demo: a tracked Hyperband search on scikit-learn's digits, then the best run
    read back with the ``ato`` command. Extra arguments go to the script
    (``nox -s demo -- quick``). Writes ``experiments.db`` in the repository root."""
    session.install(_pkg("ato"), *LIBRARIES, "scikit-learn")
    session.run("python", str(ROOT / "examples" / "digits" / "train.py"), *session.posargs)
    session.run("ato", "runs", "best", "--metric", "val_accuracy", "--project", "digits")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (MkDocs + mkdocstrings); any warning fails the build."""
    session.install(
        "mkdocs>=1.6",
        "mkdocs-material>=9",
        "mkdocstrings[python]>=0.26",
        *LIBRARIES,
    )
    site = tempfile.mkdtemp(prefix="ato-site-")
    session.run("mkdocs", "build", "--strict", "--site-dir", site, "-f", str(ROOT / "mkdocs.yml"))


@nox.session(python=False)
def bump(session: nox.Session) -> None:
    """Set one version everywhere: ``nox -s bump -- 3.1.0`` rewrites every package's version,
    every ``__version__`` and the meta-package's ``==`` pins."""
    import re

    if len(session.posargs) != 1 or not re.fullmatch(r"\d+\.\d+\.\d+\S*", session.posargs[0]):
        session.error("usage: nox -s bump -- X.Y.Z")
    new = session.posargs[0]
    for pkg in _built_packages():
        pyproject = pkg / "pyproject.toml"
        text = re.sub(r'(?m)^version = "[^"]+"', f'version = "{new}"', pyproject.read_text())
        text = re.sub(r"(ato-[a-z]+(?:\[[a-z,]+\])?)==[0-9][^\"]*", rf"\1=={new}", text)
        pyproject.write_text(text)
        for init in (pkg / "src" / "ato").glob("*/__init__.py"):
            code = re.sub(r'__version__ = "[^"]+"', f'__version__ = "{new}"', init.read_text())
            init.write_text(code)
    session.log(f"all packages now at {new}")


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks against peers; prints ratios. Never part of the default run."""
    session.install(
        *LIBRARIES,
        "addict",
        "python-box",
        "ml_collections",
        "omegaconf",
        TORCH,
        "numpy",  # torch.distributed object collectives (bench_hyperopt) need it
        *["mlflow-skinny", "alembic", "optuna"],  # peers: bench_tracker, bench_hyperopt
    )
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


# Core modules whose tests must kill >= 90% of their mutants (``nox -s mutation``).
MUTATION_TARGETS: dict[str, list[str]] = {
    "adict": ["src/ato/adict/core.py"],
    "scope": ["src/ato/scope/cli.py"],
    "tracker": ["src/ato/tracker/buffer.py"],
    "hyperopt": ["src/ato/hyperopt/hyperband.py", "src/ato/hyperopt/space.py"],
}


@nox.session
def mutation(session: nox.Session) -> None:
    """Mutation testing (mutmut) of each package's core modules against its own tests; prints a
    score per module and the surviving mutants not accepted in ``mutation/accepted.toml``; fails
    under 90%. ``nox -s mutation -- tracker`` runs one package. Not in the default run."""
    chosen = session.posargs or list(MUTATION_TARGETS)
    failed = []
    for short in chosen:
        folder, siblings, extras = PACKAGES[short]
        session.install(
            *TEST_TOOLS,
            "mutmut>=3.3",
            *TEST_PEERS.get(short, []),
            *[_pkg(s) for s in siblings],
            _pkg(folder) + extras,
        )
        script = str(ROOT / "mutation" / "run.py")
        modules = MUTATION_TARGETS[short]
        env = {"ATO_REQUIRE_SERVICES": "0"}  # SQLite only: servers would be shared by mutants
        out = session.run(
            "python", script, _pkg(folder), *modules, env=env, success_codes=[0, 1], silent=True
        )
        print(out)
        if "MUTATION RESULT: PASS" not in str(out):
            failed.append(short)
    if failed:
        session.error(f"mutation score under 90% in: {', '.join(failed)}")


nox.options.sessions = [
    *[f"tests-{s}" for s in PACKAGES],
    "integration",
    "lint",
    "build",
    "docs",
]
