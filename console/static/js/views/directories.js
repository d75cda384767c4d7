// The Directories admin page: LDAP / Active Directory records, with "Test connection",
// "Preview sync" (what would change, nothing written) and "Sync now".

import { api } from "../api.js";
import { field, formValues, h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { FieldProblem, onSubmit as handleSubmit } from "../forms.js";
import { icon } from "../icons.js";
import { t, tn } from "../i18n.js";
import { clearNotice, guarded, showSuccess } from "../notice.js";
import { roleLabel } from "../session.js";
import { confirmDialog, emptyState, openModal, panel } from "../ui.js";

const ROLES = ["requester", "technician", "admin"];

// Starting points an admin adjusts (docs/identity.md explains each field).
const PRESETS = {
  active_directory: {
    user_filter: "(&(objectCategory=person)(objectClass=user))",
    disabled_filter: "(userAccountControl:1.2.840.113556.1.4.803:=2)",
    attributes: { login: "sAMAccountName", display_name: "displayName", mail: "mail",
      phone: "telephoneNumber", department: "department", manager: "manager",
      external_id: "objectGUID" },
    group_filter: "(objectClass=group)", nested_groups: "in_chain",
  },
  openldap: {
    user_filter: "(objectClass=inetOrgPerson)", disabled_filter: "(pwdAccountLockedTime=*)",
    attributes: { login: "uid", display_name: "cn", mail: "mail", phone: "telephoneNumber",
      department: "departmentNumber", manager: "manager", external_id: "entryUUID" },
    group_filter: "(objectClass=groupOfNames)", nested_groups: "client",
  },
};
const ATTRIBUTES = ["login", "display_name", "mail", "phone", "department", "manager", "external_id"];
const LDAP_URL = /^ldaps?:\/\/[^\s/]+\/?$/; // the server's rule for one URL

/** Return `el` (a field) marked as the place of the API's field `path` (forms.js). */
function at(path, el) {
  el.dataset.field = path;
  return el;
}

function text(name, value, attrs = {}) {
  return h("input", { name, value: value ?? "", autocomplete: "off", spellcheck: "false", ...attrs });
}

function select(name, choices, selected, attrs = {}) {
  return h("select", { name, ...attrs }, choices.map(([v, label]) => h("option", { value: v, selected: v === selected }, label)));
}

function mappingsText(mappings) {
  return (mappings || []).map((m) => [m.group_dn, m.role || "", m.deskmate_group_id ?? ""].join(" | ")).join("\n");
}

/** Return the mapping lines as the API's group_mappings; a line that does not parse throws. */
function parseMappings(control) {
  return control.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line, i) => {
    const [dn, role = "", group = ""] = line.split("|").map((p) => p.trim());
    if (!dn || (role && !ROLES.includes(role)) || (group && !/^\d{1,18}$/.test(group))) {
      throw new FieldProblem(control, t("directories.error.mapping", { n: i + 1 }));
    }
    return { group_dn: dn, role: role || null, deskmate_group_id: group ? Number(group) : null };
  });
}

