// The Single sign-on admin page: OpenID Connect providers (a button each on the login
// page), "Test" (discovery and keys), and the switch that keeps local passwords for admins.

import { api } from "../api.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { FieldProblem, onSubmit as handleSubmit } from "../forms.js";
import { icon } from "../icons.js";
import { t } from "../i18n.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { roleLabel } from "../session.js";
import { confirmDialog, emptyState, openModal, panel } from "../ui.js";

const ROLES = ["requester", "technician", "admin"];

function text(name, value, attrs = {}) {
  return h("input", { name, value: value ?? "", autocomplete: "off", spellcheck: "false", ...attrs });
}

function check(name, checked, label) {
  return h("div", { class: "field field-check" }, h("label", {},
    h("input", { type: "checkbox", name, checked: !!checked }), label));
}

/** Return `el` (a field) marked as the place of the API's field `path` (forms.js). */
function at(path, el) {
  el.dataset.field = path;
  return el;
}

function mappingsText(mappings) {
  return (mappings || []).map((m) => [m.claim_value, m.role || "", m.deskmate_group_id ?? ""].join(" | ")).join("\n");
}

/** Return the mapping lines as the API's group_mappings; a line that does not parse throws. */
function parseMappings(control) {
  return control.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line, i) => {
    const [claim, role = "", group = ""] = line.split("|").map((p) => p.trim());
    if (!claim || (role && !ROLES.includes(role)) || (group && !/^\d{1,18}$/.test(group))) {
      throw new FieldProblem(control, t("sso.error.mapping", { n: i + 1 }));
    }
    return { claim_value: claim, role: role || null, deskmate_group_id: group ? Number(group) : null };
  });
}

function providerForm({ provider = null, onSubmit }) {
  const p = provider || { scopes: "openid email profile", username_claim: "preferred_username",
    groups_claim: "groups", group_mappings: [], default_role: "requester", create_users: false,
    match_verified_email: false, timeout_seconds: 10, enabled: true };
  const form = h("form", { class: "stack", "aria-label": t("sso.form") },
    h("div", { class: "row-2" },
      field(t("sso.name"), text("name", p.name, { required: true, maxlength: 100 }), t("sso.name_hint")),
      field(t("sso.issuer"), text("issuer", p.issuer, { required: true, maxlength: 300, inputmode: "url",
        placeholder: "https://login.microsoftonline.com/<tenant>/v2.0" }), t("sso.issuer_hint"))),
    h("div", { class: "row-2" },
      field(t("sso.client_id"), text("client_id", p.client_id, { required: true, maxlength: 300 })),
      field(t("sso.client_secret"), h("input", { name: "client_secret", type: "password",
        autocomplete: "new-password", required: !provider, maxlength: 500 }),
      provider ? t("sso.client_secret_keep") : null)),
    provider ? h("p", { class: "muted" }, t("sso.redirect_uri"), " ",
      h("code", { class: "mono", translate: "no" }, provider.redirect_uri)) : h("p", { class: "muted" }, t("sso.redirect_uri_after")),
    field(t("sso.scopes"), text("scopes", p.scopes, { required: true, maxlength: 300 })),
    field(t("sso.ca_pem"), h("textarea", { name: "ca_pem", rows: 3, spellcheck: "false" }, p.ca_pem || ""),
      t("sso.ca_pem_hint")),
    h("div", { class: "row-2" },
      field(t("sso.username_claim"), text("username_claim", p.username_claim, { required: true })),
      field(t("sso.groups_claim"), text("groups_claim", p.groups_claim), t("sso.groups_claim_hint"))),
    at("group_mappings", field(t("sso.mappings"), h("textarea", { name: "mappings", rows: 4,
      spellcheck: "false" }, mappingsText(p.group_mappings)), t("sso.mappings_hint"))),
    h("div", { class: "row-2" },
      field(t("sso.default_role"), h("select", { name: "default_role" },
        ROLES.map((r) => h("option", { value: r, selected: r === p.default_role }, roleLabel(r))))),
      field(t("sso.timeout"), text("timeout_seconds", String(p.timeout_seconds), { type: "number",
        min: 1, max: 60 }))),
    check("create_users", p.create_users, t("sso.create_users")),
    check("match_verified_email", p.match_verified_email, t("sso.match_verified_email")),
    check("enabled", p.enabled, t("sso.enabled")),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, t("sso.save"))));
  // Bad input is said next to its field (forms.js): the form's own rules first, then
  // the server's (a name taken, a claim name it does not accept).
  handleSubmit(form, () => {
    const v = formValues(form);
    if (!/^https:\/\/[^\s?#]+$/.test(v.issuer)) {
      throw new FieldProblem(form.elements.issuer, t("sso.error.issuer"));
    }
    const body = { name: v.name, issuer: v.issuer, client_id: v.client_id,
      scopes: v.scopes, ca_pem: v.ca_pem, username_claim: v.username_claim,
      groups_claim: v.groups_claim, group_mappings: parseMappings(form.elements.mappings),
      default_role: v.default_role, create_users: v.create_users,
      match_verified_email: v.match_verified_email, enabled: v.enabled,
      timeout_seconds: Number(v.timeout_seconds || 10) };
    if (v.client_secret) body.client_secret = v.client_secret;
    return onSubmit(body);
  });
  return form;
}

