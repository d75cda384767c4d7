// Admin → SLA → a policy's editor: targets as hours and minutes or business days, the
// calendar by name, an escalation-rule builder (pickers, no ids) and a live preview whose
// due times the server computes with its own clock code (POST /api/v1/sla/preview).

import { api } from "../api.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearFieldErrors, placeError, showFieldErrors } from "../forms.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { clearNotice, showSuccess } from "../notice.js";
import { openModal } from "../ui.js";

const CLOCKS = ["first_response", "resolution", "next_update"];
const KINDS = ["incident", "service_request", "problem"];
const PAUSABLE = ["new", "assigned", "in_progress", "pending"];
const ACTIONS = ["notify", "reassign", "raise_priority", "timeline"];
const MAX_MINUTES = 525600;
const DAY_KEYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const list = (text) => text.split(/[\s,]+/).map((v) => v.trim()).filter(Boolean);

/** Return the working minutes of a calendar's usual working day (the most common length). */
export function dayMinutes(cal) {
  if (!cal) return 480;
  const counts = new Map();
  for (const day of DAY_KEYS) {
    const total = (cal.hours[day] || []).reduce((sum, span) => {
      const [start, end] = span.split("-").map((x) => {
        const [hh, mm] = x.split(":").map(Number);
        return hh * 60 + mm;
      });
      return sum + (end - start);
    }, 0);
    if (total) counts.set(total, (counts.get(total) || 0) + 1);
  }
  let best = 480;
  let seen = 0;
  for (const [total, n] of counts) if (n > seen || (n === seen && total > best)) [best, seen] = [total, n];
  return best;
}

