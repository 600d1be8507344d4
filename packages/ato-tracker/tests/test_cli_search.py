"""``ato search status ID`` (jobs by state, per-worker progress, --json) and ``ato search
workers N -- COMMAND`` (N local processes, each told its index)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ato.tracker.cli import main
from ato.tracker.search_jobs import SearchJobQueue


def ato(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _search(url: str) -> None:
    a = SearchJobQueue(url, worker="host:1:aaaa")
    b = SearchJobQueue(url, worker="host:2:bbbb")
    a.open_search("s")
    jobs = [
        {"job_key": f"trial-{i}/rung-0", "trial_id": i, "rung": 0, "bracket": 0, "payload": {}}
        for i in range(3)
    ]
    a.plan("s", lambda plan: plan.add(jobs, claim=False))
    a.claim("s")
    a.complete("s", "trial-0/rung-0", {"metric": "1.0", "error": None, "run_id": 4})
    b.claim("s")


def test_status_shows_counts_and_workers(capsys, sqlite_url):
    _search(sqlite_url)
    code, out, _ = ato(capsys, "search", "status", "s", "--db", sqlite_url)
    assert code == 0
    assert out.splitlines()[0] == "search s: running; jobs: 1 queued, 1 claimed, 1 done, 0 failed"
    rows = [
        [c.strip() for c in line.split("│")[1:5]] for line in out.splitlines() if "host:" in line
    ]
    assert rows == [["host:1:aaaa", "1", "0", ""], ["host:2:bbbb", "0", "0", "trial-1/rung-0"]]


def test_status_as_json(capsys, sqlite_url):
    _search(sqlite_url)
    code, out, _ = ato(capsys, "search", "status", "s", "--db", sqlite_url, "--json")
    data = json.loads(out)
    assert code == 0
    assert data["counts"] == {"queued": 1, "claimed": 1, "done": 1, "failed": 0}
    assert [(w["worker"], w["done"], w["running"]) for w in data["workers"]] == [
        ("host:1:aaaa", 1, None),
        ("host:2:bbbb", 0, "trial-1/rung-0"),
    ]
    assert (data["finished"], data["answer_run"]) == (False, None)


def test_status_of_an_unknown_search_says_so(capsys, sqlite_url):
    _search(sqlite_url)
    code, _, err = ato(capsys, "search", "status", "nope", "--db", sqlite_url)
    assert code != 0 and "no shared search 'nope'" in err


def test_workers_starts_n_processes_each_told_its_index(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = "import os, pathlib; pathlib.Path(os.environ['ATO_SEARCH_WORKER']).write_text(os.environ['ATO_SEARCH_WORKERS'])"
    code = main(["search", "workers", "3", "--", sys.executable, "-c", script])
    assert code == 0
    assert sorted(p.name for p in Path.cwd().glob("[0-9]")) == ["0", "1", "2"]
    assert {p.read_text() for p in Path.cwd().glob("[0-9]")} == {"3"}


def test_workers_returns_the_largest_exit_code(capsys):
    code = main(["search", "workers", "2", "--", sys.executable, "-c", "raise SystemExit(3)"])
    assert code == 3
