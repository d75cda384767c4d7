// Admin → SLA: business calendars and SLA policies (match order, targets, escalations).
// The policy editor lives in sla_policy.js.

import { api } from "../api.js";
import { allGroups, allUsers } from "../directory.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearFieldErrors, placeError, showFieldErrors } from "../forms.js";
import { t } from "../i18n.js";
import { clearNotice, guarded, showSuccess } from "../notice.js";
import { categoryList } from "../tickets.js";
import { confirmDialog, iconButton, openModal, panel } from "../ui.js";
import { policyForm, targetText } from "./sla_policy.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
// The server names days in English in its calendar checks (server/sla/calendar.py).
const DAY_EN = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday",
  sat: "Saturday", sun: "Sunday" };
const CLOCKS = ["first_response", "resolution", "next_update"];
const list = (text) => text.split(/[\s,]+/).map((v) => v.trim()).filter(Boolean);
const INTERVAL = /^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/;

function calendarForm(cal, done) {
  const wrap = (path, el) => {
    el.dataset.field = path;
    return el;
  };
  const form = h("form", { class: "stack", novalidate: true,
    "aria-label": cal ? t("sla.calendar.edit") : t("sla.calendar.new") },
    h("div", { class: "row-2" },
      wrap("name", field(t("sla.calendar.name"), h("input", { name: "name", maxlength: 100, value: cal ? cal.name : null }))),
      wrap("tz", field(t("sla.calendar.tz"), h("input", { name: "tz", maxlength: 64, value: cal ? cal.tz : "UTC",
        placeholder: "Asia/Jakarta" }), t("sla.calendar.tz_hint")))),
    DAYS.map((key) => wrap(`hours.${key}`, field(t(`sla.day.${key}`), h("input", { name: `day-${key}`, maxlength: 200,
      value: cal && cal.hours[key] ? cal.hours[key].join(", ") : "", placeholder: "09:00-12:00, 13:00-17:00" })))),
    wrap("holidays", field(t("sla.calendar.holidays"), h("input", { name: "holidays",
      value: cal ? cal.holidays.join(", ") : "", placeholder: "2026-12-24, 2026-12-31" }), t("sla.calendar.holidays_hint"))),
    wrap("recurring_holidays", field(t("sla.calendar.recurring"), h("input", { name: "recurring",
      value: cal ? cal.recurring_holidays.join(", ") : "", placeholder: "01-01, 08-17" }),
    t("sla.calendar.recurring_hint"))),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("sla.common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, cal ? t("sla.common.save") : t("sla.calendar.create"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    const at = (path) => form.querySelector(`[data-field="${path}"]`);
    const problems = [];
    if (!v.name) problems.push([at("name"), t("sla.error.name")]);
    if (!v.tz) problems.push([at("tz"), t("sla.error.tz")]);
    const hours = {};
    for (const key of DAYS) {
      if (!v[`day-${key}`]) continue;
      hours[key] = list(v[`day-${key}`]);
      if (!hours[key].every((x) => INTERVAL.test(x))) problems.push([at(`hours.${key}`), t("sla.error.interval")]);
    }
    if (!Object.keys(hours).length) problems.push([at("hours.mon"), t("sla.error.no_hours")]);
    const holidays = list(v.holidays);
    if (!holidays.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) problems.push([at("holidays"), t("sla.error.date")]);
    const recurring = list(v.recurring);
    if (!recurring.every((d) => /^\d{2}-\d{2}$/.test(d))) problems.push([at("recurring_holidays"), t("sla.error.month_day")]);
    if (showFieldErrors(problems)) return;
    const body = { name: v.name, tz: v.tz, hours, holidays, recurring_holidays: recurring };
    try {
      const saved = await busy(form, () => (cal ? api.patch(`/api/v1/sla/calendars/${cal.id}`, body)
        : api.post("/api/v1/sla/calendars", body)));
      dialog.close();
      showSuccess(t("sla.calendar.saved", { name: saved.name }));
      await done();
    } catch (error) {
      // The calendar's own checks name a zone or a day: put them next to that field.
      const message = error.message || "";
      const day = DAYS.find((key) => message.includes(DAY_EN[key]));
      if (/time zone/.test(message)) showFieldErrors([[at("tz"), message]]);
      else if (day) showFieldErrors([[at(`hours.${day}`), message]]);
      else placeError(form, error, { byCode: { conflict: "name" } });
    }
  });
  const dialog = openModal(cal ? t("sla.calendar.title", { name: cal.name }) : t("sla.calendar.new"), form);
  dialog.classList.add("modal-wide");
}

function conditionText(c, dir) {
  const parts = [];
  if (c.priorities.length) parts.push(c.priorities.map((n) => `P${n}`).join("/"));
  if (c.kinds.length) parts.push(c.kinds.map((k) => t(`sla.kind.${k}`)).join("/"));
  const named = (ids, items) => ids.map((id) => (items.find((i) => i.id === id) || { name: `#${id}` }).name);
  if (c.category_ids.length) parts.push(named(c.category_ids, dir.categories).join("/"));
  if (c.requester_group_ids.length) {
    parts.push(t("sla.applies.requester_in", { groups: named(c.requester_group_ids, dir.groups).join("/") }));
  }
  return parts.length ? parts.join(" \u00b7 ") : t("sla.applies.any");
}

