/* Page "/": the projects of the database. Data: /api/projects. */
"use strict";
(async () => {
  const { el, getJSON, showError, fmtTime, table, clear } = ato;
  const target = document.getElementById("projects");
  try {
    const data = await getJSON("/api/projects");
    target.classList.remove("loading");
    if (!data.projects.length) {
      clear(target).append(el("p", { cls: "empty",
        text: "This database has no projects yet. Runs logged with SQLLogger appear here." }));
      return;
    }
    const tableNode = el("table", { cls: "grid", id: "projects-table" });
    clear(target).append(el("div", { cls: "table-wrap" }, tableNode));
    table(tableNode, ["project", "runs", "last activity", "created"],
      data.projects.map((p) => [
        el("a", { href: `/projects/${encodeURIComponent(p.name)}`, text: p.name }),
        String(p.run_count), fmtTime(p.last_activity), fmtTime(p.created_at),
      ]));
  } catch (error) { showError(target, error); }
})();
