"""Every check of the ato monorepo runs through nox.

``nox`` (no arguments) runs the default sessions: each package's tests on the oldest and the
newest supported Python (``DEFAULT_PYTHONS``; ``tests-adict`` runs every supported Python,
``tests-adict-3.12`` one), the importers and framework integrations, the integration tests,
lint, typecheck, build, docs, ``ray`` (the RayExecutor on a local Ray) and ``slurm`` (a search on
a real one-node SLURM cluster this machine starts; needs root). Not in the default run: ``demo``,
``bench`` (the side-by-side benchmarks), ``mutation``, ``screenshots`` and ``bump`` (set one
version everywhere).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
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
    "dashboard": ("ato-dashboard", ["ato-adict", "ato-tracker[postgres,mysql]"], "[importance]"),
}
# Third-party libraries a package's tests use to check interoperation (never ato siblings,
# never dependencies of the package itself), so that no package test is skipped.
TEST_PEERS: dict[str, list[str]] = {
    # numpy in dumps; OmegaConf reads ato's YAML; attrs/pydantic for ato.adict.interop
    "adict": ["numpy", "omegaconf", "attrs", "pydantic"],
    "tracker": ["omegaconf", "pandas", "psutil"],  # psutil: system metrics
    "hyperopt": ["omegaconf", "tqdm", "optuna", "submitit"],  # submitit: ato.hyperopt.slurm
    "dashboard": ["playwright", "httpx"],  # a real browser (Debian's chromium) + TestClient
}

nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = False

# The CPythons every package supports (its classifiers say the same); tests run on each.
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# The server (PostgreSQL/MariaDB) and browser variants of the package tests take minutes per
# interpreter on this 2-core machine, so they run on SERVER_PYTHON only; the other tests run
# on every Python in PYTHONS.


def _link_pyenv_pythons() -> None:
    """pyenv's shims answer only for its selected version, so nox could not find the other
    installed CPythons; link each supported one into .nox/pythons and put that first on PATH."""
    versions = (
        pathlib.Path(os.environ.get("PYENV_ROOT", pathlib.Path.home() / ".pyenv")) / "versions"
    )
    found = {v: sorted(versions.glob(f"{v}.*/bin/python{v}")) for v in PYTHONS}
    if not any(found.values()):
        return
    links = ROOT / ".nox" / "pythons"
    links.mkdir(parents=True, exist_ok=True)
    for version, executables in found.items():
        link = links / f"python{version}"
        if not executables or (link.is_symlink() and os.readlink(link) == str(executables[-1])):
            continue
        link.unlink(missing_ok=True)  # a link to a version pyenv no longer has
        with contextlib.suppress(FileExistsError):  # another nox made it meanwhile
            link.symlink_to(executables[-1])
    os.environ["PATH"] = f"{links}{os.pathsep}{os.environ.get('PATH', '')}"


_link_pyenv_pythons()


def _pkg(folder: str) -> str:
    return str(PACKAGES_DIR / folder)


LIBRARIES = [_pkg(folder) for folder, _, _ in PACKAGES.values()]  # the libraries, not the meta


# The interpreter whose package test sessions also run the PostgreSQL/MariaDB and browser
# variants: the newest, so the default run needs no third interpreter for them.
SERVER_PYTHON = PYTHONS[-1]
# The interpreter of the sessions that need torch (the CPU build on this machine's disk is for
# 3.11 only) and of the Ray and SLURM sessions that run beside them.
TORCH_PYTHON = "3.11"


def _make_test_session(short: str) -> None:
    folder, siblings, extras = PACKAGES[short]

    def tests(session: nox.Session) -> None:
        peers = TEST_PEERS.get(short, [])
        session.install(*TEST_TOOLS, *peers, *[_pkg(s) for s in siblings], _pkg(folder) + extras)
        selection: list[str] = []
        if session.python != SERVER_PYTHON:
            # The PostgreSQL/MariaDB variants run once, on SERVER_PYTHON, in the same nox run:
            # they test the servers, not the interpreter, and would double CI time.
            selection = ["-k", "not postgres and not mysql"]
            if short == "dashboard":  # the browser tests likewise (minutes per interpreter)
                selection += ["-m", "not browser"]
        tests_dir = str(PACKAGES_DIR / folder / "tests")
        session.run(*PYTEST, tests_dir, *selection, *session.posargs)

    tests.__doc__ = f"{folder}'s tests, in a venv holding only it and its ato dependencies."
    nox.session(name=f"tests-{short}", python=PYTHONS)(tests)


for _short in PACKAGES:
    _make_test_session(_short)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check over the whole tree, no import cycle inside the packages
    listed in tools/import_cycles.py, and no private ato.tracker module imported by another
    package (tools/private_imports.py)."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", str(ROOT / "tools" / "import_cycles.py"))
    session.run("python", str(ROOT / "tools" / "private_imports.py"))


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
    """Build every package, ``twine check`` each wheel and sdist, check each wheel's files and
    that versions and the meta-package's pins agree, install each wheel alone in a fresh venv."""
    wheels = _build_all(session)
    dist = next(iter(wheels.values())).parent
    session.install("twine>=5")
    session.run("twine", "check", "--strict", *map(str, sorted(dist.iterdir())))
    checker = ROOT / "integration_tests" / "check_wheels.py"
    session.run("python", str(checker), *map(str, wheels.values()))


