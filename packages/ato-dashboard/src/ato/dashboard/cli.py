"""``ato dashboard`` / ``python -m ato.dashboard``: serve the dashboard with uvicorn."""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser
from collections.abc import Sequence

from ato.tracker.settings import DB_ENV_VAR, DEFAULT_DB_URL, default_db_url

from .errors import DashboardError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def add_arguments(parser: argparse.ArgumentParser, *, db_default: object = None) -> None:
    """Add the dashboard's options (``--db``, ``--host``, ``--port``, ``--open``) to ``parser``
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
    """Serve the dashboard for parsed arguments (see ``add_arguments``)."""
    import uvicorn

    from .app import create_app

    url = getattr(args, "db", None) or default_db_url()
    try:
        app = create_app(url, host=args.host)
    except DashboardError as error:
        sys.stderr.write(f"ato dashboard: error: {error}\n")
        return 2
    db = app.state.db
    if args.host not in LOOPBACK:
        sys.stderr.write(
            f"ato dashboard: warning: listening on {args.host}, reachable from other machines; "
            "the dashboard has no authentication: anyone who can reach this port can read "
            "every run in the database.\n"
        )
    try:
        db.check()
    except DashboardError as error:
        sys.stderr.write(f"ato dashboard: warning: {error} (pages will say so until it is)\n")
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    address = f"http://{shown_host}:{args.port}/"
    print(f"ato dashboard {db.display_url} at {address} (read-only; Ctrl-C stops)", flush=True)
    if args.open:
        threading.Timer(0.5, webbrowser.open, args=(address,)).start()
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    uvicorn.Server(config).run()
    return 0
