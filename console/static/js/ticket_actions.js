// Dialogs for working a ticket on the Desk: merge, split, relate another ticket, canned
// responses and approval decisions. Each awaits the server and reports through notices.

import { api } from "./api.js";
import { busy, field, formValues, h, replace } from "./dom.js";
import { icon } from "./icons.js";
import { clearNotice, guarded, showError } from "./notice.js";
import { priorityBadge, ticketStatusBadge } from "./tickets.js";
import { openModal } from "./ui.js";

/**
 * A search box with a list of tickets to pick one from: words search the text, a number
 * opens that ticket id; empty shows recently updated open tickets. `onPick(ticket)`.
 */
function ticketPicker({ exclude, label, actionLabel, onPick, filter = () => true }) {
  const q = h("input", { type: "search", name: "q", maxlength: 200, "aria-label": "Find a ticket",
    placeholder: "Words from the title or description, or a ticket id", autocomplete: "off" });
  const results = h("ul", { class: "pick-list", "aria-label": "Tickets found" });
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
      : h("li", { class: "list-empty" }, "No tickets match."));
  }
  q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 250); });
  q.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    clearTimeout(timer);
    find();
  });
  const el = h("div", { class: "stack", "aria-label": label },
    h("div", { class: "search" }, icon("search"), q), results);
  find();
  return { el, focus: () => q.focus() };
}

/** Ask which ticket to merge `ticket` into; resolve to the updated target, or null. */
export function mergeDialog(ticket) {
  return new Promise((resolve) => {
    let merged = null;
    const picker = ticketPicker({
      exclude: [ticket.id], label: "Merge into", actionLabel: "Merge into",
      filter: (tk) => tk.kind === ticket.kind && !["closed", "cancelled"].includes(tk.status),
      onPick: async (target) => {
        clearNotice();
        try {
          merged = await api.post(`/api/v1/tickets/${ticket.id}/merge`, { into_id: target.id });
          dialog.close();
        } catch (error) {
          showError(error);
        }
      },
    });
    const dialog = openModal(`Merge ${ticket.number} into another ticket`, h("div", { class: "stack" },
      h("p", { class: "hint" }, `${ticket.number} will be closed as a reference to the ticket you pick; `
        + "its requester is told, and its devices move over."), picker.el),
    { onClose: () => resolve(merged) });
    picker.focus();
  });
}

/** Ask which ticket to relate to `ticket`; resolve to the updated ticket, or null. */
export function linkDialog(ticket) {
  return new Promise((resolve) => {
    let updated = null;
    const picker = ticketPicker({
      exclude: [ticket.id, ...ticket.related_ids], label: "Relate a ticket", actionLabel: "Relate",
      onPick: async (other) => {
        clearNotice();
        try {
          updated = await api.post(`/api/v1/tickets/${ticket.id}/links`, { ticket_id: other.id });
          dialog.close();
        } catch (error) {
          showError(error);
        }
      },
    });
    const dialog = openModal(`Relate a ticket to ${ticket.number}`, picker.el, { onClose: () => resolve(updated) });
    picker.focus();
  });
}

/** Ask for the title and description of a ticket split off `ticket`; resolve to it, or null. */
export function splitDialog(ticket) {
  return new Promise((resolve) => {
    let created = null;
    const form = h("form", { class: "stack", "aria-label": "Split ticket" },
      field("Title", h("input", { name: "title", required: true, maxlength: 200 })),
      field("Description", h("textarea", { name: "description", rows: 5, maxlength: 20000 }),
        "The new ticket has the same requester, group, impact, urgency and devices; the two are related."),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: "btn btn-primary" }, "Split off")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      const v = formValues(form);
      try {
        created = await busy(form, () => api.post(`/api/v1/tickets/${ticket.id}/split`,
          { title: v.title, description: v.description }));
        dialog.close();
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal(`Split a ticket off ${ticket.number}`, form, { onClose: () => resolve(created) });
    form.elements.title.focus();
  });
}

