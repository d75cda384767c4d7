// Dialogs for working a ticket on the Desk: merge, split, relate another ticket, canned
// responses and approval decisions. Each awaits the server; what the server refuses about
// the ticket picked or a field typed is said next to it (forms.js), anything else in the
// dialog's notice area.

import { ApiError, api } from "./api.js";
import { field, formValues, h, replace } from "./dom.js";
import { clearFieldErrors, onSubmit, showFieldError } from "./forms.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { clearNotice, guarded, showError } from "./notice.js";
import { priorityBadge, ticketStatusBadge } from "./tickets.js";
import { openModal } from "./ui.js";

/**
 * A search box with a list of tickets to pick one from: words search the text, a number
 * opens that ticket id; empty shows recently updated open tickets. `onPick(ticket)`;
 * `fail(error)` shows a refusal of the API field `apiField` (the ticket picked) under the
 * search box, anything else in the notice area, and lists the tickets again.
 */
function ticketPicker({ exclude, label, actionLabel, onPick, apiField, filter = () => true }) {
  const q = h("input", { type: "search", name: "q", maxlength: 200, "aria-label": t("actions.find"),
    placeholder: t("actions.find_placeholder"), autocomplete: "off" });
  const results = h("ul", { class: "pick-list", "aria-label": t("actions.found") });
  let timer = 0;
  let seq = 0;
  async function find() {
    const text = q.value.trim();
    const mine = ++seq;
    let items;
    if (/^#?\d{1,18}$/.test(text)) {
      const one = await guarded(() => api.get(`/api/v1/tickets/${text.replace("#", "")}`));
      items = one ? [one] : [];
    } else {
      const data = await guarded(() => api.get("/api/v1/tickets",
        text ? { q: text, limit: 15 } : { view: "open", sort: "-updated", limit: 15 }));
      items = data ? data.items : [];
    }
    if (mine !== seq) return; // a later search answered first
    items = items.filter((tk) => !exclude.includes(tk.id) && filter(tk));
    replace(results, items.length ? items.map((tk) => h("li", { "data-id": tk.id },
      priorityBadge(tk.priority),
      h("span", { class: "pick-main" }, h("span", { class: "mono small" }, tk.number), " ",
        h("strong", {}, tk.title)),
      ticketStatusBadge(tk.status),
      h("button", { type: "button", class: "btn btn-small", "aria-label": `${actionLabel} ${tk.number}`,
        onclick: () => onPick(tk) }, actionLabel)))
      : h("li", { class: "list-empty" }, t("actions.no_match")));
  }
  q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 250); });
  q.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    clearTimeout(timer);
    find();
  });
  const box = h("div", { class: "field" }, h("div", { class: "search" }, icon("search"), q));
  const el = h("div", { class: "stack", "aria-label": label }, box, results);
  find();
  function fail(error) {
    if (error instanceof ApiError && error.field === apiField && error.message) {
      showFieldError(q, error.message[0].toUpperCase() + error.message.slice(1));
      find(); // the ticket may have changed: list what can be picked now
    } else {
      showError(error);
    }
  }
  return {
    el, fail, focus: () => q.focus(),
    start: () => { clearNotice(); clearFieldErrors(box); },
  };
}

/** Ask which ticket to merge `ticket` into; resolve to the updated target, or null. */
export function mergeDialog(ticket) {
  return new Promise((resolve) => {
    let merged = null;
    const picker = ticketPicker({
      exclude: [ticket.id], label: t("actions.merge_into"), actionLabel: t("actions.merge_into"),
      apiField: "into_id",
      filter: (tk) => tk.kind === ticket.kind && !["closed", "cancelled"].includes(tk.status),
      onPick: async (target) => {
        picker.start();
        try {
          merged = await api.post(`/api/v1/tickets/${ticket.id}/merge`, { into_id: target.id });
          dialog.close();
        } catch (error) {
          picker.fail(error);
        }
      },
    });
    const dialog = openModal(t("actions.merge_title", { number: ticket.number }), h("div", { class: "stack" },
      h("p", { class: "hint" }, t("actions.merge_hint", { number: ticket.number })), picker.el),
    { onClose: () => resolve(merged) });
    picker.focus();
  });
}

/** Ask which ticket to relate to `ticket`; resolve to the updated ticket, or null. */
export function linkDialog(ticket) {
  return new Promise((resolve) => {
    let updated = null;
    const picker = ticketPicker({
      exclude: [ticket.id, ...ticket.related_ids], label: t("ticket.relate"), actionLabel: t("actions.relate"),
      apiField: "ticket_id",
      onPick: async (other) => {
        picker.start();
        try {
          updated = await api.post(`/api/v1/tickets/${ticket.id}/links`, { ticket_id: other.id });
          dialog.close();
        } catch (error) {
          picker.fail(error);
        }
      },
    });
    const dialog = openModal(t("actions.relate_title", { number: ticket.number }), picker.el, { onClose: () => resolve(updated) });
    picker.focus();
  });
}

