"""Run provenance (launch record, Scope provenance), heartbeats, ``crashed`` status,
``ato runs explain`` and ``ato runs mark`` - on SQLite and both servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import namedtuple
from datetime import timedelta

import pytest
from sqlalchemy import update

from ato.adict import ADict
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import main
from ato.tracker.read.status import CRASHED, crash_timeout, effective_status
from ato.tracker.storage.database import get_engine
from ato.tracker.storage.models import RunRecord, utcnow
from ato.tracker.write.provenance import git_state

Source = namedtuple("Source", "kind label where")
Write = namedtuple("Write", "value source")


class _Deleted:
    pass


class FakeScope:
    """Duck-typed stand-in for an ato-scope Scope after a build."""

    name = "config"
    applied_views = ["defaults", "quick", "(CLI Inputs)"]
    provenance = {
        "optim.lr": [
            Write(0.001, Source("view", "defaults", "train.py:10")),
            Write(0.01, Source("cli", "optim.lr=0.01", "")),
        ],
        "train.epochs": [
            Write(40, Source("view", "defaults", "train.py:11")),
            Write(12, Source("view", "quick", "train.py:20")),
        ],
        "train.seed": [Write(0, Source("view", "defaults", "train.py:12"))],
        "old": [
            Write(1, Source("view", "defaults", "train.py:13")),
            Write(_Deleted(), Source("view", "quick", "train.py:21")),
        ],
    }


def ato(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- provenance ---------------------------------------------------------------------------


def test_every_run_records_how_it_was_launched(make_config, db_url):
    logger = SQLLogger(make_config(lr=0.1))
    with logger.start_run() as active:
        pass
    run = SQLFinder(db_url).find_run(active.id)
    prov = run.provenance
    assert prov.argv == [str(a) for a in sys.argv]
    assert prov.cwd == os.getcwd()
    assert prov.host and prov.pid == os.getpid()
    assert prov.python.version == ".".join(map(str, sys.version_info[:3]))
    assert prov.ato["ato-tracker"] == "3.0.0"
    assert "scope" not in prov
    if git_state(os.getcwd()) is not None:  # the tests run inside the repository
        assert len(prov.git.commit) == 40 and isinstance(prov.git.dirty, bool)


def test_git_state_of_a_fresh_repository_and_of_no_repository(tmp_path):
    git_state.cache_clear()
    assert git_state(str(tmp_path)) is None  # not a repository: no error
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@b",
    }
    repo = tmp_path / "repo"
    repo.mkdir()
    try:
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    except (OSError, subprocess.CalledProcessError):
        pytest.fail("this test needs the git command (provenance reads the commit with it)")
    (repo / "f.txt").write_text("1")
    subprocess.run(["git", "add", "f.txt"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "x"], cwd=repo, check=True, env=env)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    git_state.cache_clear()
    assert git_state(str(repo)) == {"commit": head, "dirty": False, "branch": "main"}
    (repo / "f.txt").write_text("2")
    git_state.cache_clear()
    assert git_state(str(repo))["dirty"] is True
    git_state.cache_clear()


def test_a_missing_git_never_fails_a_run(make_config, db_url, monkeypatch, tmp_path):
    git_state.cache_clear()
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable on the PATH
    monkeypatch.chdir(tmp_path)
    logger = SQLLogger(make_config())
    with logger.start_run() as active:
        pass
    git_state.cache_clear()
    assert SQLFinder(db_url).find_run(active.id).provenance.git is None


def test_scope_provenance_is_stored_and_explained(capsys, make_config, db_url):
    logger = SQLLogger(make_config(), scope=FakeScope())
    with logger.start_run() as active:
        pass
    scope = SQLFinder(db_url).find_run(active.id).provenance.scope
    assert scope.views == ["defaults", "quick", "(CLI Inputs)"]
    assert scope.overrides == ["optim.lr=0.01"]
    assert (
        scope["keys"]["optim.lr"][-1]["source"]
        == "Source(kind='cli', label='optim.lr=0.01', where='')"
    )
    assert scope["keys"]["old"][-1]["deleted"] is True

    code, out, err = ato(capsys, "--db", db_url, "runs", "explain", str(active.id), "optim.lr")
    assert code == 0, err
    lines = out.splitlines()
    assert "Views applied: defaults → quick → (CLI Inputs)" in lines
    assert lines[-2].startswith("optim.lr = 0.01 ← ") and "optim.lr=0.01" in lines[-2]
    assert lines[-1].startswith("    overrode 0.001 ← ") and "defaults" in lines[-1]
    code, out, _ = ato(capsys, "--db", db_url, "runs", "explain", str(active.id), "train", "--json")
    data = json.loads(out)
    assert sorted(data["keys"]) == ["train.epochs", "train.seed"]
    assert [w["value"] for w in data["keys"]["train.epochs"]] == [40, 12]
    code, out, _ = ato(capsys, "--db", db_url, "runs", "show", str(active.id))
    assert "defaults → quick → (CLI Inputs)" in out and "optim.lr=0.01" in out


def test_explain_errors_suggest_keys_and_need_scope_provenance(capsys, make_config, db_url):
    logger = SQLLogger(make_config(), scope=FakeScope())
    with logger.start_run() as scoped:
        pass
    plain = SQLLogger(make_config())
    with plain.start_run() as unscoped:
        pass
    code, _, err = ato(capsys, "--db", db_url, "runs", "explain", str(scoped.id), "lr")
    assert code == 1 and "Did you mean 'optim.lr'?" in err
    code, _, err = ato(capsys, "--db", db_url, "runs", "explain", str(unscoped.id), "lr")
    assert code == 1 and "recorded no Scope provenance" in err and "command line" in err


class BuiltConfig(ADict):
    """Like the ADict an ato-scope Scope builds: it carries the record of its build in the
    ``__ato_scope__`` slot (not a key)."""

    __slots__ = ("__ato_scope__",)


def built(config: ADict, record: object) -> ADict:
    carrier = BuiltConfig(config)
    object.__setattr__(carrier, "__ato_scope__", record)
    return carrier


class OtherScope(FakeScope):
    name = "other"
    applied_views = ["other_defaults", "(CLI Inputs)"]


def test_a_config_built_by_a_scope_records_its_provenance_without_wiring(
    capsys, make_config, db_url
):
    config = built(make_config(lr=0.1), FakeScope())
    with SQLLogger(config).start_run() as active:
        pass
    run = SQLFinder(db_url).find_run(active.id)
    assert run.provenance.scope.views == ["defaults", "quick", "(CLI Inputs)"]
    assert "__ato_scope__" not in run.config and run.config.lr == 0.1
    code, out, err = ato(capsys, "--db", db_url, "runs", "explain", str(active.id), "optim.lr")
    assert code == 0, err
    assert out.splitlines()[-2].startswith("optim.lr = 0.01 ← ")

    logger = SQLLogger(make_config(lr=0.2))  # a plain config: no Scope section
    with logger.start_run(config=built(make_config(lr=0.3), OtherScope())) as trial:
        pass
    with logger.start_run() as plain:
        pass
    with SQLLogger(config, scope=OtherScope()).start_run() as given:  # scope= wins
        pass
    finder = SQLFinder(db_url)
    assert finder.find_run(trial.id).provenance.scope.name == "other"
    assert "scope" not in finder.find_run(plain.id).provenance
    assert finder.find_run(given.id).provenance.scope.name == "other"


def test_log_scope_adds_the_scope_to_the_current_run(make_config, db_url):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    logger.log_scope(FakeScope())
    logger.log_scope(object())  # not Scope-like: nothing changes
    logger.finish()
    prov = SQLFinder(db_url).find_run(run_id).provenance
    assert prov.scope.name == "config" and prov.argv  # launch record kept


def test_show_prints_the_command_line(capsys, make_config, db_url):
    logger = SQLLogger(make_config())
    with logger.start_run() as active:
        pass
    code, out, _ = ato(capsys, "--db", db_url, "runs", "show", str(active.id))
    assert code == 0
    assert "Command" in out and os.path.basename(sys.argv[0]) in out
    record = json.loads(ato(capsys, "--db", db_url, "runs", "show", str(active.id), "--json")[1])
    assert record["provenance"]["cwd"] == os.getcwd()


# -- heartbeat and crashed ----------------------------------------------------------------


def _set_heartbeat(db_url: str, run_id: int, seconds_ago: float) -> None:
    runs = RunRecord.__table__
    with get_engine(db_url).begin() as conn:
        conn.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(heartbeat=utcnow() - timedelta(seconds=seconds_ago))
        )


def test_a_running_run_without_heartbeats_reads_as_crashed(capsys, make_config, db_url):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    finder = SQLFinder(db_url)
    assert finder.find_run(run_id).status == "running"
    _set_heartbeat(db_url, run_id, 600)
    assert finder.find_run(run_id).status == CRASHED
    assert SQLFinder(db_url, crash_timeout=3600).find_run(run_id).status == "running"
    _code, out, _ = ato(capsys, "--db", db_url, "runs", "list", "--status", "crashed", "--json")
    assert [r["id"] for r in json.loads(out)] == [run_id]
    logger.finish()
    assert finder.find_run(run_id).status == "completed"  # finished runs never read as crashed


def test_the_writer_keeps_its_heartbeat_fresh(make_config, db_url):
    logger = SQLLogger(make_config(), heartbeat_interval=0.2)
    run_id = logger.run()
    first = SQLFinder(db_url).find_run(run_id).heartbeat
    deadline = time.monotonic() + 10
    while SQLFinder(db_url).find_run(run_id).heartbeat == first:
        assert time.monotonic() < deadline, "no heartbeat within 10 s"
        time.sleep(0.1)
    logger.finish()
    stopped = SQLFinder(db_url).find_run(run_id).heartbeat
    time.sleep(0.6)
    assert SQLFinder(db_url).find_run(run_id).heartbeat == stopped  # no beats after finish


def test_a_sigkilled_writer_shows_as_crashed(capsys, db_url, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            from ato.adict import ADict
            from ato.tracker import SQLLogger
            cfg = ADict(experiment=ADict(project_name="kill", sql=ADict(db_path={db_url!r})))
            logger = SQLLogger(cfg, heartbeat_interval=0.2)
            run_id = logger.run()
            logger.log_metric("loss", 1.0, 0)
            logger.flush()
            print(run_id, flush=True)
            time.sleep(600)
            """
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        run_id = int(proc.stdout.readline())
        time.sleep(0.5)
        # a loaded machine can stall the writer's 0.2 s beat for seconds: a live writer is
        # checked against a wide timeout, the dead one against 2 s
        assert SQLFinder(db_url, crash_timeout=60).find_run(run_id).status == "running"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(2.5)
    deadline = time.monotonic() + 20
    while (run := SQLFinder(db_url, crash_timeout=2).find_run(run_id)).status != CRASHED:
        assert time.monotonic() < deadline, f"still {run.status} 20 s after SIGKILL"
        time.sleep(0.2)
    assert [m.value for m in run.metrics] == [1.0]
    os.environ["ATO_CRASH_TIMEOUT"] = "2"
    try:
        code, out, _ = ato(capsys, "--db", db_url, "runs", "list", "--json")
    finally:
        del os.environ["ATO_CRASH_TIMEOUT"]
    assert json.loads(out)[0]["status"] == CRASHED
    code, out, err = ato(capsys, "--db", db_url, "runs", "mark", str(run_id), "--status", "killed")
    assert code == 0, err
    run = SQLFinder(db_url).find_run(run_id)
    assert (
        run.status == "killed" and run.end_time == run.heartbeat
    )  # ended at its last sign of life


