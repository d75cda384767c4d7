// The desk's bulk actions: a bar over the queue while tickets are ticked, and the dialogs
// that assign, change the status of, merge or tag all of them through one API call
// (POST /api/v1/tickets/bulk). The server changes each ticket by the single-ticket rules
// and answers per ticket; the ones it refused stay ticked and are listed in words.

import { api } from "./api.js";
import { allGroups, allUsers } from "./directory.js";
import { busy, field, formValues, h, replace } from "./dom.js";
import { clearFieldErrors, fieldError, focusFirstError, placeServerError } from "./field_errors.js";
import { t, tn } from "./i18n.js";
import { icon } from "./icons.js";
import { clearNotice, showError, showSuccess } from "./notice.js";
import { STATUSES, STATUS_LABELS, resolutionCodes } from "./tickets.js";
import { openModal } from "./ui.js";

const TAG = /^[\p{L}\p{N}_.-]{1,50}$/u; // the server's Tag: \w, dot and dash

let people = null; // {staff, groups} sorted by name, loaded when the first dialog opens

async function loadPeople() {
  if (!people) {
    const [users, groups] = await Promise.all([allUsers(), allGroups()]);
    const byName = (a, b) => a.localeCompare(b);
    people = {
      staff: users.filter((u) => u.active && u.role !== "requester")
        .sort((a, b) => byName(a.display_name, b.display_name)),
      groups: groups.sort((a, b) => byName(a.name, b.name)),
    };
  }
  return people;
}

function actions(form, dialog, label) {
  return h("div", { class: "form-actions" },
    h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("desk.cancel")),
    h("button", { type: "submit", class: "btn btn-primary" }, label));
}

async function assignFields(me) {
  const { staff, groups } = await loadPeople();
  const keep = () => h("option", { value: "" }, t("desk.bulk.keep"));
  return [
    field(t("desk.bulk.assignee"), h("select", { name: "assignee_id" }, keep(),
      h("option", { value: "none" }, t("desk.unassigned")),
      staff.map((u) => h("option", { value: String(u.id) },
        u.id === me.id ? t("desk.bulk.me", { name: u.display_name }) : u.display_name)))),
    field(t("desk.bulk.group"), h("select", { name: "group_id" }, keep(),
      h("option", { value: "none" }, t("desk.bulk.no_group")),
      groups.map((g) => h("option", { value: String(g.id) }, g.name))),
    t("desk.bulk.group_hint")),
  ];
}

function assignBody(form, v) {
  const body = {};
  const id = (value) => (value === "none" ? null : Number(value));
  if (v.assignee_id) body.assignee_id = id(v.assignee_id);
  if (v.group_id) body.group_id = id(v.group_id);
  if (!v.assignee_id && !v.group_id) {
    fieldError(form.elements.assignee_id, t("desk.bulk.assign_needed"));
    return null;
  }
  return body;
}

function statusFields() {
  const note = h("textarea", { name: "resolution_note", rows: 3, maxlength: 20000 });
  const code = h("select", { name: "resolution_code" },
    resolutionCodes().map(([value, label]) => h("option", { value }, label)));
  const resolution = h("div", { class: "stack", hidden: true },
    field(t("desk.bulk.resolution_code"), code), field(t("desk.bulk.resolution_note"), note));
  const status = h("select", { name: "status", required: true },
    STATUSES.map((st) => h("option", { value: st }, STATUS_LABELS[st] || st)));
  status.addEventListener("change", () => { resolution.hidden = status.value !== "resolved"; });
  return [field(t("desk.bulk.new_status"), status, t("desk.bulk.status_hint")), resolution];
}

function statusBody(form, v) {
  const body = { status: v.status };
  if (v.status === "resolved") {
    if (!v.resolution_note) {
      fieldError(form.elements.resolution_note, t("desk.bulk.note_needed"));
      return null;
    }
    Object.assign(body, { resolution_code: v.resolution_code, resolution_note: v.resolution_note });
  }
  return body;
}

function mergeFields(chosen) {
  const legend = h("legend", {}, t("desk.bulk.merge_into"));
  return [h("fieldset", { class: "field choice-list", name: "into" }, legend,
    chosen.map((tk, i) => h("label", { class: "check" },
      h("input", { type: "radio", name: "into_id", value: String(tk.id), checked: i === 0 }),
      h("span", {}, h("span", { class: "mono" }, tk.number), " ", tk.title)))),
  h("p", { class: "hint" }, t("desk.bulk.merge_hint"))];
}

