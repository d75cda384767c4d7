// Admin → Service catalog: the request types the portal offers, their order, forms,
// approvers, the group they go to, visibility; retire or delete them.

import { api } from "../api.js";
import { groupSelect, personPicker, treeOrder, treeSelect } from "../admin_pickers.js";
import { fieldEditor } from "../catalog_fields.js";
import { allGroups, allUsers } from "../directory.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearFieldErrors, fieldError, showFieldErrors } from "../forms.js";
import { t, tn } from "../i18n.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { confirmDialog, emptyState, iconButton, openModal } from "../ui.js";

const APPROVALS = ["none", "approver", "group_manager"];
const VISIBILITIES = ["everyone", "staff"];

function itemForm({ item, dir, onSubmit, onDelete }) {
  const editing = item !== null;
  const it = item || { name: "", description: "", fields: [], approval: "none", approver_id: null,
    group_id: null, category_id: null, visibility: "everyone", active: true };
  const name = h("input", { name: "name", maxlength: 100, required: true, value: it.name, autocomplete: "off" });
  const description = h("textarea", { name: "description", rows: 3, maxlength: 5000 }, it.description);
  const group = groupSelect(dir.groups, it.group_id);
  const category = treeSelect(dir.categories, it.category_id);
  const approval = h("select", { name: "approval" },
    APPROVALS.map((a) => h("option", { value: a, selected: a === it.approval }, t(`catalog.approval.${a}`))));
  const approver = personPicker(dir.people, it.approver_id, { name: "approver" });
  const approverField = field(t("catalog.approver"), approver.input, t("catalog.approver_hint"));
  approverField.append(approver.element.querySelector("datalist"));
  const showApprover = () => { approverField.hidden = approval.value !== "approver"; };
  approval.addEventListener("change", showApprover);
  showApprover();
  const visibility = h("select", { name: "visibility" },
    VISIBILITIES.map((v) => h("option", { value: v, selected: v === it.visibility }, t(`catalog.visibility.${v}`))));
  const active = h("input", { type: "checkbox", name: "active", checked: it.active });
  const editor = fieldEditor(it.fields);
  const form = h("form", { class: "stack", novalidate: true,
    "aria-label": editing ? t("catalog.edit_title", { name: it.name }) : t("catalog.new") },
    field(t("catalog.name"), name),
    field(t("catalog.description"), description, t("catalog.description_hint")),
    h("div", { class: "row-2" },
      field(t("catalog.group"), group, t("catalog.group_hint")),
      field(t("catalog.category"), category)),
    h("div", { class: "row-2" },
      field(t("catalog.approval"), approval),
      field(t("catalog.visibility"), visibility)),
    approverField,
    editing ? h("div", { class: "field field-check" },
      h("label", {}, active, t("catalog.active"))) : null,
    editor.element,
    h("div", { class: "form-actions" },
      editing ? h("button", { type: "button", class: "btn btn-danger-ghost form-actions-start",
        onclick: () => onDelete() }, t("catalog.delete")) : null,
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() },
        t("catalog.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, editing ? t("catalog.save") : t("catalog.create"))));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    const { fields, problems } = editor.read();
    const person = approver.input.picked();
    if (!v.name) problems.unshift([name, t("catalog.error.name_blank")]);
    if (v.approval === "approver") {
      if (person === null) problems.push([approver.input, t("catalog.error.approver_missing")]);
      else if (person === undefined) problems.push([approver.input, t("catalog.error.approver_unknown")]);
    }
    if (v.approval === "group_manager" && !v.group_id) problems.push([group, t("catalog.error.manager_needs_group")]);
    if (showFieldErrors(problems)) return;
    const body = { name: v.name, description: v.description, fields, approval: v.approval,
      approver_id: v.approval === "approver" ? person.id : null,
      group_id: v.group_id ? Number(v.group_id) : null,
      category_id: v.category_id ? Number(v.category_id) : null, visibility: v.visibility };
    if (editing) body.active = v.active;
    try {
      await busy(form, () => onSubmit(body));
    } catch (error) {
      // Refusals that are about one field go next to it; anything else on top.
      if (error.status === 409 && error.code === "conflict") fieldError(name, t("catalog.error.name_taken"));
      else if (error.code === "invalid_approver") fieldError(approver.input, t("catalog.error.approver_inactive"));
      else if (error.code === "invalid_group") fieldError(group, t("catalog.error.group_gone"));
      else if (error.status === 422 && /^category_id/.test(error.message)) {
        fieldError(category, t("catalog.error.category_retired"));
      } else if (error.status === 422 && /^field|option/.test(error.message)) editor.fail(error.message);
      else showError(error);
    }
  });
  return form;
}