function directoryForm({ directory = null, onSubmit }) {
  const d = directory || { kind: "openldap", security: "ldaps", ...PRESETS.openldap, urls: [],
    sync_minutes: 60, default_role: "requester", group_mappings: [], allow_plaintext: false };
  const attrs = ATTRIBUTES.map((a) => at(`attributes.${a}`, field(t(`directories.attr.${a}`),
    text(`attr_${a}`, d.attributes[a], { required: ["login", "display_name", "mail"].includes(a) }))));
  const form = h("form", { class: "stack", "aria-label": t("directories.form") },
    h("div", { class: "row-2" },
      field(t("directories.name"), text("name", d.name, { required: true, maxlength: 100 })),
      field(t("directories.kind"), select("kind", [["openldap", "OpenLDAP"],
        ["active_directory", "Active Directory"]], d.kind, { translate: "no" }))),
    field(t("directories.urls"), text("urls", (d.urls || []).join(" "), { required: true,
      placeholder: "ldaps://ldap1.example.org ldaps://ldap2.example.org" }), t("directories.urls_hint")),
    h("div", { class: "row-2" },
      field(t("directories.security"), select("security", [["ldaps", "LDAPS"], ["starttls", "StartTLS"],
        ["plain", t("directories.security_plain")]], d.security)),
      h("div", { class: "field field-check" }, h("label", {},
        h("input", { type: "checkbox", name: "allow_plaintext", checked: d.allow_plaintext }),
        t("directories.allow_plaintext")))),
    field(t("directories.ca_pem"), h("textarea", { name: "ca_pem", rows: 3, spellcheck: "false" },
      d.ca_pem || ""), t("directories.ca_pem_hint")),
    h("div", { class: "row-2" },
      field(t("directories.bind_dn"), text("bind_dn", d.bind_dn, { required: true })),
      field(t("directories.bind_password"), h("input", { name: "bind_password", type: "password",
        autocomplete: "new-password", required: !directory }),
      directory ? t("directories.bind_password_keep") : null)),
    h("div", { class: "row-2" },
      field(t("directories.user_base"), text("user_base", d.user_base, { required: true })),
      field(t("directories.user_filter"), text("user_filter", d.user_filter, { required: true }))),
    field(t("directories.disabled_filter"), text("disabled_filter", d.disabled_filter)),
    h("fieldset", { class: "stack" }, h("legend", {}, t("directories.attributes")),
      h("div", { class: "row-2" }, attrs)),
    h("div", { class: "row-2" },
      field(t("directories.group_base"), text("group_base", d.group_base)),
      field(t("directories.group_filter"), text("group_filter", d.group_filter))),
    field(t("directories.nested"), select("nested_groups", [["client", t("directories.nested.client")],
      ["in_chain", t("directories.nested.in_chain")], ["off", t("directories.nested.off")]], d.nested_groups)),
    at("group_mappings", field(t("directories.mappings"), h("textarea", { name: "mappings", rows: 4,
      spellcheck: "false" }, mappingsText(d.group_mappings)), t("directories.mappings_hint"))),
    h("div", { class: "row-2" },
      field(t("directories.default_role"), select("default_role", ROLES.map((r) => [r, roleLabel(r)]),
        d.default_role)),
      field(t("directories.sync_minutes"), text("sync_minutes", String(d.sync_minutes), { type: "number",
        min: 0, max: 10080 }), t("directories.sync_minutes_hint"))),
    h("label", { class: "check" },
      h("input", { type: "checkbox", name: "create_on_sign_in", checked: !!d.create_on_sign_in }),
      h("span", {}, h("strong", {}, t("directories.create_on_sign_in")),
        h("span", { class: "muted small" }, ` \u2014 ${t("directories.create_on_sign_in_hint")}`))),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, t("directories.save"))));
  // Bad input is said next to its field (forms.js): the form's own rules first, then
  // the server's (a URL that does not fit the security, a name taken).
  handleSubmit(form, () => {
    const v = formValues(form);
    const urls = v.urls.split(/\s+/).filter(Boolean);
    const wrong = urls.find((url) => !LDAP_URL.test(url));
    if (wrong) throw new FieldProblem(form.elements.urls, t("directories.error.url", { url: wrong }));
    const body = { name: v.name, kind: v.kind, urls,
      security: v.security, allow_plaintext: v.allow_plaintext, ca_pem: v.ca_pem,
      bind_dn: v.bind_dn, user_base: v.user_base, user_filter: v.user_filter,
      disabled_filter: v.disabled_filter, group_base: v.group_base, group_filter: v.group_filter,
      nested_groups: v.nested_groups, group_mappings: parseMappings(form.elements.mappings),
      default_role: v.default_role, sync_minutes: Number(v.sync_minutes || 0),
      create_on_sign_in: !!v.create_on_sign_in,
      attributes: Object.fromEntries(ATTRIBUTES.map((a) => [a, v[`attr_${a}`] || null])
        .filter(([a, value]) => value !== null || !["external_id"].includes(a))) };
    if (v.bind_password) body.bind_password = v.bind_password;
    return onSubmit(body);
  });
  return form;
}