# Third-party packages mypy needs to see the types of what the sources import: optional
# peers (imported lazily), stubs for libraries without inline types, tomli for Python 3.10.
TYPECHECK_DEPS = [
    "mypy>=1.11",
    "pytest>=8",  # ato.tracker.testing is a pytest plugin
    "optuna",  # ato-hyperopt's OptunaSampler is checked against Optuna's own types
    "submitit",  # ato.hyperopt.slurm
    "keras",  # ato-tracker's integrations subclass the frameworks' callback classes
    "xgboost-cpu",
    "lightgbm",
    "pandas-stubs",  # ato-tracker's DataFrames (runs_frame, metric_frame)
    "types-PyYAML",
    "types-tqdm",
    "tomli",
    "omegaconf",
    "hydra-core",
    "tqdm",
    "lightning",  # ato.tracker.integrations: each checked against its framework's own types
    "transformers",
]


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict (config: mypy.ini) over the ``src/`` of every package, or of the package
    folders given: ``nox -s typecheck -- packages/ato-tracker``."""
    folders = [pathlib.Path(a).resolve() for a in session.posargs] or _built_packages()
    sources = [f / "src" for f in folders if (f / "src").is_dir()]
    if not sources:
        session.error(f"no src/ folder in {session.posargs}")
    session.install(TORCH)  # the pinned CPU build first, so nothing pulls a CUDA torch
    with_code = [p for p in _built_packages() if (p / "src").is_dir()]
    session.install(*TYPECHECK_DEPS, *map(str, with_code))  # their dependencies come along
    session.env["MYPYPATH"] = os.pathsep.join(str(p / "src") for p in with_code)
    session.run("mypy", "--config-file", str(ROOT / "mypy.ini"), *map(str, sources))


@nox.session
def integration(session: nox.Session) -> None:
    """Cross-package tests against the installed wheels (and real services when configured)."""
    wheels = _build_all(session)
    session.install(TORCH)  # the pinned CPU build first, so no extra pulls a CUDA torch
    targets = [str(w) for name, w in wheels.items() if name != "ato"]
    targets.append(f"{wheels['ato']}[all]")  # the meta-package with every extra
    session.install(
        *TEST_TOOLS,
        *targets,
        "omegaconf",
        "hydra-core",
        "scikit-learn",
        "httpx",
        "mypy",
        "cmaes",  # Optuna's CmaEsSampler in test_shared_search
    )
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
    session.run(
        "ato", "runs", "list", "--project", "digits", "--sort", "val_accuracy", "--limit", "10"
    )
    session.log("look at the runs in a browser: nox -s dashboard")
    session.log("(or, with ato-dashboard installed: ato dashboard --db experiments.db --open)")


@nox.session
def dashboard(session: nox.Session) -> None:
    """Serve the dashboard over the demo's ``experiments.db`` (running the demo first if the
    file is missing) at http://127.0.0.1:8765/. Extra arguments go to ``ato dashboard``."""
    session.install(_pkg("ato"), *LIBRARIES, "scikit-learn", "optuna")  # optuna: importance
    if not (ROOT / "experiments.db").exists():
        session.run("python", str(ROOT / "examples" / "digits" / "train.py"))
    session.run("ato", "dashboard", "--db", str(ROOT / "experiments.db"), *session.posargs)