/** Fill the Service catalog admin view. */
export function catalogAdminView(root) {
  let items = [];
  let dir = null;
  const tbody = h("tbody");
  const table = h("table", { class: "table catalog-table", "aria-label": t("catalog.title") },
    h("thead", {}, h("tr", {},
      [t("catalog.col.order"), t("catalog.col.name"), t("catalog.col.group"), t("catalog.col.approval"),
        t("catalog.col.visibility"), t("catalog.col.fields"), t("catalog.col.status"), ""]
        .map((c) => h("th", { scope: "col" }, c)))), tbody);
  const empty = h("div", { hidden: true },
    emptyState("ticket", t("catalog.empty_title"), t("catalog.empty_text")));
  const count = h("span", { class: "muted", "aria-live": "polite" });

  const groupName = (id) => (dir.groups.find((g) => g.id === id) || {}).name;
  const approvalText = (it) => {
    if (it.approval === "approver") {
      const who = dir.allUsers.find((u) => u.id === it.approver_id);
      return t("catalog.approval_by", { name: who ? who.display_name : "?" });
    }
    return t(`catalog.approval.${it.approval}`);
  };

  function render() {
    replace(tbody, items.map((it, i) => h("tr", { "data-item": it.name },
      h("td", { class: "cell-order" },
        h("button", { type: "button", class: "btn btn-small", disabled: i === 0,
          "aria-label": t("catalog.move_up_named", { name: it.name }), onclick: () => move(i, -1) }, "\u2191"),
        h("button", { type: "button", class: "btn btn-small", disabled: i === items.length - 1,
          "aria-label": t("catalog.move_down_named", { name: it.name }), onclick: () => move(i, 1) }, "\u2193")),
      h("td", {}, h("span", { class: "strong" }, it.name),
        it.description ? h("div", { class: "muted clamp" }, it.description) : null),
      h("td", {}, groupName(it.group_id) || h("span", { class: "muted" }, "\u2014")),
      h("td", {}, approvalText(it)),
      h("td", {}, t(`catalog.visibility.${it.visibility}`)),
      h("td", {}, tn("catalog.fields_count", it.fields.length)),
      h("td", {}, h("span", { class: `status ${it.active ? "status-on" : "status-off"}` },
        it.active ? t("catalog.status.active") : t("catalog.status.retired"))),
      h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-small",
        "aria-label": t("catalog.edit_named", { name: it.name }), onclick: () => edit(it) }, t("catalog.edit"))))));
    replace(count, tn("catalog.count", items.length));
    empty.hidden = items.length > 0;
    table.hidden = items.length === 0;
  }

  async function move(index, step) {
    const order = items.map((it) => it.id);
    const [moved] = order.splice(index, 1);
    if (moved === undefined) return;
    order.splice(index + step, 0, moved);
    const data = await guarded(() => api.put("/api/v1/catalog/order", { item_ids: order }));
    if (!data) return;
    items = data.items;
    render();
    // Keep the keyboard on the row that moved, on the same button when it is still usable.
    const row = tbody.querySelector(`tr:nth-child(${index + step + 1})`);
    const buttons = row ? row.querySelectorAll(".cell-order button") : [];
    const again = buttons[step < 0 ? 0 : 1];
    (again && !again.disabled ? again : buttons[step < 0 ? 1 : 0])?.focus();
    showSuccess(t("catalog.moved", { name: items[index + step].name }));
  }

  function create() {
    const dialog = openModal(t("catalog.new"), itemForm({ item: null, dir, onSubmit: async (body) => {
      const created = await api.post("/api/v1/catalog", body);
      dialog.close();
      items.push(created);
      render();
      showSuccess(t("catalog.created", { name: created.name }));
    } }));
    dialog.classList.add("modal-wide");
  }

  function edit(it) {
    const dialog = openModal(t("catalog.edit_title", { name: it.name }), itemForm({ item: it, dir,
      onSubmit: async (body) => {
        const updated = await api.patch(`/api/v1/catalog/${it.id}`, body);
        dialog.close();
        items = items.map((x) => (x.id === updated.id ? updated : x));
        render();
        showSuccess(t("catalog.saved", { name: updated.name }));
      },
      onDelete: async () => {
        dialog.close();
        const sure = await confirmDialog(t("catalog.delete_title", { name: it.name }), t("catalog.delete_text"),
          { confirmLabel: t("catalog.delete"), danger: true });
        if (!sure) return;
        try {
          await api.delete(`/api/v1/catalog/${it.id}`);
        } catch (error) {
          showError(error.code === "in_use" ? t("catalog.error.in_use") : error);
          return;
        }
        items = items.filter((x) => x.id !== it.id);
        render();
        showSuccess(t("catalog.deleted", { name: it.name }));
      } }));
    dialog.classList.add("modal-wide");
  }

  root.append(
    h("div", { class: "toolbar" },
      h("p", { class: "muted lead" }, t("catalog.lead")),
      h("div", { class: "toolbar-end" },
        iconButton("plus", t("catalog.new"), { class: "btn btn-primary",
          onclick: async () => { if (await ready) create(); } }))),
    h("section", { class: "panel" },
      h("div", { class: "table-wrap" }, table, empty),
      h("footer", { class: "panel-foot" }, count)));

  // The dialog needs the groups, people and categories: a click before they arrive waits.
  const ready = (async () => {
    const loaded = await guarded(() => Promise.all([api.get("/api/v1/catalog"), allGroups(), allUsers(),
      api.get("/api/v1/categories")]));
    if (!loaded) return false;
    const [catalog, groups, users, categories] = loaded;
    dir = { groups, allUsers: users, people: users.filter((u) => u.active), categories: treeOrder(categories.items) };
    items = catalog.items;
    render();
    return true;
  })();
}
