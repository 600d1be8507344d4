"""``ato dashboard`` and ``python -m ato.dashboard``: flags, start-up, warnings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from importlib import metadata
from typing import Any

import httpx
import pytest

from ato.tracker.cli import build_parser
from ato.tracker.cli import main as ato_main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def _wait_ready(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {process.communicate()}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the server did not answer within 30 s")


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


@pytest.mark.parametrize("command", ["module", "ato"])
def test_server_starts_and_answers(sqlite_url: str, kit: Any, command: str):
    kit.fill(sqlite_url)
    port = _free_port()
    if command == "module":
        args = [sys.executable, "-m", "ato.dashboard", "--db", sqlite_url, "--port", str(port)]
        env = None
    else:  # --db from ATO_DB, like the other ato commands
        ato = [
            sys.executable,
            "-c",
            "import sys; from ato.tracker.cli import main; sys.exit(main())",
        ]
        args = [*ato, "dashboard", "--port", str(port)]
        env = {"ATO_DB": sqlite_url}
    process = _start(args, env)
    try:
        response = _wait_ready(f"http://127.0.0.1:{port}/api/projects", process)
        assert response.status_code == 200
        assert {p["name"] for p in response.json()["projects"]} >= {"vision"}
    finally:
        out, err = _stop(process)
    assert f"http://127.0.0.1:{port}/" in out and "read-only" in out
    assert "warning" not in err


def test_other_host_warns_about_no_authentication(sqlite_url: str, kit: Any):
    kit.fill(sqlite_url)
    port = _free_port()
    args = [
        sys.executable,
        "-m",
        "ato.dashboard",
        "--db",
        sqlite_url,
        "--host",
        "127.0.0.2",
        "--port",
        str(port),
    ]
    process = _start(args)
    try:
        assert _wait_ready(f"http://127.0.0.2:{port}/api/projects", process).status_code == 200
    finally:
        _, err = _stop(process)
    assert "no authentication" in err and "127.0.0.2" in err


def test_ato_db_before_the_subcommand_is_kept():
    args = build_parser().parse_args(["--db", "a.db", "dashboard", "--port", "9000"])
    assert (args.db, args.port, args.host, args.open) == ("a.db", 9000, "127.0.0.1", False)
    args = build_parser().parse_args(["dashboard", "--db", "b.db"])
    assert args.db == "b.db" and args.port == 8765


@pytest.mark.parametrize("port", ["http", "70000", "-1"])
def test_bad_port_is_a_usage_error(port: str, capsys: Any):
    from ato.dashboard.cli import main

    assert main(["--port", port]) == 2
    assert "port" in capsys.readouterr().err


def test_unusable_url_exits_2(capsys: Any):
    assert ato_main(["dashboard", "--db", "sqlite://", "--port", "0"]) == 2
    assert "in-memory" in capsys.readouterr().err


def test_a_port_in_use_is_a_clear_error(sqlite_url: str, capsys: Any):
    from ato.dashboard.cli import main

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["--db", sqlite_url, "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_the_cli_defaults_are_the_trackers():
    from ato.dashboard import cli
    from ato.tracker.storage import settings

    assert (cli.DB_ENV_VAR, cli.DEFAULT_DB_URL) == (settings.DB_ENV_VAR, settings.DEFAULT_DB_URL)


def test_help_does_not_import_sqlalchemy():
    probe = "import sys; from ato.dashboard.cli import build_parser; build_parser()\n"
    probe += "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'"
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_not_a_tracker_database_warns_but_serves(tmp_path: Any):
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    port = _free_port()
    process = _start(
        [sys.executable, "-m", "ato.dashboard", "--db", str(path), "--port", str(port)]
    )
    try:
        response = _wait_ready(f"http://127.0.0.1:{port}/", process)
        assert response.status_code == 409 and "not an ato tracker database" in response.text
    finally:
        _, err = _stop(process)
    assert "not an ato tracker database" in err


def test_the_dashboard_command_comes_from_the_entry_point():
    """ato-tracker finds `ato dashboard` through this package's ``ato.commands`` entry point,
    without importing the dashboard itself (ato-dashboard depends on ato-tracker)."""
    (entry_point,) = metadata.entry_points(group="ato.commands").select(name="dashboard")
    assert entry_point.value == "ato.dashboard.cli"
    args = build_parser().parse_args(["dashboard", "--port", "9000"])
    assert args.external is entry_point.load() and args.port == 9000