@nox.session
def screenshots(session: nox.Session) -> None:
    """PNGs of every dashboard page, made from the demo's ``experiments.db`` (run first if
    missing) with Debian's chromium, written to ``docs/images/``."""
    session.install(*LIBRARIES, "scikit-learn", "optuna", "playwright", "httpx")
    if not (ROOT / "experiments.db").exists():
        session.run("python", str(ROOT / "examples" / "digits" / "train.py"))
    if not _has_project(ROOT / "experiments.db", "digits-pareto"):  # a search with two objectives
        session.run("python", str(ROOT / "examples" / "digits" / "pareto.py"))
    script = ROOT / "examples" / "dashboard" / "screenshots.py"
    session.chdir(ROOT)  # a relative path: the pages show sqlite:///experiments.db
    session.run("python", str(script), "experiments.db", str(ROOT / "docs" / "images"))


def _has_project(db: pathlib.Path, name: str) -> bool:
    """Whether the tracker database ``db`` (SQLite) holds a project ``name``."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as con:
        return con.execute("SELECT 1 FROM projects WHERE name = ?", (name,)).fetchone() is not None


# Sphinx cross-reference roles; mkdocstrings prints them as raw text.
RAW_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|exc|data|obj):`?")


def _raw_roles(site: pathlib.Path) -> list[str]:
    """Lines of the built pages' text (HTML tags stripped) that still show a Sphinx role."""
    found = []
    for page in sorted(site.rglob("*.html")):
        text = re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))
        for number, line in enumerate(text.splitlines(), 1):
            if RAW_ROLE.search(line):
                found.append(f"{page.relative_to(site)}:{number}: {line.strip()[:120]}")
    return found


def _public_names(module: str) -> list[str]:
    """``__all__`` of ``ato.<x>``, read from its source."""
    import ast

    for init in PACKAGES_DIR.glob(f"*/src/ato/{module.split('.')[1]}/__init__.py"):
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__":
                return list(ast.literal_eval(node.value))
    return []


def _undocumented(site: pathlib.Path) -> list[str]:
    """Public names (``__all__``) that an API page of a package does not render."""
    missing = []
    for page in sorted((site / "api").glob("*/index.html")):
        html = page.read_text(encoding="utf-8")
        for module in re.findall(r'<h1 id="(ato\.\w+)"', html):
            names = _public_names(module)
            lost = [n for n in names if f'id="{module}.{n}"' not in html]
            source = f"docs/api/{page.parent.name}.md"
            missing += [f"{source}: add '::: {module}.{n}' under its group" for n in lost]
    return missing


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (MkDocs + mkdocstrings) and print where it was written;
    any warning, a raw Sphinx role (``:class:`` ...) in a page, or a public name (``__all__``)
    missing from its package's API page fails the build, and so does a table of README.md or
    docs/ that calls a feature missing while a public name provides it (tools/doc_claims.py).
    ``nox -s docs -- serve`` serves the site locally instead (http://127.0.0.1:8000)."""
    session.install(
        "mkdocs>=1.6",
        "mkdocs-material>=9",
        "mkdocstrings[python]>=0.26",
        *LIBRARIES,
    )
    config = str(ROOT / "mkdocs.yml")
    session.run("python", str(ROOT / "tools" / "doc_claims.py"))
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", "--strict", "-f", config, *session.posargs[1:])
        return
    site = pathlib.Path(tempfile.mkdtemp(prefix="ato-site-"))
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site), "-f", config)
    missing = _undocumented(site)
    if missing:
        session.error("public names missing from the API pages:\n" + "\n".join(missing))
    raw = _raw_roles(site)
    if raw:
        session.error(
            "raw Sphinx roles in the built docs; write [`Name`][ato.x.Name]:\n" + "\n".join(raw)
        )
    session.log(f"docs site written to {site} (open {site / 'index.html'})")


