// Admin → SLA: business calendars and SLA policies (match order, targets, escalations).

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { CLOCK_LABELS, span } from "../sla.js";
import { categoryList, KIND_LABELS, OPEN_STATUSES, STATUS_LABELS } from "../tickets.js";
import { confirmDialog, iconButton, openModal, panel } from "../ui.js";

const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"],
  ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
const list = (text) => text.split(/[\s,]+/).map((v) => v.trim()).filter(Boolean);

function submitter(form, run, dialog) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    try {
      await busy(form, run);
      dialog().close();
    } catch (error) {
      showError(error);
    }
  });
}

function calendarForm(cal, done) {
  const form = h("form", { class: "stack", "aria-label": cal ? "Edit calendar" : "New calendar" },
    h("div", { class: "row-2" },
      field("Name", h("input", { name: "name", required: true, maxlength: 100, value: cal ? cal.name : null })),
      field("Time zone", h("input", { name: "tz", required: true, maxlength: 64, value: cal ? cal.tz : "UTC",
        placeholder: "Europe/Berlin" }), "An IANA name.")),
    DAYS.map(([key, label]) => field(label, h("input", { name: `day-${key}`, maxlength: 200,
      value: cal && cal.hours[key] ? cal.hours[key].join(", ") : "", placeholder: "09:00-12:00, 13:00-17:00" }))),
    field("Holidays", h("input", { name: "holidays", value: cal ? cal.holidays.join(", ") : "",
      placeholder: "2026-12-24, 2026-12-31" }), "Single dates, YYYY-MM-DD."),
    field("Every year", h("input", { name: "recurring", value: cal ? cal.recurring_holidays.join(", ") : "",
      placeholder: "01-01, 12-25" }), "Recurring holidays, MM-DD."),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, cal ? "Save" : "Create calendar")));
  submitter(form, async () => {
    const v = formValues(form);
    const hours = {};
    for (const [key] of DAYS) if (v[`day-${key}`]) hours[key] = list(v[`day-${key}`]);
    const body = { name: v.name, tz: v.tz, hours, holidays: list(v.holidays),
      recurring_holidays: list(v.recurring) };
    const saved = cal ? await api.patch(`/api/v1/sla/calendars/${cal.id}`, body)
      : await api.post("/api/v1/sla/calendars", body);
    showSuccess(`Calendar ${saved.name} saved.`);
    await done();
  }, () => dialog);
  const dialog = openModal(cal ? `Calendar ${cal.name}` : "New calendar", form);
  dialog.classList.add("modal-wide");
}

function minutesInput(name, value) {
  return h("input", { name, type: "number", min: 1, max: 525600, value: value ?? "", placeholder: "none" });
}