/** Let the technician pick a canned response; resolve to its text, or null. */
export function cannedDialog() {
  return new Promise((resolve) => {
    let chosen = null;
    const list = h("ul", { class: "pick-list", "aria-label": "Canned responses" },
      h("li", { class: "list-empty" }, "Loading\u2026"));
    const body = h("div", { class: "stack" }, list, h("details", { class: "canned-new" },
      h("summary", {}, "New canned response"), newCannedForm(() => load())));
    const dialog = openModal("Insert a canned response", body, { onClose: () => resolve(chosen) });
    async function load() {
      const data = await guarded(() => api.get("/api/v1/canned-responses"));
      if (!data) return;
      replace(list, data.items.length ? data.items.map((c) => h("li", {},
        h("span", { class: "pick-main" }, h("strong", {}, c.title),
          h("span", { class: "muted small canned-preview" }, c.body.length > 90 ? `${c.body.slice(0, 90)}\u2026` : c.body)),
        c.shared ? h("span", { class: "chip" }, "Shared") : null,
        h("button", { type: "button", class: "btn btn-small", "aria-label": `Insert ${c.title}`,
          onclick: () => { chosen = c.body; dialog.close(); } }, "Insert")))
        : h("li", { class: "list-empty" }, "No canned responses yet: add one below."));
      const first = list.querySelector("button");
      if (first) first.focus();
    }
    load();
  });
}

function newCannedForm(onSaved) {
  const form = h("form", { class: "stack", "aria-label": "New canned response" },
    field("Title", h("input", { name: "title", required: true, maxlength: 100 })),
    field("Text", h("textarea", { name: "body", rows: 4, required: true, maxlength: 20000 })),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-small" }, icon("plus"), "Save for me")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    const v = formValues(form);
    try {
      await busy(form, () => api.post("/api/v1/canned-responses", { title: v.title, body: v.body }));
      form.reset();
      onSaved();
    } catch (error) {
      showError(error);
    }
  });
  return form;
}

/** Ask an approver to approve or reject; resolve to the updated ticket, or null. */
export function approvalDialog(ticket, decision) {
  return new Promise((resolve) => {
    let updated = null;
    const approve = decision === "approve";
    const form = h("form", { class: "stack", "aria-label": approve ? "Approve request" : "Reject request" },
      field(approve ? "Comment (optional)" : "Reason", h("textarea", { name: "comment", rows: 3, maxlength: 5000,
        required: !approve || null }), approve ? "The requester sees this comment."
        : "The request is cancelled; the requester sees the reason."),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: approve ? "btn btn-primary" : "btn btn-danger" },
          icon(approve ? "check" : "x"), approve ? "Approve" : "Reject")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      const v = formValues(form);
      try {
        updated = await busy(form, () => api.post(`/api/v1/tickets/${ticket.id}/approval`,
          { decision, comment: v.comment }));
        dialog.close();
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal(`${approve ? "Approve" : "Reject"} ${ticket.number}`, form,
      { onClose: () => resolve(updated) });
    form.elements.comment.focus();
  });
}

const APPROVAL_TEXT = { requested: "Waiting for approval", approved: "Approved", rejected: "Rejected" };

/** A line telling a service request's approval state ("Waiting for approval by Ada"), or null. */
export function approvalState(ticket) {
  if (!ticket.approval || ticket.approval === "not_required") return null;
  const by = ticket.approver ? [" by ", h("strong", {}, ticket.approver.display_name)] : null;
  return h("p", { class: `approval approval-${ticket.approval}`, "data-approval": ticket.approval },
    icon(ticket.approval === "rejected" ? "x" : ticket.approval === "approved" ? "check" : "history"),
    APPROVAL_TEXT[ticket.approval] || ticket.approval, by);
}

/** The filled-in form of a catalog request as a definition list (labels from `fields`). */
export function formFacts(ticket, fields) {
  if (!ticket.form || !Object.keys(ticket.form).length) return null;
  const labels = new Map((fields || []).map((f) => [f.name, f.label]));
  const shown = (v) => (v === true ? "Yes" : v === false ? "No" : String(v));
  return h("dl", { class: "facts form-facts", "aria-label": "Request form" },
    Object.entries(ticket.form).map(([name, value]) => [
      h("dt", {}, labels.get(name) || name), h("dd", {}, shown(value))]));
}
