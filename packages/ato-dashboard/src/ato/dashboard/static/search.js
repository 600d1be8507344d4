/* Page "/searches/{id}": the search's answer (the best completed evaluation at the largest
   budget reached, as `ato runs best --search` names it), its brackets and budgets, trials per
   rung (budget on x, metric on y, one colour per bracket, a line from a trial to its next rung
   when it survived), each searched parameter against the metric (one colour per budget, or one
   budget), the answer highlighted. Data: /api/searches/{id}?metric=&mode=. Charts are SVG. */
"use strict";
(async () => {
  const { app, el, clear, getJSON, showError, fmtNum, fmtValue, statusBadge, runLink, table, poll, PALETTE } = ato;
  const searchId = app.dataset.searchId;
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const W = 640, H = 300, M = { l: 64, r: 16, t: 12, b: 44 };

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function ticks(lo, hi, log, integers) {
    if (log) {
      const out = [];
      const steps = hi / lo > 1000 ? [1] : [1, 2, 5];  // few decades: 1-2-5 ticks in each
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
        for (const m of steps) out.push(Number((m * 10 ** e).toPrecision(12)));
      }
      return out.filter((v) => v >= lo / 1.0001 && v <= hi * 1.0001);
    }
    const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
    let nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= 6) || step * 10;
    if (integers) nice = Math.max(1, Math.round(nice));
    const out = [];
    for (let v = Math.ceil(lo / nice) * nice; v <= hi + nice * 1e-9; v += nice) out.push(Number(v.toPrecision(12)));
    return out;
  }

  /* A scale for numbers, or for categories (strings) placed at even spacing. */
  function scale(values, lo, hi, logRatio) {
    const numeric = values.every((v) => typeof v === "number");
    if (!numeric) {
      const cats = [...new Set(values.map((v) => fmtValue(v)))].sort();
      const f = (v) => lo + (hi - lo) * (cats.indexOf(fmtValue(v)) + 0.5) / cats.length;
      return { f, ticks: cats.map((c) => ({ at: f(c), label: c })), log: false };
    }
    let min = Math.min(...values), max = Math.max(...values);
    const log = min > 0 && max / min >= logRatio;
    if (min === max) { min -= Math.abs(min) * 0.1 || 1; max += Math.abs(max) * 0.1 || 1; }
    const t = log ? (v) => Math.log10(v) : (v) => v;
    const pad = (t(max) - t(min)) * 0.06;
    const a = t(min) - pad, b = t(max) + pad;
    const f = (v) => lo + (hi - lo) * (t(v) - a) / (b - a);
    const integers = values.every((v) => Number.isInteger(v));
    // A log axis over a few distinct values (the budgets 2, 4, 12, 40) ticks at those values.
    const distinct = [...new Set(values)].sort((p, q) => p - q);
    const at = log && distinct.length <= 8 ? distinct : ticks(min, max, log, integers);
    return { f, ticks: at.map((v) => ({ at: f(v), label: fmtNum(v) })), log };
  }

  function frame(xs, ys, xLabel, yLabel) {
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img" });
    // x (budgets, learning rates) often grows geometrically; y is a metric: log only when
    // it spans two decades.
    const x = scale(xs, M.l, W - M.r, 8), y = scale(ys, H - M.b, M.t, 100);
    root.append(svg("rect", { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b, class: "plot-bg" }));
    for (const t of x.ticks) {
      root.append(svg("line", { x1: t.at, x2: t.at, y1: M.t, y2: H - M.b, class: "grid-line" }));
      root.append(svg("text", { x: t.at, y: H - M.b + 16, "text-anchor": "middle", class: "tick" }, t.label));
    }
    for (const t of y.ticks) {
      root.append(svg("line", { x1: M.l, x2: W - M.r, y1: t.at, y2: t.at, class: "grid-line" }));
      root.append(svg("text", { x: M.l - 6, y: t.at + 4, "text-anchor": "end", class: "tick" }, t.label));
    }
    root.append(svg("text", { x: (M.l + W - M.r) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" },
      xLabel + (x.log ? " (log)" : "")));
    root.append(svg("text", { x: 14, y: (M.t + H - M.b) / 2, "text-anchor": "middle", class: "axis-label",
      transform: `rotate(-90 14 ${(M.t + H - M.b) / 2})` }, yLabel));
    return { root, x, y };
  }

  const COLOURS = PALETTE.filter((c) => c !== "#d62728");  // red marks the answer
  const colour = (values, v) => COLOURS[Math.max(0, values.indexOf(v)) % COLOURS.length];
  const where = (t) => [t.bracket !== null ? `bracket ${t.bracket}` : null, `rung ${t.round}`,
    t.budget !== null ? `budget ${fmtNum(t.budget)}` : null].filter(Boolean).join(", ");

  function dot(plot, cx, cy, trial, best, fill) {
    const link = svg("a", { href: `/runs/${trial.run_id}` });
    const circle = svg("circle", { cx, cy, r: best ? 7 : 4, class: best ? "dot best" : "dot",
      "data-run-id": trial.run_id, ...(fill && !best ? { style: `fill: ${fill}` } : {}) });
    circle.append(svg("title", {}, `run ${trial.run_id} (${where(trial)}): ${fmtNum(trial.metric)}`));
    link.append(circle);
    plot.append(link);
  }

  function legend(title, values, label) {
    if (values.length < 2) return null;
    return el("p", { cls: "legend" }, `${title}: `, ...values.map((v) =>
      el("span", { cls: "key" }, el("i", { style: `background: ${colour(values, v)}` }), label(v))));
  }

  function roundsChart(data) {
    const target = clear($("rounds-chart"));
    const trials = data.rounds.flatMap((r) => r.trials).filter((t) => typeof t.metric === "number");
    if (!trials.length) { target.append(el("p", { cls: "muted", text: "no trial has a value for this metric" })); return; }
    const xOf = (t) => (data.x_axis === "budget" ? t.budget : t.round);
    const { root, x, y } = frame(trials.map(xOf), trials.map((t) => t.metric), data.x_axis, data.metric);
    // Brackets share budgets: each bracket's dots sit a few pixels apart so none hides another.
    const nb = data.brackets.length;
    const shift = (t) => (nb > 1 ? (data.brackets.indexOf(t.bracket) - (nb - 1) / 2) * 7 : 0);
    const px = (t) => x.f(xOf(t)) + shift(t);
    const byRun = new Map(trials.map((t) => [t.run_id, t]));
    const bestChain = new Set();
    if (data.best) {
      let current = data.best.run_id;
      bestChain.add(current);
      for (let changed = true; changed;) {
        changed = false;
        for (const [a, b] of data.links) if (b === current && !bestChain.has(a)) { bestChain.add(a); current = a; changed = true; }
      }
    }
    for (const [a, b] of data.links) {
      const ta = byRun.get(a), tb = byRun.get(b);
      if (!ta || !tb) continue;
      const best = bestChain.has(a) && bestChain.has(b);
      root.append(svg("line", { x1: px(ta), y1: y.f(ta.metric), x2: px(tb), y2: y.f(tb.metric),
        class: best ? "link best" : "link" }));
    }
    for (const t of trials) {
      const isAnswer = data.best !== null && t.run_id === data.best.run_id;
      dot(root, px(t), y.f(t.metric), t, isAnswer, nb > 1 ? colour(data.brackets, t.bracket) : null);
    }
    target.append(root);
    const keys = legend("bracket", data.brackets, (b) => String(b));
    if (keys) target.append(keys);
  }

  /* Budgets are not comparable (a trial at budget 1 scores lower than at 27): one colour per
     budget, and the selector shows one budget alone. */
  function paramCharts(data) {
    const target = clear($("param-charts"));
    const chosen = $("budget").value;
    const trials = data.rounds.flatMap((r) => r.trials).filter((t) => t.status === "completed" &&
      typeof t.metric === "number" && (chosen === "" || String(t.budget) === chosen));
    if (!data.params.length) { target.append(el("p", { cls: "muted", text: "the trials' configs do not differ" })); return; }
    const keys = legend("budget", data.budgets, fmtNum);
    clear($("budget-legend")).append(...(keys && chosen === "" ? [keys] : []));
    for (const key of data.params) {
      const points = trials.filter((t) => t.params[key] !== null && t.params[key] !== undefined);
      if (!points.length) continue;
      const { root, x, y } = frame(points.map((t) => t.params[key]), points.map((t) => t.metric), key, data.metric);
      for (const t of points) {
        dot(root, x.f(t.params[key]), y.f(t.metric), t, data.best !== null && t.run_id === data.best.run_id,
          data.budgets.length > 1 ? colour(data.budgets, t.budget) : null);
      }
      target.append(el("figure", { cls: "param-chart", "data-param": key }, root));
    }
  }

  function budgetSelect(data) {
    const select = $("budget"), before = select.value;
    clear(select).append(el("option", { value: "", text: "all budgets" }));
    for (const b of data.budgets) select.append(el("option", { value: String(b), text: fmtNum(b), selected: String(b) === before }));
    select.closest("label").hidden = data.budgets.length < 2;
  }

  function rungsTable(data) {
    const better = (a, b) => (data.mode === "max" ? a > b : a < b);
    table($("rungs"), ["bracket", "rung", "budget", "trials", "completed", `best ${data.metric || "metric"}`],
      data.rounds.map((r) => {
        const done = r.trials.filter((t) => t.status === "completed" && typeof t.metric === "number");
        const top = done.reduce((acc, t) => (acc === null || better(t.metric, acc) ? t.metric : acc), null);
        return [r.bracket === null ? "–" : String(r.bracket), String(r.round), fmtNum(r.budget),
          String(r.trials.length), String(done.length), fmtNum(top)];
      }));
  }

  function best(data) {
    const target = clear($("best"));
    if (!data.best) {
      target.append(el("h2", {}, "No answer"), el("p", { cls: "muted", text: `This search has no answer: ${data.no_answer}` }));
      return;
    }
    const params = el("dl", { cls: "inline" });
    for (const [k, v] of Object.entries(data.best.params)) params.append(el("dt", { text: k }), el("dd", { text: fmtValue(v) }));
    const b = data.best;
    target.append(el("h2", {}, "Answer: ", runLink(b.run_id), ` ${data.metric} = ${fmtNum(b.metric)} (${where(b)})`,
      b.final ? el("span", { cls: "tag final", text: "final" }) : ""),
      el("p", { cls: "muted", text: "The best completed evaluation at the largest budget any completed " +
        "evaluation reached; ties go to the earlier trial. Failed, killed and NaN evaluations never count." }),
      params);
  }

  function trialsTable(data) {
    const trials = data.rounds.flatMap((r) => r.trials);
    const sign = data.mode === "max" ? -1 : 1;
    const num = (v) => (typeof v === "number" ? v : null);
    const done = (t) => (t.status === "completed" ? 0 : 1);  // failed ones after, whatever they logged
    trials.sort((a, b) => ((b.budget ?? b.round) - (a.budget ?? a.round)) || (done(a) - done(b)) ||
      ((num(a.metric) === null) - (num(b.metric) === null)) || sign * ((num(a.metric) ?? 0) - (num(b.metric) ?? 0)) ||
      (a.run_id - b.run_id));
    table($("trials"), ["run", "bracket", "rung", "budget", "status", data.metric || "metric", ...data.params],
      trials.map((t) => [runLink(t.run_id), t.bracket === null ? "–" : String(t.bracket), String(t.round),
        fmtNum(t.budget), statusBadge(t.status), fmtNum(t.metric), ...data.params.map((k) => fmtValue(t.params[k]))]));
    const bestRow = data.best && $("trials").querySelector(`tbody tr:nth-child(${trials.findIndex((t) => t.run_id === data.best.run_id) + 1})`);
    if (bestRow) bestRow.classList.add("best-row");
  }

  async function load(metric, mode) {
    const q = new URLSearchParams();
    if (metric) q.set("metric", metric);
    if (mode) q.set("mode", mode);
    const data = await getJSON(`/api/searches/${encodeURIComponent(searchId)}?${q}`);
    const select = clear($("metric"));
    for (const k of data.metric_keys) select.append(el("option", { value: k, text: k, selected: k === data.metric }));
    $("mode").value = data.mode;
    const counts = Object.entries(data.status_counts).map(([s, n]) => `${n} ${s}`).join(", ");
    const shape = data.brackets.length ? `${data.brackets.length} brackets · ${data.budgets.length} budgets`
      : `${data.rounds.length} rounds`;
    $("summary").textContent = `${shape} · ${counts} · project ${data.projects.join(", ")}`;
    budgetSelect(data);
    best(data); rungsTable(data); roundsChart(data); paramCharts(data); trialsTable(data);
  }

  /* A search shared through the database: job counts and one row per worker; while it runs,
     both these and the trials above are polled, until the search ends. */
  async function workers() {
    const data = await getJSON(`/api/searches/${encodeURIComponent(searchId)}/workers`);
    if (!data.shared) return false;
    $("workers-section").hidden = false;
    const counts = Object.entries(data.counts).map(([s, n]) => `${n} ${s}`).join(", ");
    $("workers-summary").textContent = `${data.finished ? "finished" : "running"} · jobs: ${counts}` +
      (data.answer_run === null ? "" : ` · answer in run ${data.answer_run}`);
    table($("workers"), ["worker", "done", "failed", "running job", "heartbeat (UTC)"],
      data.workers.map((w) => [w.worker, String(w.done), String(w.failed), w.running || "–",
        w.heartbeat ? w.heartbeat.replace("T", " ").slice(0, 19) : "–"]));
    return !data.finished;
  }

  try { await load(null, null); } catch (error) { showError($("rounds-chart"), error); return; }
  workers().then((live) => {
    if (live) poll(async () => {
      const still = await workers();
      await load($("metric").value, $("mode").value);  // new trials and rungs as workers finish them
      return still;
    });
  }).catch((error) => showError($("workers"), error));
  const reload = () => load($("metric").value, $("mode").value).catch((error) => showError($("rounds-chart"), error));
  $("metric").addEventListener("change", () => load($("metric").value, null).catch((error) => showError($("rounds-chart"), error)));
  $("mode").addEventListener("change", reload);
  $("budget").addEventListener("change", reload);
})();