function report(result) {
  const lines = [
    t(result.preview ? "directories.report.preview" : "directories.report.done"),
    tn("directories.report.users_seen", result.users_seen),
    tn("directories.report.created", result.created),
    tn("directories.report.updated", result.updated),
    tn("directories.report.deactivated", result.deactivated),
    tn("directories.report.memberships", result.memberships_added + result.memberships_removed),
  ];
  if (!result.preview) lines.push(tn("directories.report.writes", result.writes));
  const changes = result.changes.map((c) => h("li", {},
    t(`directories.change.${c.action}`, { name: c.username }), c.fields.length ? ` (${c.fields.join(", ")})` : ""));
  return h("div", { class: "stack", role: "status" },
    h("ul", { class: "plain-list" }, lines.map((l) => h("li", {}, l))),
    changes.length ? h("details", {}, h("summary", {}, t("directories.report.changes")),
      h("ul", {}, changes)) : null,
    result.skipped.length ? h("details", {}, h("summary", {}, tn("directories.report.skipped",
      result.skipped.length)), h("ul", {}, result.skipped.map((s) => h("li", { class: "mono" }, s)))) : null);
}

/** Fill the Directories view. */
export function directoriesView(root) {
  const list = h("div", { class: "table-wrap" });
  const output = h("div");
  const add = h("button", { type: "button", class: "btn btn-primary" }, icon("plus"), t("directories.add"));
  add.addEventListener("click", () => {
    const dialog = openModal(t("directories.add"), directoryForm({ onSubmit: async (body) => {
      const created = await api.post("/api/v1/directories", body);
      dialog.close();
      showSuccess(t("directories.created", { name: created.name }));
      await load();
    } }));
  });

  async function act(d, what) {
    clearNotice();
    const path = `/api/v1/directories/${d.id}/${what}`;
    const result = await guarded(() => api.post(path));
    if (!result) return;
    if (what === "test") {
      replace(output, h("p", { role: "status", class: result.ok ? "" : "error-text" },
        t(result.ok ? "directories.test_ok" : "directories.test_failed", { name: d.name }), " ", result.message));
    } else {
      replace(output, report(result));
      if (what === "sync") await load();
    }
  }

  function edit(d) {
    const dialog = openModal(t("directories.edit", { name: d.name }), directoryForm({ directory: d,
      onSubmit: async (body) => {
        await api.put(`/api/v1/directories/${d.id}`, body);
        dialog.close();
        showSuccess(t("directories.saved", { name: body.name }));
        await load();
      } }));
  }

  async function remove(d) {
    const ok = await confirmDialog(t("directories.delete"), t("directories.delete_confirm", { name: d.name }),
      { confirmLabel: t("directories.delete"), danger: true });
    if (!ok) return;
    if (await guarded(async () => { await api.delete(`/api/v1/directories/${d.id}`); return true; })) {
      showSuccess(t("directories.deleted", { name: d.name }));
      await load();
    }
  }

  async function load() {
    const data = await guarded(() => api.get("/api/v1/directories"));
    if (!data) return;
    if (!data.items.length) {
      replace(list, emptyState("users", t("directories.empty_title"), t("directories.empty_text")));
      return;
    }
    const button = (label, name, onclick, cls = "btn btn-small") =>
      h("button", { type: "button", class: cls, "aria-label": `${label} ${name}`, onclick }, label);
    replace(list, h("table", { class: "table" },
      h("thead", {}, h("tr", {}, [t("directories.name"), t("directories.kind"), t("directories.urls"),
        t("directories.last_sync"), ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.items.map((d) => h("tr", {},
        h("td", {}, d.name),
        h("td", { translate: "no" }, d.kind === "active_directory" ? "Active Directory" : "OpenLDAP"),
        h("td", { class: "mono" }, d.urls.join(" ")),
        h("td", { class: "nowrap" }, d.last_sync_at ? dateTime(d.last_sync_at) : t("directories.never")),
        h("td", { class: "cell-actions" },
          button(t("directories.test"), d.name, () => act(d, "test")),
          button(t("directories.preview"), d.name, () => act(d, "preview")),
          button(t("directories.sync"), d.name, () => act(d, "sync")),
          button(t("directories.edit_short"), d.name, () => edit(d)),
          button(t("directories.delete"), d.name, () => remove(d), "btn btn-small btn-danger-ghost")))))));
  }

  root.append(panel(t("directories.title"), [h("p", { class: "muted" }, t("directories.intro")), list, output],
    { actions: add }));
  load();
}