function policyForm(policy, dir, done) {
  const p = policy || { conditions: { kinds: [], priorities: [], category_ids: [], requester_group_ids: [] },
    targets: {}, warn_percents: [75], pause_statuses: ["pending"], escalations: [], fallback: false,
    active: true, calendar_id: dir.calendars[0] ? dir.calendars[0].id : null };
  const checks = (prefix, options, chosen) => h("div", { class: "checks" }, options.map(([value, label]) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: `${prefix}-${value}`,
      checked: chosen.includes(value) }), label)));
  const multi = (name, items, chosen, label) => h("select", { name, multiple: true, size: Math.min(4, items.length || 1),
    "aria-label": label }, items.map((i) => h("option", { value: String(i.id), selected: chosen.includes(i.id) }, i.name)));
  const form = h("form", { class: "stack", "aria-label": policy ? "Edit policy" : "New policy" },
    h("div", { class: "row-2" },
      field("Name", h("input", { name: "name", required: true, maxlength: 100, value: p.name || null })),
      field("Calendar", h("select", { name: "calendar_id" }, dir.calendars.map((c) =>
        h("option", { value: String(c.id), selected: c.id === p.calendar_id }, c.name))))),
    h("div", { class: "row-3 row-even" },
      field("First response (min)", minutesInput("first_response", p.targets.first_response)),
      field("Resolution (min)", minutesInput("resolution", p.targets.resolution)),
      field("Next update (min)", minutesInput("next_update", p.targets.next_update))),
    h("p", { class: "hint" }, "Targets count business minutes of the calendar."),
    h("div", { class: "field" }, h("span", { class: "field-label" }, "Priorities (none: any)"),
      checks("prio", [1, 2, 3, 4, 5].map((n) => [n, `P${n}`]), p.conditions.priorities)),
    h("div", { class: "field" }, h("span", { class: "field-label" }, "Kinds (none: any)"),
      checks("kind", Object.entries(KIND_LABELS), p.conditions.kinds)),
    h("div", { class: "row-2" },
      field("Categories (none: any)", multi("category_ids", dir.categories, p.conditions.category_ids, "Categories")),
      field("Requester groups (none: any)", multi("group_ids", dir.groups, p.conditions.requester_group_ids,
        "Requester groups"))),
    h("div", { class: "row-3 row-even" },
      field("Order", h("input", { name: "position", type: "number", min: 0, value: p.position ?? "" }),
        "Lower matches first."),
      field("Warn at (%)", h("input", { name: "warn", value: p.warn_percents.join(", ") }), "e.g. 50, 75"),
      h("div", { class: "field" }, h("span", { class: "field-label" }, "Pause in"),
        checks("pause", OPEN_STATUSES.map((s) => [s, STATUS_LABELS[s]]), p.pause_statuses))),
    h("div", { class: "checks" },
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "fallback", checked: p.fallback }),
        "Fallback (applies when no other policy matches)"),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "active", checked: p.active }), "Active")),
    field("Escalation rules (JSON)", h("textarea", { name: "escalations", rows: 4, class: "mono" },
      JSON.stringify(p.escalations, null, 1)),
    'e.g. [{"on": "breach", "action": "reassign", "group_id": 2}, {"on": "warning", "action": "notify"}]'),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, policy ? "Save" : "Create policy")));
  submitter(form, async () => {
    const v = formValues(form);
    const num = (x) => (x === "" ? null : Number(x));
    let escalations;
    try {
      escalations = JSON.parse(v.escalations || "[]");
    } catch {
      throw new Error("escalation rules are not valid JSON");
    }
    const body = {
      name: v.name, calendar_id: Number(v.calendar_id), fallback: v.fallback, active: v.active,
      targets: { first_response: num(v.first_response), resolution: num(v.resolution),
        next_update: num(v.next_update) },
      conditions: { priorities: [1, 2, 3, 4, 5].filter((n) => v[`prio-${n}`]),
        kinds: Object.keys(KIND_LABELS).filter((k) => v[`kind-${k}`]),
        category_ids: v.category_ids.map(Number), requester_group_ids: v.group_ids.map(Number) },
      warn_percents: list(v.warn).map(Number), pause_statuses: OPEN_STATUSES.filter((s) => v[`pause-${s}`]),
      escalations,
    };
    if (v.position !== "") body.position = Number(v.position);
    const saved = policy ? await api.patch(`/api/v1/sla/policies/${policy.id}`, body)
      : await api.post("/api/v1/sla/policies", body);
    showSuccess(saved.retarget_pending
      ? `Policy ${saved.name} saved; its open tickets are being re-targeted in the background.`
      : `Policy ${saved.name} saved.`);
    await done();
  }, () => dialog);
  const dialog = openModal(policy ? `Policy ${policy.name}` : "New policy", form);
  dialog.classList.add("modal-wide");
}

