"""Fixtures: databases on every backend filled with known runs, a live dashboard server and a
Chromium browser driven by Playwright.

The database URLs (``db_url`` on SQLite, PostgreSQL and MariaDB, ``sqlite_url``) come from the
plugin `ato.tracker.testing`: server URLs from ``ATO_TEST_POSTGRES_URL`` /
``ATO_TEST_MYSQL_URL``; without them the server variants skip, unless ``ATO_REQUIRE_SERVICES=1``
turns the skip into a failure. The browser is Debian's chromium at ``/usr/bin/chromium``
(``.ci/run`` installs it); Playwright never downloads one.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import playwright.sync_api as playwright_api
import pytest
import uvicorn

from ato.dashboard import create_app
from ato.dashboard.serving import server_config
from ato.tracker import SQLLogger
from ato.tracker.storage.database import dispose_engines

pytest_plugins = ["ato.tracker.testing"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS_SCRIPT = "<script>window.__xss = 1</script>"
XSS_IMG = '<img src=x onerror="window.__xss = 2">'
SEARCH_ID = "s_1%"


def logger(url: str, project: str, **config: Any) -> SQLLogger:
    cfg = {"experiment": {"project_name": project, "sql": {"db_path": url}}, **config}
    return SQLLogger(cfg, flush_interval=0.05)


@dataclass
class Filled:
    """What :func:`fill` wrote: the URL and the ids of its runs by role."""

    url: str
    runs: dict[str, int] = field(default_factory=dict)
    loss: dict[str, list[tuple[int, float]]] = field(default_factory=dict)


def fill(url: str) -> Filled:
    """Two projects with known runs, a three-round search and stored XSS canaries."""
    filled = Filled(url)
    specs = [
        ("fast", {"optim": {"lr": 0.1}, "model": {"depth": 2}}, "completed", ["baseline"]),
        ("slow", {"optim": {"lr": 0.001}, "model": {"depth": 2}}, "failed", ["ablation"]),
        ("deep", {"optim": {"lr": 0.01}, "model": {"depth": 8}}, "completed", ["ablation"]),
    ]
    for index, (name, config, status, tags) in enumerate(specs):
        log = logger(url, "vision", **config)
        filled.runs[name] = log.run(tags=tags)
        points = [(step, 1.0 / (step + 1 + index)) for step in range(30)]
        for step, value in points:
            log.log_metric("loss", value, step)
        log.log_metric("accuracy", 0.5 + 0.1 * index, 29)
        filled.loss[name] = points
        log.finish(status)
    canary = logger(url, XSS_SCRIPT, **{XSS_IMG: XSS_SCRIPT, "note": XSS_IMG})
    filled.runs["xss"] = canary.run(tags=[XSS_SCRIPT, XSS_IMG])
    canary.log_metric(XSS_IMG, 1.0, 0)
    canary.log_artifact(filled.runs["xss"], f"/tmp/{XSS_IMG}.pt", XSS_SCRIPT, {"k": XSS_IMG})
    canary.log_fingerprint(XSS_SCRIPT, XSS_IMG)
    canary.finish()
    _fill_search(url, filled)
    dispose_engines()
    return filled


def _fill_search(url: str, filled: Filled) -> None:
    """Round 0: four trials (lr 0.1, 0.01, 0.001, 0.0001); round 1: the best two; round 2: one."""
    rounds = [[0.1, 0.01, 0.001, 0.0001], [0.01, 0.001], [0.01]]
    score = {0.1: 0.6, 0.01: 0.9, 0.001: 0.8, 0.0001: 0.3}
    for round_index, lrs in enumerate(rounds):
        for lr in lrs:
            log = logger(url, "vision", optim={"lr": lr}, __num_halved__=round_index)
            run_id = log.run(tags=[f"search:{SEARCH_ID}", f"round:{round_index}"])
            for epoch in range(3):
                log.log_metric("train_loss", 1.0 / (epoch + 1), epoch)
            log.log_metric("val_acc", score[lr] + 0.01 * round_index, round_index)
            log.finish()
            filled.runs[f"trial-{round_index}-{lr}"] = run_id


# A Hyperband search (R=27, eta=3) as ato-hyperopt records it (the search-run contract):
# (trial, bracket, rung, budget, value under search/val/acc or None, status). The highest rung
# index (bracket 0, rung 3) is not the best, budget 9 holds the highest completed value, a failed
# evaluation at budget 27 logged more: the answer is trial 12 (bracket 2, rung 1, budget 27).
HYPERBAND = [
    *((t, 0, 0, 1, 0.50 + 0.01 * t, "completed") for t in range(9)),
    (6, 0, 1, 3, 0.80, "completed"),
    (7, 0, 1, 3, 0.81, "completed"),
    (8, 0, 1, 3, 0.82, "completed"),
    (8, 0, 2, 9, 0.995, "completed"),
    (8, 0, 3, 27, 0.95, "completed"),
    *((t, 1, 0, 3, 0.70 + 0.01 * t, "completed") for t in range(9, 12)),
    (11, 1, 1, 9, 0.90, "completed"),
    (11, 1, 2, 27, 0.96, "completed"),
    (12, 2, 0, 9, 0.93, "completed"),
    (13, 2, 0, 9, 0.92, "completed"),
    (12, 2, 1, 27, 0.98, "completed"),
    (13, 2, 1, 27, 0.999, "failed"),
    (14, 3, 0, 27, 0.97, "completed"),
]
HYPERBAND_ANSWER = (12, 2, 1)


def fill_search(
    url: str, layout: list[tuple[Any, ...]], search: str = "hb", mode: str = "max"
) -> dict[tuple[int, int, int], int]:
    """Write ``layout`` as contract runs of ``search``; ``{(trial, bracket, rung): run_id}``.
    Each trial also logs the user's ``val/acc`` per epoch (which the answer must ignore)."""
    ids = {}
    for trial, bracket, rung, budget, value, status in layout:
        log = logger(
            url, "digits", optim={"lr": 0.001 * (trial + 1)}, model={"hidden": 16 * (1 + trial % 3)}
        )
        tags = [f"search:{search}", f"round:{rung}", f"trial_id:{trial}", f"rung:{rung}"]
        tags += [f"budget:{budget}", f"bracket:{bracket}", f"mode:{mode}", "metric_key:val/acc"]
        run_id = log.run(tags=tags)
        for epoch in range(budget):
            log.log_metric("val/acc", 0.999 if mode == "max" else 0.0, epoch)
        if value is not None:
            log.log_metric("search/val/acc", value, rung)
        log.finish(status)
        ids[(trial, bracket, rung)] = run_id
    dispose_engines()
    return ids