/** "2 h 30 min", "3 business days" for a target in minutes, for tables. */
export function targetText(minutes, cal) {
  const perDay = dayMinutes(cal);
  if (minutes >= perDay && minutes % perDay === 0 && perDay !== 1440) {
    return t("sla.target.days", { n: minutes / perDay });
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (!hours) return t("sla.target.minutes", { m: rest });
  return rest ? t("sla.target.hours_minutes", { h: hours, m: rest }) : t("sla.target.hours", { h: hours });
}

function durationField(clock, minutes, cal) {
  const perDay = dayMinutes(cal);
  const asDays = minutes && perDay !== 1440 && minutes >= perDay && minutes % perDay === 0;
  const unit = h("select", { name: `${clock}-unit`, "aria-label": t("sla.target.unit") },
    h("option", { value: "hm", selected: !asDays }, t("sla.target.unit.hm")),
    h("option", { value: "days", selected: asDays }, t("sla.target.unit.days")));
  const num = (name, label, value, attrs) => h("label", { class: "duration-part" },
    h("input", { name, type: "number", min: 0, inputmode: "numeric", value: value ?? "", ...attrs }),
    h("span", {}, label));
  const hm = h("div", { class: "duration-hm", hidden: asDays },
    num(`${clock}-hours`, t("sla.target.hours_label"), minutes && !asDays ? Math.floor(minutes / 60) : "",
      { max: 8760 }),
    num(`${clock}-minutes`, t("sla.target.minutes_label"), minutes && !asDays ? minutes % 60 : "", { max: 59 }));
  const days = h("div", { class: "duration-days", hidden: !asDays },
    num(`${clock}-days`, t("sla.target.days_label"), asDays ? minutes / perDay : "", { step: "0.5", max: 365 }));
  unit.addEventListener("change", () => {
    hm.hidden = unit.value !== "hm";
    days.hidden = unit.value !== "days";
  });
  return h("fieldset", { class: "field duration", "data-field": `targets.${clock}` },
    h("legend", { class: "field-label" }, t(`sla.clock.${clock}`)),
    h("div", { class: "duration-row" }, unit, hm, days));
}

/** Read a target from the form: minutes, null when empty, or an error text. */
function readTarget(v, clock, cal) {
  const whole = (x) => /^\d+$/.test(x);
  if (v[`${clock}-unit`] === "days") {
    const raw = v[`${clock}-days`];
    if (raw === "") return { minutes: null };
    const days = Number(raw);
    if (!Number.isFinite(days) || days <= 0) return { error: t("sla.error.days") };
    const minutes = Math.round(days * dayMinutes(cal));
    return minutes > MAX_MINUTES ? { error: t("sla.error.too_long") } : { minutes };
  }
  const hours = v[`${clock}-hours`];
  const mins = v[`${clock}-minutes`];
  if (hours === "" && mins === "") return { minutes: null };
  if ((hours !== "" && !whole(hours)) || (mins !== "" && !whole(mins))) return { error: t("sla.error.whole") };
  if (Number(mins || 0) > 59) return { error: t("sla.error.minutes_59") };
  const minutes = Number(hours || 0) * 60 + Number(mins || 0);
  if (minutes < 1) return { error: t("sla.error.zero") };
  return minutes > MAX_MINUTES ? { error: t("sla.error.too_long") } : { minutes };
}

function ruleRow(rule, index, dir, warnPercents, remove) {
  const r = { on: "breach", action: "notify", clock: null, percent: null, group_id: null, user_id: null,
    note: "", ...rule };
  const select = (name, label, options, chosen, path) => {
    const wrapper = field(label, h("select", { "data-rule": name }, options.map(([value, text]) =>
      h("option", { value: String(value), selected: String(value) === String(chosen ?? "") }, text))));
    wrapper.dataset.field = path;
    return wrapper;
  };
  const on = select("on", t("sla.rule.when"), [["warning", t("sla.rule.on.warning")],
    ["breach", t("sla.rule.on.breach")]], r.on, `escalations[${index}].on`);
  const clock = select("clock", t("sla.rule.clock"), [["", t("sla.rule.clock.any")],
    ...CLOCKS.map((c) => [c, t(`sla.clock.${c}`)])], r.clock, `escalations[${index}].clock`);
  const percent = select("percent", t("sla.rule.percent"), [["", t("sla.rule.percent.any")],
    ...[...new Set([...warnPercents, ...(r.percent ? [r.percent] : [])])].sort((a, b) => a - b)
      .map((p) => [p, t("sla.rule.percent.value", { p })])], r.percent, `escalations[${index}].percent`);
  const action = select("action", t("sla.rule.action"), ACTIONS.map((a) => [a, t(`sla.rule.action.${a}`)]),
    r.action, `escalations[${index}].action`);
  const group = select("group_id", t("sla.rule.group"), [["", t("sla.rule.group.choose")],
    ...dir.groups.map((g) => [g.id, g.name])], r.group_id, `escalations[${index}].group_id`);
  const person = select("user_id", t("sla.rule.person"), [["", t("sla.rule.person.default")],
    ...dir.staff.map((u) => [u.id, u.display_name])], r.user_id, `escalations[${index}].user_id`);
  const note = field(t("sla.rule.note"), h("input", { "data-rule": "note", maxlength: 1000, value: r.note || "" }));
  note.dataset.field = `escalations[${index}].note`;
  const row = h("fieldset", { class: "rule", "data-field": `escalations[${index}]` },
    h("legend", {}, t("sla.rule.legend", { n: index + 1 })),
    h("div", { class: "rule-grid" }, on, clock, percent, action, group, person, note),
    h("button", { type: "button", class: "btn btn-small btn-danger-ghost", onclick: remove },
      t("sla.rule.remove", { n: index + 1 })));
  const sync = () => {
    const a = row.querySelector('[data-rule="action"]').value;
    percent.hidden = row.querySelector('[data-rule="on"]').value !== "warning";
    group.hidden = a !== "reassign";
    person.hidden = a !== "notify";
    note.hidden = a !== "timeline";
  };
  row.addEventListener("change", sync);
  sync();
  return row;
}

function readRule(row) {
  const value = (name) => row.querySelector(`[data-rule="${name}"]`).value.trim();
  const rule = { on: value("on"), action: value("action") };
  if (value("clock")) rule.clock = value("clock");
  if (rule.on === "warning" && value("percent")) rule.percent = Number(value("percent"));
  if (rule.action === "reassign") rule.group_id = value("group_id") ? Number(value("group_id")) : null;
  if (rule.action === "notify" && value("user_id")) rule.user_id = Number(value("user_id"));
  if (rule.action === "timeline") rule.note = value("note");
  return rule;
}

/** Open the editor of `policy` (null: a new one); `done` reloads the page after a save. */
export function policyForm(policy, dir, done) {
  const p = policy || { conditions: { kinds: [], priorities: [], category_ids: [], requester_group_ids: [] },
    targets: {}, warn_percents: [75], pause_statuses: ["pending"], escalations: [], fallback: false,
    active: true, calendar_id: dir.calendars[0] ? dir.calendars[0].id : null };
  const calendarOf = (id) => dir.calendars.find((c) => c.id === Number(id)) || dir.calendars[0];
  let rules = p.escalations.map((r) => ({ ...r }));
  const checks = (prefix, options, chosen, legend, path) => h("fieldset", { class: "field", "data-field": path },
    h("legend", { class: "field-label" }, legend),
    h("div", { class: "checks" }, options.map(([value, label]) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: `${prefix}-${value}`,
        checked: chosen.includes(value) }), label))));
  const multi = (name, items, chosen) => h("select", { name, multiple: true, size: Math.min(4, items.length || 1) },
    items.map((i) => h("option", { value: String(i.id), selected: chosen.includes(i.id) }, i.name)));
  const wrap = (path, el) => {
    el.dataset.field = path;
    return el;
  };
  const calendar = h("select", { name: "calendar_id" }, dir.calendars.map((c) =>
    h("option", { value: String(c.id), selected: c.id === p.calendar_id }, c.name)));
  const targets = h("div", { class: "targets" });
  const dayHint = h("p", { class: "hint" });
  const renderTargets = (cal) => {
    replace(targets, CLOCKS.map((c) => durationField(c, p.targets[c], cal)));
    dayHint.textContent = t("sla.target.day_hint", { name: cal ? cal.name : "", length: targetText(dayMinutes(cal), null) });
  };
  renderTargets(calendarOf(p.calendar_id));
  const rulesBox = h("div", { class: "rules", role: "list", "aria-label": t("sla.rules.label") });
  const warnInput = h("input", { name: "warn", value: p.warn_percents.join(", "), inputmode: "numeric" });
  const warnPercents = () => list(warnInput.value).map(Number).filter((n) => Number.isInteger(n) && n > 0 && n < 100);
  const renderRules = () => {
    replace(rulesBox, rules.length ? rules.map((r, i) => ruleRow(r, i, dir, warnPercents(), () => {
      rules = readRules().filter((_, j) => j !== i);
      renderRules();
    })) : h("p", { class: "hint" }, t("sla.rules.none")));
  };
  const readRules = () => [...rulesBox.querySelectorAll("fieldset.rule")].map(readRule);
  renderRules();

  const previewKind = h("select", { name: "preview_kind", "aria-label": t("sla.preview.kind") },
    KINDS.map((k) => h("option", { value: k, selected: k === (p.conditions.kinds[0] || "incident") },
      t(`sla.kind.${k}`))));
  const previewPriority = h("select", { name: "preview_priority", "aria-label": t("sla.preview.priority") },
    [1, 2, 3, 4, 5].map((n) => h("option", { value: String(n), selected: n === (p.conditions.priorities[0] || 2) },
      `P${n}`)));
  const previewOut = h("div", { class: "preview-out", "aria-live": "polite", "data-preview": "" });

  const form = h("form", { class: "stack", novalidate: true,
    "aria-label": policy ? t("sla.policy.edit") : t("sla.policy.new") },
    h("div", { class: "row-2" },
      wrap("name", field(t("sla.policy.name"), h("input", { name: "name", maxlength: 100, value: p.name || null }))),
      wrap("calendar_id", field(t("sla.policy.calendar"), calendar))),
    h("h3", { class: "form-section" }, t("sla.targets.title")),
    targets, dayHint,
    h("h3", { class: "form-section" }, t("sla.applies.title")),
    checks("prio", [1, 2, 3, 4, 5].map((n) => [n, `P${n}`]), p.conditions.priorities, t("sla.policy.priorities"),
      "conditions.priorities"),
    checks("kind", KINDS.map((k) => [k, t(`sla.kind.${k}`)]), p.conditions.kinds, t("sla.policy.kinds"),
      "conditions.kinds"),
    h("div", { class: "row-2" },
      wrap("conditions.category_ids", field(t("sla.policy.categories"), multi("category_ids", dir.categories,
        p.conditions.category_ids))),
      wrap("conditions.requester_group_ids", field(t("sla.policy.requester_groups"), multi("group_ids", dir.groups,
        p.conditions.requester_group_ids)))),
    h("div", { class: "row-2" },
      wrap("position", field(t("sla.policy.order"), h("input", { name: "position", type: "number", min: 0,
        value: p.position ?? "" }), t("sla.policy.order_hint"))),
      wrap("warn_percents", field(t("sla.policy.warn"), warnInput, t("sla.policy.warn_hint")))),
    checks("pause", PAUSABLE.map((s) => [s, t(`sla.status.${s}`)]), p.pause_statuses, t("sla.policy.pause"),
      "pause_statuses"),
    h("div", { class: "checks" },
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "fallback", checked: p.fallback }),
        t("sla.policy.fallback")),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "active", checked: p.active }),
        t("sla.policy.active"))),
    h("h3", { class: "form-section" }, t("sla.rules.title")),
    rulesBox,
    h("div", {}, h("button", { type: "button", class: "btn btn-small", onclick: () => {
      rules = [...readRules(), { on: "breach", action: "notify" }];
      renderRules();
      rulesBox.querySelector("fieldset.rule:last-of-type select")?.focus();
    } }, t("sla.rules.add"))),
    h("section", { class: "preview", "aria-label": t("sla.preview.title") },
      h("h3", { class: "form-section" }, t("sla.preview.title")),
      h("div", { class: "inline-form" }, previewPriority, previewKind),
      previewOut),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("sla.common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, policy ? t("sla.common.save") : t("sla.policy.create"))));

  // Read the form into a request body, collecting problems next to their fields.
  function read() {
    const v = formValues(form);
    const cal = calendarOf(v.calendar_id);
    const problems = [];
    const at = (path) => form.querySelector(`[data-field="${path}"]`);
    if (!v.name) problems.push([at("name"), t("sla.error.name")]);
    const body = { name: v.name, calendar_id: Number(v.calendar_id), fallback: v.fallback, active: v.active,
      targets: {} };
    for (const clock of CLOCKS) {
      const got = readTarget(v, clock, cal);
      if (got.error) problems.push([at(`targets.${clock}`), got.error]);
      else body.targets[clock] = got.minutes;
    }
    if (!problems.length && CLOCKS.every((c) => body.targets[c] === null)) {
      problems.push([at("targets.first_response"), t("sla.error.no_target")]);
    }
    const warn = list(v.warn);
    if (warn.some((x) => !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 99) || warn.length > 5) {
      problems.push([at("warn_percents"), t("sla.error.warn")]);
    }
    if (v.position !== "" && !/^\d+$/.test(v.position)) problems.push([at("position"), t("sla.error.whole")]);
    body.conditions = { priorities: [1, 2, 3, 4, 5].filter((n) => v[`prio-${n}`]),
      kinds: KINDS.filter((k) => v[`kind-${k}`]), category_ids: v.category_ids.map(Number),
      requester_group_ids: v.group_ids.map(Number) };
    body.warn_percents = warn.map(Number);
    body.pause_statuses = PAUSABLE.filter((s) => v[`pause-${s}`]);
    body.escalations = readRules();
    body.escalations.forEach((rule, i) => {
      if (rule.action === "reassign" && !rule.group_id) {
        problems.push([at(`escalations[${i}].group_id`), t("sla.error.rule_group")]);
      }
      if (rule.action === "timeline" && !rule.note) problems.push([at(`escalations[${i}].note`), t("sla.error.rule_note")]);
    });
    if (v.position !== "") body.position = Number(v.position);
    return { body, problems };
  }

  let timer = null;
  let asked = 0;
  async function refreshPreview() {
    const { body, problems } = read();
    const wanted = Object.entries(body.targets).filter(([, m]) => m);
    if (problems.some(([el]) => el && el.dataset.field.startsWith("targets")) || !wanted.length) {
      replace(previewOut, h("p", { class: "hint" }, t("sla.preview.need_target")));
      return;
    }
    const ask = ++asked;
    try {
      const answer = await api.post("/api/v1/sla/preview", { calendar_id: body.calendar_id, targets: body.targets,
        warn_percents: body.warn_percents, priority: Number(previewPriority.value), kind: previewKind.value });
      if (ask !== asked) return;
      replace(previewOut,
        h("p", { class: "strong" }, t("sla.preview.lead", { priority: `P${answer.priority}`,
          kind: t(`sla.kind.${answer.kind}`).toLowerCase(), calendar: answer.calendar_name })),
        h("ul", { class: "preview-list" }, answer.clocks.map((c) => h("li", { "data-clock": c.clock,
          "data-due": c.due_at }, t("sla.preview.due", { clock: t(`sla.clock.${c.clock}`), when: dateTime(c.due_at) })))));
    } catch (error) {
      if (ask === asked) replace(previewOut, h("p", { class: "field-error" }, error.message));
    }
  }
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 300);
  };
  form.addEventListener("input", schedule);
  form.addEventListener("change", (event) => {
    if (event.target === calendar) {
      const v = formValues(form);
      const keep = {};
      for (const c of CLOCKS) keep[c] = readTarget(v, c, calendarOf(v.calendar_id)).minutes ?? null;
      p.targets = keep;
      renderTargets(calendarOf(calendar.value));
    }
    if (event.target === warnInput) {
      rules = readRules();
      renderRules();
    }
    schedule();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const { body, problems } = read();
    if (showFieldErrors(problems)) return;
    try {
      const saved = await busy(form, () => (policy ? api.patch(`/api/v1/sla/policies/${policy.id}`, body)
        : api.post("/api/v1/sla/policies", body)));
      dialog.close();
      showSuccess(saved.retarget_pending ? t("sla.policy.saved_retarget", { name: saved.name })
        : t("sla.policy.saved", { name: saved.name }));
      await done();
    } catch (error) {
      placeError(form, error, { byCode: { conflict: "name" } });
    }
  });
  const dialog = openModal(policy ? t("sla.policy.title", { name: policy.name }) : t("sla.policy.new"), form);
  dialog.classList.add("modal-wide");
  refreshPreview();
}
