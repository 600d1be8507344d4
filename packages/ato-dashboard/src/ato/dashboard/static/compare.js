/* Page "/compare?runs=1,2,3": summaries, overlaid curves per metric key, config diff.
   Data: /api/compare?runs=... and the runs' /api/runs/{id}/metrics/{key}. */
"use strict";
(async () => {
  const { app, el, clear, getJSON, showError, fmtNum, fmtValue, fmtTime, fmtDuration,
    statusBadge, runLink, table, lineChart, poll, relativeTimes, PALETTE } = ato;
  const ids = app.dataset.runs;
  const $ = (id) => document.getElementById(id);
  const series = new Map();
  let data;

  function summary() {
    const keys = data.metric_keys;
    table($("summary"), ["", "run", "status", "start", "duration", "tags", ...keys.map((k) => `${k} (last)`)],
      data.runs.map((r, i) => [
        el("span", { cls: "swatch", style: `background:${PALETTE[i % PALETTE.length]}` }),
        runLink(r.id), statusBadge(r.status), fmtTime(r.start_time), fmtDuration(r.duration_s),
        r.tags.join(" "), ...keys.map((k) => (r.metrics[k] ? fmtNum(r.metrics[k].last) : "–")),
      ]));
  }

  function diff() {
    const t = $("diff");
    if (!data.config_keys.length) {
      clear(t).append(el("caption", { text: "the configs are identical" }));
      return;
    }
    table(t, ["key", ...data.runs.map((r) => `run ${r.id}`)],
      data.config_keys.map((key) => [el("code", { text: key }), ...data.config[key].map(fmtValue)]));
  }

  async function loadSeries() {
    const jobs = [];
    for (const key of data.metric_keys) {
      for (const run of data.runs) {
        if (!run.metrics[key]) continue;
        jobs.push(getJSON(`/api/runs/${run.id}/metrics/${encodeURIComponent(key)}`)
          .then((s) => series.set(`${run.id}\u0000${key}`, s)));
      }
    }
    await Promise.all(jobs);
  }

  function charts() {
    const target = clear($("charts"));
    const byTime = $("x-axis").value === "time";
    for (const key of data.metric_keys) {
      const lines = data.runs.map((run) => {
        const s = series.get(`${run.id}\u0000${key}`);
        if (!s) return { label: `run ${run.id}`, x: [], y: [] };
        const x = byTime ? relativeTimes(s.time) : s.step.map((step, i) => (step === null ? i : step));
        return { label: `run ${run.id}`, x, y: s.value };
      });
      lineChart(target, key, key, lines,
        { xLabel: byTime ? "seconds since first value" : "step", logY: $("log-y").checked });
    }
  }

  async function load(allKeys) {
    data = await getJSON(`/api/compare?runs=${encodeURIComponent(ids)}${allKeys ? "&all=1" : ""}`);
    await loadSeries();
    summary(); diff(); charts();
    const live = data.runs.some((r) => r.live);
    $("live").hidden = !live;
    return live;
  }

  try {
    if (await load(false)) poll(() => load($("all-keys").checked));
  } catch (error) { showError($("charts"), error); return; }
  $("x-axis").addEventListener("change", charts);
  $("log-y").addEventListener("change", charts);
  $("all-keys").addEventListener("change", (e) => load(e.target.checked).catch((error) => showError($("diff"), error)));
})();