@pytest.fixture
def filled(db_url: str) -> Filled:
    return fill(db_url)


@dataclass
class Server:
    base: str
    server: uvicorn.Server


def start_server(url: str) -> Server:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(server_config(create_app(url), "127.0.0.1", port))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.02)
    return Server(f"http://127.0.0.1:{port}", server)


@pytest.fixture
def served(filled: Filled) -> Iterator[tuple[Filled, Server]]:
    server = start_server(filled.url)
    yield filled, server
    server.server.should_exit = True
    time.sleep(0.1)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Page:
    """A browser page that records console errors, page errors and requests leaving 127.0.0.1."""

    page: Any
    errors: list[str]
    outside: list[str]

    def goto(self, url: str) -> Any:
        self.page.goto(url, wait_until="networkidle")
        return self.page


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    raw = context.new_page()
    recorded = Page(raw, [], [])
    raw.on("console", lambda m: recorded.errors.append(m.text) if m.type == "error" else None)
    raw.on("pageerror", lambda e: recorded.errors.append(str(e)))

    def check(request: Any) -> None:
        if not request.url.startswith(("http://127.0.0.1", "data:")):
            recorded.outside.append(request.url)

    raw.on("request", check)
    yield recorded
    context.close()


@pytest.fixture
def make_logger() -> Callable[..., SQLLogger]:
    return logger


@dataclass(frozen=True)
class Kit:
    """Constants and helpers the test modules share (importlib mode cannot import conftest)."""

    search_id: str = SEARCH_ID
    xss_script: str = XSS_SCRIPT
    xss_img: str = XSS_IMG
    fill: ClassVar[Callable[[str], Filled]] = staticmethod(fill)  # type: ignore[assignment]
    fill_search: ClassVar[Callable[..., dict[tuple[int, int, int], int]]] = staticmethod(
        fill_search
    )  # type: ignore[assignment]
    hyperband: ClassVar[list[tuple[Any, ...]]] = HYPERBAND
    hyperband_answer: ClassVar[tuple[int, int, int]] = HYPERBAND_ANSWER
    start_server: ClassVar[Callable[[str], Server]] = staticmethod(start_server)  # type: ignore[assignment]


@pytest.fixture(scope="session")
def kit() -> Kit:
    return Kit()


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``browser`` marker (the tests that drive chromium)."""
    config.addinivalue_line("markers", "browser: drives a real browser (Debian's chromium)")
