// Admin → Health checks: the thresholds agents check, per device group or as defaults.

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { field, formValues, h, replace } from "../dom.js";
import { onSubmit as handleSubmit } from "../forms.js";
import { levelsText } from "../health.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { guarded, showSuccess } from "../notice.js";
import { confirmDialog, emptyState, iconButton, openModal, panel } from "../ui.js";

const KINDS = ["disk", "memory", "cpu", "service", "process"];

function num(value) {
  return value === "" ? null : Number(value);
}

function checkForm(check, { onSubmit }) {
  const v = (name, fallback) => (check && check[name] !== null && check[name] !== undefined ? check[name] : fallback);
  const kind = h("select", { name: "kind", disabled: Boolean(check) },
    KINDS.map((value) => h("option", { value, selected: v("kind", "disk") === value }, t(`health_checks.kind.${value}`))));
  const numberInput = (name, fallback, attrs = {}) => h("input", { name, type: "number", step: "any",
    min: 0, value: v(name, fallback), inputmode: "decimal", ...attrs });
  const form = h("form", { class: "stack", "aria-label": check ? t("health_checks.edit_title") : t("health_checks.new_title") },
    h("div", { class: "row-2" },
      field(t("health_checks.name"), h("input", { name: "name", required: true, maxlength: 100, value: v("name", "") })),
      field(t("health_checks.kind"), kind)),
    field(t("health_checks.target"), h("input", { name: "target", maxlength: 255, value: v("target", ""),
      placeholder: t("health_checks.target_placeholder") }),
    t("health_checks.target_hint")),
    h("div", { class: "row-2" },
      field(t("health_checks.warning_at"), numberInput("warning", "", { max: 100 })),
      field(t("health_checks.critical_at"), numberInput("critical", "", { max: 100 }))),
    h("div", { class: "row-2" },
      field(t("health_checks.window"), numberInput("window", 0, { max: 86400 }), t("health_checks.window_hint")),
      field(t("health_checks.hysteresis"), numberInput("hysteresis", 5, { max: 50 }),
        t("health_checks.hysteresis_hint"))),
    h("div", { class: "row-2" },
      field(t("health_checks.recover_after"), numberInput("recover_after", 300, { max: 86400 }),
        t("health_checks.recover_after_hint")),
      field(t("health_checks.repeat"), numberInput("repeat_interval", 300, { min: 1, max: 86400 }),
        t("health_checks.repeat_hint"))),
    field(t("health_checks.on_recovery"), h("select", { name: "on_recovery" },
      h("option", { value: "resolve", selected: v("on_recovery", "resolve") === "resolve" }, t("health_checks.resolve_incident")),
      h("option", { value: "note", selected: v("on_recovery", "resolve") === "note" }, t("health_checks.only_note")))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "enabled", checked: v("enabled", true) }),
      ` ${t("health_checks.enabled")}`),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() }, t("common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, check ? t("common.save") : t("health_checks.add"))));
  handleSubmit(form, async () => {
    const f = formValues(form);
    const body = { name: f.name, target: f.target, warning: num(f.warning), critical: num(f.critical),
      window: Number(f.window || 0), hysteresis: Number(f.hysteresis || 0),
      recover_after: Number(f.recover_after || 0), repeat_interval: Number(f.repeat_interval || 300),
      on_recovery: f.on_recovery, enabled: f.enabled };
    if (!check) body.kind = kind.value;
    await onSubmit(body);
  });
  return form;
}

/** Fill the Health checks admin view. */
export function healthChecksView(root) {
  let groups = [];
  const scope = h("select", { name: "scope", "aria-label": t("health_checks.device_group") },
    h("option", { value: "" }, t("health_checks.defaults")));
  const body = h("div");

  function scopeName() {
    const g = groups.find((x) => String(x.id) === scope.value);
    return g ? t("health_checks.scope_group", { group: g.name }) : t("health_checks.scope_all");
  }

  async function load() {
    const query = scope.value ? { group_id: scope.value } : { defaults: true };
    const data = await api.get("/api/v1/health-checks", query);
    if (!data.items.length) {
      replace(body, emptyState("shield", t("health_checks.none"), scope.value
        ? t("health_checks.none_group") : t("health_checks.none_defaults")));
      return;
    }
    replace(body, h("table", { class: "table table-health-checks", "aria-label": t("health.table") },
      h("thead", {}, h("tr", {}, [t("health.col.check"), t("health_checks.levels"), t("health_checks.hysteresis_col"),
        t("health_checks.on_recovery"), ""]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.items.map((c) => h("tr", { "data-check": c.name },
        h("td", {}, h("strong", {}, c.name), c.enabled ? null : h("span", { class: "chip" }, t("health_checks.disabled"))),
        h("td", {}, levelsText(c)),
        h("td", {}, t("health_checks.hysteresis_cell", { points: c.hysteresis, seconds: c.recover_after })),
        h("td", {}, c.on_recovery === "resolve" ? t("health_checks.resolve") : t("health_checks.note_only")),
        h("td", { class: "row-actions" },
          iconButton("pencil", t("common.edit"), { class: "btn btn-small", onclick: () => edit(c) }),
          iconButton("trash", t("common.delete"), { class: "btn btn-small btn-danger-ghost", onclick: () => remove(c) })))))));
  }

  function add() {
    const dialog = openModal(t("health_checks.new_for", { scope: scopeName() }), checkForm(null, {
      onSubmit: async (b) => {
        if (scope.value) b.group_id = Number(scope.value);
        await api.post("/api/v1/health-checks", b);
        dialog.close();
        showSuccess(t("health_checks.added", { name: b.name }));
        await guarded(load);
      },
    }));
  }

  function edit(check) {
    const dialog = openModal(t("users.edit_named", { name: check.name }), checkForm(check, {
      onSubmit: async (b) => {
        await api.patch(`/api/v1/health-checks/${check.id}`, b);
        dialog.close();
        showSuccess(t("health_checks.saved", { name: b.name }));
        await guarded(load);
      },
    }));
  }

  async function remove(check) {
    if (!await confirmDialog(t("health_checks.delete_title"), t("health_checks.delete_question", { name: check.name }),
      { confirmLabel: t("common.delete"), danger: true })) return;
    await guarded(async () => {
      await api.delete(`/api/v1/health-checks/${check.id}`);
      showSuccess(t("health_checks.deleted", { name: check.name }));
      await load();
    });
  }

  scope.addEventListener("change", () => guarded(load));
  root.append(
    h("div", { class: "toolbar" }, scope,
      h("button", { type: "button", class: "btn btn-primary", onclick: add }, icon("plus"), t("health_checks.add"))),
    panel(null, body));
  (async () => {
    groups = (await guarded(allGroups)) || [];
    for (const g of groups) scope.append(h("option", { value: String(g.id) }, g.name));
    await guarded(load);
  })();
}
