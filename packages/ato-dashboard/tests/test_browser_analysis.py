"""The search analysis page in a real browser (Playwright driving Debian's chromium), on every
backend: what it draws is what the database holds."""

from __future__ import annotations

from typing import Any

import pytest

from ato.dashboard import importance

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000  # the page waits for every view, importance included


def _run_ids(p: Any, selector: str) -> list[int]:
    return p.eval_on_selector_all(selector, "es => es.map(e => Number(e.dataset.runId))")


def test_analysis_page_draws_the_database(db_url: str, page: Any, kit: Any):
    ids = kit.fill_search(db_url, kit.hyperband)
    importance._cache.clear()
    answer = ids[kit.hyperband_answer]
    layout = {ids[(t, b, r)]: (t, budget, v, s) for t, b, r, budget, v, s in kit.hyperband}
    server = kit.start_server(db_url)
    try:
        p = page.goto(f"{server.base}/searches/hb")
        p.click("#analysis-link")
        p.wait_for_function(
            "() => window.__atoAnalysis && window.__atoAnalysis.ready", timeout=TIMEOUT_MS
        )
        p.wait_for_function(
            "() => window.__atoAnalysis.drawnImportance === 'ped-anova@1'", timeout=TIMEOUT_MS
        )
        completed = sorted(i for i, (_, _, _, s) in layout.items() if s == "completed")
        assert sorted(_run_ids(p, "#history-number circle")) == completed
        assert sorted(_run_ids(p, "#history-budget circle")) == completed

        at_1 = sorted(i for i, (_, budget, _, _) in layout.items() if budget == 1)
        assert p.input_value("#budget") == "1"  # the budget with the most completed evaluations
        assert sorted(_run_ids(p, "#parallel path.pc-line")) == at_1
        assert p.inner_text("#parallel-count") == "9 of 9 evaluations at budget 1 selected"
        # Brush the top of the model.hidden axis: hidden = 16 * (1 + trial % 3), 48 at the top.
        box = p.locator("#parallel rect.axis-hit[data-axis='model.hidden']").bounding_box()
        x = box["x"] + box["width"] / 2
        p.mouse.move(x, box["y"] + 1)
        p.mouse.down()
        p.mouse.move(x, box["y"] + box["height"] * 0.2, steps=5)
        p.mouse.up()
        top = sorted(i for i in at_1 if layout[i][0] % 3 == 2)
        assert sorted(p.evaluate("() => window.__atoAnalysis.parallelSelected")) == top
        assert sorted(_run_ids(p, "#parallel path.pc-line:not(.off)")) == top
        assert (
            p.inner_text("#parallel-count") == f"{len(top)} of 9 evaluations at budget 1 selected"
        )
        p.mouse.click(x, box["y"] + box["height"] * 0.6)  # a click clears the axis
        assert sorted(_run_ids(p, "#parallel path.pc-line:not(.off)")) == at_1

        assert "PED-ANOVA" in p.inner_text("#importance-method")
        assert "on 9 completed evaluations at budget 1" in p.inner_text("#importance-method")
        bars = p.eval_on_selector_all("#importance rect.bar", "rs => rs.map(r => r.dataset.param)")
        assert sorted(bars) == ["model.hidden", "optim.lr"]
        p.select_option("#method", "fanova")
        p.wait_for_function("() => window.__atoAnalysis.drawnImportance === 'fanova@1'")
        assert p.inner_text("#importance-method").startswith("fANOVA (Hutter")

        p.select_option("#budget", "27")
        p.wait_for_function("() => window.__atoAnalysis.drawnBudget === 27")
        at_27 = sorted(i for i, (_, b, _, s) in layout.items() if b == 27 and s == "completed")
        assert sorted(_run_ids(p, "#parallel path.pc-line")) == at_27
        assert _run_ids(p, "#parallel path.pc-line.answer") == [answer]
        assert sorted(_run_ids(p, "#slice circle")) == at_27
        assert _run_ids(p, "#slice circle.best") == [answer]
        assert sorted(_run_ids(p, "#contour circle")) == at_27
        assert p.eval_on_selector_all("#contour rect.cell", "rs => rs.length") == 24 * 24

        outcomes = p.eval_on_selector_all(
            "#curves path.curve", "ps => ps.map(e => [Number(e.dataset.runId), e.dataset.outcome])"
        )
        assert sorted(i for i, _ in outcomes) == sorted(layout)
        assert sum(o == "promoted" for _, o in outcomes) == 9
        assert [i for i, o in outcomes if o == "failed"] == [ids[(13, 2, 1)]]
        assert _run_ids(p, "#curves path.curve.answer") == [answer]
        p.select_option("#metric", "val/acc")  # the user's own key: 0.999 in every evaluation
        p.wait_for_function("() => window.__atoAnalysis.history.metric === 'val/acc'")
        assert p.evaluate("() => window.__atoAnalysis.history.answer.run_id") == ids[(8, 0, 3)]
        assert p.input_value("#mode") == "max"
        assert page.errors == [], page.errors
        assert page.outside == [], page.outside
    finally:
        server.server.should_exit = True
