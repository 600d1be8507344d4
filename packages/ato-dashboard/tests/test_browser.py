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
        "/groups/vision": ".chart .u-over",
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
    runs = filled.runs
    trials = sorted(run_id for name, run_id in runs.items() if name.startswith("trial-"))
    p.click("th[data-key='m:loss']")  # metrics sort largest first; runs without one last
    _wait_rows(p, [runs["fast"], runs["slow"], runs["deep"], *trials[::-1]])
    p.click("th[data-key='m:loss']")
    _wait_rows(p, [runs["deep"], runs["slow"], runs["fast"], *trials])
    p.click("th[data-key='p:optim.lr']")  # parameters sort ascending first, ties by id
    lr = {run_id: float(name.split("-")[-1]) for name, run_id in runs.items() if "trial" in name}
    lr.update({runs["fast"]: 0.1, runs["slow"]: 0.001, runs["deep"]: 0.01})
    _wait_rows(p, sorted(lr, key=lambda run_id: (lr[run_id], run_id)))
    lr_cells = p.evaluate(
        """() => {
            const heads = [...document.querySelectorAll('#runs thead th')];
            const at = heads.findIndex(th => th.dataset.key === 'p:optim.lr');
            return [...document.querySelectorAll('#runs tbody tr')].map(r => r.cells[at].textContent);
        }"""
    )
    assert lr_cells == sorted(lr_cells, key=float)
    p.select_option("#f-status", "failed")
    _wait_rows(p, [filled.runs["slow"]])
    p.select_option("#f-status", "")
    _filter(p, "params.model.depth = 8")
    _wait_rows(p, [filled.runs["deep"]])
    _filter(p, "tag = 'ablation'")
    _wait_rows(p, [filled.runs["slow"], filled.runs["deep"]])  # still sorted by optim.lr
    _filter(p, f"tags.search = '{kit.search_id}'")
    p.wait_for_function("() => document.querySelectorAll('#runs tbody tr').length === 7")
    _clean(page)


def _filter(p: Any, text: str) -> None:
    p.fill("#f-filter", text)
    p.press("#f-filter", "Enter")


def _wait_rows(p: Any, ids: list[int]) -> None:
    p.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('#runs tbody tr')]"
        ".map(r => Number(r.dataset.runId))) === JSON.stringify(ids)",
        arg=ids,
        timeout=TIMEOUT_MS,
    )


def test_a_bad_filter_shows_its_position_and_the_view_is_in_the_url(served: Any, page: Any):
    filled, server = served
    p = page.goto(f"{server.base}/projects/vision")
    p.wait_for_selector("#runs tbody tr", timeout=TIMEOUT_MS)
    _filter(p, "params.optim.lr <")
    p.wait_for_selector("#filter-error:not([hidden])", timeout=TIMEOUT_MS)
    message = p.inner_text("#filter-error")
    assert "position 17: expected a value" in message and message.rstrip().endswith("^")
    _filter(p, "params.optim.lr <= 0.01 and metrics.accuracy > 0")
    _wait_rows(p, [filled.runs["deep"], filled.runs["slow"]])
    p.click("th[data-key='m:accuracy']")  # metrics sort largest first
    _wait_rows(p, [filled.runs["deep"], filled.runs["slow"]])
    p.click("th[data-key='m:accuracy']")
    _wait_rows(p, [filled.runs["slow"], filled.runs["deep"]])
    assert "sort=metrics.accuracy" in p.url and "desc=0" in p.url and "filter=" in p.url
    shared = p.url
    again = page.goto(shared)  # the same view from the link alone
    _wait_rows(again, [filled.runs["slow"], filled.runs["deep"]])
    assert again.input_value("#f-filter") == "params.optim.lr <= 0.01 and metrics.accuracy > 0"
    assert [e for e in page.errors if "400" not in e] == []  # the bad filter's 400, logged
    page.errors.clear()
    _clean(page)


def test_many_runs_compare_legend_filters_and_highlights(served: Any, page: Any):
    filled, server = served
    ids = sorted(filled.runs.values())
    p = page.goto(f"{server.base}/compare?runs={','.join(map(str, ids))}")
    curves = _series(p, "loss")
    assert [c["label"] for c in curves] == [f"run {i}" for i in ids]
    assert curves[ids.index(filled.runs["deep"])]["y"] == [v for _, v in filled.loss["deep"]]
    assert p.eval_on_selector_all(".legend-item", "items => items.length") == 11
    p.fill("#legend-search", "ablation")
    shown = p.eval_on_selector_all(
        ".legend-item:not([hidden])", "items => items.map(i => Number(i.dataset.runId))"
    )
    assert shown == sorted([filled.runs["slow"], filled.runs["deep"]])
    visible = p.evaluate("() => window.__atoCharts.loss.plot.series.slice(1).map(s => s.show)")
    assert visible == [i in shown for i in ids]
    p.hover(f".legend-item[data-run-id='{filled.runs['deep']}']")
    focused = p.evaluate(
        "() => window.__atoCharts.loss.plot.series.slice(1).map(s => s.alpha ?? 1)"
    )
    at = ids.index(filled.runs["deep"])
    assert focused[at] == 1 and all(a < 1 for i, a in enumerate(focused) if i != at and visible[i])
    _clean(page)


