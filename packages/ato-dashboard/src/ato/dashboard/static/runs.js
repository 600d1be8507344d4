/* Page "/projects/{name}": the runs table. Data: /api/projects/{name}/runs.
   Columns: id, status, start, duration, tags, one column per metric (last or best value)
   and config parameters (default: the keys whose values differ between runs). */
"use strict";
(async () => {
  const { app, el, clear, getJSON, showError, fmtNum, fmtValue, fmtTime, fmtDuration,
    statusBadge, runLink } = ato;
  const PAGE_SIZE = 100;
  const project = app.dataset.project;
  const tableNode = document.getElementById("runs");
  const $ = (id) => document.getElementById(id);
  let data;
  try {
    data = await getJSON(`/api/projects/${encodeURIComponent(project)}/runs`);
  } catch (error) { showError(tableNode.parentElement, error); return; }
  data.runs = rowsOf(data);

  /* The JSON holds columns (entry i of each list is run i); the table works on one object per
     run whose params and metrics read its entry of the columns. */
  function rowsOf(body) {
    const cols = body.runs;
    const missing = new Map(Object.entries(body.params_missing).map(([k, ids]) => [k, new Set(ids)]));
    return cols.id.map((id, i) => ({
      id, i, status: cols.status[i], start_time: cols.start_time[i], end_time: cols.end_time[i],
      duration_s: cols.duration_s[i], tags: cols.tags[i], search_id: cols.search_id[i],
      search_tag: cols.search_tag[i], contract_tags: cols.contract_tags[i], rung: cols.rung[i],
      budget: cols.budget[i], trial: cols.trial[i],
      param: (key) => (key in body.params && !missing.get(key)?.has(i) ? body.params[key][i] : undefined),
    }));
  }

  const state = {
    sortKey: "id", sortDir: -1, page: 0, selected: new Set(),
    params: new Set(data.differing_param_keys.length ? data.differing_param_keys :
      data.param_keys.slice(0, 8)),
    metricView: "last",
  };

  function fillSelect(select, values) {
    for (const v of values) select.append(el("option", { value: v, text: v }));
  }
  fillSelect($("f-status"), data.statuses);
  const tags = new Set(); const searches = new Set();
  for (const run of data.runs) {
    for (const tag of run.tags) if (!run.contract_tags.includes(tag)) tags.add(tag);
    if (run.search_id !== null) searches.add(run.search_id);
  }
  fillSelect($("f-tag"), [...tags].sort());
  fillSelect($("f-search"), [...searches].sort());

  const picker = $("column-picker");
  for (const key of data.param_keys) {
    const box = el("input", { type: "checkbox", value: key, checked: state.params.has(key) });
    box.addEventListener("change", () => {
      if (box.checked) state.params.add(key); else state.params.delete(key);
      render();
    });
    picker.append(el("label", { cls: "pick" }, box, key));
  }

  /* Infinite values arrive as the texts "inf"/"-inf" and sort beyond every number; "nan"
     sorts with the runs that lack the metric. */
  const NON_FINITE = { inf: Infinity, "-inf": -Infinity, nan: null };
  function sortable(value) {
    return typeof value === "string" && value in NON_FINITE ? NON_FINITE[value] : value;
  }

  function metricValue(run, key) {
    return data.metrics[key][state.metricView === "last" ? "last" : "best"][run.i];
  }

  function columns() {
    const cols = [
      { key: "id", label: "run", get: (r) => r.id, show: (r) => runLink(r.id) },
      { key: "status", label: "status", get: (r) => r.status, show: (r) => statusBadge(r.status) },
      { key: "start", label: "start", get: (r) => r.start_time, show: (r) => fmtTime(r.start_time) },
      { key: "duration", label: "duration", get: (r) => r.duration_s, show: (r) => fmtDuration(r.duration_s) },
      { key: "tags", label: "tags", cls: "tags-col", get: (r) => r.tags.join(" "), show: (r) => tagCell(r) },
    ];
    for (const key of data.metric_keys) {
      const label = state.metricView === "last" ? key : `${key} (${data.metric_modes[key]})`;
      cols.push({ key: `m:${key}`, label, cls: "num metric", get: (r) => sortable(metricValue(r, key)),
        show: (r) => fmtNum(metricValue(r, key)) });
    }
    for (const key of data.param_keys) {
      if (!state.params.has(key)) continue;
      cols.push({ key: `p:${key}`, label: key, cls: "param", get: (r) => r.param(key),
        show: (r) => fmtValue(r.param(key)) });
    }
    return cols;
  }

  function tagCell(run) {
    const items = run.tags.map((tag) => {
      if (tag === run.search_tag) {
        return el("a", { cls: "tag", href: `/searches/${encodeURIComponent(run.search_id)}`, text: tag });
      }
      return el("span", { cls: "tag", text: tag });
    });
    return el("span", { cls: "tags", title: run.tags.join(" ") }, items);
  }

  function searchable(run) {
    return [run.id, run.status, ...run.tags,
      ...data.param_keys.filter((k) => run.param(k) !== undefined)
        .map((k) => `${k}=${fmtValue(run.param(k))}`)].join(" ").toLowerCase();
  }
  const haystacks = new Map(data.runs.map((run) => [run.id, searchable(run)]));

  const paramByLowerName = new Map(data.param_keys.map((k) => [k.toLowerCase(), k]));
  /* A word "key=number" matches a run whose param equals that number, however it is
     written (1e-05, 1e-5 and 0.00001 alike); any other word is found in the run's text. */
  function matches(run, word) {
    const eq = word.indexOf("=");
    if (eq > 0 && word.slice(eq + 1).trim() !== "") {
      const wanted = Number(word.slice(eq + 1));
      const value = run.param(paramByLowerName.get(word.slice(0, eq)));
      if (Number.isFinite(wanted) && typeof value === "number" && value === wanted) return true;
    }
    return haystacks.get(run.id).includes(word);
  }

  function filtered() {
    const status = $("f-status").value, tag = $("f-tag").value, search = $("f-search").value;
    const words = $("f-text").value.toLowerCase().split(/\s+/).filter(Boolean);
    return data.runs.filter((run) =>
      (!status || run.status === status) &&
      (!tag || run.tags.includes(tag)) &&
      (!search || run.search_id === search) &&
      words.every((w) => matches(run, w)));
  }

  function compareValues(a, b) {
    const missingA = a === null || a === undefined, missingB = b === null || b === undefined;
    if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
    if (typeof a === "number" && typeof b === "number") return a === b ? 0 : a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function render() {
    const cols = columns();
    const col = cols.find((c) => c.key === state.sortKey) || cols[0];
    const rows = filtered().sort((a, b) => {
      const order = compareValues(col.get(a), col.get(b));
      const missing = col.get(a) == null || col.get(b) == null;
      return (missing ? order : order * state.sortDir) || (a.id - b.id) * state.sortDir;
    });
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const shown = rows.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);

    clear(tableNode);
    const head = el("tr", {}, el("th", { cls: "select" }, ""));
    for (const c of cols) {
      const arrow = c.key === state.sortKey ? (state.sortDir > 0 ? " ▲" : " ▼") : "";
      head.append(el("th", { cls: `sortable ${c.cls || ""}`, "data-key": c.key, title: "sort",
        onclick: () => {
          if (state.sortKey === c.key) state.sortDir = -state.sortDir;
          else { state.sortKey = c.key; state.sortDir = c.key.startsWith("m:") || c.key === "id" ? -1 : 1; }
          render();
        } }, c.label + arrow));
    }
    tableNode.append(el("thead", {}, head));
    const body = el("tbody");
    for (const run of shown) {
      const box = el("input", { type: "checkbox", cls: "pick-run", "data-run-id": run.id,
        checked: state.selected.has(run.id) });
      box.addEventListener("change", () => {
        if (box.checked) state.selected.add(run.id); else state.selected.delete(run.id);
        updateCompare();
      });
      body.append(el("tr", { "data-run-id": run.id }, el("td", { cls: "select" }, box),
        cols.map((c) => el("td", { cls: c.cls || "" }, c.show(run)))));
    }
    tableNode.append(body);
    $("count").textContent = `${rows.length} of ${data.runs.length} runs`;
    const pager = clear($("pager"));
    if (pages > 1) {
      pager.append(
        el("button", { type: "button", disabled: state.page === 0, onclick: () => { state.page--; render(); } }, "◀ previous"),
        el("span", { text: ` page ${state.page + 1} of ${pages} ` }),
        el("button", { type: "button", disabled: state.page >= pages - 1, onclick: () => { state.page++; render(); } }, "next ▶"));
    }
    updateCompare();
  }

  function updateCompare() {
    const button = $("compare"), n = state.selected.size;
    button.disabled = n < 2 || n > data.max_compare;
    button.textContent = n > data.max_compare
      ? `compare at most ${data.max_compare} (${n} selected)` : `compare selected (${n})`;
  }
  $("compare").addEventListener("click", () => {
    const ids = [...state.selected].sort((a, b) => a - b).join(",");
    window.location.href = `/compare?runs=${ids}`;
  });
  for (const id of ["f-status", "f-tag", "f-search", "f-text"]) {
    $(id).addEventListener("input", () => { state.page = 0; render(); });
  }
  $("f-metric-view").addEventListener("change", (e) => { state.metricView = e.target.value; render(); });
  if (data.runs.length === 0) {
    tableNode.parentElement.append(el("p", { cls: "empty", text: "This project has no runs." }));
  }
  render();
})();
