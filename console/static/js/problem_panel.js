// The desk ticket's panels for issue 17: a problem's analysis (root cause, workaround,
// known error, its incidents, publishing the workaround to the KB), resolving a problem
// with its open incidents, and the requester's satisfaction answer with its low-score flag.

import { api } from "./api.js";
import { busy, field, formValues, h, replace } from "./dom.js";
import { dateTime } from "./format.js";
import { t, tn } from "./i18n.js";
import { icon } from "./icons.js";
import { clearNotice, guarded, showError, showSuccess } from "./notice.js";
import { STATUS_LABELS, resolutionCodes } from "./tickets.js";
import { openModal, panel } from "./ui.js";

/** Return stars for a 1-5 score, with a spoken label. */
export function stars(score) {
  return h("span", { class: "tl-stars", "aria-label": t("tl.stars", { score }) },
    "\u2605".repeat(score) + "\u2606".repeat(Math.max(0, 5 - score)));
}

/** The problem's analysis panel; `onSaved(ticket)` gets the updated ticket. */
export function problemPanel(tk, { onSaved }) {
  const cause = h("textarea", { name: "root_cause", rows: 3, maxlength: 20000 });
  cause.value = tk.root_cause || "";
  const workaround = h("textarea", { name: "workaround", rows: 4, maxlength: 20000 });
  workaround.value = tk.workaround || "";
  const known = h("input", { type: "checkbox", name: "known_error", checked: tk.known_error });
  const form = h("form", { class: "stack side-form", "aria-label": t("problem.analysis") },
    field(t("problem.root_cause"), cause),
    field(t("problem.workaround"), workaround, t("problem.workaround_hint")),
    h("label", { class: "check" }, known, t("problem.known_error")),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-small btn-primary" }, t("problem.save"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    try {
      const updated = await busy(form, () => api.patch(`/api/v1/tickets/${tk.id}`, {
        root_cause: cause.value.trim() || null, workaround: workaround.value.trim() || null,
        known_error: known.checked }));
      showSuccess(t("problem.saved", { number: updated.number }));
      onSaved(updated);
    } catch (error) {
      showError(error);
    }
  });
  const publish = h("button", { type: "button", class: "btn btn-small", disabled: !tk.workaround || null,
    onclick: async () => {
      clearNotice();
      publish.disabled = true;
      try {
        const done = await api.post(`/api/v1/problems/${tk.id}/workaround/publish`);
        showSuccess(t("problem.published"));
        onSaved({ ...tk, workaround_article_id: done.article_id });
      } catch (error) {
        publish.disabled = false;
        showError(error);
      }
    } }, icon("book"), tk.workaround_article_id ? t("problem.republish") : t("problem.publish"));
  const article = tk.workaround_article_id ? h("p", { class: "small" },
    h("a", { href: `#/kb/articles/${tk.workaround_article_id}`, "data-workaround-article": "" },
      icon("book"), t("problem.article"))) : null;
  const incidents = h("div", { class: "problem-incidents" }, h("span", { class: "muted" }, "\u2026"));
  guarded(async () => {
    const found = await api.get(`/api/v1/problems/${tk.id}/incidents`);
    replace(incidents, found.items.length ? h("ul", { class: "link-list", "aria-label": t("problem.incidents") },
      found.items.map((i) => h("li", {}, h("a", { href: `#/desk/tickets/${i.id}`, class: "inline-icon" },
        icon("ticket"), i.number), h("span", { class: "muted small related-title" },
        ` ${i.title} \u00b7 ${STATUS_LABELS[i.status] || i.status}`))))
      : h("span", { class: "muted" }, t("common.none")));
  });
  return panel(t("problem.title"), h("div", { class: "stack" }, tk.known_error
    ? h("p", { class: "badge badge-known-error", "data-known-error": "" }, t("problem.known_error_badge")) : null,
  form, h("div", { class: "stack" }, publish, article),
  h("div", { class: "field" }, h("span", { class: "field-label" }, t("problem.incidents")), incidents)));
}

/** Ask how to resolve a problem: a message, a code, which open incidents to resolve too. */
export async function resolveProblemDialog(tk, { onDone, onCancel }) {
  const open = await guarded(() => api.get(`/api/v1/problems/${tk.id}/incidents`, { open: 1 }));
  if (!open) return;
  let done = false;
  const boxes = open.items.map((i) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: `incident_${i.id}`, "data-incident": String(i.id), checked: true }),
    `${i.number} \u2013 ${i.title}`));
  const form = h("form", { class: "stack", "aria-label": t("problem.resolve_title", { number: tk.number }) },
    field(t("ticket.resolution_code"), h("select", { name: "resolution_code", required: true },
      resolutionCodes().map(([code, label]) => h("option", { value: code }, label)))),
    field(t("problem.message"), h("textarea", { name: "message", rows: 4, required: true, maxlength: 20000 }),
      t("problem.message_hint")),
    open.items.length ? h("fieldset", { class: "choice-list" },
      h("legend", {}, tn("problem.open_incidents", open.items.length)), boxes)
      : h("p", { class: "muted" }, t("problem.no_open_incidents")),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, icon("check"), t("problem.resolve"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    const v = formValues(form);
    const chosen = [...form.querySelectorAll("input[data-incident]")].filter((b) => b.checked)
      .map((b) => Number(b.dataset.incident));
    try {
      const result = await busy(form, () => api.post(`/api/v1/problems/${tk.id}/resolve`,
        { message: v.message, resolution_code: v.resolution_code, incident_ids: chosen }));
      done = true;
      dialog.close();
      showSuccess(tn("problem.resolved", result.incident_ids.length, { number: tk.number }));
      onDone();
    } catch (error) {
      showError(error);
    }
  });
  const dialog = openModal(t("problem.resolve_title", { number: tk.number }), form,
    { onClose: () => { if (!done) onCancel(); } });
  form.elements.message.focus();
}

/** The requester's satisfaction answer (staff view) and the low-score flag. */
export function satisfactionPanel(tk, { onChanged }) {
  const s = tk.satisfaction;
  const flag = tk.satisfaction_flagged_at ? h("div", { class: "ticket-note flag-low-score", "data-low-score": "" },
    icon("ban"), ` ${t("satisfaction.flagged", { when: dateTime(tk.satisfaction_flagged_at) })} `,
    h("button", { type: "button", class: "btn btn-small", onclick: async () => {
      clearNotice();
      const ok = await guarded(() => api.delete(`/api/v1/tickets/${tk.id}/rating/flag`).then(() => true));
      if (ok) {
        showSuccess(t("satisfaction.cleared"));
        onChanged();
      }
    } }, t("satisfaction.clear"))) : null;
  const body = s ? h("div", { class: "stack", "data-satisfaction": String(s.score) },
    h("p", {}, stars(s.score), ` ${t("satisfaction.score", { score: s.score })}`,
      h("span", { class: "muted small" }, ` \u00b7 ${t(`satisfaction.via.${s.via}`)} \u00b7 ${dateTime(s.at)}`)),
    s.comment ? h("p", { class: "tl-note" }, s.comment) : null, flag)
    : h("p", { class: "muted" }, t("satisfaction.none"));
  return panel(t("satisfaction.title"), body);
}
