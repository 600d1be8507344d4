/* Page "/compare?runs=1,2,3" (up to 100 runs): summaries, overlaid curves per metric key
   with a searchable legend (hover an entry or a curve to highlight it), and a config diff
   that shows only the keys whose values differ.
   Data: /api/compare?runs=...&metrics=... (the first keys matching the metric filter, with
   the runs' summaries) and /api/compare/series?runs=...&key=... (one request per key shown). */
"use strict";
(async () => {
  const { app, el, clear, getJSON, showError, fmtNum, fmtValue, fmtTime, fmtDuration,
    statusBadge, runLink, table, lineChart, poll, relativeTimes, colors } = ato;
  const ids = app.dataset.runs;
  const $ = (id) => document.getElementById(id);
  const series = new Map(); // key -> Map(run id -> series)
  const plots = [];
  let data, palette;

  function summary() {
    const keys = data.metric_keys;
    table($("summary"), ["", "run", "status", "start", "duration", "tags", ...keys.map((k) => `${k} (last)`)],
      data.runs.map((r, i) => [
        el("span", { cls: "swatch", style: `background:${palette[i]}` }),
        runLink(r.id), statusBadge(r.status), fmtTime(r.start_time), fmtDuration(r.duration_s),
        r.tags.join(" "), ...keys.map((k) => (r.metrics[k] ? fmtNum(r.metrics[k].last) : "–")),
      ]));
  }

  function diff() {
    const t = $("diff");
    if (!data.config_keys.length) {
      clear(t).append(el("caption", { text: "the configs are identical (ato's own __x__ keys, such as a search's __budget__, are not compared)" }));
      return;
    }
    table(t, ["key", ...data.runs.map((r) => `run ${r.id}`)],
      data.config_keys.map((key) => [el("code", { text: key }), ...data.config[key].map(fmtValue)]));
  }

  async function loadSeries() {
    await Promise.all(data.metric_keys.map(async (key) => {
      const body = await getJSON(`/api/compare/series?runs=${encodeURIComponent(ids)}&key=${encodeURIComponent(key)}`);
      series.set(key, new Map(body.runs.map((s) => [s.run_id, s])));
    }));
  }

  function charts() {
    const target = clear($("charts"));
    plots.length = 0;
    const byTime = $("x-axis").value === "time";
    for (const key of data.metric_keys) {
      const perRun = series.get(key) || new Map();
      const lines = data.runs.map((run) => {
        const s = perRun.get(run.id);
        if (!s) return { label: `run ${run.id}`, x: [], y: [] };
        const x = byTime ? relativeTimes(s.time) : s.step.map((step, i) => (step === null ? i : step));
        return { label: `run ${run.id}`, x, y: s.value };
      });
      plots.push(lineChart(target, key, key, lines, {
        xLabel: byTime ? "seconds since first value" : "step", logY: $("log-y").checked,
        colors: palette, legend: data.runs.length <= 12,
      }));
    }
    applyLegend();
  }

  /* The legend: one entry per run, filtered by the search box; hovering an entry focuses
     its curve in every chart, clicking one hides or shows it. */
  const hidden = new Set();
  function legend() {
    const box = clear($("legend-items"));
    data.runs.forEach((run, i) => {
      const item = el("span", { cls: "legend-item", "data-run-id": run.id },
        el("span", { cls: "swatch", style: `background:${palette[i]}` }), ` run ${run.id}`);
      item.title = `${run.status} · ${run.tags.join(" ")}`;
      item.addEventListener("mouseenter", () => focus(i, item));
      item.addEventListener("mouseleave", () => focus(null, item));
      item.addEventListener("click", () => {
        if (hidden.has(run.id)) hidden.delete(run.id); else hidden.add(run.id);
        applyLegend();
      });
      box.append(item);
    });
  }

  function focus(index, item) {
    item.classList.toggle("hot", index !== null);
    for (const plot of plots) plot.setSeries(index === null ? null : index + 1, { focus: true });
  }

  function applyLegend() {
    const words = $("legend-search").value.toLowerCase().split(/\s+/).filter(Boolean);
    data.runs.forEach((run, i) => {
      const text = `run ${run.id} ${run.status} ${run.tags.join(" ")}`.toLowerCase();
      const matched = words.every((w) => text.includes(w));
      const item = document.querySelector(`.legend-item[data-run-id="${run.id}"]`);
      const show = matched && !hidden.has(run.id);
      if (item) { item.hidden = !matched; item.classList.toggle("off", hidden.has(run.id)); }
      for (const plot of plots) plot.setSeries(i + 1, { show });
    });
  }

  function shownKeys() {
    const n = data.metric_keys.length;
    $("metric-count").textContent = n < data.metric_key_count
      ? `showing ${n} of ${data.metric_key_count} metric keys: filter to see others`
      : `${n} metric key${n === 1 ? "" : "s"}`;
  }

  async function load(allKeys) {
    const pattern = $("metric-filter").value.trim();
    data = await getJSON(`/api/compare?runs=${encodeURIComponent(ids)}${allKeys ? "&all=1" : ""}` +
      (pattern ? `&metrics=${encodeURIComponent(pattern)}` : ""));
    palette = colors(data.runs.length);
    series.clear();
    await loadSeries();
    summary(); diff(); legend(); charts(); shownKeys();
    const live = data.runs.some((r) => r.live);
    $("live").hidden = !live;
    return live;
  }

  try {
    if (await load(false)) poll(() => load($("all-keys").checked));
  } catch (error) { showError($("charts"), error); return; }
  $("x-axis").addEventListener("change", charts);
  $("log-y").addEventListener("change", charts);
  $("legend-search").addEventListener("input", applyLegend);
  $("all-keys").addEventListener("change", (e) => load(e.target.checked).catch((error) => showError($("diff"), error)));
  $("metric-filter").addEventListener("change", () => load($("all-keys").checked).catch((error) => showError($("charts"), error)));
})();
