// Admin → Groups → a group: "bind the first login seen on devices of this group" to the
// directory account of that name (GET/PUT /api/v1/groups/{id}/binding-rule). A refusal
// naming the field is said next to it (forms.js).

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { onSubmit } from "./forms.js";
import { t, tn } from "./i18n.js";
import { guarded, showSuccess } from "./notice.js";
import { panel } from "./ui.js";

/** Return the "Device users" panel of group `groupId`; it loads and saves the rule itself. */
export function bindingRulePanel(groupId, nameOf) {
  const body = h("div", { class: "stack" }, h("p", { class: "muted" }, t("common.loading")));
  const el = panel(t("bindrule.title"), body, { cls: "panel-binding-rule" });

  function render(on) {
    const box = h("input", { type: "checkbox", name: "bind_first_login", checked: on });
    const save = h("button", { type: "submit", class: "btn btn-primary", disabled: true }, t("bindrule.save"));
    const form = h("form", { class: "stack", "aria-label": t("bindrule.title") },
      h("label", { class: "check" }, box,
        h("span", {}, h("strong", {}, t("bindrule.label")),
          h("span", { class: "muted small" }, ` \u2014 ${t("bindrule.text")}`))),
      h("p", { class: "muted small" }, t("bindrule.caution")),
      h("div", { class: "form-actions" }, save));
    box.addEventListener("change", () => { save.disabled = box.checked === on; });
    onSubmit(form, async () => {
      const rule = await api.put(`/api/v1/groups/${groupId}/binding-rule`, { bind_first_login: box.checked });
      render(rule.bind_first_login);
      showSuccess(rule.bind_first_login
        ? `${t("bindrule.saved_on", { group: nameOf() })} ${tn("bindrule.bound", rule.bound)}`
        : t("bindrule.saved_off", { group: nameOf() }));
    });
    replace(body, form);
  }

  (async () => {
    const rule = await guarded(() => api.get(`/api/v1/groups/${groupId}/binding-rule`));
    if (rule) render(rule.bind_first_login);
    else replace(body, h("p", { class: "muted" }, t("bindrule.cannot_show")));
  })();
  return el;
}
