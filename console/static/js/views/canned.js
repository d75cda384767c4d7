// Canned responses: the shared ones (admins manage them) and your own personal ones.

import { api } from "../api.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearFieldErrors, showFieldErrors } from "../forms.js";
import { t, tn } from "../i18n.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { confirmDialog, emptyState, iconButton, openModal } from "../ui.js";

const MAX_TITLE = 100;
const MAX_BODY = 20000;

function cannedForm({ canned, isAdmin, onSubmit }) {
  const editing = canned !== null;
  const title = h("input", { name: "title", maxlength: MAX_TITLE, required: true, autocomplete: "off",
    value: editing ? canned.title : null });
  const body = h("textarea", { name: "body", rows: 8, maxlength: MAX_BODY, required: true }, editing ? canned.body : "");
  // Shared or personal is chosen once, when it is made (the API keeps it).
  const shared = !editing && isAdmin ? h("div", { class: "field field-check" }, h("label", {},
    h("input", { type: "checkbox", name: "shared" }), t("canned.shared_check"))) : null;
  const form = h("form", { class: "stack", novalidate: true,
    "aria-label": editing ? t("canned.edit_title", { title: canned.title }) : t("canned.new") },
    field(t("canned.title_label"), title),
    field(t("canned.body_label"), body, t("canned.body_hint")),
    shared,
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() },
        t("canned.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, editing ? t("canned.save") : t("canned.create"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    if (showFieldErrors([
      [title, v.title ? null : t("canned.error.title_blank")],
      [body, v.body ? null : t("canned.error.body_blank")],
    ])) return;
    try {
      await busy(form, () => onSubmit({ title: v.title, body: v.body, shared: !!v.shared }));
    } catch (error) {
      showError(error);
    }
  });
  return form;
}

/** Fill the Canned responses view. */
export function cannedView(root, { user }) {
  const isAdmin = user.role === "admin";
  let items = [];
  const tbody = h("tbody");
  const table = h("table", { class: "table canned-table", "aria-label": t("canned.title") },
    h("thead", {}, h("tr", {}, [t("canned.col.title"), t("canned.col.scope"), t("canned.col.text"), ""]
      .map((c) => h("th", { scope: "col" }, c)))), tbody);
  const empty = h("div", { hidden: true }, emptyState("inbox", t("canned.empty_title"), t("canned.empty_text")));
  const count = h("span", { class: "muted", "aria-live": "polite" });

  // Personal ones listed are always the caller's own; shared ones only admins change.
  const mayChange = (c) => !c.shared || isAdmin;

  function render() {
    replace(tbody, items.map((c) => h("tr", { "data-canned": c.title },
      h("td", {}, h("span", { class: "strong" }, c.title)),
      h("td", {}, h("span", { class: `badge ${c.shared ? "badge-admin" : ""}`.trim() },
        c.shared ? t("canned.shared") : t("canned.personal"))),
      h("td", { class: "muted canned-text" }, c.body.length > 120 ? `${c.body.slice(0, 120)}\u2026` : c.body),
      h("td", { class: "cell-actions" }, mayChange(c) ? [
        h("button", { type: "button", class: "btn btn-small", "aria-label": t("canned.edit_named", { title: c.title }),
          onclick: () => edit(c) }, t("canned.edit")),
        h("button", { type: "button", class: "btn btn-small btn-danger-ghost",
          "aria-label": t("canned.delete_named", { title: c.title }), onclick: () => remove(c) }, t("canned.delete")),
      ] : h("span", { class: "muted" }, t("canned.admins_only"))))));
    replace(count, tn("canned.count", items.length));
    empty.hidden = items.length > 0;
    table.hidden = items.length === 0;
  }

  async function load() {
    const data = await guarded(() => api.get("/api/v1/canned-responses"));
    if (!data) return;
    items = data.items;
    render();
  }

  function create() {
    const dialog = openModal(t("canned.new"), cannedForm({ canned: null, isAdmin, onSubmit: async (body) => {
      if (!isAdmin) delete body.shared;
      const created = await api.post("/api/v1/canned-responses", body);
      dialog.close();
      await load();
      showSuccess(t("canned.created", { title: created.title }));
    } }));
  }

  function edit(c) {
    const dialog = openModal(t("canned.edit_title", { title: c.title }), cannedForm({ canned: c, isAdmin,
      onSubmit: async (body) => {
        const patch = {};
        if (body.title !== c.title) patch.title = body.title;
        if (body.body !== c.body) patch.body = body.body;
        if (Object.keys(patch).length) await api.patch(`/api/v1/canned-responses/${c.id}`, patch);
        dialog.close();
        await load();
        showSuccess(t("canned.saved", { title: body.title }));
      } }));
  }

  async function remove(c) {
    const sure = await confirmDialog(t("canned.delete_title", { title: c.title }), t("canned.delete_text"),
      { confirmLabel: t("canned.delete"), danger: true });
    if (!sure) return;
    const done = await guarded(async () => { await api.delete(`/api/v1/canned-responses/${c.id}`); return true; });
    if (!done) return;
    await load();
    showSuccess(t("canned.deleted", { title: c.title }));
  }

  root.append(
    h("div", { class: "toolbar" },
      h("p", { class: "muted lead" }, isAdmin ? t("canned.lead_admin") : t("canned.lead")),
      h("div", { class: "toolbar-end" },
        iconButton("plus", t("canned.new"), { class: "btn btn-primary", onclick: create }))),
    h("section", { class: "panel" },
      h("div", { class: "table-wrap" }, table, empty),
      h("footer", { class: "panel-foot" }, count)));
  load();
}