def test_mark_sets_status_and_rejects_unknown_ones(capsys, make_config, db_url):
    logger = SQLLogger(make_config())
    with logger.start_run() as done:
        pass
    ended = SQLFinder(db_url).find_run(done.id).end_time
    code, out, err = ato(
        capsys, "--db", db_url, "runs", "mark", str(done.id), "--status", "failed", "--json"
    )
    assert code == 0, err
    assert json.loads(out) == {"id": done.id, "previous_status": "completed", "status": "failed"}
    run = SQLFinder(db_url).find_run(done.id)
    assert run.status == "failed" and run.end_time == ended  # end time kept
    code, _, err = ato(capsys, "--db", db_url, "runs", "mark", str(done.id), "--status", "paused")
    assert code == 2 and "invalid choice" in err
    code, _, err = ato(capsys, "--db", db_url, "runs", "mark", "999", "--status", "killed")
    assert code == 1 and "no run with id 999" in err


def test_crash_timeout_setting(monkeypatch):
    assert crash_timeout() == 120.0
    monkeypatch.setenv("ATO_CRASH_TIMEOUT", "30")
    assert crash_timeout() == 30.0 and crash_timeout(5) == 5.0
    monkeypatch.setenv("ATO_CRASH_TIMEOUT", "soon")
    with pytest.raises(ValueError, match=r"\$ATO_CRASH_TIMEOUT must be a number of seconds > 0"):
        crash_timeout()
    with pytest.raises(ValueError, match="crash_timeout must be"):
        crash_timeout(0)
    now = utcnow()
    old = now - timedelta(seconds=100)
    assert effective_status("running", None, old, 50, now) == CRASHED  # start time counts
    assert effective_status("running", now, old, 50, now) == "running"
    assert effective_status("failed", None, old, 50, now) == "failed"


def test_heartbeat_interval_must_be_positive(make_config):
    with pytest.raises(ValueError, match="heartbeat_interval=0"):
        SQLLogger(make_config(), heartbeat_interval=0)
