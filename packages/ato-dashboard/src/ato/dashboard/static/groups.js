/* Page "/groups/{project}": runs grouped by config keys (default: every key that differs,
   except the seed), a chart of each group's mean curve with a std or min–max band, and a
   table of groups with aggregated metrics that expands to the group's runs.
   Data: /api/projects/{name}/groups and /api/projects/{name}/group-series. The view lives in
   the URL (?filter=&by=&metric=&spread=). */
"use strict";
(async () => {
  const { app, el, clear, getJSON, fmtNum, fmtValue, statusBadge, runLink, colors } = ato;
  const project = app.dataset.project;
  const base = `/api/projects/${encodeURIComponent(project)}`;
  const $ = (id) => document.getElementById(id);
  const q = new URL(window.location.href).searchParams;
  const state = {
    filter: q.get("filter") || "",
    by: q.has("by") ? q.get("by").split(",").filter(Boolean) : null,
    metric: q.get("metric") || "",
    spread: q.get("spread") === "minmax" ? "minmax" : "std",
    open: new Set(),
  };
  let data = null;
  window.__atoCharts = window.__atoCharts || {};

  function writeUrl() {
    const next = new URLSearchParams();
    if (state.filter) next.set("filter", state.filter);
    if (state.by) next.set("by", state.by.join(","));
    if (state.metric) next.set("metric", state.metric);
    if (state.spread !== "std") next.set("spread", state.spread);
    const text = next.toString();
    window.history.replaceState(null, "", text ? `?${text}` : window.location.pathname);
  }

  function query(extra) {
    const params = new URLSearchParams(extra || {});
    if (state.filter) params.set("filter", state.filter);
    if (state.by) params.set("by", state.by.join(","));
    return params.toString();
  }

  const label = (values) => Object.entries(values).map(([k, v]) => `${k}=${v}`).join(", ") || "all runs";

  async function load() {
    try {
      data = await getJSON(`${base}/groups?${query()}`);
      $("filter-error").hidden = true;
    } catch (error) {
      $("filter-error").hidden = false;
      $("filter-error").textContent = String(error.message || error);
      return;
    }
    if (!state.metric || !data.metric_keys.includes(state.metric)) state.metric = data.metric_keys[0] || "";
    keysPicker();
    metricPicker();
    $("count").textContent = `${data.groups.length} groups of ${data.total} runs`;
    renderTable();
    await chart();
    writeUrl();
  }

  function keysPicker() {
    const box = clear($("group-keys"));
    const chosen = new Set(data.by);
    const keys = [...data.candidate_keys, ...data.by.filter((k) => !data.candidate_keys.includes(k))];
    for (const key of keys) {
      const input = el("input", { type: "checkbox", value: key, checked: chosen.has(key) });
      input.addEventListener("change", () => {
        const now = data.by.filter((k) => k !== key);
        if (input.checked) now.push(key);
        state.by = now;
        state.open.clear();
        load();
      });
      box.append(el("label", { cls: "pick" }, input, key));
    }
    if (!keys.length) box.append(el("span", { cls: "muted", text: "every run has the same config" }));
  }

  function metricPicker() {
    const select = clear($("metric"));
    for (const key of data.metric_keys) select.append(el("option", { value: key, text: key }));
    select.value = state.metric;
  }

  function renderTable() {
    const t = clear($("groups"));
    const keys = data.metric_keys;
    t.append(el("thead", {}, el("tr", {}, [el("th", { text: "group" }), el("th", { cls: "num", text: "runs" }),
      ...keys.map((k) => el("th", { cls: "num metric", text: `${k} mean ± std` }))])));
    const body = el("tbody");
    data.groups.forEach((group, g) => {
      const open = state.open.has(g);
      const row = el("tr", { cls: "group-row", "data-group": g, onclick: () => {
        if (open) state.open.delete(g); else state.open.add(g);
        renderTable();
      } }, el("td", { text: `${open ? "▾" : "▸"} ${label(group.values)}` }),
      el("td", { cls: "num", text: group.count }),
      keys.map((k) => {
        const m = group.metrics[k];
        const text = !m ? "–" : m.std === null ? fmtNum(m.mean) : `${fmtNum(m.mean)} ± ${fmtNum(m.std)}`;
        return el("td", { cls: "num", title: m ? `n=${m.n}, min ${fmtNum(m.min)}, max ${fmtNum(m.max)}` : "", text });
      }));
      body.append(row);
      if (!open) return;
      for (const run of group.runs) {
        body.append(el("tr", { cls: "member-row", "data-run-id": run.id },
          el("td", {}, runLink(run.id), " ", statusBadge(run.status)), el("td", {}, ""),
          keys.map((k) => el("td", { cls: "num", text: fmtNum(run.metrics[k]) }))));
      }
      if (group.runs.length < group.count) {
        body.append(el("tr", { cls: "member-row" }, el("td", { cls: "muted", text: `… ${group.count - group.runs.length} more` })));
      }
    });
    t.append(body);
  }

  async function chart() {
    const target = clear($("group-chart"));
    if (!state.metric) { target.append(el("p", { cls: "muted", text: "no metrics logged" })); return; }
    const body = await getJSON(`${base}/group-series?${query({ key: state.metric })}`);
    const curves = body.groups.filter((g) => g.step.length);
    const palette = colors(curves.length);
    const low = state.spread === "std" ? (g, i) => (g.std[i] === null ? g.mean[i] : g.mean[i] - g.std[i]) : (g, i) => g.min[i];
    const high = state.spread === "std" ? (g, i) => (g.std[i] === null ? g.mean[i] : g.mean[i] + g.std[i]) : (g, i) => g.max[i];
    const parts = [];
    const series = [{ label: "step" }];
    const bands = [];
    const described = [];
    curves.forEach((g, c) => {
      const hi = g.step.map((_, i) => high(g, i)), lo = g.step.map((_, i) => low(g, i));
      parts.push([g.step, g.mean], [g.step, hi], [g.step, lo]);
      const at = series.length;
      series.push({ label: `${label(g.values)} (n=${g.count})`, stroke: palette[c], width: 2, spanGaps: true },
        { label: `${label(g.values)} upper`, stroke: "transparent", spanGaps: true, points: { show: false } },
        { label: `${label(g.values)} lower`, stroke: "transparent", spanGaps: true, points: { show: false } });
      bands.push({ series: [at + 1, at + 2], fill: palette[c].startsWith("#") ? `${palette[c]}33` : palette[c].replace("hsl", "hsla").replace(")", ", 0.2)") });
      described.push({ label: label(g.values), count: g.count, used: g.used, x: g.step, mean: g.mean, low: lo, high: hi });
    });
    if (!curves.length) { target.append(el("p", { cls: "muted", text: `no run logged ${state.metric}` })); return; }
    const holder = el("div", { cls: "chart", "data-chart": "groups" });
    target.append(holder);
    const joined = uPlot.join(parts);
    const plot = new uPlot({
      title: `${state.metric}: mean and ${state.spread === "std" ? "± std" : "min – max"} per group`,
      width: Math.max(300, (holder.clientWidth || 900) - 14), height: 320,
      scales: { x: { time: false } }, axes: [{ label: "step" }, { size: 60 }],
      series, bands, legend: { show: false }, cursor: { drag: { x: true, y: false } },
    }, joined, holder);
    holder.append(el("div", { cls: "legend" }, curves.map((g, c) => el("span", { cls: "key" },
      el("i", { style: `background:${palette[c]}` }),
      `${label(g.values)} (n=${g.count}${g.used < g.count ? `, ${g.used} drawn` : ""})`))));
    window.__atoCharts.groups = { series: described, plot };
  }

  $("f-filter").value = state.filter;
  $("spread").value = state.spread;
  $("filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.filter = $("f-filter").value;
    state.open.clear();
    load();
  });
  $("metric").addEventListener("change", (e) => { state.metric = e.target.value; chart(); writeUrl(); });
  $("spread").addEventListener("change", (e) => { state.spread = e.target.value; chart(); writeUrl(); });
  await load();
})();
