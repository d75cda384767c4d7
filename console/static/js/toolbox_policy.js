// Admin → Groups → a group: the toolbox policy — which tools technicians may open on the
// group's devices, how the user is asked, whether tools may act as root, and whether
// terminals are recorded. (GET/PUT /api/v1/groups/{id}/toolbox-policy, admins only.) A
// refusal naming a field is said next to it (forms.js).

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { onSubmit } from "./forms.js";
import { t } from "./i18n.js";
import { guarded, showSuccess } from "./notice.js";
import { panel } from "./ui.js";

const TOOLS = ["terminal", "processes", "services"];
const CONSENTS = ["inherit", "ask", "notify", "unattended"];
const SWITCHES = ["terminal_root", "system_root", "record_terminal"];

function check(name, value, title, text, checked) {
  return h("label", { class: "check", "data-toolbox-option": value || name },
    h("input", { type: "checkbox", name, value: value || "on", checked }),
    h("span", {}, h("strong", {}, title), h("span", { class: "muted small" }, ` \u2014 ${text}`)));
}

function choice(value, checked) {
  return h("label", { class: "choice", "data-toolbox-consent": value },
    h("input", { type: "radio", name: "consent", value, checked }),
    h("span", { class: "choice-text" }, h("strong", {}, t(`toolbox_policy.consent.${value}`)),
      h("span", { class: "muted small" }, t(`toolbox_policy.consent.${value}_text`))));
}

/** Return the "Toolbox" panel of group `groupId`; `nameOf()` gives its current name. */
export function toolboxPolicyPanel(groupId, nameOf) {
  const body = h("div", { class: "stack" }, h("p", { class: "muted" }, t("common.loading")));
  const el = panel(t("toolbox_policy.title"), body, { cls: "panel-toolbox-policy" });

  function render(policy) {
    const save = h("button", { type: "submit", class: "btn btn-primary" }, t("toolbox_policy.save"));
    const form = h("form", { class: "stack", "aria-label": t("toolbox_policy.title") },
      h("fieldset", { class: "stack", "data-field": "allowed_tools" },
        h("legend", { class: "field-label" }, t("toolbox_policy.tools")),
        TOOLS.map((tool) => check("tools", tool, t(`toolbox_policy.tool.${tool}`),
          t(`toolbox_policy.tool.${tool}_text`), policy.allowed_tools.includes(tool)))),
      h("fieldset", { class: "choices choices-1", "data-field": "consent" },
        h("legend", { class: "field-label" }, t("toolbox_policy.consent")),
        CONSENTS.map((c) => choice(c, policy.consent === c))),
      h("fieldset", { class: "stack" },
        h("legend", { class: "field-label" }, t("toolbox_policy.options")),
        SWITCHES.map((s) => check(s, "", t(`toolbox_policy.${s}`), t(`toolbox_policy.${s}_text`), policy[s]))),
      h("div", { class: "form-actions" }, save));
    const chosen = () => {
      const out = {
        allowed_tools: [...form.querySelectorAll("input[name=tools]:checked")].map((i) => i.value),
        consent: form.querySelector("input[name=consent]:checked").value,
      };
      for (const s of SWITCHES) out[s] = form.querySelector(`input[name=${s}]`).checked;
      return out;
    };
    const same = () => JSON.stringify(chosen()) === JSON.stringify({
      allowed_tools: TOOLS.filter((x) => policy.allowed_tools.includes(x)), consent: policy.consent,
      terminal_root: policy.terminal_root, system_root: policy.system_root, record_terminal: policy.record_terminal });
    const sync = () => { save.disabled = same(); };
    form.addEventListener("change", sync);
    sync();
    onSubmit(form, async () => {
      if (same()) return;
      const stored = await api.put(`/api/v1/groups/${groupId}/toolbox-policy`, chosen());
      render(stored);
      showSuccess(t("toolbox_policy.saved", { group: nameOf() }));
    });
    replace(body, form);
  }

  (async () => {
    const policy = await guarded(() => api.get(`/api/v1/groups/${groupId}/toolbox-policy`));
    if (policy) render(policy);
    else replace(body, h("p", { class: "muted" }, t("toolbox_policy.cannot_show")));
  })();
  return el;
}
