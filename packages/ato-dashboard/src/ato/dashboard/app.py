"""The Starlette application: HTML pages (drawn in the browser from the JSON endpoints) and the
JSON endpoints themselves, as module-level endpoints in one route table (`ROUTES`). Every
route only reads, through ato-tracker's read API; errors become a clear page or a JSON
``{"error": ..., "status": ...}`` document, never a traceback.

The database of an app is ``request.app.state.db`` (an
[`ReadOnlyDatabase`][ato.dashboard.database.ReadOnlyDatabase]); the templates are rendered by
Starlette's ``Jinja2Templates``, which give them ``url_for``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ato.tracker import SQLFinder

from . import admission, analysis, data, run_cache, search, table
from .database import ReadOnlyDatabase
from .errors import BadRequestError, DashboardError, FilterError, NotFoundError
from .search_cache import ViewCache
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
#: The pages' templates (``.html``: autoescaped; ``url_for`` is Starlette's).
templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")


def render_json(content: Any) -> bytes:
    """``content`` as JSON with orjson (NaN and infinities as ``null``, datetimes in ISO 8601,
    other objects as text)."""
    return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)


class JSON(JSONResponse):
    """A JSON response that never emits NaN (not valid JSON)."""

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` with `render_json`."""
        return render_json(content)


Endpoint = Callable[[Request], Response]


