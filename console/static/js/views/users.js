// Admin → Users: search, filter, keyset-paged table, create and edit users.

import { api } from "../api.js";
import { field, formValues, h, replace } from "../dom.js";
import { allGroups } from "../directory.js";
import { onSubmit as handleSubmit } from "../forms.js";
import { t, tn } from "../i18n.js";
import { icon } from "../icons.js";
import { guarded, showSuccess } from "../notice.js";
import { roleLabel } from "../session.js";
import { emptyState, iconButton, openModal, roleBadge, statusBadge } from "../ui.js";

const PAGE_SIZE = 50;
const USERNAME_PATTERN = "[a-z0-9][a-z0-9._@\\-]{0,63}";
const ROLES = ["requester", "technician", "admin"];

function roleSelect(selected, { withAll = false } = {}) {
  const options = ROLES.map((r) => h("option", { value: r, selected: r === selected }, roleLabel(r)));
  if (withAll) options.unshift(h("option", { value: "", selected: !selected }, t("users.all_roles")));
  return h("select", { name: "role" }, options);
}

function userForm({ user = null, onSubmit }) {
  const editing = user !== null;
  const username = h("input", { name: "username", required: true, pattern: USERNAME_PATTERN,
    maxlength: 64, autocapitalize: "none", spellcheck: "false", autocomplete: "off",
    oninput: (e) => { e.target.value = e.target.value.toLowerCase(); } });
  const password = h("input", { name: "password", type: "password", minlength: 10,
    autocomplete: "new-password" });
  const form = h("form", { class: "stack", "aria-label": editing ? t("users.edit_user") : t("users.new_user") },
    editing ? null : field(t("users.username"), username, t("users.username_hint")),
    h("div", { class: "row-2" },
      field(t("users.display_name"), h("input", { name: "display_name", required: true, maxlength: 200,
        value: user ? user.display_name : null })),
      field(t("users.email"), h("input", { name: "email", type: "email", maxlength: 254,
        value: user ? user.email : null }))),
    h("div", { class: "row-2" },
      field(t("users.role"), roleSelect(user ? user.role : "requester")),
      editing ? h("div", { class: "field field-check" }, h("label", {},
        h("input", { type: "checkbox", name: "active", checked: user.active }), t("common.active"))) : h("div")),
    editing ? h("div", { class: "field field-check" }, h("label", {},
      h("input", { type: "checkbox", name: "email_notifications", disabled: true }),
      t("users.email_notifications"))) : null,
    field(editing ? t("users.new_password") : t("users.initial_password"), password,
      editing ? t("users.new_password_hint")
        : t("users.initial_password_hint")),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() },
        t("common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, editing ? t("common.save_changes") : t("users.create"))));
  handleSubmit(form, () => onSubmit(formValues(form)));
  return form;
}

function changes(user, v) {
  const out = {};
  if (v.display_name !== user.display_name) out.display_name = v.display_name;
  const email = v.email || null;
  if (email !== user.email) out.email = email;
  if (v.role !== user.role) out.role = v.role;
  if (v.active !== user.active) out.active = v.active;
  if (v.password) out.password = v.password;
  return out;
}

/** Fill the Users view. */
export function usersView(root, { user: me, onUserChanged }) {
  const groupNames = new Map();
  const rows = new Map(); // user id -> <tr>
  let cursor = null;
  let generation = 0;
  let shown = 0;

  const search = h("input", { type: "search", name: "q", placeholder: t("users.search_placeholder"),
    "aria-label": t("users.search"), maxlength: 100 });
  const role = roleSelect("", { withAll: true });
  role.setAttribute("aria-label", t("users.filter_role"));
  const status = h("select", { name: "active", "aria-label": t("users.filter_status") },
    h("option", { value: "" }, t("users.any_status")), h("option", { value: "true" }, t("common.active")),
    h("option", { value: "false" }, t("common.inactive")));
  const tbody = h("tbody");
  const table = h("table", { class: "table", "aria-label": t("users.table") },
    h("thead", {}, h("tr", {}, [t("users.username"), t("users.display_name"), t("users.email"), t("users.role"), t("users.status"),
      t("users.groups"), ""].map((c) => h("th", { scope: "col" }, c)))), tbody);
  const empty = h("div", { hidden: true });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const loadMore = h("button", { type: "button", class: "btn", hidden: true, onclick: () => more(generation) },
    t("common.load_more"));

  function row(u, { fresh = false } = {}) {
    const groups = u.group_ids.map((id) => groupNames.get(id)).filter(Boolean);
    const tr = h("tr", { "data-user": u.username, class: fresh ? "row-new" : null },
      h("td", {}, h("span", { class: "mono strong" }, u.username),
        fresh ? h("span", { class: "tag" }, t("common.new_tag")) : null),
      h("td", {}, u.display_name),
      h("td", { class: "muted" }, u.email || "\u2014"),
      h("td", {}, roleBadge(u.role)),
      h("td", {}, statusBadge(u.active)),
      h("td", {}, groups.length ? h("span", { class: "chips" }, groups.map((g) => h("span", { class: "chip" }, g)))
        : h("span", { class: "muted" }, "\u2014")),
      h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small",
        "aria-label": t("users.edit_named", { name: u.username }), onclick: () => edit(u) }, t("common.edit"))));
    const old = rows.get(u.id);
    rows.set(u.id, tr);
    if (old) old.replaceWith(tr);
    return tr;
  }

  function updateCount() {
    replace(count, tn("users.count", shown), cursor ? ` ${t("common.more_available")}` : "");
    empty.hidden = shown !== 0;
    table.hidden = shown === 0;
  }

  async function more(gen) {
    const filters = { q: search.value.trim(), role: role.value, active: status.value };
    const data = await guarded(() => api.get("/api/v1/users", { limit: PAGE_SIZE, cursor, ...filters }));
    if (!data || gen !== generation) return;
    for (const u of data.items) {
      if (!rows.has(u.id)) {
        tbody.append(row(u));
        shown += 1;
      }
    }
    cursor = data.next_cursor;
    loadMore.hidden = !cursor;
    updateCount();
  }

  function reload() {
    generation += 1;
    cursor = null;
    shown = 0;
    rows.clear();
    tbody.replaceChildren();
    return more(generation);
  }

  function create() {
    const dialog = openModal(t("users.new_user"), userForm({ onSubmit: async (v) => {
      const body = { username: v.username.toLowerCase(), display_name: v.display_name, role: v.role };
      if (v.email) body.email = v.email;
      if (v.password) body.password = v.password;
      const created = await api.post("/api/v1/users", body);
      dialog.close();
      tbody.prepend(row(created, { fresh: true }));
      shown += 1;
      updateCount();
      showSuccess(v.password ? t("users.created", { name: created.username })
        : t("users.created_no_password", { name: created.username }));
    } }));
  }

  function edit(u) {
    const prefPath = `/api/v1/users/${u.id}/notifications`;
    let pref = null; // the user's e-mail preference, once loaded
    const dialog = openModal(t("users.edit_named", { name: u.username }), userForm({ user: u, onSubmit: async (v) => {
      const patch = changes(u, v);
      const mail = pref !== null && v.email_notifications !== pref.email_notifications;
      if (!Object.keys(patch).length && !mail) {
        dialog.close();
        return;
      }
      const updated = Object.keys(patch).length ? await api.patch(`/api/v1/users/${u.id}`, patch) : u;
      if (mail) pref = await api.put(prefPath, { email_notifications: v.email_notifications });
      dialog.close();
      row(updated);
      if (updated.id === me.id) onUserChanged(updated);
      showSuccess(t("users.saved", { name: updated.username }));
    } }));
    const box = dialog.querySelector("input[name=email_notifications]");
    guarded(() => api.get(prefPath)).then((loaded) => {
      if (!loaded) return;
      pref = loaded;
      box.checked = loaded.email_notifications;
      box.disabled = false;
    });
  }

  let timer = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 250);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      clearTimeout(timer);
      reload();
    }
  });
  role.addEventListener("change", reload);
  status.addEventListener("change", reload);

  replace(empty, emptyState("users", t("users.none_match"), t("common.try_other_filter")));
  root.append(
    h("div", { class: "toolbar" },
      h("div", { class: "search" }, icon("search"), search), role, status,
      h("div", { class: "toolbar-end" },
        iconButton("plus", t("users.new_user"), { class: "btn btn-primary", onclick: create }))),
    h("section", { class: "panel" },
      h("div", { class: "table-wrap" }, table, empty),
      h("footer", { class: "panel-foot" }, count, loadMore)));

  // Group names first, so the Groups column is filled on the first render.
  (async () => {
    const groups = await guarded(allGroups);
    for (const g of groups || []) groupNames.set(g.id, g.name);
    await reload();
  })();
}