def test_groups_page_draws_mean_and_band_per_group(served: Any, page: Any):
    filled, server = served
    query = "filter=tag%20in%20('ablation'%2C%20'baseline')&by=model.depth&metric=loss"
    p = page.goto(f"{server.base}/groups/vision?{query}")
    p.wait_for_function("() => window.__atoCharts && window.__atoCharts.groups", timeout=TIMEOUT_MS)
    groups = p.evaluate("() => window.__atoCharts.groups.series")
    assert [(g["label"], g["count"]) for g in groups] == [
        ("model.depth=2", 2),
        ("model.depth=8", 1),
    ]
    two = groups[0]
    fast, slow = filled.loss["fast"], filled.loss["slow"]
    assert two["x"] == list(range(30))
    for step in range(30):
        assert two["mean"][step] == pytest.approx((fast[step][1] + slow[step][1]) / 2, rel=1e-15)
        assert two["high"][step] - two["mean"][step] == pytest.approx(
            abs(fast[step][1] - slow[step][1]) / 2**0.5, rel=1e-12
        )
    p.select_option("#spread", "minmax")
    p.wait_for_function(
        "() => window.__atoCharts.groups.series[0].high[0] === 1", timeout=TIMEOUT_MS
    )
    assert "spread=minmax" in p.url
    assert p.inner_text("tr.group-row[data-group='0'] td:nth-child(2)") == "2"
    p.click("tr.group-row[data-group='0']")
    members = p.eval_on_selector_all(
        "tr.member-row[data-run-id]", "rows => rows.map(r => Number(r.dataset.runId))"
    )
    assert members == [filled.runs["fast"], filled.runs["slow"]]
    _clean(page)


def test_run_page_values_smoothing_and_system_metrics(served: Any, page: Any, make_logger: Any):
    filled, server = served
    logger = make_logger(filled.url, "vision")
    run_id = logger.run()
    for step, value in enumerate([1.0, 0.0, 1.0, 0.0]):
        logger.log_metric("noisy", value, step)
    for step in range(3):
        logger.log_metric("system/cpu_percent", 10.0 * step, step)
    logger.log_metric("test_acc", 0.875, 9)
    logger.finish()
    p = page.goto(f"{server.base}/runs/{run_id}")
    p.wait_for_selector(".value-card[data-key='test_acc']", timeout=TIMEOUT_MS)
    assert p.inner_text(".value-card[data-key='test_acc'] b") == "0.875"
    assert p.query_selector(".chart[data-chart='test_acc']") is None
    (cpu,) = _series(p, "system/cpu_percent")
    assert p.query_selector("#system-charts .chart[data-chart='system/cpu_percent']")
    assert cpu["y"] == [0.0, 10.0, 20.0] and cpu["x"][0] > 1.7e9  # epoch seconds: wall time
    p.eval_on_selector(
        "#smoothing", "el => { el.value = '0.5'; el.dispatchEvent(new Event('input')); }"
    )
    p.wait_for_function("() => window.__atoCharts.noisy.series.length === 2", timeout=TIMEOUT_MS)
    raw, smooth = _series(p, "noisy")
    assert raw["y"] == [1.0, 0.0, 1.0, 0.0]
    # debiased EMA, w = 0.5: 1, 1/3, 5/7, 1/3
    assert smooth["y"] == pytest.approx([1.0, 1 / 3, 5 / 7, 1 / 3], rel=1e-15)
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
    asked: list[str] = []
    page.page.on("request", lambda r: asked.append(r.url) if "/metrics/" in r.url else None)
    p = page.goto(f"{server.base}/runs/{run_id}")
    assert len(_series(p, "loss")[0]["x"]) == 3
    assert p.is_visible("#live")
    logger.log_metric("loss", 0.125, 3)
    logger.log_metric("loss", 0.1, 4)
    logger.flush()
    p.wait_for_function(
        "() => window.__atoCharts.loss.series[0].x.length === 5", timeout=TIMEOUT_MS
    )
    line = _series(p, "loss")[0]
    assert line["x"] == [0, 1, 2, 3, 4] and line["y"] == [1.0, 0.5, 1 / 3, 0.125, 0.1]
    # the poll asked only for the steps after the last one the page held
    assert [url.rsplit("/", 1)[1] for url in asked] == ["loss", "loss?since_step=2"]
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
    for key in keys:  # two values each: a key logged once is a value card, not a chart
        logger.log_metric(key, 1.0, 0)
        logger.log_metric(key, 1.0, 1)
    logger.flush()
    fetched: list[str] = []
    page.page.on(
        "request",
        lambda r: (
            fetched.append(r.url.rsplit("/", 1)[1].split("?")[0]) if "/metrics/" in r.url else None
        ),
    )
    p = page.goto(f"{server.base}/runs/{run_id}")
    _series(p, "k00")
    first = sorted(set(fetched))
    assert first == keys[: len(first)] and 1 <= len(first) < 10  # the charts on screen
    p.wait_for_timeout(4500)  # two polls: nothing new was logged
    assert sorted(set(fetched)) == first and len(fetched) == len(first)
    logger.log_metric("k01", 0.5, 2)
    logger.flush()
    p.wait_for_function("() => window.__atoCharts.k01.series[0].x.length === 3", timeout=TIMEOUT_MS)
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