def admitted(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` answering only requests that pass `ato.dashboard.admission`'s checks."""

    @functools.wraps(endpoint)
    def checked(request: Request) -> Response:
        admission.check_same_origin(request.headers, request.url.path)
        admission.check_text([*request.path_params.items(), *request.query_params.multi_items()])
        return endpoint(request)

    return checked


def database(request: Request) -> ReadOnlyDatabase:
    """The database of the app that received ``request``."""
    db: ReadOnlyDatabase = request.app.state.db
    return db


def page(template: str, request: Request, status: int = 200, **context: Any) -> Response:
    """The HTML page ``template`` with the values every page shows."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "database": database(request).display_url,
            "version": __version__,
            "poll_ms": POLL_INTERVAL_MS,
            **context,
        },
        status_code=status,
        headers=SECURITY_HEADERS,
    )


def document(content: Any) -> Response:
    """A JSON endpoint's answer."""
    return JSON(content, headers={"Cache-Control": "no-store", **SECURITY_HEADERS})


def run_document(request: Request, run_id: int, build: Callable[[SQLFinder], Any]) -> Response:
    """A JSON endpoint's answer about run ``run_id``, built by ``build`` from the finder only
    when the run changed since the document was last built (see `ato.dashboard.run_cache`):
    ``304 Not Modified`` to a request whose ``If-None-Match`` names the current ETag."""
    where = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    documents: run_cache.RunDocuments = request.app.state.documents
    with database(request).reading() as finder:
        status, etag, body = documents.answer(
            finder,
            run_id,
            where,
            request.headers.get("if-none-match"),
            lambda: render_json(build(finder)),
        )
    headers = run_cache.headers_for(etag, SECURITY_HEADERS)
    if status == 304:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# ---- JSON endpoints -----------------------------------------------------------------


@admitted
def api_projects(request: Request) -> Response:
    """``/api/projects``: see `ato.dashboard.data.projects`."""
    db = database(request)
    with db.reading() as finder:
        return document({"database": db.display_url, **data.projects(finder)})


@admitted
def api_runs(request: Request) -> Response:
    """``/api/projects/{name}/runs``: see `ato.dashboard.data.project_runs`."""
    q = request.query_params
    name = request.path_params["name"]
    with database(request).reading() as finder:
        return document(data.project_runs(finder, name, status=q.get("status"), tag=q.get("tag")))


@admitted
def api_run(request: Request) -> Response:
    """``/api/runs/{run_id}``: see `ato.dashboard.data.run_detail`."""
    run_id = admission.run_id(request.path_params["run_id"])
    return run_document(request, run_id, lambda finder: data.run_detail(finder, run_id))


@admitted
def api_series(request: Request) -> Response:
    """``/api/runs/{run_id}/metrics/{key}``: see `ato.dashboard.data.series`."""
    max_points = admission.int_param(
        request.query_params.get("max_points"),
        "max_points",
        data.DEFAULT_MAX_POINTS,
        4,
        admission.MAX_POINTS_LIMIT,
    )
    since_step = admission.step_param(request.query_params.get("since_step"), "since_step")
    run_id = admission.run_id(request.path_params["run_id"])
    key = request.path_params["key"]
    return run_document(
        request,
        run_id,
        lambda finder: data.series(finder, run_id, key, max_points, since_step=since_step),
    )


@admitted
def api_artifact(request: Request) -> Response:
    """``/api/runs/{run_id}/artifacts/{name}``: a stored artifact's file, read-only, as a
    download (``application/octet-stream``, attachment); see `ato.dashboard.data.artifact_file`."""
    run_id = admission.run_id(request.path_params["run_id"])
    name = request.path_params["name"]
    with database(request).reading() as finder:
        path = data.artifact_file(finder, run_id, name)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=PurePosixPath(name).name,
        headers={"Cache-Control": "no-store", **SECURITY_HEADERS},
    )


@admitted
def api_compare(request: Request) -> Response:
    """``/api/compare?runs=...&metrics=<pattern>&metric_limit=N``: see
    `ato.dashboard.data.compare`."""
    q = request.query_params
    ids = data.parse_run_ids(q.get("runs"))
    all_keys = q.get("all") in ("1", "true", "yes")
    limit = admission.int_param(
        q.get("metric_limit"), "metric_limit", data.COMPARE_KEYS, 1, data.MAX_COMPARE_KEYS
    )
    pattern = q.get("metrics") or None
    with database(request).reading() as finder:
        return document(
            data.compare(finder, ids, all_keys=all_keys, metric_pattern=pattern, metric_limit=limit)
        )


@admitted
def api_search(request: Request) -> Response:
    """``/api/searches/{search_id}``: see `ato.dashboard.search.search_detail`."""
    q = request.query_params
    with database(request).reading() as finder:
        return document(
            search.search_detail(
                finder,
                request.path_params["search_id"],
                metric=q.get("metric") or None,
                mode=q.get("mode") or None,
            )
        )


@admitted
def api_search_workers(request: Request) -> Response:
    """``/api/searches/{search_id}/workers``: see `ato.dashboard.search.search_workers`."""
    with database(request).reading() as finder:
        return document(search.search_workers(finder, request.path_params["search_id"]))


@admitted
def api_analysis(request: Request) -> Response:
    """``/api/searches/{search_id}/analysis/{view}``: see `ato.dashboard.analysis`."""
    p = request.path_params
    cache: ViewCache = request.app.state.views
    with database(request).reading() as finder:
        return document(
            analysis.view(finder, p["search_id"], p["view"], request.query_params, cache)
        )


def _keys(text: str | None) -> list[str] | None:
    """``'a,b'`` -> ``['a', 'b']``; ``None`` when absent (the default grouping)."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@admitted
def api_table(request: Request) -> Response:
    """``/api/projects/{name}/table?filter=&sort=&desc=&offset=&limit=``: see
    `ato.dashboard.table.table_page`."""
    q = request.query_params
    offset = admission.int_param(q.get("offset"), "offset", 0, 0, admission.MAX_RUN_ID)
    limit = admission.int_param(q.get("limit"), "limit", table.DEFAULT_PAGE, 1, table.MAX_PAGE)
    with database(request).reading() as finder:
        return document(
            table.table_page(
                finder,
                request.path_params["name"],
                filter_text=q.get("filter"),
                sort_by=q.get("sort") or "id",
                descending=q.get("desc", "1") != "0",
                offset=offset,
                limit=limit,
            )
        )


@admitted
def api_groups(request: Request) -> Response:
    """``/api/projects/{name}/groups?by=a,b&filter=``: see `ato.dashboard.table.groups`."""
    q = request.query_params
    with database(request).reading() as finder:
        return document(
            table.groups(
                finder,
                request.path_params["name"],
                filter_text=q.get("filter"),
                by=_keys(q.get("by")),
            )
        )


@admitted
def api_group_series(request: Request) -> Response:
    """``/api/projects/{name}/group-series?key=&by=&filter=``: see
    `ato.dashboard.table.group_series`."""
    q = request.query_params
    key = q.get("key")
    if not key:
        raise BadRequestError("pass the metric to draw as ?key=<metric key>")
    with database(request).reading() as finder:
        return document(
            table.group_series(
                finder,
                request.path_params["name"],
                key,
                filter_text=q.get("filter"),
                by=_keys(q.get("by")),
            )
        )


@admitted
def api_compare_series(request: Request) -> Response:
    """``/api/compare/series?runs=...&key=...``: see `ato.dashboard.data.compare_series`."""
    q = request.query_params
    ids = data.parse_run_ids(q.get("runs"))
    max_points = admission.int_param(
        q.get("max_points"),
        "max_points",
        data.compare_points(len(ids)),
        4,
        admission.MAX_POINTS_LIMIT,
    )
    key = q.get("key")
    if not key:
        raise BadRequestError("pass the metric to draw as ?key=<metric key>")
    with database(request).reading() as finder:
        return document(data.compare_series(finder, ids, key, max_points))


# ---- HTML pages (existence checked here so an unknown id is a 404 page) ---------------


@admitted
def index(request: Request) -> Response:
    """The projects."""
    database(request).check()
    return page("index.html", request, title="Projects")


@admitted
def project(request: Request) -> Response:
    """A project's runs."""
    name = request.path_params["name"]
    with database(request).reading() as finder:
        if finder.find_project(name) is None:
            raise NotFoundError(f"no project named {name!r}")
    return page("project.html", request, title=name, project=name, max_compare=data.MAX_COMPARE)


@admitted
def run(request: Request) -> Response:
    """One run."""
    run_id = admission.run_id(request.path_params["run_id"])
    with database(request).reading() as finder:
        found = finder.find_run(run_id, with_metrics=False)
    if found is None:
        raise NotFoundError(f"no run with id {run_id}")
    return page("run.html", request, title=f"Run {run_id}", run=found)


@admitted
def compare(request: Request) -> Response:
    """Runs side by side."""
    ids = data.parse_run_ids(request.query_params.get("runs"))
    with database(request).reading() as finder:
        data.compare(finder, ids)  # raises NotFoundError for an unknown id
    return page("compare.html", request, title="Compare runs", run_ids=ids)


@admitted
def groups_page(request: Request) -> Response:
    """A project's runs in groups."""
    name = request.path_params["name"]
    with database(request).reading() as finder:
        if finder.find_project(name) is None:
            raise NotFoundError(f"no project named {name!r}")
    return page("groups.html", request, title=f"{name} groups", project=name)


def existing_search(request: Request) -> str:
    """The ``search_id`` of the request's path.

    Raises:
        NotFoundError: no run carries its tag.
    """
    search_id: str = request.path_params["search_id"]
    with database(request).reading() as finder:
        if finder.get_search_rows(search_id) is None:
            raise search.no_search(search_id)
    return search_id


@admitted
def search_page(request: Request) -> Response:
    """One hyperparameter search."""
    search_id = existing_search(request)
    return page("search.html", request, title=f"Search {search_id}", search_id=search_id)


@admitted
def analysis_page(request: Request) -> Response:
    """Why a search found what it found: history, parameters, importance, learning curves."""
    search_id = existing_search(request)
    return page("analysis.html", request, title=f"Analysis of {search_id}", search_id=search_id)


# ---- errors -------------------------------------------------------------------------


def error_response(request: Request, status: int, message: str) -> Response:
    """The error as JSON under ``/api/``, else as a page."""
    if request.url.path.startswith("/api/"):
        return JSON({"error": message, "status": status}, status_code=status)
    return page("error.html", request, status=status, title=f"Error {status}", message=message)


def on_dashboard_error(request: Request, exc: Exception) -> Response:
    """A `DashboardError`: its own status and message."""
    assert isinstance(exc, DashboardError)  # noqa: S101 - invariant, narrows the type
    if isinstance(exc, FilterError) and request.url.path.startswith("/api/"):
        body = {"error": str(exc), "status": exc.status, "position": exc.position}
        return JSON(body, status_code=exc.status)
    return error_response(request, exc.status, str(exc))


def on_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such route, method not allowed)."""
    assert isinstance(exc, HTTPException)  # noqa: S101 - invariant, narrows the type
    message = "no such page" if exc.status_code == 404 else str(exc.detail)
    return error_response(request, exc.status_code, f"{message}: {request.url.path}")


def on_unexpected(request: Request, exc: Exception) -> Response:
    """Anything else: logged, and a 500 that names only the kind of error."""
    log.error("error serving %s: %s: %s", request.url.path, type(exc).__name__, exc)
    message = f"the dashboard could not answer this request ({type(exc).__name__})"
    return error_response(request, 500, message)


ROUTES: list[BaseRoute] = [
    Route("/", index, name="index"),
    Route("/projects/{name:path}", project, name="project"),
    Route("/runs/{run_id}", run, name="run"),
    Route("/compare", compare, name="compare"),
    Route("/searches/{search_id:path}/analysis", analysis_page, name="analysis"),
    Route("/groups/{name:path}", groups_page, name="groups"),
    Route("/searches/{search_id:path}", search_page, name="search"),
    Route("/api/projects", api_projects, name="api_projects"),
    Route("/api/projects/{name:path}/runs", api_runs, name="api_runs"),
    Route("/api/projects/{name:path}/table", api_table, name="api_table"),
    Route("/api/projects/{name:path}/groups", api_groups, name="api_groups"),
    Route("/api/projects/{name:path}/group-series", api_group_series, name="api_group_series"),
    Route("/api/runs/{run_id}", api_run, name="api_run"),
    Route("/api/runs/{run_id}/metrics/{key:path}", api_series, name="api_series"),
    Route("/api/runs/{run_id}/artifacts/{name:path}", api_artifact, name="api_artifact"),
    Route("/api/compare", api_compare, name="api_compare"),
    Route("/api/searches/{search_id:path}/analysis/{view}", api_analysis, name="api_analysis"),
    Route("/api/searches/{search_id:path}/workers", api_search_workers, name="api_search_workers"),
    Route("/api/compare/series", api_compare_series, name="api_compare_series"),
    Route("/api/searches/{search_id:path}", api_search, name="api_search"),
    Mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static"),
]
EXCEPTION_HANDLERS = {
    DashboardError: on_dashboard_error,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}


def create_app(
    db_url: str,
    *,
    host: str = "127.0.0.1",
    allow_hosts: Sequence[str] = (),
    artifact_root: str | None = None,
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
        artifact_root: the database's artifact store, whose stored files the run pages offer
            for download (default ``$ATO_ARTIFACT_ROOT``, else ``<file>.artifacts`` next to a
            SQLite file; a server database without one lists artifacts but serves none).

    Raises:
        DatabaseUnavailableError: ``db_url`` is not a usable URL (a database that is missing
            or not a tracker database is reported on every page instead).
    """
    db = ReadOnlyDatabase(db_url, artifact_root=artifact_root)
    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(
                TrustedHostMiddleware,
                allowed_hosts=admission.allowed_hosts(host, allow_hosts),
                www_redirect=False,
            )
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.db = db
    app.state.documents = run_cache.RunDocuments()
    #: Analysis documents per search state (see `ato.dashboard.search_cache`).
    app.state.views = ViewCache()
    return app