/** Ask for the title and description of a ticket split off `ticket`; resolve to it, or null. */
export function splitDialog(ticket) {
  return new Promise((resolve) => {
    let created = null;
    const form = h("form", { class: "stack", "aria-label": t("actions.split") },
      field(t("portal.title"), h("input", { name: "title", required: true, maxlength: 200 })),
      field(t("ticket.description"), h("textarea", { name: "description", rows: 5, maxlength: 20000 }),
        t("actions.split_hint")),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, t("actions.split_off"))));
    onSubmit(form, async () => {
      const v = formValues(form);
      created = await api.post(`/api/v1/tickets/${ticket.id}/split`,
        { title: v.title, description: v.description });
      dialog.close();
    });
    const dialog = openModal(t("actions.split_title", { number: ticket.number }), form, { onClose: () => resolve(created) });
    form.elements.title.focus();
  });
}

/** Let the technician pick a canned response; resolve to its text, or null. */
export function cannedDialog() {
  return new Promise((resolve) => {
    let chosen = null;
    const list = h("ul", { class: "pick-list", "aria-label": t("actions.canned") },
      h("li", { class: "list-empty" }, t("common.loading")));
    const body = h("div", { class: "stack" }, list, h("details", { class: "canned-new" },
      h("summary", {}, t("actions.canned_new")), newCannedForm(() => load())));
    const dialog = openModal(t("actions.canned_insert"), body, { onClose: () => resolve(chosen) });
    async function load() {
      const data = await guarded(() => api.get("/api/v1/canned-responses"));
      if (!data) return;
      replace(list, data.items.length ? data.items.map((c) => h("li", {},
        h("span", { class: "pick-main" }, h("strong", {}, c.title),
          h("span", { class: "muted small canned-preview" }, c.body.length > 90 ? `${c.body.slice(0, 90)}\u2026` : c.body)),
        c.shared ? h("span", { class: "chip" }, t("actions.shared")) : null,
        h("button", { type: "button", class: "btn btn-small", "aria-label": t("actions.insert_named", { title: c.title }),
          onclick: () => { chosen = c.body; dialog.close(); } }, t("actions.insert"))))
        : h("li", { class: "list-empty" }, t("actions.canned_none")));
      const first = list.querySelector("button");
      if (first) first.focus();
    }
    load();
  });
}

function newCannedForm(onSaved) {
  const form = h("form", { class: "stack", "aria-label": t("actions.canned_new") },
    field(t("portal.title"), h("input", { name: "title", required: true, maxlength: 100 })),
    field(t("actions.text"), h("textarea", { name: "body", rows: 4, required: true, maxlength: 20000 })),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-small" }, icon("plus"), t("actions.save_for_me"))));
  onSubmit(form, async () => {
    const v = formValues(form);
    await api.post("/api/v1/canned-responses", { title: v.title, body: v.body });
    form.reset();
    onSaved();
  });
  return form;
}

/** Ask an approver to approve or reject; resolve to the updated ticket, or null. */
export function approvalDialog(ticket, decision) {
  return new Promise((resolve) => {
    let updated = null;
    const approve = decision === "approve";
    const form = h("form", { class: "stack", "aria-label": approve ? t("actions.approve_request") : t("actions.reject_request") },
      field(approve ? t("actions.comment_optional") : t("actions.reason"), h("textarea", { name: "comment", rows: 3, maxlength: 5000,
        required: !approve || null }), approve ? t("actions.comment_hint")
        : t("actions.reason_hint")),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        h("button", { type: "submit", class: approve ? "btn btn-primary" : "btn btn-danger" },
          icon(approve ? "check" : "x"), approve ? t("actions.approve") : t("actions.reject"))));
    onSubmit(form, async () => {
      const v = formValues(form);
      updated = await api.post(`/api/v1/tickets/${ticket.id}/approval`, { decision, comment: v.comment });
      dialog.close();
    });
    const dialog = openModal(t(approve ? "actions.approve_named" : "actions.reject_named", { number: ticket.number }), form,
      { onClose: () => resolve(updated) });
    form.elements.comment.focus();
  });
}

const APPROVAL_STATES = ["requested", "approved", "rejected"];

/** A line telling a service request's approval state ("Waiting for approval by Ada"), or null. */
export function approvalState(ticket) {
  if (!ticket.approval || ticket.approval === "not_required") return null;
  const by = ticket.approver ? [` ${t("approval.by")} `, h("strong", {}, ticket.approver.display_name)] : null;
  return h("p", { class: `approval approval-${ticket.approval}`, "data-approval": ticket.approval },
    icon(ticket.approval === "rejected" ? "x" : ticket.approval === "approved" ? "check" : "history"),
    APPROVAL_STATES.includes(ticket.approval) ? t(`approval.${ticket.approval}`) : ticket.approval, by);
}

/** The filled-in form of a catalog request as a definition list (labels from `fields`). */
export function formFacts(ticket, fields) {
  if (!ticket.form || !Object.keys(ticket.form).length) return null;
  const labels = new Map((fields || []).map((f) => [f.name, f.label]));
  const shown = (v) => (v === true ? t("common.yes") : v === false ? t("common.no") : String(v));
  return h("dl", { class: "facts form-facts", "aria-label": t("ticket.request_form") },
    Object.entries(ticket.form).map(([name, value]) => [
      h("dt", {}, labels.get(name) || name), h("dd", {}, shown(value))]));
}
