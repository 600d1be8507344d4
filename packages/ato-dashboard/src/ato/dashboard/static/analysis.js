/* Page "/searches/{id}/analysis": optimisation history, parallel coordinates with brushing,
   parameter importance, slice and contour for a chosen pair, learning curves by outcome, and
   for searches with several objectives the Pareto front.
   Each view comes from /api/searches/{id}/analysis/{view}; charts are SVG drawn here. The
   documents are kept in window.__atoAnalysis[view] (the browser tests compare them with the
   database). */
"use strict";
(async () => {
  const { app, el, clear, getJSON, showError, fmtNum, fmtValue, PALETTE } = ato;
  const searchId = app.dataset.searchId;
  const $ = (id) => document.getElementById(id);
  const NS = "http://www.w3.org/2000/svg";
  const M = { l: 64, r: 20, t: 16, b: 44 };
  const OUTCOME = { promoted: "#2ca02c", stopped: "#8c9bb0", failed: "#ff7f0e", running: "#1f77b4" };
  const shown = (window.__atoAnalysis = {});

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  const category = (v) => (typeof v === "string" ? v : JSON.stringify(v));

  /* A scale from an axis description {kind, low, high, log, categories} to [a, b] pixels. */
  function scale(axis, a, b) {
    if (axis.kind === "categorical") {
      const cats = axis.categories, n = Math.max(1, cats.length);
      const f = (v) => a + (b - a) * (cats.indexOf(category(v)) + 0.5) / n;
      return { f, ticks: cats.map((c) => ({ at: f(c), label: c })), log: false };
    }
    let lo = axis.low, hi = axis.high;
    const t = axis.log ? Math.log10 : (v) => v;
    let u0 = t(lo), u1 = t(hi);
    if (u0 === u1) { u0 -= Math.abs(u0) * 0.1 || 1; u1 += Math.abs(u1) * 0.1 || 1; }
    const pad = (u1 - u0) * 0.05; u0 -= pad; u1 += pad;
    const f = (v) => a + (b - a) * (t(v) - u0) / (u1 - u0);
    const inv = axis.log ? (u) => 10 ** u : (u) => u;
    return { f, ticks: tickValues(inv(u0), inv(u1), axis.log).map((v) => ({ at: f(v), label: fmtNum(v) })), log: axis.log };
  }

  function tickValues(lo, hi, log) {
    const out = [];
    if (log) {
      const mult = hi / lo > 1000 ? [1] : [1, 2, 5];
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
        for (const m of mult) { const v = Number((m * 10 ** e).toPrecision(6)); if (v >= lo && v <= hi) out.push(v); }
      }
      return out;
    }
    const raw = (hi - lo) / 5, mag = 10 ** Math.floor(Math.log10(raw || 1));
    const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) || mag * 10;
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(10)));
    return out;
  }

  const numericAxis = (values, log) => {
    const vs = values.filter((v) => typeof v === "number" && (!log || v > 0));
    return { kind: "numeric", low: Math.min(...vs), high: Math.max(...vs), log: !!log };
  };

  /* An x-y frame: axes, grid, labels. Returns {root, x, y} with scale functions. */
  function frame(W, H, xAxis, yAxis, xLabel, yLabel) {
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img" });
    const x = scale(xAxis, M.l, W - M.r), y = scale(yAxis, H - M.b, M.t);
    root.append(svg("rect", { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b, class: "plot-bg" }));
    const every = Math.ceil(x.ticks.length / 10);  // never more than ~10 labels on x
    x.ticks.forEach((t, i) => {
      root.append(svg("line", { x1: t.at, x2: t.at, y1: M.t, y2: H - M.b, class: "grid-line" }));
      if (i % every === 0) root.append(svg("text", { x: t.at, y: H - M.b + 16, "text-anchor": "middle", class: "tick" }, t.label));
    });
    for (const t of y.ticks) {
      root.append(svg("line", { x1: M.l, x2: W - M.r, y1: t.at, y2: t.at, class: "grid-line" }));
      root.append(svg("text", { x: M.l - 6, y: t.at + 4, "text-anchor": "end", class: "tick" }, t.label));
    }
    root.append(svg("text", { x: (M.l + W - M.r) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, xLabel + (x.log ? " (log)" : "")));
    root.append(svg("text", { x: 14, y: (M.t + H - M.b) / 2, "text-anchor": "middle", class: "axis-label",
      transform: `rotate(-90 14 ${(M.t + H - M.b) / 2})` }, yLabel + (y.log ? " (log)" : "")));
    return { root, x, y };
  }

  const pathOf = (points) => points.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("");
  const stepPath = (points) => points.map(([px, py], i) => (i ? `H${px.toFixed(1)}V${py.toFixed(1)}` : `M${px.toFixed(1)},${py.toFixed(1)}`)).join("");

  /* Viridis-like ramp; t in [0, 1], 1 = best. */
  const RAMP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function ramp(t) {
    const s = Math.min(1, Math.max(0, t)) * (RAMP.length - 1), i = Math.min(RAMP.length - 2, Math.floor(s)), f = s - i;
    const c = RAMP[i].map((v, k) => Math.round(v + (RAMP[i + 1][k] - v) * f));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }
  function goodness(values, mode) {
    const vs = values.filter((v) => typeof v === "number");
    const lo = Math.min(...vs), hi = Math.max(...vs), span = hi - lo || 1;
    return (v) => (mode === "max" ? (v - lo) / span : (hi - v) / span);
  }
  function colourBar(target, label, lo, hi, mode) {
    const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => ramp(mode === "max" ? t : 1 - t));
    target.append(el("p", { cls: "legend" }, `${label}: ${fmtNum(lo)} `,
      ...stops.map((c) => el("i", { cls: "swatch", style: `background: ${c}` })), ` ${fmtNum(hi)}`));
  }

  function legend(target, entries) {
    clear(target).append(el("p", { cls: "legend" }, ...entries.map(([colour, label]) =>
      el("span", { cls: "key" }, el("i", { style: `background: ${colour}` }), label))));
  }

  const levelName = (d, lv) => `${d.level_kind} ${fmtNum(lv)}`;
  const levelColour = (d, lv) => PALETTE.filter((c) => c !== "#d62728")[d.levels.findIndex((l) => l.level === lv) % 11];

  let modeChosen = false;  // the direction is the metric's own until the menu is used
  async function fetchView(view, extra) {
    const mode = modeChosen ? $("mode").value : "";
    const q = new URLSearchParams(Object.entries({ metric: $("metric").value, mode, ...extra })
      .filter(([, v]) => v !== "" && v !== null && v !== undefined));
    const data = await getJSON(`/api/searches/${encodeURIComponent(searchId)}/analysis/${view}?${q}`);
    shown[view] = data;
    return data;
  }

  // ---- history --------------------------------------------------------------------
  function historyChart(target, d, xs, xLabel) {
    clear(target);
    const ev = d.evaluations;
    const idx = ev.number.map((_, i) => i).filter((i) => typeof ev.value[i] === "number" && ev.status[i] === "completed" && xs[i] !== null);
    if (!idx.length) { target.append(el("p", { cls: "muted", text: "no completed evaluation yet" })); return; }
    const values = idx.map((i) => ev.value[i]);
    const { root, x, y } = frame(640, 300, numericAxis(idx.map((i) => xs[i])), numericAxis(values), xLabel, d.metric);
    const at = (n) => xs[n - 1];
    for (const line of d.best_by_level) {
      const pts = line.number.map((n, k) => [x.f(at(n)), y.f(line.best[k])]);
      root.append(svg("path", { d: stepPath(pts), class: "best-line", stroke: levelColour(d, line.level), "data-level": line.level }));
    }
    for (const i of idx) {
      const c = svg("circle", { cx: x.f(xs[i]), cy: y.f(ev.value[i]), r: 3, class: "dot", style: `fill: ${levelColour(d, ev.level[i])}`, "data-run-id": ev.run_id[i] });
      c.append(svg("title", {}, `#${ev.number[i]} run ${ev.run_id[i]} (trial ${ev.trial[i]}, ${levelName(d, ev.level[i])}): ${fmtNum(ev.value[i])}`));
      root.append(c);
    }
    const path = d.answer_path, pts = [];
    path.value.forEach((v, i) => { if (typeof v === "number" && xs[i] !== null) pts.push([x.f(xs[i]), y.f(v)]); });
    if (pts.length) pts.push([x.f(Math.max(...idx.map((i) => xs[i]))), pts[pts.length - 1][1]]);
    root.append(svg("path", { d: stepPath(pts), class: "answer-line" }));
    target.append(root);
  }

  async function history() {
    const d = await fetchView("history", {});
    historyChart($("history-number"), d, d.evaluations.number, "evaluation (run order)");
    if (d.level_kind === "budget") historyChart($("history-budget"), d, d.evaluations.cumulative_budget, "cumulative budget");
    else clear($("history-budget")).append(el("p", { cls: "muted", text: "this search recorded rungs, not budgets: no budget axis" }));
    legend($("history-legend"), [...d.levels.map((l) => [levelColour(d, l.level), `${levelName(d, l.level)} (${l.completed} completed)`]),
      ["#d62728", "answer so far"]]);
    return d;
  }

  // ---- parallel coordinates -----------------------------------------------------------
  function parallel(d) {
    const target = clear($("parallel"));
    const n = d.run_id.length;
    if (!n) { target.append(el("p", { cls: "muted", text: `no completed evaluation at ${levelName(d, d.budget)}` })); $("parallel-count").textContent = ""; return; }
    const axes = [...d.axes, { key: d.metric, ...numericAxis(d.value) }];
    const cols = [...d.axes.map((a) => d.columns[a.key]), d.value];
    const W = Math.max(900, 190 * axes.length), H = 360, top = 28, bottom = H - 30;
    const xAt = (j) => 60 + (W - 120) * j / Math.max(1, axes.length - 1);
    const scales = axes.map((a) => scale(a, bottom, top));
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", style: `max-width: ${W}px` });
    const good = goodness(d.value, d.mode);
    const lines = [];
    const order = [...Array(n).keys()].sort((a, b) => (d.run_id[a] === d.answer?.run_id) - (d.run_id[b] === d.answer?.run_id));
    for (const i of order) {
      const pts = [];
      cols.forEach((col, j) => { if (col[i] !== null && col[i] !== undefined) pts.push([xAt(j), scales[j].f(col[i])]); });
      const line = svg("path", { d: pathOf(pts), class: d.run_id[i] === d.answer?.run_id ? "pc-line answer" : "pc-line",
        stroke: ramp(good(d.value[i])), "data-run-id": d.run_id[i] });
      line.append(svg("title", {}, `run ${d.run_id[i]} (trial ${d.trial[i]}): ${fmtNum(d.value[i])}`));
      lines[i] = line;
      root.append(line);
    }
    const brushes = axes.map(() => null);
    const brushRects = [];
    function apply() {
      const kept = [];
      for (let i = 0; i < n; i++) {
        const on = cols.every((col, j) => !brushes[j] || (col[i] !== null && col[i] !== undefined &&
          scales[j].f(col[i]) >= brushes[j][0] && scales[j].f(col[i]) <= brushes[j][1]));
        lines[i].classList.toggle("off", !on);
        if (on) kept.push(d.run_id[i]);
      }
      shown.parallelSelected = kept;
      $("parallel-count").textContent = `${kept.length} of ${n} evaluations at ${levelName(d, d.budget)} selected`;
    }
    axes.forEach((a, j) => {
      const cx = xAt(j);
      root.append(svg("line", { x1: cx, x2: cx, y1: top, y2: bottom, class: "axis-line" }));
      for (const t of scales[j].ticks) {
        root.append(svg("text", { x: cx - 6, y: t.at + 4, "text-anchor": "end", class: "tick" }, t.label));
      }
      root.append(svg("text", { x: cx, y: 14, "text-anchor": "middle", class: "axis-label" }, a.key + (scales[j].log ? " (log)" : "")));
      const rect = svg("rect", { x: cx - 8, y: 0, width: 16, height: 0, class: "brush", visibility: "hidden" });
      brushRects[j] = rect;
      const hit = svg("rect", { x: cx - 14, y: top, width: 28, height: bottom - top, class: "axis-hit", "data-axis": a.key });
      hit.addEventListener("pointerdown", (event) => {
        const box = root.getBoundingClientRect(), k = H / box.height;
        const y0 = (event.clientY - box.top) * k;
        let moved = false;
        const move = (e) => {
          const y1 = Math.min(bottom, Math.max(top, (e.clientY - box.top) * k));
          moved = Math.abs(y1 - y0) > 2;
          brushes[j] = [Math.min(y0, y1), Math.max(y0, y1)];
          rect.setAttribute("y", brushes[j][0]); rect.setAttribute("height", brushes[j][1] - brushes[j][0]);
          rect.setAttribute("visibility", "visible");
          apply();
        };
        const up = () => {
          window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up);
          if (!moved) { brushes[j] = null; rect.setAttribute("visibility", "hidden"); apply(); }
        };
        window.addEventListener("pointermove", move); window.addEventListener("pointerup", up);
        event.preventDefault();
      });
      root.append(rect, hit);
    });
    target.append(root);
    colourBar(target, d.metric, Math.min(...d.value), Math.max(...d.value), d.mode);
    apply();
  }

  // ---- importance ------------------------------------------------------------------
  function importance(d) {
    const target = clear($("importance"));
    $("importance-method").textContent = `${d.method_name} (${d.citation}) on ${d.n_trials} completed evaluations at ${levelName(d, d.budget)}` +
      (d.cached ? " · cached" : "");
    if (!d.importances.length) { target.append(el("p", { cls: "muted", text: d.reason })); return; }
    const W = 640, row = 28, H = 20 + row * d.importances.length, left = 170;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img" });
    d.importances.forEach((item, i) => {
      const y = 10 + i * row, w = (W - left - 70) * item.importance;
      root.append(svg("text", { x: left - 8, y: y + 16, "text-anchor": "end", class: "bar-label" }, item.param));
      const bar = svg("rect", { x: left, y: y + 3, width: Math.max(1, w), height: row - 8, class: "bar", "data-param": item.param });
      bar.append(svg("title", {}, `${item.param}: ${item.importance}`));
      root.append(bar, svg("text", { x: left + w + 6, y: y + 16, class: "bar-label" }, item.importance.toFixed(3)));
    });
    target.append(root);
  }

  // ---- slice and contour --------------------------------------------------------------
  function slice(d) {
    const target = clear($("slice"));
    if (!d.x.length) { target.append(el("p", { cls: "muted", text: `no completed evaluation at ${levelName(d, d.budget)}` })); return; }
    const { root, x, y } = frame(640, 320, d.axis, numericAxis(d.value), d.param, d.metric);
    const last = Math.max(...d.number);
    d.x.forEach((v, i) => {
      const best = d.run_id[i] === d.answer?.run_id;
      const c = svg("circle", { cx: x.f(v), cy: y.f(d.value[i]), r: best ? 7 : 4, class: best ? "dot best" : "dot",
        "data-run-id": d.run_id[i], ...(best ? {} : { style: `fill: ${ramp(d.number[i] / last)}` }) });
      c.append(svg("title", {}, `run ${d.run_id[i]} (#${d.number[i]}): ${d.param} = ${fmtValue(v)}, ${fmtNum(d.value[i])}`));
      root.append(c);
    });
    target.append(root);
  }

  function contour(d) {
    const target = clear($("contour"));
    const legendBox = clear($("contour-legend"));
    if (!d.x.length) { target.append(el("p", { cls: "muted", text: `no completed evaluation at ${levelName(d, d.budget)}` })); return; }
    const { root, x, y } = frame(640, 320, d.x_axis, d.y_axis, d.x_param, d.y_param);
    const g = d.grid, all = g.value.flat();
    const good = goodness(all, d.mode), LEVELS = 10;
    const edges = (vals, sc, axis) => vals.map((v, i) => {
      if (axis.kind === "categorical") { const h = Math.abs(sc.f(vals[Math.min(1, vals.length - 1)]) - sc.f(vals[0])) || 60; return [sc.f(v) - h / 2, sc.f(v) + h / 2]; }
      const prev = i ? vals[i - 1] : null, next = i < vals.length - 1 ? vals[i + 1] : null;
      const mid = (a, b) => (axis.log ? Math.sqrt(a * b) : (a + b) / 2);
      const lo = prev === null ? sc.f(v) - (sc.f(mid(v, next)) - sc.f(v)) : sc.f(mid(prev, v));
      const hi = next === null ? sc.f(v) + (sc.f(v) - sc.f(mid(prev, v))) : sc.f(mid(v, next));
      return [Math.min(lo, hi), Math.max(lo, hi)];
    });
    const ex = edges(g.x, x, d.x_axis), ey = edges(g.y, y, d.y_axis);
    g.value.forEach((rowValues, r) => rowValues.forEach((v, c) => {
      const band = Math.min(LEVELS - 1, Math.floor(good(v) * LEVELS)) / (LEVELS - 1);  // filled contour bands
      root.append(svg("rect", { x: ex[c][0], y: ey[r][0], width: ex[c][1] - ex[c][0] + 0.5, height: ey[r][1] - ey[r][0] + 0.5,
        class: "cell", fill: ramp(band), "fill-opacity": 0.85 }));
    }));
    d.x.forEach((v, i) => {
      const best = d.run_id[i] === d.answer?.run_id;
      const c = svg("circle", { cx: x.f(v), cy: y.f(d.y[i]), r: best ? 6 : 3.5, class: best ? "dot best" : "dot",
        "data-run-id": d.run_id[i], style: best ? "" : "fill: #fff; stroke: #1d2330" });
      c.append(svg("title", {}, `run ${d.run_id[i]}: ${fmtNum(d.value[i])}`));
      root.append(c);
    });
    target.append(root);
    colourBar(legendBox, `${d.metric} (interpolated, inverse distance weighting)`, Math.min(...all), Math.max(...all), d.mode);
  }

  // ---- learning curves ----------------------------------------------------------------
  async function curves() {
    const d = await fetchView("curves", { key: $("curve-key").value });
    const select = $("curve-key");
    if (!select.options.length) for (const k of d.metric_keys) select.append(el("option", { value: k, text: k, selected: k === d.key }));
    const target = clear($("curves"));
    const withSteps = d.curves.filter((c) => c.step.some((s) => s !== null));
    if (!withSteps.length) { target.append(el("p", { cls: "muted", text: `no evaluation logged ${d.key} at steps` })); return d; }
    const steps = withSteps.flatMap((c) => c.step.filter((s) => s !== null));
    const values = withSteps.flatMap((c) => c.value.filter((v) => typeof v === "number"));
    const { root, x, y } = frame(1200, 380, numericAxis(steps), numericAxis(values), "step", d.key);
    const ordered = [...withSteps].sort((a, b) => a.answer - b.answer);
    for (const c of ordered) {
      const pts = [];
      c.step.forEach((s, i) => { if (s !== null && typeof c.value[i] === "number") pts.push([x.f(s), y.f(c.value[i])]); });
      const line = svg("path", { d: pathOf(pts.length === 1 ? [pts[0], [pts[0][0] + 1, pts[0][1]]] : pts),
        class: c.answer ? "curve answer" : "curve", stroke: OUTCOME[c.outcome], "data-run-id": c.run_id, "data-outcome": c.outcome });
      line.append(svg("title", {}, `run ${c.run_id} (trial ${c.trial}, ${levelName(d, c.level)}): ${c.outcome}`));
      root.append(line);
    }
    target.append(root);
    legend($("curves-legend"), [...Object.entries(d.outcomes).map(([o, k]) => [OUTCOME[o], `${o} (${k})`]), ["#d62728", "answer"]]);
    return d;
  }

  // ---- Pareto front (searches with several objectives) ---------------------------------
  const FRONT = { front: "#1f77b4", feasible: "#8c9bb0", infeasible: "#ff7f0e" };
  function frontChart(d) {
    const target = clear($("front"));
    const p = d.points, n = p.run_id.length;
    $("front-count").textContent = `${n} completed evaluations at ${levelName(d, d.budget)} · front: ${d.front_size} ` +
      `evaluations at ${d.front_budget === null ? "no budget (none feasible)" : levelName(d, d.front_budget)}`;
    if (!n) { target.append(el("p", { cls: "muted", text: `no completed evaluation with both objectives at ${levelName(d, d.budget)}` })); return; }
    const label = (k) => `${k} (${d.modes[k]})`;
    const { root, x, y } = frame(760, 420, numericAxis(p.x), numericAxis(p.y), label(d.x), label(d.y));
    const line = d.front_line;
    if (line.x.length) root.append(svg("path", { d: pathOf(line.x.map((v, i) => [x.f(v), y.f(line.y[i])])), class: "front-line" }));
    const order = [...Array(n).keys()].sort((a, b) => p.front[a] - p.front[b]);  // front on top
    for (const i of order) {
      const cx = x.f(p.x[i]), cy = y.f(p.y[i]), id = p.run_id[i];
      const cons = Object.entries(p.constraints).map(([k, v]) => `, ${k} = ${fmtNum(v[i])}`).join("");
      const title = svg("title", {}, `run ${id} (trial ${p.trial[i]}): ${d.x} = ${fmtNum(p.x[i])}, ${d.y} = ${fmtNum(p.y[i])}${cons}`);
      let mark;
      if (!p.feasible[i]) {
        mark = svg("path", { d: `M${cx - 4},${cy - 4}L${cx + 4},${cy + 4}M${cx - 4},${cy + 4}L${cx + 4},${cy - 4}`, class: "front-dot infeasible" });
      } else {
        mark = svg("circle", { cx, cy, r: p.front[i] ? 5 : 3.5, class: p.front[i] ? "front-dot member" : "front-dot feasible" });
      }
      mark.setAttribute("data-run-id", id);
      mark.append(title);
      root.append(mark);
      if (id === d.answer?.run_id) root.append(svg("circle", { cx, cy, r: 10, class: "front-pick", "data-run-id": id }));
    }
    target.append(root);
    legend($("front-legend"), [[FRONT.front, `Pareto front (${line.x.length} shown)`], [FRONT.feasible, "feasible, dominated"],
      [FRONT.infeasible, "infeasible (constraint > 0)"], ["#d62728", "answer"]]);
  }

  async function frontLoad(first) {
    // metric and mode left out: the front ranks by the search's own objectives
    const extra = { metric: "", mode: "", x: $("front-x").value, y: $("front-y").value, budget: first ? "" : $("front-budget").value };
    const d = await fetchView("front", extra);
    if (first) {
      for (const [id, at] of [["front-x", d.x], ["front-y", d.y]]) {
        const s = clear($(id));
        for (const k of d.objective_keys) s.append(el("option", { value: k, text: k, selected: k === at }));
      }
      const levels = clear($("front-budget"));
      for (const l of d.levels) levels.append(el("option", { value: String(l.level), text: fmtNum(l.level), selected: l.level === d.budget }));
      for (const e of document.querySelectorAll(".front-level-kind")) e.textContent = d.level_kind;
    }
    frontChart(d);
    shown.drawnFront = `${d.x}|${d.y}@${d.budget}`;
  }

  // ---- controls ----------------------------------------------------------------------
  const budget = () => $("budget").value;
  const pair = () => ({ x: $("param-x").value, y: $("param-y").value });

  async function perLevel() {
    const [p, s, c] = await Promise.all([fetchView("parallel", { budget: budget() }),
      pair().x ? fetchView("slice", { budget: budget(), param: pair().x }) : Promise.resolve(null),
      pair().y ? fetchView("contour", { budget: budget(), ...pair() }) : Promise.resolve(null)]);
    parallel(p);
    if (s) slice(s); else clear($("slice")).append(el("p", { cls: "muted", text: "the trials' configs do not differ" }));
    if (c) contour(c); else clear($("contour")).append(el("p", { cls: "muted", text: "a contour needs two searched parameters" }));
    shown.drawnBudget = p.budget;  // parallel, slice and contour now show this budget
    await importanceLoad();
  }

  async function importanceLoad() {
    try {
      const d = await fetchView("importance", { budget: budget(), method: $("method").value });
      importance(d);
      shown.drawnImportance = `${d.method}@${d.budget}`;
    }
    catch (error) { showError($("importance"), error); }
  }

  function fillControls(d) {
    const metric = clear($("metric"));
    for (const k of d.metric_keys) metric.append(el("option", { value: k, text: k, selected: k === d.metric }));
    $("mode").value = d.mode;
    $("level-kind").textContent = d.level_kind;
    const levels = clear($("budget"));
    const fallback = d.levels.reduce((a, l) => (a === null || l.completed >= a.completed ? l : a), null);
    for (const l of d.levels) levels.append(el("option", { value: String(l.level), text: `${fmtNum(l.level)} (${l.completed} completed)`, selected: l === fallback }));
    for (const [id, at] of [["param-x", 0], ["param-y", 1]]) {
      const s = clear($(id));
      d.params.forEach((k, i) => s.append(el("option", { value: k, text: k, selected: i === at })));
    }
    const counts = d.levels.map((l) => `${l.runs} at ${fmtNum(l.level)}`).join(", ");
    $("summary").textContent = `${d.params.length} parameters · evaluations per ${d.level_kind}: ${counts}` +
      (d.answer ? ` · answer: run #${d.answer.run_id} = ${fmtNum(d.answer.value)}` : " · no answer yet");
  }

  async function all() {
    const d = await history();
    fillControls(d);
    const several = d.objectives > 1;
    $("front-section").hidden = !several;
    await Promise.all([perLevel(), curves(), several ? frontLoad(true).catch((error) => showError($("front"), error)) : null]);
  }

  const guard = (fn, target) => () => fn().catch((error) => showError($(target), error));
  try { await all(); } catch (error) { showError($("history-number"), error); return; }
  const reload = async () => { $("mode").value = (await history()).mode; await perLevel(); };
  $("metric").addEventListener("change", guard(async () => { modeChosen = false; await reload(); }, "history-number"));
  $("mode").addEventListener("change", guard(async () => { modeChosen = true; await reload(); }, "history-number"));
  $("budget").addEventListener("change", guard(perLevel, "parallel"));
  $("method").addEventListener("change", guard(importanceLoad, "importance"));
  $("param-x").addEventListener("change", guard(perLevel, "slice"));
  $("param-y").addEventListener("change", guard(perLevel, "contour"));
  $("curve-key").addEventListener("change", guard(curves, "curves"));
  // choosing the other axis's objective swaps the two (x and y must differ)
  for (const [id, other, was] of [["front-x", "front-y", "x"], ["front-y", "front-x", "y"]]) {
    $(id).addEventListener("change", guard(async () => {
      if ($(id).value === $(other).value) $(other).value = shown.front[was];
      await frontLoad(false);
    }, "front"));
  }
  $("front-budget").addEventListener("change", guard(() => frontLoad(false), "front"));
  shown.ready = true;
})();
