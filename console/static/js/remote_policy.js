// Admin → Groups → a group: may technicians open remote sessions on the group's devices
// without asking the user? (GET/PUT /api/v1/groups/{id}/remote-policy, admins only.) A
// refusal naming a field is said next to it (forms.js).

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { onSubmit } from "./forms.js";
import { t, tn } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded, showSuccess } from "./notice.js";
import { confirmDialog, panel } from "./ui.js";

const DEVICE_PAGE = 200;

function choice(value, title, text, checked) {
  return h("label", { class: "choice", "data-policy": value },
    h("input", { type: "radio", name: "policy", value, checked }),
    h("span", { class: "choice-text" }, h("strong", {}, title), h("span", { class: "muted small" }, text)));
}

function stateBadge(unattended) {
  return unattended
    ? h("span", { class: "badge badge-unattended", "data-policy-state": "unattended" }, t("policy.unattended"))
    : h("span", { class: "badge badge-consent", "data-policy-state": "consent" }, t("policy.asks"));
}

/**
 * Return the "Remote sessions" panel of group `groupId`; `nameOf()` gives its current name.
 * It loads the policy itself and saves it with a confirmation for unattended access.
 */
export function remotePolicyPanel(groupId, nameOf) {
  const badge = h("span", {});
  const body = h("div", { class: "stack" }, h("p", { class: "muted" }, t("common.loading")));
  const el = panel(t("policy.title"), body, { actions: badge, cls: "panel-remote-policy" });
  let saved = null; // the stored policy: true = unattended
  let savedRecord = false; // the stored policy: sessions are recorded

  function devicesLine(page) {
    const n = page.items.length;
    const count = page.next_cursor ? t("policy.more_than", { n }) : tn("devices.count", n);
    return h("p", { class: "muted small" }, t("policy.applies", { count }));
  }

  function render(page) {
    replace(badge, stateBadge(saved));
    const warning = h("div", { class: "policy-warning", role: "note" }, icon("shield"),
      h("div", {},
        h("strong", {}, `${t("policy.nobody_asked")} `), t("policy.warning")));
    const save = h("button", { type: "submit", class: "btn btn-primary" }, t("policy.save"));
    const form = h("form", { class: "stack", "aria-label": t("policy.form") },
      devicesLine(page),
      h("fieldset", { class: "choices choices-1", "data-field": "unattended" },
        h("legend", { class: "field-label" }, t("policy.when")),
        choice("consent", t("policy.consent"), t("policy.consent_text"), !saved),
        choice("unattended", t("policy.allow"), t("policy.allow_text"), saved)),
      warning,
      h("label", { class: "check" },
        h("input", { type: "checkbox", name: "record", checked: savedRecord }),
        h("span", {}, h("strong", {}, t("policy.record")), h("span", { class: "muted small" },
          ` \u2014 ${t("policy.record_text")}`))),
      h("div", { class: "form-actions" }, save));
    const chosen = () => ({
      unattended: form.querySelector("input[name=policy]:checked").value === "unattended",
      record: form.querySelector("input[name=record]").checked,
    });
    const sync = () => {
      const { unattended, record } = chosen();
      warning.hidden = !unattended;
      save.disabled = unattended === saved && record === savedRecord;
    };
    form.addEventListener("change", sync);
    sync();
    onSubmit(form, async () => {
      const { unattended, record } = chosen();
      if (unattended === saved && record === savedRecord) return;
      if (unattended && !saved) {
        const ok = await confirmDialog(t("policy.allow"), t("policy.allow_question", { group: nameOf() }),
          { confirmLabel: t("policy.allow"), danger: true });
        if (!ok) return;
      }
      const policy = await api.put(`/api/v1/groups/${groupId}/remote-policy`, { unattended, record });
      saved = policy.unattended;
      savedRecord = policy.record;
      render(page);
      showSuccess(t(`policy.saved.${saved ? "unattended" : "consent"}.${savedRecord ? "recorded" : "unrecorded"}`,
        { group: nameOf() }));
    });
    replace(body, form);
  }

  (async () => {
    const loaded = await guarded(async () => {
      const [policy, page] = await Promise.all([
        api.get(`/api/v1/groups/${groupId}/remote-policy`),
        api.get("/api/v1/devices", { group_id: groupId, limit: DEVICE_PAGE }),
      ]);
      saved = policy.unattended;
      savedRecord = policy.record;
      render(page);
      return true;
    });
    if (!loaded) replace(body, h("p", { class: "muted" }, t("policy.cannot_show")));
  })();
  return el;
}