function conditionText(c, dir) {
  const parts = [];
  if (c.priorities.length) parts.push(c.priorities.map((n) => `P${n}`).join("/"));
  if (c.kinds.length) parts.push(c.kinds.map((k) => KIND_LABELS[k] || k).join("/"));
  const named = (ids, items) => ids.map((id) => (items.find((i) => i.id === id) || { name: `#${id}` }).name);
  if (c.category_ids.length) parts.push(named(c.category_ids, dir.categories).join("/"));
  if (c.requester_group_ids.length) parts.push(`requester in ${named(c.requester_group_ids, dir.groups).join("/")}`);
  return parts.length ? parts.join(" \u00b7 ") : "any ticket";
}

/** Fill the SLA admin view. */
export function slaAdminView(root) {
  const dir = { calendars: [], policies: [], groups: [], categories: [] };
  const calendars = h("tbody");
  const policies = h("tbody");

  async function load() {
    const [cals, pols, groups, categories] = await Promise.all([api.get("/api/v1/sla/calendars"),
      api.get("/api/v1/sla/policies"), allGroups(), categoryList()]);
    Object.assign(dir, { calendars: cals.items, policies: pols.items, groups, categories });
    render();
  }

  async function remove(kind, item) {
    const ok = await confirmDialog(`Delete ${kind}`, `Delete ${kind} ${item.name}?`, { confirmLabel: "Delete",
      danger: true });
    if (!ok) return;
    const path = kind === "calendar" ? "calendars" : "policies";
    if (await guarded(() => api.delete(`/api/v1/sla/${path}/${item.id}`)) !== undefined) {
      showSuccess(`Deleted ${kind} ${item.name}.`);
    }
    await guarded(load);
  }

  function render() {
    replace(calendars, dir.calendars.map((c) => h("tr", { "data-id": c.id },
      h("td", { class: "strong" }, c.name), h("td", {}, c.tz),
      h("td", {}, DAYS.filter(([k]) => c.hours[k]).map(([k, label]) => `${label.slice(0, 3)} ${c.hours[k].join(", ")}`)
        .join("; ")),
      h("td", {}, String(c.holidays.length + c.recurring_holidays.length)),
      h("td", { class: "cell-actions" },
        h("button", { type: "button", class: "btn btn-small", onclick: () => calendarForm(c, load) }, "Edit"),
        h("button", { type: "button", class: "btn btn-small btn-danger-ghost", onclick: () => remove("calendar", c) },
          "Delete")))));
    replace(policies, dir.policies.map((p) => h("tr", { "data-id": p.id },
      h("td", { class: "strong" }, p.name, p.fallback ? h("span", { class: "tag" }, "fallback") : null,
        p.active ? null : h("span", { class: "tag" }, "inactive")),
      h("td", {}, p.fallback ? "when nothing else matches" : conditionText(p.conditions, dir)),
      h("td", {}, Object.entries(p.targets).filter(([, m]) => m).map(([k, m]) => `${CLOCK_LABELS[k]} ${span(m)}`)
        .join(" \u00b7 ")),
      h("td", {}, (dir.calendars.find((c) => c.id === p.calendar_id) || { name: "?" }).name),
      h("td", { class: "cell-actions" },
        h("button", { type: "button", class: "btn btn-small", onclick: () => policyForm(p, dir, load) }, "Edit"),
        h("button", { type: "button", class: "btn btn-small btn-danger-ghost", onclick: () => remove("policy", p) },
          "Delete")))));
  }

  const head = (cols) => h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c))));
  root.append(
    panel("Policies", h("div", { class: "table-wrap" }, h("table", { class: "table", "aria-label": "SLA policies" },
      head(["Policy", "Applies to", "Targets", "Calendar", ""]), policies)),
    { actions: iconButton("plus", "New policy", { class: "btn btn-primary", onclick: () => policyForm(null, dir, load) }) }),
    panel("Business calendars", h("div", { class: "table-wrap" }, h("table", { class: "table",
      "aria-label": "Business calendars" }, head(["Calendar", "Time zone", "Working hours", "Holidays", ""]), calendars)),
    { actions: iconButton("plus", "New calendar", { class: "btn", onclick: () => calendarForm(null, load) }) }));
  guarded(load);
}
