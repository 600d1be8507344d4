"""Screenshots of every dashboard page, taken with Playwright driving Debian's Chromium.

    python examples/dashboard/screenshots.py experiments.db docs/images

Serves the dashboard over the given database on a free local port, opens the projects page,
the first project's runs (also filtered and sorted by the query language), the best run of its
newest search, a comparison of that search's twenty best evaluations, its evaluations grouped
by budget (the learning curves' mean and spread per budget), the search page and its analysis
page, and writes ``dashboard-<page>.png`` files, plus one ``dashboard-analysis-<view>.png`` per
analysis view, and ``dashboard-analysis-front.png``: the Pareto-front view of the newest search
of project ``digits-pareto`` (``examples/digits/pareto.py``, two objectives).
Run by ``nox -s screenshots`` on the demo's database.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn
from playwright.sync_api import sync_playwright

from ato.dashboard import create_app

CHROMIUM = "/usr/bin/chromium"
LONG_PAGES = {"runs", "runs-filtered", "search", "groups", "analysis"}  # one screen shows them
#: The analysis page's views: file name -> the section holding it.
ANALYSIS_VIEWS = {
    "history": "#history-section",
    "parallel": "#parallel-section",
    "importance": "#importance-section",
    "slice-contour": "#slice-section",
    "curves": "#curves-section",
}
FRONT_PROJECT = "digits-pareto"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serve(db: str) -> tuple[uvicorn.Server, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(db), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def pages(base: str) -> dict[str, str]:
    projects = httpx.get(f"{base}/api/projects").json()["projects"]
    name = projects[0]["name"]
    runs = httpx.get(f"{base}/api/projects/{name}/runs").json()["runs"]  # columns
    search_id = next(search for search in reversed(runs["search_id"]) if search)
    search = httpx.get(f"{base}/api/searches/{search_id}").json()
    finalists = sorted(
        (t for r in search["rounds"] for t in r["trials"] if t["metric"] is not None),
        key=lambda t: t["metric"],
        reverse=search["mode"] == "max",
    )
    compare = ",".join(str(t["run_id"]) for t in finalists[:20])
    metric = search["metric"]
    filtered = quote(f"metrics.{metric} > 0.9 and params.model.hidden >= 32", safe="")
    return {
        "projects": "/",
        "runs": f"/projects/{name}",
        "run": f"/runs/{search['best']['run_id']}",
        "runs-filtered": f"/projects/{name}?filter={filtered}&sort=metrics.{metric}",
        "compare": f"/compare?runs={compare}",
        "groups": f"/groups/{name}?by=__budget__&metric=val_accuracy",
        "search": f"/searches/{search_id}",
        "analysis": f"/searches/{search_id}/analysis",
    }


def shoot_views(page: Any, out: Path) -> None:
    """One PNG per section of the analysis page, once every view has drawn."""
    page.wait_for_function(
        "() => window.__atoAnalysis && window.__atoAnalysis.ready && window.__atoAnalysis.drawnImportance"
    )
    for view, selector in ANALYSIS_VIEWS.items():
        target = out / f"dashboard-analysis-{view}.png"
        page.locator(selector).screenshot(path=str(target))
        print(f"wrote {target} ({selector})")


def shoot_front(page: Any, base: str, out: Path) -> None:
    """The Pareto-front section of the newest search with two objectives (``pareto.py``)."""
    response = httpx.get(f"{base}/api/projects/{FRONT_PROJECT}/runs")
    if response.status_code == 404:
        sys.exit(f"no project {FRONT_PROJECT}: run examples/digits/pareto.py on this database")
    search_id = next(s for s in reversed(response.json()["runs"]["search_id"]) if s)
    page.goto(f"{base}/searches/{quote(search_id, safe='')}/analysis", wait_until="networkidle")
    page.wait_for_function("() => window.__atoAnalysis && window.__atoAnalysis.drawnFront")
    target = out / "dashboard-analysis-front.png"
    page.locator("#front-section").screenshot(path=str(target))
    print(f"wrote {target} (#front-section of search {search_id})")


def main(db: str, out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    server, base = serve(db)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        for name, path in pages(base).items():
            page.goto(base + path, wait_until="networkidle")
            page.wait_for_timeout(300)
            target = out / f"dashboard-{name}.png"
            page.screenshot(path=str(target), full_page=name not in LONG_PAGES)
            print(f"wrote {target} ({path})")
            if name == "analysis":
                shoot_views(page, out)
        shoot_front(page, base, out)
        browser.close()
    server.should_exit = True
    if errors:
        sys.exit(f"console errors: {errors}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