def _version_file(pkg: pathlib.Path) -> pathlib.Path:
    """The one file that holds a distribution's version: the file named by its
    ``[tool.hatch.version]`` path, else its pyproject.toml (static ``version = ...``)."""
    pyproject = (pkg / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'(?ms)^\[tool\.hatch\.version\]\s*^path = "([^"]+)"', pyproject)
    return pkg / match.group(1) if match else pkg / "pyproject.toml"


VERSION_LINE = re.compile(r'(?m)^(__version__|version) = "[^"]+"')
EXACT_PIN = re.compile(r"(ato(?:-[a-z]+)?(?:\[[a-z,]+\])?)==[0-9][^\";, ]*")


@nox.session(python=False)
def bump(session: nox.Session) -> None:
    """Set one version everywhere: ``nox -s bump -- 3.1.0`` rewrites each distribution's one
    version source (``__version__`` of a library, ``version`` of the meta-package) and the
    meta-package's ``==`` pins; nothing else. Add the release to each CHANGELOG.md yourself."""
    if len(session.posargs) != 1 or not re.fullmatch(r"\d+\.\d+\.\d+\S*", session.posargs[0]):
        session.error("usage: nox -s bump -- X.Y.Z")
    new = session.posargs[0]
    for pkg in _built_packages():
        source = _version_file(pkg)
        text, count = VERSION_LINE.subn(rf'\1 = "{new}"', source.read_text(encoding="utf-8"), 1)
        if count != 1:
            session.error(f"no version line in {source}")
        if pkg.name == "ato":
            text = EXACT_PIN.sub(rf"\1=={new}", text)
        source.write_text(text, encoding="utf-8")
        session.log(f"{source.relative_to(ROOT)}: {new}")
    session.log(f"all packages now at {new}; sibling ranges (ato-adict>=3.0,<4) are not touched")


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
        *["trackio", "aim", "wandb"],  # bench_tracker's write peers (tracker_peers.py)
        *["psycopg[binary]>=3.1", "PyMySQL>=1.1"],  # bench_shared_search's servers
        "httpx",  # bench_dashboard's HTTP client
        "psycopg[binary]>=3.1",  # PostgreSQL: bench_tracker, bench_series, bench_dashboard
        "scikit-learn",  # bench_search_quality: the digits MLP task
        *["dehb", "smac"],  # bench_search_quality: DEHB and SMAC3's multi-fidelity facade
        # bench_integrations: every framework of ato.tracker.integrations
        *["lightning", "transformers", "accelerate>=1.1", "keras", "xgboost-cpu", "lightgbm"],
    )
    session.env["KERAS_BACKEND"] = "torch"
    session.env["WANDB_MODE"] = "offline"  # W&B as a peer: no login, no network
    results = pathlib.Path(session.create_tmp()) / "goals.jsonl"
    results.unlink(missing_ok=True)
    session.env["ATO_BENCH_RESULTS"] = str(results)  # each script's goal rows
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
    session.run("python", str(ROOT / "benchmarks" / "goal_table.py"))


