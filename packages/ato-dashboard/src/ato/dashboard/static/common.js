/* ato dashboard: shared helpers. Data from the database is only ever inserted as text
   (textContent / text nodes / SVG text), never as HTML, so stored strings cannot run code. */
"use strict";

const ato = (() => {
  const app = document.getElementById("app");
  const pollMs = Number(app.dataset.pollMs || 2000);
  window.__atoCharts = window.__atoCharts || {};

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "cls") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({ error: `bad response from ${url}` }));
    if (!response.ok) throw new Error(body.error || `${response.status} from ${url}`);
    return body;
  }

  function showError(target, error) {
    clear(target).append(el("p", { cls: "error-message", text: String(error.message || error) }));
  }

  function fmtNum(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value !== "number") return String(value);
    if (Number.isInteger(value)) return String(value);
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return Number(value.toPrecision(4)).toExponential();
    return String(Number(value.toPrecision(4)));
  }

  function fmtValue(value) {
    if (value === undefined) return "";
    if (value !== null && typeof value === "object") {
      if (value.missing === true && Object.keys(value).length === 1) return "—";
      return JSON.stringify(value);
    }
    if (typeof value === "number") return fmtNum(value);
    return String(value);
  }

  function fmtTime(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }

  function statusBadge(status) {
    return el("span", { cls: `status status-${String(status).replace(/[^a-z]/gi, "")}`, text: status });
  }

  function runLink(id) { return el("a", { href: `/runs/${encodeURIComponent(id)}`, text: `#${id}` }); }

  function table(target, headers, rows) {
    clear(target);
    target.append(el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: h })))));
    target.append(el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))));
    return target;
  }

  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#637939"];

  /* Tick spacings for whole-number axes (steps): 1, 2, 5, 10, 20, 50, ... never 2.5. */
  const WHOLE_INCRS = [];
  for (let e = 0; e < 16; e++) [1, 2, 5].forEach((m) => WHOLE_INCRS.push(m * 10 ** e));

  /* One uPlot line chart. series: [{label, x: [], y: []}] (x ascending per series); opts: xLabel,
     logY, wallTime (x in epoch seconds on a date axis), colors, legend (false: none). */
  function lineChart(container, id, title, series, opts) {
    const logY = !!opts.logY;
    const clean = series.map((s) => ({
      label: s.label,
      x: s.x,
      y: s.y.map((v) => (v === null || (logY && v <= 0) ? null : v)),
    }));
    const joined = clean.length === 1 ? [clean[0].x, clean[0].y] :
      uPlot.join(clean.map((s) => [s.x, s.y]));
    const holder = el("div", { cls: "chart", "data-chart": id });
    container.append(holder);
    const width = Math.max(300, (holder.clientWidth || 640) - 14);
    const options = {
      title, width, height: 260,
      scales: { x: { time: !!opts.wallTime }, y: logY ? { distr: 3 } : {} },
      axes: [opts.xLabel === "step" ? { label: "step", incrs: WHOLE_INCRS } : { label: opts.xLabel },
        { size: 60 }],
      series: [{ label: opts.xLabel }].concat(clean.map((s, i) => ({
        label: s.label, stroke: (opts.colors || PALETTE)[i % (opts.colors || PALETTE).length],
        width: 1.5, spanGaps: true, points: { show: s.x.length <= 60 },
      }))),
      cursor: { drag: { x: true, y: false }, focus: { prox: 12 } },
      focus: { alpha: 0.2 },
      legend: { show: opts.legend !== false },
    };
    const plot = new uPlot(options, joined, holder);
    window.__atoCharts[id] = { series: clean, plot };
    return plot;
  }

  /* n distinct colours: the palette, then hues spaced by the golden angle. */
  function colors(n) {
    const out = PALETTE.slice(0, n);
    for (let i = out.length; i < n; i++) out.push(`hsl(${Math.round((i * 137.508) % 360)}, 65%, ${i % 2 ? 38 : 50}%)`);
    return out;
  }

  function poll(fn) {
    let timer = null;
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      const keepGoing = await fn().catch((error) => { console.warn(error); return true; });
      if (keepGoing && !stopped) timer = setTimeout(tick, pollMs);
    };
    timer = setTimeout(tick, pollMs);
    return () => { stopped = true; clearTimeout(timer); };
  }

  function relativeTimes(times) {
    const start = times.length ? times[0] : 0;
    return times.map((t) => t - start);
  }

  return { app, el, clear, getJSON, showError, fmtNum, fmtValue, fmtTime, fmtDuration,
    statusBadge, runLink, table, lineChart, poll, relativeTimes, PALETTE, colors };
})();
