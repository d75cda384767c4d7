// Required reading: the articles one's groups must read, with "I have read it"; for staff,
// per group and article, who has read it and who has not.

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { guarded, showSuccess } from "../notice.js";
import { isStaff } from "../session.js";
import { emptyState, panel } from "../ui.js";

/** Fill the required-reading page. */
export function kbReadingView(root, { user }) {
  const staff = isStaff(user);
  const mine = h("ul", { class: "list kb-mine", "aria-label": t("kbr.mine") });
  const overview = h("div", { class: "kb-overview" });
  let groups = new Map();

  function renderMine(items) {
    replace(mine, items.length ? items.map((p) => h("li", { class: "kb-pending", "data-id": p.article.id },
      h("a", { class: "list-link", href: `#/kb/articles/${p.article.id}` }, p.article.title),
      h("span", { class: "small muted" }, t("kba.version", { n: p.article.version })),
      h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => acknowledge(p.article) },
        icon("check"), t("kba.have_read"))))
      : h("li", {}, emptyState("check", t("kbr.nothing"), t("kbr.nothing_text"))));
  }

  function renderOverview(rows) {
    if (!rows.length) {
      replace(overview, h("p", { class: "muted" },
        t("kbr.none")));
      return;
    }
    replace(overview, h("table", { class: "table kb-reading-table" },
      h("thead", {}, h("tr", {}, h("th", {}, t("enrollment.group")), h("th", {}, t("route.kb_article")), h("th", {}, t("kbr.read")),
        h("th", {}, t("kbr.not_read")))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-article": r.article_id, "data-group": r.group_id },
        h("td", {}, groups.get(r.group_id) || t("names.group", { id: r.group_id })),
        h("td", {}, h("a", { href: `#/kb/articles/${r.article_id}` }, r.title)),
        h("td", {}, t("kbr.of", { n: r.acknowledged.length, total: r.acknowledged.length + r.pending.length })),
        h("td", { class: "kb-not-read" }, r.pending.length ? r.pending.map((u) => u.display_name).join(", ")
          : h("span", { class: "muted" }, t("kbr.everyone"))))))));
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
    showSuccess(t("kbr.recorded", { title: article.title }));
    await guarded(load);
  }

  root.append(h("div", { class: "ticket-nav" },
    h("a", { class: "back-link", href: "#/kb" }, icon("back"), t("nav.kb"))),
  h("div", { class: "stack-lg" },
    panel(t("kbr.mine"), mine),
    staff ? panel(t("kbr.overview"), overview) : null));
  replace(mine, h("li", { class: "muted" }, t("common.loading")));
  guarded(load);
}