function ruleText(rule, dir) {
  const when = t(`sla.rule.on.${rule.on}`) + (rule.clock ? ` (${t(`sla.clock.${rule.clock}`)})` : "");
  let what = t(`sla.rule.action.${rule.action}`);
  if (rule.action === "reassign") {
    what = t("sla.rule.text.reassign", { group: (dir.groups.find((g) => g.id === rule.group_id) || { name: "?" }).name });
  } else if (rule.action === "notify" && rule.user_id) {
    what = t("sla.rule.text.notify", { person: (dir.staff.find((u) => u.id === rule.user_id)
      || { display_name: "?" }).display_name });
  }
  return `${when} \u2192 ${what}`;
}

/** Fill the SLA admin view. */
export function slaAdminView(root) {
  const dir = { calendars: [], policies: [], groups: [], categories: [], staff: [] };
  const calendars = h("tbody");
  const policies = h("tbody");

  async function load() {
    const [cals, pols, groups, categories, users] = await Promise.all([api.get("/api/v1/sla/calendars"),
      api.get("/api/v1/sla/policies"), allGroups(), categoryList(), allUsers()]);
    const staff = users.filter((u) => u.active && u.role !== "requester")
      .sort((a, b) => a.display_name.localeCompare(b.display_name));
    Object.assign(dir, { calendars: cals.items, policies: pols.items, groups, categories, staff });
    render();
  }

  async function remove(kind, item) {
    const ok = await confirmDialog(t(`sla.${kind}.delete`), t(`sla.${kind}.delete_confirm`, { name: item.name }),
      { confirmLabel: t("sla.common.delete"), danger: true });
    if (!ok) return;
    const path = kind === "calendar" ? "calendars" : "policies";
    if (await guarded(() => api.delete(`/api/v1/sla/${path}/${item.id}`)) !== undefined) {
      showSuccess(t(`sla.${kind}.deleted`, { name: item.name }));
    }
    await guarded(load);
  }

  function render() {
    replace(calendars, dir.calendars.map((c) => h("tr", { "data-id": c.id },
      h("td", { class: "strong" }, c.name), h("td", { "data-label": t("sla.col.tz") }, c.tz),
      h("td", { "data-label": t("sla.col.hours") }, DAYS.filter((k) => c.hours[k]).map((k) => `${t(`sla.day_short.${k}`)} ${c.hours[k].join(", ")}`)
        .join("; ")),
      h("td", { "data-label": t("sla.col.holidays") }, String(c.holidays.length + c.recurring_holidays.length)),
      h("td", { class: "cell-actions" },
        h("button", { type: "button", class: "btn btn-small", "aria-label": t("sla.calendar.edit_named", { name: c.name }),
          onclick: () => calendarForm(c, load) }, t("sla.common.edit")),
        h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
          "aria-label": t("sla.calendar.delete_named", { name: c.name }), onclick: () => remove("calendar", c) },
        t("sla.common.delete"))))));
    replace(policies, dir.policies.map((p) => {
      const cal = dir.calendars.find((c) => c.id === p.calendar_id);
      return h("tr", { "data-id": p.id },
        h("td", { class: "strong" }, p.name, p.fallback ? h("span", { class: "tag" }, t("sla.policy.fallback_tag")) : null,
          p.active ? null : h("span", { class: "tag" }, t("sla.policy.inactive_tag"))),
        h("td", { "data-label": t("sla.col.applies") }, p.fallback ? t("sla.applies.fallback")
          : conditionText(p.conditions, dir)),
        h("td", { "data-label": t("sla.col.targets") }, CLOCKS.filter((k) => p.targets[k]).map((k) => `${t(`sla.clock.${k}`)} ${targetText(p.targets[k], cal)}`)
          .join(" \u00b7 ")),
        h("td", { "data-label": t("sla.col.rules") }, p.escalations.length ? h("ul", { class: "plain-list" }, p.escalations.map((r) => h("li", {},
          ruleText(r, dir)))) : "\u2014"),
        h("td", { "data-label": t("sla.col.calendar") }, cal ? cal.name : "?"),
        h("td", { class: "cell-actions" },
          h("button", { type: "button", class: "btn btn-small", "aria-label": t("sla.policy.edit_named", { name: p.name }),
            onclick: () => policyForm(p, dir, load) }, t("sla.common.edit")),
          h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
            "aria-label": t("sla.policy.delete_named", { name: p.name }), onclick: () => remove("policy", p) },
          t("sla.common.delete"))));
    }));
  }

  const head = (cols) => h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c))));
  root.append(
    panel(t("sla.policies.title"), h("div", { class: "table-wrap" }, h("table", { class: "table table-stack",
      "aria-label": t("sla.policies.table") }, head([t("sla.col.policy"), t("sla.col.applies"), t("sla.col.targets"),
      t("sla.col.rules"), t("sla.col.calendar"), h("span", { class: "sr-only" }, t("sla.common.actions"))]), policies)),
    { actions: iconButton("plus", t("sla.policy.new"), { class: "btn btn-primary",
      onclick: () => policyForm(null, dir, load) }) }),
    panel(t("sla.calendars.title"), h("div", { class: "table-wrap" }, h("table", { class: "table table-stack",
      "aria-label": t("sla.calendars.table") }, head([t("sla.col.calendar"), t("sla.col.tz"), t("sla.col.hours"),
      t("sla.col.holidays"), h("span", { class: "sr-only" }, t("sla.common.actions"))]), calendars)),
    { actions: iconButton("plus", t("sla.calendar.new"), { class: "btn", onclick: () => calendarForm(null, load) }) }));
  guarded(load);
}