function tagFields() {
  return [field(t("desk.bulk.tag"), h("input", { name: "tag", maxlength: 50, autocomplete: "off",
    placeholder: t("desk.bulk.tag_placeholder") }), t("desk.bulk.tag_hint"))];
}

function tagBody(form, v) {
  const tag = v.tag.toLowerCase();
  if (!TAG.test(tag)) {
    fieldError(form.elements.tag, v.tag ? t("desk.bulk.tag_bad") : t("desk.bulk.tag_needed"));
    return null;
  }
  return { tag };
}

const ACTIONS = {
  assign: { label: () => t("desk.bulk.assign"), icon: "user", fields: (c, me) => assignFields(me),
    body: assignBody },
  status: { label: () => t("desk.bulk.status"), icon: "history", fields: statusFields, body: statusBody },
  merge: { label: () => t("desk.bulk.merge"), icon: "ticket", fields: mergeFields, min: 2,
    body: (form, v) => ({ into_id: Number(v.into_id) }) },
  tag: { label: () => t("desk.bulk.add_tag"), icon: "plus", fields: tagFields, body: tagBody },
};

/** Say what a bulk action did, ticket by ticket for the ones that failed. */
function report(outcome) {
  const failed = outcome.results.filter((r) => r.outcome === "failed");
  const parts = [];
  if (outcome.changed) parts.push(tn("desk.bulk.changed", outcome.changed));
  if (outcome.unchanged) parts.push(tn("desk.bulk.unchanged", outcome.unchanged));
  if (!failed.length) {
    showSuccess(parts.join(" ") || tn("desk.bulk.unchanged", 0));
    return [];
  }
  const lines = failed.map((r) => t("desk.bulk.failed_line",
    { number: r.number || `#${r.id}`, message: r.error.message }));
  showError([...parts, tn("desk.bulk.failed", failed.length), ...lines].join(" "));
  return failed.map((r) => r.id);
}

/**
 * The bulk bar: "3 selected" and the actions. `chosen` is the Set of ticked ids,
 * `ticketOf(id)` returns a shown ticket, `onDone(failedIds)` follows a bulk action.
 */
export function bulkBar({ chosen, ticketOf, me, onDone, onClear }) {
  const count = h("strong", { class: "bulk-count", "aria-live": "polite" });
  const buttons = Object.entries(ACTIONS).map(([name, a]) => h("button", {
    type: "button", class: "btn btn-small", "data-bulk": name, onclick: () => open(name) },
  icon(a.icon), a.label()));
  const clear = h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: onClear },
    t("desk.bulk.clear"));
  const bar = h("div", { class: "bulk-bar", role: "region", "aria-label": t("desk.bulk.region"),
    hidden: true }, count, h("div", { class: "bulk-actions" }, buttons, clear));

  function update() {
    const n = chosen.size;
    bar.hidden = n === 0;
    replace(count, tn("desk.bulk.selected", n));
    for (const b of buttons) b.disabled = n < (ACTIONS[b.dataset.bulk].min || 1);
  }

  async function open(name) {
    clearNotice();
    const action = ACTIONS[name];
    const selection = [...chosen].map(ticketOf).filter(Boolean);
    let fields;
    try {
      fields = await action.fields(selection, me);
    } catch (error) {
      showError(error);
      return;
    }
    const form = h("form", { class: "stack", "aria-label": action.label(), novalidate: true },
      h("p", { class: "muted" }, tn("desk.bulk.applies_to", selection.length)), fields);
    const dialog = openModal(`${action.label()} \u00b7 ${tn("desk.bulk.selected", selection.length)}`, form);
    form.append(actions(form, dialog, t("desk.bulk.apply")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      const extra = action.body(form, formValues(form));
      if (!extra) {
        focusFirstError(form);
        return;
      }
      try {
        const outcome = await busy(form, () => api.post("/api/v1/tickets/bulk",
          { ids: selection.map((tk) => tk.id), action: name, ...extra }));
        dialog.close();
        onDone(report(outcome));
      } catch (error) {
        if (!placeServerError(form, error)) showError(error);
      }
    });
    const first = form.querySelector("select, input, textarea");
    if (first) first.focus();
  }

  update();
  return { element: bar, update };
}
