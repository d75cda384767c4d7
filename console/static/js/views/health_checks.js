// Admin → Health checks: the thresholds agents check, per device group or as defaults.

import { api } from "../api.js";
import { allGroups } from "../directory.js";
import { field, formValues, h, replace } from "../dom.js";
import { onSubmit as handleSubmit } from "../forms.js";
import { levelsText } from "../health.js";
import { icon } from "../icons.js";
import { guarded, showSuccess } from "../notice.js";
import { confirmDialog, emptyState, iconButton, openModal, panel } from "../ui.js";

const KINDS = [["disk", "Disk usage"], ["memory", "Memory"], ["cpu", "CPU (average)"],
  ["service", "Systemd service running"], ["process", "Process running"]];

function num(value) {
  return value === "" ? null : Number(value);
}

function checkForm(check, { onSubmit }) {
  const v = (name, fallback) => (check && check[name] !== null && check[name] !== undefined ? check[name] : fallback);
  const kind = h("select", { name: "kind", disabled: Boolean(check) },
    KINDS.map(([value, label]) => h("option", { value, selected: v("kind", "disk") === value }, label)));
  const numberInput = (name, fallback, attrs = {}) => h("input", { name, type: "number", step: "any",
    min: 0, value: v(name, fallback), inputmode: "decimal", ...attrs });
  const form = h("form", { class: "stack", "aria-label": check ? "Edit health check" : "New health check" },
    h("div", { class: "row-2" },
      field("Name", h("input", { name: "name", required: true, maxlength: 100, value: v("name", "") })),
      field("Kind", kind)),
    field("Target", h("input", { name: "target", maxlength: 255, value: v("target", ""),
      placeholder: "/ for disk; unit or process name" }),
    "Disk: the mount point. Service: the systemd unit. Process: its name. Memory and CPU: empty."),
    h("div", { class: "row-2" },
      field("Warning at (%)", numberInput("warning", "", { max: 100 })),
      field("Critical at (%)", numberInput("critical", "", { max: 100 }))),
    h("div", { class: "row-2" },
      field("Average over (s)", numberInput("window", 0, { max: 86400 }), "0: the newest reading."),
      field("Hysteresis (points)", numberInput("hysteresis", 5, { max: 50 }),
        "A level is left only this far below its threshold.")),
    h("div", { class: "row-2" },
      field("Recovered after (s)", numberInput("recover_after", 300, { max: 86400 }),
        "The better state must hold this long: dips shorter than this are not a recovery."),
      field("Repeat reading every (s)", numberInput("repeat_interval", 300, { min: 1, max: 86400 }),
        "While failing, the incident gets the newest reading this often.")),
    field("On recovery", h("select", { name: "on_recovery" },
      h("option", { value: "resolve", selected: v("on_recovery", "resolve") === "resolve" }, "Resolve the incident"),
      h("option", { value: "note", selected: v("on_recovery", "resolve") === "note" }, "Only add a note"))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "enabled", checked: v("enabled", true) }),
      " Enabled"),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, check ? "Save" : "Add check")));
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
  const scope = h("select", { name: "scope", "aria-label": "Device group" },
    h("option", { value: "" }, "Defaults (every device)"));
  const body = h("div");

  function scopeName() {
    const g = groups.find((x) => String(x.id) === scope.value);
    return g ? `group ${g.name}` : "every device";
  }

  async function load() {
    const query = scope.value ? { group_id: scope.value } : { defaults: true };
    const data = await api.get("/api/v1/health-checks", query);
    if (!data.items.length) {
      replace(body, emptyState("shield", "No checks here yet", scope.value
        ? "Devices in this group run the default checks. A check added here with the same name replaces the default."
        : "Default checks apply to every device; a group may replace one with its own levels."));
      return;
    }
    replace(body, h("table", { class: "table table-health-checks", "aria-label": "Health checks" },
      h("thead", {}, h("tr", {}, ["Check", "Levels", "Hysteresis", "On recovery", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.items.map((c) => h("tr", { "data-check": c.name },
        h("td", {}, h("strong", {}, c.name), c.enabled ? null : h("span", { class: "chip" }, "disabled")),
        h("td", {}, levelsText(c)),
        h("td", {}, `${c.hysteresis} points \u00b7 ${c.recover_after} s`),
        h("td", {}, c.on_recovery === "resolve" ? "Resolve" : "Note only"),
        h("td", { class: "row-actions" },
          iconButton("pencil", "Edit", { class: "btn btn-small", onclick: () => edit(c) }),
          iconButton("trash", "Delete", { class: "btn btn-small btn-danger-ghost", onclick: () => remove(c) })))))));
  }

  function add() {
    const dialog = openModal(`New check for ${scopeName()}`, checkForm(null, {
      onSubmit: async (b) => {
        if (scope.value) b.group_id = Number(scope.value);
        await api.post("/api/v1/health-checks", b);
        dialog.close();
        showSuccess(`Check ${b.name} added; connected agents have it now.`);
        await guarded(load);
      },
    }));
  }

  function edit(check) {
    const dialog = openModal(`Edit ${check.name}`, checkForm(check, {
      onSubmit: async (b) => {
        await api.patch(`/api/v1/health-checks/${check.id}`, b);
        dialog.close();
        showSuccess(`Check ${b.name} saved.`);
        await guarded(load);
      },
    }));
  }

  async function remove(check) {
    if (!await confirmDialog("Delete check", `Delete ${check.name}? Open incidents stay open.`,
      { confirmLabel: "Delete", danger: true })) return;
    await guarded(async () => {
      await api.delete(`/api/v1/health-checks/${check.id}`);
      showSuccess(`Check ${check.name} deleted.`);
      await load();
    });
  }

  scope.addEventListener("change", () => guarded(load));
  root.append(
    h("div", { class: "toolbar" }, scope,
      h("button", { type: "button", class: "btn btn-primary", onclick: add }, icon("plus"), "Add check")),
    panel(null, body));
  (async () => {
    groups = (await guarded(allGroups)) || [];
    for (const g of groups) scope.append(h("option", { value: String(g.id) }, g.name));
    await guarded(load);
  })();
}
