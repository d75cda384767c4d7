// How tickets read: labels, badges, the lifecycle's allowed transitions, categories.

import { api } from "./api.js";
import { labels, t } from "./i18n.js";
import { h } from "./dom.js";

// Label tables read the catalogue at each access, so they follow a language switch.
export const STATUS_LABELS = labels("ticket.status",
  ["new", "assigned", "in_progress", "pending", "resolved", "closed", "cancelled"]);
export const STATUSES = Object.keys(STATUS_LABELS);
export const OPEN_STATUSES = ["new", "assigned", "in_progress", "pending"];
export const FINAL_STATUSES = new Set(["closed", "cancelled"]);

// The server's lifecycle (server/tickets/lifecycle.py): which status may follow which.
export const TRANSITIONS = {
  new: ["assigned", "in_progress", "pending", "resolved", "cancelled"],
  assigned: ["new", "in_progress", "pending", "resolved", "cancelled"],
  in_progress: ["assigned", "pending", "resolved", "cancelled"],
  pending: ["assigned", "in_progress", "resolved", "cancelled"],
  resolved: ["in_progress", "closed"],
  closed: [],
  cancelled: [],
};

export const KIND_LABELS = labels("ticket.kind", ["incident", "service_request", "problem"]);
export const LEVEL_LABELS = labels("ticket.level", [1, 2, 3]);
export const PRIORITY_LABELS = labels("ticket.priority", [1, 2, 3, 4, 5]);
export const SOURCE_LABELS = labels("ticket.source", ["portal", "tray", "email", "monitoring", "api"]);

const RESOLUTION_LABELS = labels("ticket.resolution",
  ["fixed", "workaround", "no_fault", "duplicate", "user_error", "wont_fix"]);

/** Return the resolution codes with their labels, [[code, label], ...], in the current language. */
export function resolutionCodes() {
  return Object.entries(RESOLUTION_LABELS);
}

// ITIL's default matrix (rows: impact 1..3, columns: urgency 1..3). The server's matrix is a
// setting the API does not expose, so a new ticket's priority shown here is a preview.
const MATRIX = [[1, 2, 3], [2, 3, 4], [3, 4, 5]];

/** Return the priority (1..5) the default matrix gives an impact and urgency. */
export function previewPriority(impact, urgency) {
  return MATRIX[Number(impact) - 1][Number(urgency) - 1];
}

/** Return a readable resolution code ("No fault found"). */
/**
 * Say what the device a ticket was raised on reported, as reported: "reported by pc-7 for
 * login ‘bob’". The login is the device's word, not the requester's identity.
 */
export function reportedBy(device, login) {
  return t("ticket.reported_by", { device: device || t("ticket.removed_device"), login });
}

export function resolutionLabel(code) {
  return RESOLUTION_LABELS[code] || code;
}

/** A coloured status label. */
export function ticketStatusBadge(status) {
  return h("span", { class: `badge tstatus tstatus-${status}`, "data-status": status },
    STATUS_LABELS[status] || status);
}

/** A P1..P5 badge (P1 red .. P5 grey). */
export function priorityBadge(priority) {
  return h("span", { class: `prio prio-${priority}`,
    title: t("ticket.priority_title", { n: priority, label: PRIORITY_LABELS[priority] || "" }),
    "data-priority": priority }, `P${priority}`);
}

/** A quiet label for a ticket's kind. */
export function kindBadge(kind) {
  return h("span", { class: `kind kind-${kind}` }, KIND_LABELS[kind] || kind);
}

/** Return every category with a "Parent › Child" label, sorted by that label. */
export async function categoryList() {
  const data = await api.get("/api/v1/categories");
  const byId = new Map(data.items.map((c) => [c.id, c]));
  const label = (c, depth = 0) => {
    const parent = c.parent_id !== null && depth < 10 ? byId.get(c.parent_id) : null;
    return parent ? `${label(parent, depth + 1)} \u203a ${c.name}` : c.name;
  };
  return data.items.map((c) => ({ id: c.id, label: label(c), active: c.active !== false }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/**
 * A <select> of categories with a "None" choice. Retired categories are not offered,
 * except the one already chosen (an old ticket keeps it, marked retired).
 */
export function categorySelect(categories, selected, attrs = {}) {
  return h("select", { name: "category_id", ...attrs },
    h("option", { value: "", selected: !selected }, t("common.none")),
    categories.filter((c) => c.active !== false || c.id === selected)
      .map((c) => h("option", { value: String(c.id), selected: c.id === selected },
        c.active === false ? t("picker.retired", { name: c.label }) : c.label)));
}

/** Return the tags typed in a box ("vpn, laptop  wifi") as a clean list. */
export function parseTags(text) {
  return [...new Set(String(text || "").toLowerCase().split(/[\s,]+/).filter(Boolean))];
}
