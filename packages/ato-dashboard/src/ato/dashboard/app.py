"""The Starlette application: HTML pages (drawn in the browser from the JSON endpoints) and the
JSON endpoints themselves. Every route only reads; errors become a clear page or a JSON
``{"error": ..., "status": ...}`` document, never a traceback."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ato.tracker.read import queries
from ato.tracker.read.overview import runs_with_tag

from . import admission, data, search
from .database import ReadOnlyDatabase
from .errors import DashboardError, NotFoundError
from .gc_pause import collection_paused
from .version import __version__

log = logging.getLogger("ato.dashboard")

PACKAGE_DIR = Path(str(resources.files("ato.dashboard")))
POLL_INTERVAL_MS = 2000
#: Only this page's own scripts, styles and requests: nothing is loaded from elsewhere.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class JSON(JSONResponse):
    """A JSON response that never caches and never emits NaN (not valid JSON)."""

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` with orjson (NaN and infinities as ``null``, datetimes in
        ISO 8601, other objects as text)."""
        return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)


def create_app(
    db_url: str, *, host: str = "127.0.0.1", allow_hosts: Sequence[str] = ()
) -> Starlette:
    """The dashboard as an ASGI app over the database at ``db_url`` (opened read-only).

    Every route first checks the request as `ato.dashboard.admission` says (same origin, no
    NUL in its parameters, bounded numbers).

    Args:
        db_url: a SQLAlchemy URL or SQLite file path.
        host: the address the server binds; requests must name it (or localhost; for
            ``0.0.0.0``/``::`` this machine's names and addresses) in their ``Host`` header,
            which defeats DNS-rebinding attacks from web pages.
        allow_hosts: more ``Host`` names to accept (e.g. the name of a reverse proxy).

    Raises:
        DatabaseUnavailableError: ``db_url`` is not a usable URL (a database that is missing
            or not a tracker database is reported on every page instead).
    """
    db = ReadOnlyDatabase(db_url)
    templates = Environment(
        loader=FileSystemLoader(str(PACKAGE_DIR / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )

    def page(template: str, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        html = templates.get_template(template).render(
            request=request,
            database=db.display_url,
            version=__version__,
            poll_ms=POLL_INTERVAL_MS,
            **context,
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def api(build: Callable[[Connection, Request], Any]) -> Callable[[Request], Response]:
        @admitted
        def endpoint(request: Request) -> Response:
            with collection_paused(), db.connect() as conn:
                document = build(conn, request)
                return JSON(document, headers={"Cache-Control": "no-store", **SECURITY_HEADERS})

        return endpoint

    # ---- JSON endpoints -------------------------------------------------------------
    def api_projects(conn: Connection, request: Request) -> Any:
        return {"database": db.display_url, **data.projects(conn)}

    def api_runs(conn: Connection, request: Request) -> Any:
        q = request.query_params
        name = request.path_params["name"]
        return data.project_runs(conn, name, status=q.get("status"), tag=q.get("tag"))

    def api_run(conn: Connection, request: Request) -> Any:
        return data.run_detail(conn, admission.run_id(request.path_params["run_id"]))

    def api_series(conn: Connection, request: Request) -> Any:
        max_points = admission.int_param(
            request.query_params.get("max_points"),
            "max_points",
            data.DEFAULT_MAX_POINTS,
            4,
            admission.MAX_POINTS_LIMIT,
        )
        run_id = admission.run_id(request.path_params["run_id"])
        return data.series(conn, run_id, request.path_params["key"], max_points)

    def api_compare(conn: Connection, request: Request) -> Any:
        ids = data.parse_run_ids(request.query_params.get("runs"))
        all_keys = request.query_params.get("all") in ("1", "true", "yes")
        return data.compare(conn, ids, all_keys=all_keys)

    def api_search(conn: Connection, request: Request) -> Any:
        q = request.query_params
        return search.search_detail(
            conn,
            request.path_params["search_id"],
            metric=q.get("metric") or None,
            mode=q.get("mode") or None,
        )

    # ---- HTML pages (existence checked here so an unknown id is a 404 page) -----------
    @admitted
    def index(request: Request) -> Response:
        db.check()
        return page("index.html", request, title="Projects")

    @admitted
    def project(request: Request) -> Response:
        name = request.path_params["name"]
        with db.connect() as conn:
            if queries.find_project(conn, name) is None:
                raise NotFoundError(f"no project named {name!r}")
        return page("project.html", request, title=name, project=name)

    @admitted
    def run(request: Request) -> Response:
        run_id = admission.run_id(request.path_params["run_id"])
        with db.connect() as conn:
            found = queries.load_run(conn, run_id, with_metrics=False)
        if found is None:
            raise NotFoundError(f"no run with id {run_id}")
        return page("run.html", request, title=f"Run {run_id}", run=found)

    @admitted
    def compare(request: Request) -> Response:
        ids = data.parse_run_ids(request.query_params.get("runs"))
        with db.connect() as conn:
            data.compare(conn, ids)  # raises NotFoundError for an unknown id
        return page("compare.html", request, title="Compare runs", run_ids=ids)

    @admitted
    def search_page(request: Request) -> Response:
        search_id = request.path_params["search_id"]
        with db.connect() as conn:
            if not runs_with_tag(conn, f"search:{search_id}"):
                raise NotFoundError(f"no run is tagged search:{search_id}")
        return page("search.html", request, title=f"Search {search_id}", search_id=search_id)

    # ---- errors ---------------------------------------------------------------------
    def error_response(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSON({"error": message, "status": status}, status_code=status)
        return page("error.html", request, status=status, title=f"Error {status}", message=message)

    def on_dashboard_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DashboardError)  # noqa: S101 - invariant, narrows the type
        return error_response(request, exc.status, str(exc))

    def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)  # noqa: S101 - invariant, narrows the type
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return error_response(request, exc.status_code, f"{message}: {request.url.path}")

    def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("error serving %s: %s: %s", request.url.path, type(exc).__name__, exc)
        message = f"the dashboard could not answer this request ({type(exc).__name__})"
        return error_response(request, 500, message)

    routes = [
        Route("/", index),
        Route("/projects/{name:path}", project),
        Route("/runs/{run_id}", run),
        Route("/compare", compare),
        Route("/searches/{search_id:path}", search_page),
        Route("/api/projects", api(api_projects)),
        Route("/api/projects/{name:path}/runs", api(api_runs)),
        Route("/api/runs/{run_id}", api(api_run)),
        Route("/api/runs/{run_id}/metrics/{key:path}", api(api_series)),
        Route("/api/compare", api(api_compare)),
        Route("/api/searches/{search_id:path}", api(api_search)),
        Mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                TrustedHostMiddleware,
                allowed_hosts=admission.allowed_hosts(host, allow_hosts),
                www_redirect=False,
            )
        ],
        exception_handlers={
            DashboardError: on_dashboard_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
    )
    app.state.db = db
    return app


def admitted(endpoint: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """``endpoint`` answering only requests that pass `ato.dashboard.admission`'s checks."""

    @functools.wraps(endpoint)
    def checked(request: Request) -> Response:
        admission.check_same_origin(request.headers, request.url.path)
        admission.check_text([*request.path_params.items(), *request.query_params.multi_items()])
        return endpoint(request)

    return checked
