"""The pages in a real browser (Playwright driving Debian's chromium), on every backend."""

from __future__ import annotations

from typing import Any

import pytest

# Selected by nox (``-m browser`` / ``-m "not browser"``): the browser runs on one Python only.
pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000


def _series(page: Any, chart: str) -> Any:
    page.wait_for_function(
        f"() => window.__atoCharts && window.__atoCharts[{chart!r}]", timeout=TIMEOUT_MS
    )
    return page.evaluate(
        f"() => window.__atoCharts[{chart!r}].series.map(s => ({{label: s.label, x: s.x, y: s.y}}))"
    )


def _clean(page: Any) -> None:
    assert page.errors == [], page.errors
    assert page.outside == [], f"requests left the machine: {page.outside}"


def test_every_page_renders_without_console_errors(served: Any, page: Any, kit: Any):
    filled, server = served
    runs = filled.runs
    checks = {
        "/": "#projects-table tbody tr",
        "/projects/vision": "#runs tbody tr",
        f"/runs/{runs['fast']}": ".chart .u-over",
        f"/compare?runs={runs['fast']},{runs['deep']}": ".chart .u-over",
        f"/searches/{kit.search_id}": "#rounds-chart circle",
    }
    for path, selector in checks.items():
        p = page.goto(server.base + path)
        p.wait_for_selector(selector, timeout=TIMEOUT_MS)
        assert "error-message" not in p.content(), path
    _clean(page)


def test_error_pages_in_the_browser(served: Any, page: Any):
    _, server = served
    p = page.goto(server.base + "/runs/987654")
    assert "no run with id 987654" in p.inner_text(".error-message")


def test_chart_points_equal_the_database(served: Any, page: Any):
    filled, server = served
    page.goto(f"{server.base}/runs/{filled.runs['deep']}")
    (loss,) = _series(page.page, "loss")
    assert loss["x"] == [step for step, _ in filled.loss["deep"]]
    assert loss["y"] == [value for _, value in filled.loss["deep"]]
    page.page.check("#log-y")  # the toggle redraws with the same data on a log scale
    (again,) = _series(page.page, "loss")
    assert again["y"] == loss["y"]
    assert page.page.evaluate("() => window.__atoCharts.loss.plot.scales.y.distr") == 3
    page.page.select_option("#x-axis", "time")
    (timed,) = _series(page.page, "loss")
    assert timed["x"][0] == 0 and timed["x"] == sorted(timed["x"])
    facts = page.page.inner_text("#provenance dl")  # how the run was launched
    assert "command" in facts and "directory" in facts and "python" in facts
    _clean(page)


def _row_ids(p: Any) -> list[int]:
    return [
        int(x)
        for x in p.eval_on_selector_all("#runs tbody tr", "rows => rows.map(r => r.dataset.runId)")
    ]


def test_sort_and_filter_the_runs_table(served: Any, page: Any, kit: Any):
    filled, server = served
    p = page.goto(f"{server.base}/projects/vision")
    p.wait_for_selector("#runs tbody tr", timeout=TIMEOUT_MS)
    assert len(_row_ids(p)) == 10
    p.click("th[data-key='m:loss']")
    first = _row_ids(p)
    p.click("th[data-key='m:loss']")
    second = _row_ids(p)
    last_loss = {name: filled.loss[name][-1][1] for name in ("fast", "slow", "deep")}
    ranked = sorted(("fast", "slow", "deep"), key=lambda n: last_loss[n])
    ours = [filled.runs[n] for n in ranked]
    # runs without the metric always sort last; among ours the order flips with each click
    assert [i for i in second if i in ours] == list(reversed([i for i in first if i in ours]))
    assert {tuple(ours), tuple(reversed(ours))} == {
        tuple(i for i in first if i in ours),
        tuple(i for i in second if i in ours),
    }
    assert first[: len(ours)] == [i for i in first if i in ours]
    p.click("th[data-key='p:optim.lr']")  # parameters sort ascending first
    by_lr = [filled.runs[n] for n in ("slow", "deep", "fast")]  # lr 0.001, 0.01, 0.1
    rows = _row_ids(p)
    assert len(rows) == 10 and [i for i in rows if i in by_lr] == by_lr
    lr_cells = p.evaluate(
        """() => {
            const heads = [...document.querySelectorAll('#runs thead th')];
            const at = heads.findIndex(th => th.dataset.key === 'p:optim.lr');
            return [...document.querySelectorAll('#runs tbody tr')].map(r => r.cells[at].textContent);
        }"""
    )
    assert lr_cells == sorted(lr_cells, key=float)
    p.select_option("#f-status", "failed")
    assert _row_ids(p) == [filled.runs["slow"]]
    p.select_option("#f-status", "")
    p.fill("#f-text", "model.depth=8")
    assert _row_ids(p) == [filled.runs["deep"]]
    lr = p.evaluate(
        "async () => (await (await fetch('/api/projects/vision/runs')).json()).params['optim.lr']"
    )
    ids = p.evaluate(
        "async () => (await (await fetch('/api/projects/vision/runs')).json()).runs.id"
    )
    with_lr = sorted(i for i, v in zip(ids, lr, strict=True) if v == 0.001)
    assert filled.runs["slow"] in with_lr
    for written in ("optim.lr=1e-3", "OPTIM.LR=0.001", "optim.lr=1e-03"):  # a number, any form
        p.fill("#f-text", written)
        assert sorted(_row_ids(p)) == with_lr, written
    p.fill("#f-text", "")
    p.select_option("#f-tag", "ablation")
    assert sorted(_row_ids(p)) == sorted([filled.runs["slow"], filled.runs["deep"]])
    p.select_option("#f-tag", "")
    p.select_option("#f-search", kit.search_id)
    assert len(_row_ids(p)) == 7
    _clean(page)


