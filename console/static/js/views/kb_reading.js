// Required reading: the articles one's groups must read, with "I have read it"; for staff,
// per group and article, who has read it and who has not.

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { h, replace } from "../dom.js";
import { icon } from "../icons.js";
import { guarded, showSuccess } from "../notice.js";
import { isStaff } from "../session.js";
import { emptyState, panel } from "../ui.js";

/** Fill the required-reading page. */
export function kbReadingView(root, { user }) {
  const staff = isStaff(user);
  const mine = h("ul", { class: "list kb-mine", "aria-label": "My required reading" });
  const overview = h("div", { class: "kb-overview" });
  let groups = new Map();

  function renderMine(items) {
    replace(mine, items.length ? items.map((p) => h("li", { class: "kb-pending", "data-id": p.article.id },
      h("a", { class: "list-link", href: `#/kb/articles/${p.article.id}` }, p.article.title),
      h("span", { class: "small muted" }, `version ${p.article.version}`),
      h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => acknowledge(p.article) },
        icon("check"), "I have read it")))
      : h("li", {}, emptyState("check", "Nothing to read", "You have read every article required of you.")));
  }

  function renderOverview(rows) {
    if (!rows.length) {
      replace(overview, h("p", { class: "muted" },
        "No article is required reading yet. Open an article and choose \u201cAssign\u201d under Required reading."));
      return;
    }
    replace(overview, h("table", { class: "table kb-reading-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Group"), h("th", {}, "Article"), h("th", {}, "Read"),
        h("th", {}, "Not read yet"))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-article": r.article_id, "data-group": r.group_id },
        h("td", {}, groups.get(r.group_id) || `group #${r.group_id}`),
        h("td", {}, h("a", { href: `#/kb/articles/${r.article_id}` }, r.title)),
        h("td", {}, `${r.acknowledged.length} of ${r.acknowledged.length + r.pending.length}`),
        h("td", { class: "kb-not-read" }, r.pending.length ? r.pending.map((u) => u.display_name).join(", ")
          : h("span", { class: "muted" }, "everyone has read it")))))));
  }

  async function load() {
    const data = await api.get("/api/v1/kb/required-reading");
    if (staff && !groups.size) groups = new Map((await allGroups()).map((g) => [g.id, g.name]));
    if (!root.isConnected) return;
    renderMine(data.mine);
    if (staff) renderOverview(data.overview || []);
  }

  async function acknowledge(article) {
    const done = await guarded(() => api.post(`/api/v1/kb/articles/${article.id}/acknowledge`));
    if (!done) return;
    showSuccess(`Recorded: you have read \u201c${article.title}\u201d.`);
    await guarded(load);
  }

  root.append(h("div", { class: "ticket-nav" },
    h("a", { class: "back-link", href: "#/kb" }, icon("back"), "Knowledge base")),
  h("div", { class: "stack-lg" },
    panel("My required reading", mine),
    staff ? panel("Who has not read what", overview) : null));
  replace(mine, h("li", { class: "muted" }, "Loading\u2026"));
  guarded(load);
}
