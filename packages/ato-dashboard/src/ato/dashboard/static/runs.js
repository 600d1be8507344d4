/* Page "/projects/{name}": the runs table, filtered, sorted and paged by the server
   (/api/projects/{name}/table), so it stays quick at 100,000 runs. The view lives in the
   page's URL (?filter=&sort=&desc=&page=&size=&cols=&view=) so it can be shared: reloading
   or opening the link shows the same runs, order and columns. */
"use strict";
(async () => {
  const { app, el, clear, getJSON, fmtNum, fmtValue, fmtTime, fmtDuration, statusBadge,
    runLink } = ato;
  const project = app.dataset.project;
  const MAX_COMPARE = Number(app.dataset.maxCompare || 100);
  const tableNode = document.getElementById("runs");
  const $ = (id) => document.getElementById(id);
  const STATUSES = ["completed", "running", "crashed", "failed", "killed", "pruned"];

  /* The view, read from and written to the URL. */
  const url = new URL(window.location.href);
  const q = url.searchParams;
  const state = {
    filter: q.get("filter") || "",
    sort: q.get("sort") || "id",
    desc: q.get("desc") !== "0",
    page: Math.max(0, Number(q.get("page") || 1) - 1) || 0,
    size: [25, 50, 100, 250].includes(Number(q.get("size"))) ? Number(q.get("size")) : 50,
    cols: q.has("cols") ? q.get("cols").split(",").filter(Boolean) : null,
    view: q.get("view") === "best" ? "best" : "last",
    selected: new Set(),
  };
  let data = null;
  let request = 0;

  function writeUrl() {
    const next = new URLSearchParams();
    if (state.filter) next.set("filter", state.filter);
    if (state.sort !== "id") next.set("sort", state.sort);
    if (!state.desc) next.set("desc", "0");
    if (state.page) next.set("page", String(state.page + 1));
    if (state.size !== 50) next.set("size", String(state.size));
    if (state.cols) next.set("cols", state.cols.join(","));
    if (state.view !== "last") next.set("view", state.view);
    if ($("f-status").value) next.set("status", $("f-status").value);
    const text = next.toString();
    window.history.replaceState(null, "", text ? `?${text}` : window.location.pathname);
    $("groups-link").href = `/groups/${encodeURIComponent(project)}` +
      (state.filter ? `?filter=${encodeURIComponent(state.filter)}` : "");
  }

  /* The filter in the box and the status picker make one filter expression. */
  function fullFilter() {
    const status = $("f-status").value;
    if (!status) return state.filter;  // as typed, so error positions match the box
    return state.filter.trim() ? `(${state.filter}) and status = '${status}'` : `status = '${status}'`;
  }

  async function load() {
    const mine = ++request;
    const params = new URLSearchParams({
      sort: state.sort, desc: state.desc ? "1" : "0", offset: String(state.page * state.size),
      limit: String(state.size),
    });
    const filter = fullFilter();
    if (filter) params.set("filter", filter);
    $("count").textContent = "loading…";
    try {
      const body = await getJSON(`/api/projects/${encodeURIComponent(project)}/table?${params}`);
      if (mine !== request) return;
      data = body;
      showFilterError(null);
      render();
    } catch (error) {
      if (mine !== request) return;
      showFilterError(error);
    }
    writeUrl();
  }

  function showFilterError(error) {
    const box = $("filter-error");
    box.hidden = !error;
    box.textContent = error ? String(error.message || error) : "";
    $("f-filter").classList.toggle("bad", !!error);
    if (error) $("count").textContent = "";
  }

  /* Columns: run fields, then the metrics, then the chosen config keys. */
  function chosenColumns() {
    if (state.cols) return state.cols;
    const params = differing(data).slice(0, 8).map((k) => `params.${k}`);
    return [...data.metric_keys.map((k) => `metrics.${k}`), ...params];
  }

  function differing(body) {
    return body.param_keys.filter((key) => {
      const column = body.params[key];
      return new Set(column.map((v) => JSON.stringify(v))).size > 1;
    });
  }

  function metricCell(key, i) {
    const m = data.metrics[key];
    if (!m) return null;
    if (state.view === "last") return m.last[i];
    return /loss|err|mse|mae|rmse|perplexity|nll|cost|regret|time/i.test(key) ? m.min[i] : m.max[i];
  }

  function columns() {
    const runs = data.runs;
    const cols = [
      { key: "id", sort: "id", label: "run", show: (i) => runLink(runs.id[i]) },
      { key: "status", sort: "status", label: "status", show: (i) => statusBadge(runs.status[i]) },
      { key: "start", sort: "start_time", label: "start", show: (i) => fmtTime(runs.start_time[i]) },
      { key: "duration", sort: "duration", label: "duration", show: (i) => fmtDuration(runs.duration_s[i]) },
      { key: "tags", label: "tags", cls: "tags-col", show: (i) => tagCell(i) },
    ];
    for (const name of chosenColumns()) {
      if (name.startsWith("metrics.")) {
        const key = name.slice(8);
        cols.push({ key: `m:${key}`, sort: name, label: state.view === "last" ? key : `${key} (best)`,
          cls: "num metric", show: (i) => fmtNum(metricCell(key, i)) });
      } else if (name.startsWith("params.")) {
        const key = name.slice(7);
        cols.push({ key: `p:${key}`, sort: name, label: key, cls: "param",
          show: (i) => (key in data.params ? fmtValue(data.params[key][i] ?? undefined) : "") });
      }
    }
    return cols;
  }

  function tagCell(i) {
    const tags = data.runs.tags[i];
    const items = tags.map((tag) => {
      if (tag === data.runs.search_tag[i]) {
        return el("a", { cls: "tag", href: `/searches/${encodeURIComponent(data.runs.search_id[i])}`, text: tag });
      }
      return el("span", { cls: "tag", text: tag });
    });
    return el("span", { cls: "tags", title: tags.join(" ") }, items);
  }

  function picker() {
    const box = clear($("column-picker"));
    const chosen = new Set(chosenColumns());
    const names = [...data.metric_keys.map((k) => `metrics.${k}`), ...data.param_keys.map((k) => `params.${k}`)];
    for (const name of chosen) if (!names.includes(name)) names.push(name);
    for (const name of names) {
      const input = el("input", { type: "checkbox", value: name, checked: chosen.has(name) });
      input.addEventListener("change", () => {
        const now = chosenColumns().filter((n) => n !== name);
        if (input.checked) now.push(name);
        state.cols = now;
        render();
        writeUrl();
      });
      box.append(el("label", { cls: "pick" }, input, name));
    }
  }

  function render() {
    const cols = columns();
    clear(tableNode);
    const head = el("tr", {}, el("th", { cls: "select" }, ""));
    for (const c of cols) {
      const arrow = c.sort === state.sort ? (state.desc ? " ▼" : " ▲") : "";
      head.append(el("th", { cls: `${c.sort ? "sortable" : ""} ${c.cls || ""}`, "data-key": c.key,
        title: c.sort ? `sort by ${c.sort}` : null,
        onclick: c.sort ? () => {
          if (state.sort === c.sort) state.desc = !state.desc;
          else { state.sort = c.sort; state.desc = c.key.startsWith("m:") || c.key === "id"; }
          state.page = 0;
          load();
        } : null }, c.label + arrow));
    }
    tableNode.append(el("thead", {}, head));
    const body = el("tbody");
    data.runs.id.forEach((id, i) => {
      const box = el("input", { type: "checkbox", cls: "pick-run", "data-run-id": id,
        checked: state.selected.has(id) });
      box.addEventListener("change", () => {
        if (box.checked) state.selected.add(id); else state.selected.delete(id);
        updateCompare();
      });
      body.append(el("tr", { "data-run-id": id }, el("td", { cls: "select" }, box),
        cols.map((c) => el("td", { cls: c.cls || "" }, c.show(i)))));
    });
    tableNode.append(body);
    const pages = Math.max(1, Math.ceil(data.total / state.size));
    const first = data.total ? data.offset + 1 : 0;
    $("count").textContent = `${first}–${data.offset + data.runs.id.length} of ${data.total.toLocaleString("en")} runs`;
    const pager = clear($("pager"));
    if (pages > 1) {
      const go = (page) => () => { state.page = page; load(); };
      pager.append(
        el("button", { type: "button", id: "first-page", disabled: state.page === 0, onclick: go(0) }, "⏮"),
        el("button", { type: "button", id: "prev-page", disabled: state.page === 0, onclick: go(state.page - 1) }, "◀ previous"),
        el("span", { text: ` page ${state.page + 1} of ${pages.toLocaleString("en")} ` }),
        el("button", { type: "button", id: "next-page", disabled: state.page >= pages - 1, onclick: go(state.page + 1) }, "next ▶"),
        el("button", { type: "button", id: "last-page", disabled: state.page >= pages - 1, onclick: go(pages - 1) }, "⏭"));
    }
    $("empty").hidden = data.total !== 0;
    picker();
    updateCompare();
  }

  function updateCompare() {
    const button = $("compare"), n = state.selected.size;
    button.disabled = n < 2 || n > MAX_COMPARE;
    button.textContent = n > MAX_COMPARE
      ? `compare at most ${MAX_COMPARE} (${n} selected)` : `compare selected (${n})`;
  }

  for (const s of STATUSES) $("f-status").append(el("option", { value: s, text: s }));
  if (q.get("status")) $("f-status").value = q.get("status");
  $("f-filter").value = state.filter;
  $("f-size").value = String(state.size);
  $("f-metric-view").value = state.view;
  $("compare").addEventListener("click", () => {
    const ids = [...state.selected].sort((a, b) => a - b).join(",");
    window.location.href = `/compare?runs=${ids}`;
  });
  $("select-page").addEventListener("click", () => {
    for (const id of data.runs.id) if (state.selected.size < MAX_COMPARE) state.selected.add(id);
    render();
  });
  $("filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.filter = $("f-filter").value;
    state.page = 0;
    load();
  });
  $("f-status").addEventListener("change", () => { state.page = 0; load(); });
  $("f-size").addEventListener("change", (e) => { state.size = Number(e.target.value); state.page = 0; load(); });
  $("f-metric-view").addEventListener("change", (e) => { state.view = e.target.value; render(); writeUrl(); });
  await load();
})();
