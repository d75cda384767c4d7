// Improvement for the desk: recurring problems found in the history (accept one as a
// problem record, or dismiss it) and satisfaction per technician or group — both within
// the groups the viewer belongs to (all of it for admins).

import { api } from "../api.js";
import { field, h, replace } from "../dom.js";
import { number } from "../format.js";
import { t, tn } from "../i18n.js";
import { icon } from "../icons.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { STATUS_LABELS } from "../tickets.js";
import { confirmDialog, emptyState, iconButton, panel } from "../ui.js";

function suggestionCard(s, { onAccept, onDismiss }) {
  return h("article", { class: "panel suggestion", "data-suggestion": String(s.id), "aria-label": s.title },
    h("header", { class: "panel-head" },
      h("h2", { class: "panel-title" }, s.title),
      h("span", { class: "badge" }, t(`problems.source.${s.source}`))),
    h("div", { class: "panel-body stack" },
      h("p", { class: "muted small" }, tn("problems.incident_count", s.incidents.length)),
      h("ul", { class: "link-list", "aria-label": t("problems.incidents") }, s.incidents.map((i) => h("li", {},
        h("a", { href: `#/desk/tickets/${i.id}`, class: "inline-icon" }, icon("ticket"), i.number),
        h("span", { class: "muted small related-title" }, ` ${i.title} \u00b7 ${STATUS_LABELS[i.status] || i.status}`)))),
      h("div", { class: "form-actions" },
        iconButton("x", t("problems.dismiss"), { onclick: () => onDismiss(s) }),
        iconButton("check", t("problems.accept"), { class: "btn btn-primary", onclick: () => onAccept(s) }))));
}

/** Fill the recurring-problems view. */
export function problemsView(root) {
  const list = h("div", { class: "stack" });
  const count = h("span", { class: "muted", "aria-live": "polite" });

  async function load() {
    const found = await guarded(() => api.get("/api/v1/problem-suggestions"));
    if (!found) return;
    count.textContent = tn("problems.open_count", found.items.length);
    replace(list, found.items.length ? found.items.map((s) => suggestionCard(s, { onAccept: accept, onDismiss: dismiss }))
      : emptyState("check", t("problems.empty_title"), t("problems.empty_text")));
  }

  async function accept(s) {
    clearNotice();
    const ok = await confirmDialog(t("problems.accept_title"), tn("problems.accept_text", s.incidents.length),
      { confirmLabel: t("problems.accept") });
    if (!ok) return;
    const made = await guarded(() => api.post(`/api/v1/problem-suggestions/${s.id}/accept`, {}));
    if (!made) return;
    showSuccess(t("problems.accepted"));
    location.hash = `#/desk/tickets/${made.problem_id}`;
  }

  async function dismiss(s) {
    clearNotice();
    const done = await guarded(async () => { await api.post(`/api/v1/problem-suggestions/${s.id}/dismiss`); return true; });
    if (!done) return;
    showSuccess(t("problems.dismissed"));
    await load();
  }

  const refresh = iconButton("history", t("problems.refresh"), { onclick: async () => {
    clearNotice();
    refresh.disabled = true;
    try {
      await api.post("/api/v1/problem-suggestions/refresh");
      await load();
    } catch (error) {
      showError(error);
    } finally {
      refresh.disabled = false;
    }
  } });
  root.append(
    h("div", { class: "toolbar" }, h("p", { class: "muted lead" }, t("problems.lead")),
      h("div", { class: "toolbar-end" }, refresh)),
    list, h("p", {}, count));
  load();
}

/** Fill the satisfaction view: answers per technician or group. */
export function satisfactionView(root) {
  const by = h("select", { name: "by" },
    h("option", { value: "technician" }, t("satisfaction.by.technician")),
    h("option", { value: "group" }, t("satisfaction.by.group")));
  const days = h("select", { name: "days" }, [30, 90, 365, 0].map((d) => h("option", { value: String(d),
    selected: d === 90 || null }, d ? tn("satisfaction.days", d) : t("satisfaction.all_time"))));
  const summary = h("p", { class: "muted", "aria-live": "polite" });
  const tbody = h("tbody");
  const table = h("table", { class: "table", "aria-label": t("satisfaction.title") },
    h("thead", {}, h("tr", {}, [t("satisfaction.col.name"), t("satisfaction.col.answers"),
      t("satisfaction.col.average"), t("satisfaction.col.low")].map((c) => h("th", { scope: "col" }, c)))), tbody);

  async function load() {
    const agg = await guarded(() => api.get("/api/v1/satisfaction", { by: by.value, days: days.value }));
    if (!agg) return;
    summary.textContent = agg.total ? t("satisfaction.summary", { total: number(agg.total),
      average: number(agg.average) }) : t("satisfaction.empty");
    replace(tbody, agg.items.map((r) => h("tr", { "data-row": r.name || "" },
      h("td", {}, r.name || h("span", { class: "muted" }, by.value === "group" ? t("satisfaction.no_group")
        : t("ticket.unassigned"))),
      h("td", {}, number(r.answers)), h("td", {}, number(r.average)), h("td", {}, number(r.low)))));
    table.hidden = agg.items.length === 0;
  }
  by.addEventListener("change", load);
  days.addEventListener("change", load);
  root.append(
    h("div", { class: "toolbar" }, h("div", { class: "row-2" }, field(t("satisfaction.by"), by),
      field(t("satisfaction.period"), days))),
    panel(t("satisfaction.title"), [summary, h("div", { class: "table-wrap" }, table)]));
  load();
}