# Core modules whose tests must kill >= 90% of their mutants (``nox -s mutation``).
MUTATION_TARGETS: dict[str, list[str]] = {
    "adict": ["src/ato/adict/core.py"],
    "scope": ["src/ato/scope/cli.py"],
    # the metric write path: buffer, inserts (SQLite's staged batch), spool file, stored value
    # encoding, metric summaries and the series' blocks
    "tracker": [
        "src/ato/tracker/write/buffer.py",
        "src/ato/tracker/write/inserts.py",
        "src/ato/tracker/write/sqlite_batch.py",
        "src/ato/tracker/write/series_blocks.py",
        "src/ato/tracker/write/upserts.py",
        "src/ato/tracker/write/spool.py",
        "src/ato/tracker/storage/values.py",
        "src/ato/tracker/write/fold.py",
        "src/ato/tracker/read/summaries.py",
    ],
    "hyperopt": [
        "src/ato/hyperopt/hyperband.py",
        "src/ato/hyperopt/space.py",
        "src/ato/hyperopt/schedules.py",
        "src/ato/hyperopt/rung_ranking.py",
        "src/ato/hyperopt/samplers.py",
    ],
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


IMPORTER_EXTRAS = "[postgres,mysql,optuna,mlflow,tensorboard]"


@nox.session(name="tests-importers", python=TORCH_PYTHON)
def tests_importers(session: nox.Session) -> None:
    """ato-tracker's importers (``ato import``) on data written by Optuna, MLflow and
    TensorBoard themselves, on SQLite, PostgreSQL and MariaDB."""
    # torch: its SummaryWriter writes the TensorBoard logs the tests import
    session.install(*TEST_TOOLS, TORCH, _pkg("ato-adict"), _pkg("ato-tracker") + IMPORTER_EXTRAS)
    tests_dir = str(PACKAGES_DIR / "ato-tracker" / "tests_importers")
    session.run(*PYTEST, tests_dir, *session.posargs)


# The extras of ato-tracker that ``integrations`` installs: the server drivers and every
# framework of ato.tracker.integrations.
INTEGRATION_EXTRAS = [
    *["postgres", "mysql"],
    *["lightning", "transformers", "keras", "xgboost", "lightgbm", "optuna"],
]


@nox.session(python=TORCH_PYTHON)
def integrations(session: nox.Session) -> None:
    """ato-tracker's framework integrations (``ato.tracker.integrations``) against the real
    frameworks on CPU, offline: Lightning, Hugging Face transformers, Keras 3 on torch,
    XGBoost, LightGBM, Optuna; tiny models, a few steps, 2-process runs (Lightning's
    ``ddp_spawn``, ``torchrun`` with gloo); SQLite, PostgreSQL and MariaDB."""
    session.install(TORCH)  # the pinned CPU build first, so no framework pulls a CUDA torch
    extras = ",".join(INTEGRATION_EXTRAS)
    peers = [
        "pytorch-lightning",  # the standalone package, also tested with AtoLogger
        "scikit-learn",  # xgboost's scikit-learn estimators
    ]
    session.install(*TEST_TOOLS, *peers, _pkg("ato-adict"), f"{_pkg('ato-tracker')}[{extras}]")
    session.env.update(
        {"KERAS_BACKEND": "torch", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    )
    tests_dir = str(PACKAGES_DIR / "ato-tracker" / "tests_integrations")
    session.run(*PYTEST, tests_dir, *session.posargs)


@nox.session(python=TORCH_PYTHON)
def ray(session: nox.Session) -> None:
    """ato-hyperopt's ``RayExecutor`` on a real local Ray (``ray.init(num_cpus=2)``), each
    evaluation a Ray task recording its own run in a real tracker database. Ray has wheels for
    every Python in PYTHONS; it runs on TORCH_PYTHON only, as starting Ray takes a while."""
    session.install(
        *TEST_TOOLS, _pkg("ato-adict"), _pkg("ato-tracker"), _pkg("ato-hyperopt") + "[ray]"
    )
    tests_dir = str(PACKAGES_DIR / "ato-hyperopt" / "tests_ray")
    session.run(*PYTEST, tests_dir, *session.posargs)


@nox.session(python=TORCH_PYTHON)
def slurm(session: nox.Session) -> None:
    """A shared-database search on a real one-node SLURM cluster (Debian's slurm-wlm and munge,
    started by tools/slurm/start_local_slurm.sh; needs root): two workers submitted through
    ``ato.hyperopt.slurm.submit_workers``, one preempted with USR2 and requeued."""
    session.install(
        *TEST_TOOLS, _pkg("ato-adict"), _pkg("ato-tracker"), _pkg("ato-hyperopt") + "[slurm]"
    )
    tests_dir = str(PACKAGES_DIR / "ato-hyperopt" / "tests_slurm")
    session.run(*PYTEST, "-p", "no:logging", tests_dir, *session.posargs)


# The default run tests every package on the oldest and newest supported CPython; the newest
# (SERVER_PYTHON) also runs the real PostgreSQL/MariaDB and browser tests. The middle ones run
# with ``nox -s tests-<package>`` or ``nox -s tests-<package>-3.12``. This keeps a full default
# run, with its Ray and SLURM sessions, within its time budget on a 2-core machine.
DEFAULT_PYTHONS = [PYTHONS[0], PYTHONS[-1]]


nox.options.sessions = [
    *[f"tests-{s}-{py}" for s in PACKAGES for py in DEFAULT_PYTHONS],
    "tests-importers",
    "integrations",
    "integration",
    "ray",
    "slurm",
    "lint",
    "typecheck",
    "build",
    "docs",
]