def test_select_two_runs_opens_the_comparison(served: Any, page: Any):
    filled, server = served
    p = page.goto(f"{server.base}/projects/vision")
    p.wait_for_selector("#runs tbody tr", timeout=TIMEOUT_MS)
    assert p.is_disabled("#compare")
    fast, deep = filled.runs["fast"], filled.runs["deep"]
    p.check(f"input.pick-run[data-run-id='{fast}']")
    p.check(f"input.pick-run[data-run-id='{deep}']")
    with p.expect_navigation():
        p.click("#compare")
    assert p.url.endswith(f"/compare?runs={min(fast, deep)},{max(fast, deep)}")
    curves = _series(p, "loss")
    assert [c["label"] for c in curves] == [f"run {min(fast, deep)}", f"run {max(fast, deep)}"]
    p.wait_for_selector("#diff tbody tr", timeout=TIMEOUT_MS)
    keys = p.eval_on_selector_all(
        "#diff tbody tr td:first-child", "cells => cells.map(c => c.textContent)"
    )
    assert keys == ["model.depth", "optim.lr"]
    _clean(page)


def test_a_running_run_gains_a_point_without_reload(served: Any, page: Any, make_logger: Any):
    filled, server = served
    logger = make_logger(filled.url, "vision")
    run_id = logger.run(tags=["live"])
    for step in range(3):
        logger.log_metric("loss", 1.0 / (step + 1), step)
    logger.flush()
    p = page.goto(f"{server.base}/runs/{run_id}")
    assert len(_series(p, "loss")[0]["x"]) == 3
    assert p.is_visible("#live")
    logger.log_metric("loss", 0.125, 3)
    logger.flush()
    p.wait_for_function(
        "() => window.__atoCharts.loss.series[0].x.length === 4", timeout=TIMEOUT_MS
    )
    assert _series(p, "loss")[0]["y"][-1] == 0.125
    logger.finish()
    p.wait_for_selector("#live", state="hidden", timeout=TIMEOUT_MS)
    _clean(page)


def test_a_run_page_fetches_only_the_series_on_screen_and_only_when_they_grew(
    served: Any, page: Any, make_logger: Any
):
    filled, server = served
    logger = make_logger(filled.url, "vision")
    run_id = logger.run(tags=["many-keys"])
    keys = [f"k{i:02d}" for i in range(40)]
    for key in keys:
        logger.log_metric(key, 1.0, 0)
    logger.flush()
    fetched: list[str] = []
    page.page.on(
        "request",
        lambda r: fetched.append(r.url.rsplit("/", 1)[1]) if "/metrics/" in r.url else None,
    )
    p = page.goto(f"{server.base}/runs/{run_id}")
    _series(p, "k00")
    first = sorted(set(fetched))
    assert first == keys[: len(first)] and 1 <= len(first) < 10  # the charts on screen
    p.wait_for_timeout(4500)  # two polls: nothing new was logged
    assert sorted(set(fetched)) == first and len(fetched) == len(first)
    logger.log_metric("k01", 0.5, 1)
    logger.flush()
    p.wait_for_function("() => window.__atoCharts.k01.series[0].x.length === 2", timeout=TIMEOUT_MS)
    assert fetched.count("k01") == 2 and fetched.count("k00") == 1  # only the grown series
    p.evaluate("() => document.querySelector('[data-key=\"k39\"]').scrollIntoView()")
    _series(p, "k39")
    assert "k39" in fetched and "k20" not in fetched  # scrolled past, never on screen
    logger.finish()
    _clean(page)