function localLoginForm() {
  const box = h("input", { type: "checkbox", name: "local_login_admins_only", id: "sso-local-admins" });
  const form = h("form", { class: "stack", "aria-label": t("sso.local.form") },
    h("div", { class: "field field-check" }, h("label", { for: box.id }, box, t("sso.local.label"))),
    h("p", { class: "muted" }, t("sso.local.hint")),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn" }, t("sso.local.save"))));
  guarded(() => api.get("/api/v1/identity-providers/settings")).then((s) => {
    if (s) box.checked = s.local_login_admins_only;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    try {
      const saved = await busy(form, () => api.put("/api/v1/identity-providers/settings",
        { local_login_admins_only: box.checked }));
      showSuccess(t(saved.local_login_admins_only ? "sso.local.on" : "sso.local.off"));
    } catch (error) {
      showError(error);
    }
  });
  return form;
}

/** Fill the Single sign-on view. */
export function ssoView(root) {
  const list = h("div", { class: "table-wrap" });
  const output = h("div");
  const add = h("button", { type: "button", class: "btn btn-primary" }, icon("plus"), t("sso.add"));
  add.addEventListener("click", () => {
    const dialog = openModal(t("sso.add"), providerForm({ onSubmit: async (body) => {
      const created = await api.post("/api/v1/identity-providers", body);
      dialog.close();
      showSuccess(t("sso.created", { name: created.name, uri: created.redirect_uri }));
      await load();
    } }));
  });

  async function test(p) {
    clearNotice();
    const result = await guarded(() => api.post(`/api/v1/identity-providers/${p.id}/test`));
    if (!result) return;
    replace(output, h("p", { role: "status", class: result.ok ? "" : "error-text" },
      t(result.ok ? "sso.test_ok" : "sso.test_failed", { name: p.name }), " ", result.message));
  }

  function edit(p) {
    const dialog = openModal(t("sso.edit", { name: p.name }), providerForm({ provider: p,
      onSubmit: async (body) => {
        await api.put(`/api/v1/identity-providers/${p.id}`, body);
        dialog.close();
        showSuccess(t("sso.saved", { name: body.name }));
        await load();
      } }));
  }

  async function remove(p) {
    const ok = await confirmDialog(t("sso.delete"), t("sso.delete_confirm", { name: p.name }),
      { confirmLabel: t("sso.delete"), danger: true });
    if (!ok) return;
    if (await guarded(async () => { await api.delete(`/api/v1/identity-providers/${p.id}`); return true; })) {
      showSuccess(t("sso.deleted", { name: p.name }));
      await load();
    }
  }

  async function load() {
    const data = await guarded(() => api.get("/api/v1/identity-providers"));
    if (!data) return;
    if (!data.items.length) {
      replace(list, emptyState("users", t("sso.empty_title"), t("sso.empty_text")));
      return;
    }
    const button = (label, name, onclick, cls = "btn btn-small") =>
      h("button", { type: "button", class: cls, "aria-label": `${label} ${name}`, onclick }, label);
    replace(list, h("table", { class: "table" },
      h("thead", {}, h("tr", {}, [t("sso.name"), t("sso.issuer"), t("sso.state"), ""]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.items.map((p) => h("tr", {},
        h("td", {}, p.name),
        h("td", { class: "mono", translate: "no" }, p.issuer),
        h("td", {}, t(p.enabled ? "sso.state_on" : "sso.state_off")),
        h("td", { class: "cell-actions" },
          button(t("sso.test"), p.name, () => test(p)),
          button(t("sso.edit_short"), p.name, () => edit(p)),
          button(t("sso.delete"), p.name, () => remove(p), "btn btn-small btn-danger-ghost")))))));
  }

  root.append(
    panel(t("sso.title"), [h("p", { class: "muted" }, t("sso.intro")), list, output], { actions: add }),
    panel(t("sso.local.title"), [localLoginForm()]));
  load();
}
