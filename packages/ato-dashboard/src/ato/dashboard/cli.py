"""``ato dashboard`` / ``python -m ato.dashboard``: serve the dashboard with uvicorn."""

from __future__ import annotations

import argparse
import socket
import sys
import threading
from collections.abc import Sequence

# Only the standard library here: importing ato.tracker means importing SQLAlchemy, which
# ``--help`` does not need and which ``serve`` imports after the socket is listening.
DB_ENV_VAR = "ATO_DB"  # the same as ato.tracker.storage.settings (a test keeps them equal)
DEFAULT_DB_URL = "sqlite:///experiments.db"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def add_arguments(parser: argparse.ArgumentParser, *, db_default: object = None) -> None:
    """Add the dashboard's options (``--db``, ``--host``, ``--port``, ``--allow-host``,
    ``--open``) to ``parser``
    (used by ``ato dashboard`` and ``python -m ato.dashboard`` alike). ``db_default`` is
    ``argparse.SUPPRESS`` under ``ato``, whose global ``--db`` may come before the command."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=db_default,
        help=f"SQLAlchemy URL or SQLite file (default: ${DB_ENV_VAR}, else {DEFAULT_DB_URL})",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}: this machine only; "
        "there is no authentication)",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host header names NAME (e.g. a reverse proxy's name; "
        "repeatable). By default only localhost names and the bound address are answered",
    )
    parser.add_argument(
        "--artifact-root",
        metavar="DIR",
        default=None,
        help="the artifact store whose stored files run pages offer for download (default: "
        "$ATO_ARTIFACT_ROOT, else <file>.artifacts next to a SQLite file)",
    )
    parser.add_argument("--open", action="store_true", help="open the dashboard in a browser")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m ato.dashboard``."""
    parser = argparse.ArgumentParser(
        prog="python -m ato.dashboard",
        description="Serve a read-only web dashboard over an ato tracker database.",
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and serve until interrupted; returns the
    exit code (0 after Ctrl-C, 2 for a usage error or an unusable database URL)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return serve(args)


def serve(args: argparse.Namespace) -> int:
    """Serve the dashboard for parsed arguments (see `add_arguments`).

    The listening socket is opened first, so a browser or script that connects while the web
    framework and SQLAlchemy are still being imported waits in the socket's queue instead of
    being refused. Returns 1 when the address cannot be bound, 2 for an unusable database URL.
    """
    try:
        listener = _listen(args.host, args.port)
    except OSError as error:
        sys.stderr.write(
            f"ato dashboard: error: cannot listen on {args.host}:{args.port}: {error}\n"
        )
        return 1
    with listener:
        return _serve_on(listener, args)


run = serve
"""``ato dashboard``: the name ato-tracker's ``ato`` command calls (entry point group
``ato.commands``, see ``ato.tracker.cli.external``)."""


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def _serve_on(listener: socket.socket, args: argparse.Namespace) -> int:
    import uvicorn

    from ato.tracker import default_db_url

    from .admission import allowed_hosts
    from .app import create_app
    from .errors import DashboardError
    from .serving import server_config

    url = getattr(args, "db", None) or default_db_url()
    try:
        app = create_app(
            url,
            host=args.host,
            allow_hosts=args.allow_host,
            artifact_root=getattr(args, "artifact_root", None),
        )
    except DashboardError as error:
        sys.stderr.write(f"ato dashboard: error: {error}\n")
        return 2
    db = app.state.db
    if args.host not in LOOPBACK:
        sys.stderr.write(exposure_warning(args.host, allowed_hosts(args.host, args.allow_host)))
    try:
        db.check()
    except DashboardError as error:
        sys.stderr.write(f"ato dashboard: warning: {error} (pages will say so until it is)\n")
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    address = f"http://{shown_host}:{listener.getsockname()[1]}/"
    print(f"ato dashboard {db.display_url} at {address} (read-only; Ctrl-C stops)", flush=True)
    if args.open:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(address,)).start()
    uvicorn.Server(server_config(app, args.host, args.port)).run(sockets=[listener])
    return 0


def exposure_warning(host: str, allowed: Sequence[str]) -> str:
    """The warning printed when the dashboard listens on ``host``, beyond this machine."""
    return (
        f"ato dashboard: warning: listening on {host}, reachable from other machines; the "
        "dashboard has no authentication: anyone who can reach this port can read every run "
        f"in the database. Only requests whose Host header is one of {', '.join(allowed)} are "
        "answered (others get HTTP 400, which stops DNS-rebinding pages); add names with "
        "--allow-host NAME.\n"
    )
