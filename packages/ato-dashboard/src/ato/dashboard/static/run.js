/* Page "/runs/{id}": facts, one chart per metric key (a key logged once is a value card; system/
   keys are charted against wall time; an EMA smooths the others), config tree, artifacts,
   fingerprints.
   Data: /api/runs/{id} and /api/runs/{id}/metrics/{key}. While the run is "running" the page
   polls the run every couple of seconds. A chart's series is fetched only while its place is
   on screen (or near it), and fetched again only when the run's summary counts more values
   of its key than the copy the page holds: then only the points after its last step
   (?since_step=), merged into the copy. */
"use strict";
(async () => {
  const { app, el, clear, getJSON, showError, fmtNum, fmtValue, fmtTime, fmtDuration,
    statusBadge, table, lineChart, poll, relativeTimes } = ato;
  const runId = app.dataset.runId;
  const $ = (id) => document.getElementById(id);
  const seriesCache = new Map(); // key -> { count: values in the copy, data: the series }
  const slots = new Map(); // key -> the chart's place on the page
  const onScreen = new Set(); // keys whose place is on (or near) the screen
  const watcher = new IntersectionObserver((entries) => {
    const shown = [];
    for (const entry of entries) {
      const key = entry.target.dataset.key;
      if (entry.isIntersecting) { onScreen.add(key); shown.push(key); } else onScreen.delete(key);
    }
    if (shown.length) show(shown).catch((error) => console.warn(error));
  }, { rootMargin: "300px" });
  let run;

  function facts() {
    const box = clear($("facts"));
    const dl = el("dl");
    const add = (term, ...value) => dl.append(el("dt", { text: term }), el("dd", {}, ...value));
    add("project", el("a", { href: `/projects/${encodeURIComponent(run.project)}`, text: run.project }));
    add("started", fmtTime(run.start_time));
    add("ended", fmtTime(run.end_time));
    add("duration", fmtDuration(run.duration_s));
    add("tags", run.tags.length ? el("span", { cls: "tags" }, run.tags.map((t) =>
      t === run.search_tag ? el("a", { cls: "tag", href: `/searches/${encodeURIComponent(run.search_id)}`, text: t })
        : el("span", { cls: "tag", text: t }))) : "–");
    add("structural hash", el("code", { text: run.structural_hash }));
    const summaries = Object.entries(run.metrics).map(([k, m]) =>
      el("span", { cls: "metric-summary" }, el("b", { text: k }),
        ` last ${fmtNum(m.last)} · min ${fmtNum(m.min)} · max ${fmtNum(m.max)} · ${m.count} values`));
    add("metrics", summaries.length ? summaries : "none logged");
    box.append(dl);
    const status = clear($("status"));
    status.append(statusBadge(run.status));
    $("live").hidden = !run.live;
  }

  function configTree(value, depth) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const list = el("ul");
      for (const [key, child] of Object.entries(value)) {
        if (child !== null && typeof child === "object" && !Array.isArray(child) && Object.keys(child).length) {
          const details = el("details", { open: depth < 2 }, el("summary", { text: key }), configTree(child, depth + 1));
          list.append(el("li", {}, details));
        } else {
          list.append(el("li", {}, el("span", { cls: "key", text: key }), ": ",
            el("span", { cls: "value", text: fmtValue(child) })));
        }
      }
      return list;
    }
    return el("span", { cls: "value", text: fmtValue(value) });
  }

  /* How the run was launched: command, directory, host, Python, ato and git as facts; the
     rest (Scope views/overrides, Hydra composition) as a collapsible tree. */
  function provenance() {
    const target = clear($("provenance"));
    const p = run.provenance;
    if (!Object.keys(p).length) { target.append(el("p", { cls: "muted", text: "not recorded" })); return; }
    const dl = el("dl", { cls: "provenance" });
    const add = (term, value) => dl.append(el("dt", { text: term }), el("dd", {}, value));
    const known = new Set(["argv", "cwd", "host", "pid", "python", "ato", "git"]);
    if (p.argv) add("command", el("code", { text: p.argv.map(shellWord).join(" ") }));
    if (p.cwd) add("directory", el("code", { text: p.cwd }));
    if (p.host) add("host", p.pid ? `${p.host} (pid ${p.pid})` : p.host);
    if (p.python) add("python", `${p.python.implementation || ""} ${p.python.version || ""}`.trim());
    if (p.ato) add("ato", Object.entries(p.ato).map(([k, v]) => `${k} ${v}`).join(", "));
    if ("git" in p) {
      const g = p.git;
      add("git", g ? `${g.commit.slice(0, 12)}${g.branch ? ` on ${g.branch}` : ""}${g.dirty ? " (uncommitted changes)" : ""}`
        : "not a git work tree");
    }
    target.append(dl);
    const rest = Object.fromEntries(Object.entries(p).filter(([k]) => !known.has(k)));
    for (const [key, value] of Object.entries(rest)) {
      target.append(el("details", { cls: "tree" }, el("summary", { text: key }), configTree(value, 1)));
    }
  }

  function shellWord(word) {
    return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
  }

  function artifacts() {
    const target = clear($("artifacts"));
    if (!run.artifacts.length) { target.append(el("p", { cls: "muted", text: "none" })); return; }
    const t = el("table", { cls: "grid" });
    target.append(el("div", { cls: "table-wrap" }, t));
    table(t, ["name", "size", "sha256", "kept", "type", "metadata", "logged"], run.artifacts.map((a) => [
      a.download ? el("a", { href: a.download, text: a.name, download: "" }) : el("code", { text: a.name }),
      fmtBytes(a.size),
      a.sha256 ? el("code", { text: a.sha256.slice(0, 12), title: a.sha256 }) : "?",
      a.stored ? "stored" : el("span", { cls: "muted", text: `reference: ${a.path}` }),
      a.data_type, a.metadata === null ? "" : JSON.stringify(a.metadata), fmtTime(a.timestamp),
    ]));
  }

  /* 1536 -> "1.5 KiB"; null (not readable when logged) -> "?". */
  function fmtBytes(size) {
    if (size === null || size === undefined) return "?";
    if (size < 1024) return `${size} B`;
    let value = size / 1024;
    for (const unit of ["KiB", "MiB", "GiB"]) {
      if (value < 1024) return `${value.toFixed(1)} ${unit}`;
      value /= 1024;
    }
    return `${value.toFixed(1)} TiB`;
  }

  function fingerprints() {
    const target = clear($("fingerprints"));
    if (!run.fingerprints.length) { target.append(el("p", { cls: "muted", text: "none" })); return; }
    const t = el("table", { cls: "grid" });
    target.append(el("div", { cls: "table-wrap" }, t));
    table(t, ["trace", "type", "fingerprint"], run.fingerprints.map((f) => [
      f.trace_id, f.trace_type, el("code", { text: f.fingerprint }),
    ]));
  }

  /* Keys logged once are shown as values, not charts; "system/" keys (CPU, memory, GPU from
     the tracker's system monitor) get their own charts on a wall-time axis. */
  const isSystem = (key) => key.startsWith("system/");
  const isSingle = (key) => run.metrics[key] && run.metrics[key].count === 1;

  /* The series of ``keys`` the page has no current copy of (by the run's value counts). A
     copy that ends at a step is completed with the points after that step (?since_step=),
     unless those do not make up the count (a value logged late at an earlier step) or the
     copy has grown past MAX_HELD points: then the whole series is fetched again. */
  const MAX_HELD = 4000;
  async function loadSeries(keys) {
    await Promise.all(keys.map(async (key) => {
      const count = run.metrics[key] ? run.metrics[key].count : null;
      const held = seriesCache.get(key);
      if (held && count !== null && held.count === count) return;
      const url = `/api/runs/${runId}/metrics/${encodeURIComponent(key)}`;
      const last = held && held.data.step.length ? held.data.step[held.data.step.length - 1] : null;
      if (last !== null && held.data.step.length < MAX_HELD) {
        const more = await getJSON(`${url}?since_step=${last}`);
        if (count === null || held.count + more.total >= count) {
          seriesCache.set(key, { count: held.count + more.total, data: merged(held.data, more) });
          return;
        }
      }
      const data = await getJSON(url);
      seriesCache.set(key, { count: data.total, data });
    }));
  }

  /* A held series followed by the points logged after its last step. */
  function merged(data, more) {
    const nonFinite = {};
    for (const kind of Object.keys(data.non_finite)) nonFinite[kind] = data.non_finite[kind] + more.non_finite[kind];
    return { ...data, status: more.status, total: data.total + more.total,
      downsampled: data.downsampled || more.downsampled, non_finite: nonFinite,
      step: data.step.concat(more.step), value: data.value.concat(more.value), time: data.time.concat(more.time) };
  }

  async function show(keys) {
    await loadSeries(keys);
    for (const key of keys) drawChart(key);
  }

  /* Exponential moving average with TensorBoard's debiasing (Kingma & Ba, 2015, Adam's bias
     correction): s_t = w s_(t-1) + (1 - w) v_t, shown as s_t / (1 - w^t); gaps stay gaps. */
  function ema(values, weight) {
    let last = 0, n = 0;
    return values.map((v) => {
      if (v === null || !Number.isFinite(v)) return null;
      last = last * weight + (1 - weight) * v;
      n += 1;
      return last / (1 - weight ** n);
    });
  }

  function valueCards() {
    const target = clear($("values"));
    const single = run.metric_keys.filter(isSingle);
    $("values-section").hidden = !single.length;
    for (const key of single) {
      const m = run.metrics[key];
      target.append(el("div", { cls: "value-card", "data-key": key },
        el("span", { text: key }), el("b", { text: fmtNum(m.last) }),
        el("span", { text: m.last_step === null ? "no step" : `step ${m.last_step}` })));
    }
  }

  const curveKeys = () => run.metric_keys.filter((key) => !isSingle(key));

  /* One empty place per curve, each fetched and drawn once it comes on screen. */
  function layoutCharts() {
    const target = clear($("charts"));
    const system = clear($("system-charts"));
    watcher.disconnect();
    slots.clear();
    onScreen.clear();
    const curves = curveKeys();
    $("system-section").hidden = !curves.some(isSystem);
    if (!run.metric_keys.length) { target.append(el("p", { cls: "muted", text: "no metrics logged" })); return; }
    for (const key of curves) {
      const slot = el("div", { cls: "chart-slot", "data-key": key });
      slot.style.minHeight = "290px";
      (isSystem(key) ? system : target).append(slot);
      slots.set(key, slot);
      watcher.observe(slot);
    }
    if (!curves.filter((key) => !isSystem(key)).length) {
      target.append(el("p", { cls: "muted", text: "no curves: every metric was logged once (see the values above)" }));
    }
  }

  function drawChart(key) {
    const slot = slots.get(key);
    const held = seriesCache.get(key);
    if (!slot || !held) return;
    const s = held.data;
    const odd = Object.entries(s.non_finite).filter(([, n]) => n).map(([kind, n]) => `${n} ${kind}`);
    const note = (s.downsampled ? ` (${s.value.length} of ${s.total} points)` : "") +
      (odd.length ? ` · not drawn: ${odd.join(", ")}` : "");
    if (isSystem(key)) {
      lineChart(clear(slot), key, key + note, [{ label: key, x: s.time, y: s.value }],
        { xLabel: "wall time", wallTime: true, logY: false });
      return;
    }
    const byTime = $("x-axis").value === "time";
    const weight = Number($("smoothing").value);
    const x = byTime ? relativeTimes(s.time) : s.step.map((step, i) => (step === null ? i : step));
    const lines = [{ label: key, x, y: s.value }];
    if (weight > 0) lines.push({ label: `${key} (EMA ${weight.toFixed(2)})`, x, y: ema(s.value, weight) });
    lineChart(clear(slot), key, key + note, lines, {
      xLabel: byTime ? "seconds since first value" : "step", logY: $("log-y").checked,
      colors: weight > 0 ? ["rgba(31,119,180,0.3)", "#1f77b4"] : undefined,
    });
  }

  function drawCharts() {
    $("smoothing-value").textContent = Number($("smoothing").value).toFixed(2);
    for (const key of slots.keys()) drawChart(key);
  }

  let laidOut = "";
  async function refresh() {
    run = await getJSON(`/api/runs/${runId}`);
    facts();
    valueCards();
    const keys = JSON.stringify([run.metric_keys, curveKeys()]);
    if (keys !== laidOut) { laidOut = keys; layoutCharts(); }
    await show([...onScreen]);
    return run.live;
  }

  try {
    await refresh();
    clear($("config")).append(configTree(run.config, 0));
    provenance();
    artifacts();
    fingerprints();
  } catch (error) { showError($("facts"), error); return; }
  $("x-axis").addEventListener("change", drawCharts);
  $("log-y").addEventListener("change", drawCharts);
  $("smoothing").addEventListener("input", drawCharts);
  if (run.live) poll(refresh);
})();