def test_xss_canaries_stay_inert(served: Any, page: Any, kit: Any):
    filled, server = served
    xss_run = filled.runs["xss"]
    from urllib.parse import quote

    paths = [
        "/",
        f"/projects/{quote(kit.xss_script, safe='')}",
        f"/runs/{xss_run}",
        f"/compare?runs={xss_run},{filled.runs['fast']}",
    ]
    for path in paths:
        p = page.goto(server.base + path)
        p.wait_for_timeout(300)
        assert p.evaluate("() => window.__xss") is None, path
        assert p.locator("img[src=x]").count() == 0 and p.locator("main script").count() == 0
    p = page.goto(f"{server.base}/runs/{xss_run}")
    p.wait_for_selector("#artifacts code", timeout=TIMEOUT_MS)
    assert kit.xss_img in p.inner_text("#artifacts")  # shown as text
    assert kit.xss_script in p.inner_text("#facts")
    assert kit.xss_img in p.inner_text("#config")
    assert p.evaluate("() => window.__xss") is None
    _clean(page)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_empty_database_page_says_so(db_url: str, page: Any, kit: Any):
    from sqlalchemy import create_engine

    from ato.tracker.storage.models import Base

    engine = create_engine(db_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    server = kit.start_server(db_url)
    try:
        p = page.goto(server.base + "/")
        p.wait_for_selector(".empty", timeout=TIMEOUT_MS)
        assert "no projects yet" in p.inner_text(".empty")
    finally:
        server.server.should_exit = True
    _clean(page)


def test_search_page_names_the_answer_of_a_multi_bracket_hyperband(
    db_url: str, page: Any, kit: Any
):
    ids = kit.fill_search(db_url, kit.hyperband)
    answer = ids[kit.hyperband_answer]
    highest_rung = ids[(8, 0, 3)]  # the old "best trial": highest rung index, not the best
    server = kit.start_server(db_url)
    try:
        p = page.goto(f"{server.base}/searches/hb")
        p.wait_for_selector("#rounds-chart circle.best", timeout=TIMEOUT_MS)
        headline = p.inner_text("#best h2")
        assert headline.startswith(f"Answer: #{answer} search/val/acc = 0.98")
        assert "budget 27" in headline and "bracket 2" in headline
        assert f"#{highest_rung} " not in headline
        marked = p.eval_on_selector_all("circle.best", "cs => cs.map(c => Number(c.dataset.runId))")
        assert set(marked) == {answer}
        assert p.inner_text("#trials tr.best-row td:first-child") == f"#{answer}"
        rungs = p.eval_on_selector_all(
            "#rungs tbody tr", "rs => rs.map(r => r.cells[2].textContent)"
        )
        assert len(rungs) == 10  # one row per (bracket, budget)
        legend = p.inner_text("#budget-legend .legend")
        assert all(b in legend for b in ("1", "3", "9", "27"))
        p.select_option("#budget", "27")
        p.wait_for_function("() => !document.querySelector('#budget-legend .legend')")
        dots = p.eval_on_selector_all(
            "#param-charts figure:first-of-type circle",
            "cs => cs.map(c => Number(c.dataset.runId))",
        )
        at_27 = {ids[k] for k in ids if k in {(8, 0, 3), (11, 1, 2), (12, 2, 1), (14, 3, 0)}}
        assert set(dots) == at_27  # completed evaluations at budget 27 only
        p.select_option("#metric", "val/acc")  # the user's own curve: 0.999 in every trial
        p.wait_for_function(
            "() => document.querySelector('#best h2').textContent.includes(' val/acc = ')"
        )
        assert p.input_value("#metric") == "val/acc"
        assert p.inner_text("#best h2").startswith(f"Answer: #{ids[(8, 0, 3)]} val/acc = 0.999")
        _clean(page)
    finally:
        server.server.should_exit = True
