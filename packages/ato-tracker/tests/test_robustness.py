"""The ``ato`` command shows stored text literally (item 9), passwords never leave the URL
(item 10), read-only SQLite files stay readable (item 11), unresolvable interpolations are
stored as text (item 12) and a config too large for MariaDB is a clear error (item 13)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import omegaconf
import pytest
from sqlalchemy.exc import ArgumentError

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import main
from ato.tracker.errors import ConfigTooLargeError


def _cfg(url: str, project: str = "p", **extra: object) -> dict:
    return {"experiment": {"project_name": project, "sql": {"db_path": url}}, **extra}


# -- item 9: stored text is shown literally ----------------------------------------------
HOSTILE = [
    "[/]",
    "[bold]x[/bold]",
    "[link=http://example.invalid]click[/link]",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;title\x07",  # OSC: sets the terminal title
    "\x1b]8;;http://example.invalid\x1b\\link\x1b]8;;\x1b\\",
    "right\u202eto-left",
    "bell\x07 and\rcarriage",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_cli_shows_stored_text_literally(sqlite_url, capsys, text):
    logger = SQLLogger(_cfg(sqlite_url, project=f"proj{text}", note=text, **{text: 1}))
    with logger.start_run(tags=[text]) as run:
        run.log_metric(text, 1.0, 0)
        run.log_artifact(text, text, {"why": text})
        run.log_fingerprint(text, "abc")
    other = SQLLogger(_cfg(sqlite_url, project=f"proj{text}", note="plain"))
    with other.start_run(tags=["plain"]) as second:
        second.log_metric(text, 2.0, 0)
    for argv in (
        ["runs", "list"],
        ["runs", "show", str(run.id)],
        ["runs", "compare", str(run.id), str(second.id)],
        ["runs", "best", "--metric", text],
    ):
        assert main(["--db", sqlite_url, *argv]) == 0, argv
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
        if text.isprintable() and "\x1b" not in text:
            assert text in out.replace("\n", "") or text[:10] in out  # long cells may wrap
    assert main(["--db", sqlite_url, "--json", "runs", "show", str(run.id)]) == 0
    assert json.loads(capsys.readouterr().out)["tags"] == [text]


def test_a_huge_run_id_is_a_clear_error(sqlite_url, capsys):
    with SQLLogger(_cfg(sqlite_url)).start_run():
        pass
    for argv in (
        ["runs", "show", "99999999999999999999999"],
        ["runs", "compare", "1", "1" + "9" * 30],
    ):
        assert main(["--db", sqlite_url, *argv]) == 1
        assert "no run with id" in capsys.readouterr().err


# -- item 10: secrets --------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Query string argument")  # pysqlite ignores them
@pytest.mark.parametrize(
    "query",
    ["password=S3cret", "passwd=S3cret&charset=utf8", "sslpassword=S3cret", "PASSWORD=S3cret"],
)
def test_a_password_in_the_url_query_is_stored_and_shown_redacted(sqlite_url, query):
    url = f"{sqlite_url}?{query}"
    logger = SQLLogger(_cfg(url))
    run_id = logger.run()
    logger.finish()
    assert "S3cret" not in repr(logger)
    assert "S3cret" not in repr(SQLFinder(url))
    stored = SQLFinder(url).find_run(run_id).config.experiment.sql.db_path
    assert "S3cret" not in stored and "***" in stored


def test_the_reproducer_postgres_url_with_a_query_password(postgres_url, caplog):
    url = f"{postgres_url}?password=S3cret"  # the local server trusts; the password is unused
    logger = SQLLogger(_cfg(url))
    with logger.start_run() as run:
        run.log_metric("loss", 1.0, 0)
    assert "S3cret" not in repr(logger) and "S3cret" not in caplog.text
    stored = SQLFinder(url).find_run(run.id).config.experiment.sql.db_path
    assert stored.endswith("?password=***")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user:S3cret@host:notaport/db",
        "postgresql://user:S3c@ret@host:port/db",
        "mysql+pymysql://user:S3cret@host:port/db?password=S3cret",
    ],
)
def test_a_bad_url_is_never_echoed_with_its_password(url, capsys):
    with pytest.raises(ArgumentError) as info:
        SQLLogger(_cfg(url))
    assert "S3c" not in str(info.value) and "ret@" not in str(info.value)
    assert main(["--db", url, "runs", "list"]) == 2
    err = capsys.readouterr().err
    assert "S3c" not in err and "***" in err


# -- item 11: read-only storage ------------------------------------------------------------
READER = """
import sys
from ato.tracker import SQLFinder
from ato.tracker.cli import main
url = sys.argv[1]
finder = SQLFinder(url)
print(finder.find_run(1).metric_values("loss"), len(finder.get_runs_in_project("p")))
print(SQLFinder(url, must_exist=True).find_best_run("p", "loss").id)
sys.exit(main(["--db", url, "runs", "list"]))
"""


def _read_only_run(folder: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` where ``folder`` cannot be written: as root (which bypasses permissions)
    inside a private mount namespace where ``folder`` is bind-mounted read-only, else with the
    permissions already removed by the caller."""
    if os.geteuid() == 0:
        remount = f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} {folder}"
        quoted = " ".join(f"'{arg}'" for arg in argv)
        argv = ["unshare", "--mount", "sh", "-c", f"{remount} && exec {quoted}"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("lock", ["read_only_mount", "file_only"])
def test_a_finished_database_on_read_only_storage_stays_readable(lock):
    folder = Path(tempfile.mkdtemp(prefix="ato-ro-"))
    try:
        db = folder / "runs.db"
        url = f"sqlite:///{db}"
        logger = SQLLogger(_cfg(url))
        for run in range(2):
            with logger.start_run() as active:
                active.log_metric("loss", 0.5 + run, 0)
        from ato.tracker.storage.database import dispose_engines

        dispose_engines()  # the last connection checkpoints and removes the WAL
        db.chmod(0o444)
        if lock == "read_only_mount":
            folder.chmod(0o555)
            result = _read_only_run(folder, [sys.executable, "-c", textwrap.dedent(READER), url])
        else:  # the directory stays writable: a plain read-only open
            result = subprocess.run(
                [sys.executable, "-c", textwrap.dedent(READER), url],
                capture_output=True,
                text=True,
                timeout=120,
            )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "[0.5] 2" and lines[1] == "2"
        assert "unable to open" not in result.stderr
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


# -- item 12: unresolvable interpolations -----------------------------------------------------
@pytest.mark.parametrize(
    ("node", "stored"),
    [
        ("${hydra:runtime.output_dir}", "${hydra:runtime.output_dir}"),
        ("${missing.key}", "${missing.key}"),
        ("???", "???"),
        ("${oc.env:ATO_SURELY_UNSET_VARIABLE}", "${oc.env:ATO_SURELY_UNSET_VARIABLE}"),
        ("${lr}", 0.1),  # a resolvable one next to them is resolved
    ],
)
def test_an_unresolvable_interpolation_is_stored_as_its_text(sqlite_url, node, stored):
    config = omegaconf.OmegaConf.create(
        {"out": node, "lr": 0.1, "nested": {"deep": [node, "${lr}"]}, **_cfg(sqlite_url)}
    )
    logger = SQLLogger(config)  # reading the settings resolves nothing it does not need
    run_id = logger.run()
    logger.finish()
    trial = logger.run(config=config)  # a search trial's config takes the same path
    logger.finish()
    finder = SQLFinder(sqlite_url)
    for stored_run in (finder.find_run(run_id), finder.find_run(trial)):
        assert stored_run.config.out == stored
        assert stored_run.config.nested.deep == [stored, 0.1]


# -- item 13: a config too large for MariaDB --------------------------------------------------
def test_a_config_over_max_allowed_packet_is_a_clear_error(mysql_url):
    logger = SQLLogger(_cfg(mysql_url))
    with pytest.raises(ConfigTooLargeError, match=r"max_allowed_packet = [\d,]+ bytes") as info:
        logger.run(config={"blob": "x" * 20_000_000})
    assert "20,000,0" in str(info.value)
    run_id = logger.run(config={"blob": "x" * 1000})  # the logger still works
    logger.finish()
    assert SQLFinder(mysql_url).find_run(run_id).config.blob == "x" * 1000
