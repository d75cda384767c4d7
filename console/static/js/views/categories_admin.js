// Admin → Categories: the ticket and knowledge-base category trees. Create, rename, move
// under another parent, retire and restore (retired ones stay on old tickets and articles).

import { api } from "../api.js";
import { treeOrder, treeSelect } from "../admin_pickers.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearFieldErrors, fieldError, showFieldErrors } from "../forms.js";
import { t, tn } from "../i18n.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { emptyState, iconButton, openModal, panel } from "../ui.js";

const TREES = [
  { key: "tickets", path: "/api/v1/categories" },
  { key: "kb", path: "/api/v1/kb/categories" },
];

/** Return the ids under `id` in a tree-ordered list (not `id` itself). */
function below(tree, id) {
  const out = new Set([id]);
  for (const c of tree) if (c.parent_id !== null && out.has(c.parent_id)) out.add(c.id);
  out.delete(id);
  return out;
}

function categoryForm({ category, parentId, tree, onSubmit }) {
  const editing = category !== null;
  const name = h("input", { name: "name", maxlength: 100, required: true, autocomplete: "off",
    value: editing ? category.name : null });
  // A category cannot move under itself or anything below it: those are not offered.
  const skip = editing ? new Set([category.id, ...below(tree, category.id)]) : new Set();
  const parent = treeSelect(tree, editing ? category.parent_id : parentId,
    { name: "parent_id", none: t("categories.top_level"), skip });
  const form = h("form", { class: "stack", novalidate: true,
    "aria-label": editing ? t("categories.edit_title", { name: category.name }) : t("categories.new") },
    field(t("categories.name"), name),
    field(t("categories.parent"), parent, t("categories.parent_hint")),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => form.closest("dialog")?.close() },
        t("categories.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, editing ? t("categories.save") : t("categories.create"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    clearFieldErrors(form);
    const v = formValues(form);
    if (showFieldErrors([[name, v.name ? null : t("categories.error.name_blank")]])) return;
    const body = { name: v.name, parent_id: v.parent_id ? Number(v.parent_id) : null };
    try {
      await busy(form, () => onSubmit(body));
    } catch (error) {
      if (error.status === 409 && error.code === "conflict") fieldError(name, t("categories.error.name_taken"));
      else if (error.code === "invalid_parent") fieldError(parent, t("categories.error.parent"));
      else showError(error);
    }
  });
  return form;
}

function treePanel(spec) {
  let tree = [];
  const list = h("ul", { class: "category-tree", "aria-label": t(`categories.${spec.key}.title`) });
  const empty = h("div", { hidden: true },
    emptyState("book", t("categories.empty_title"), t(`categories.${spec.key}.empty`)));
  const count = h("p", { class: "muted" });

  async function load() {
    const data = await guarded(() => api.get(spec.path));
    if (!data) return;
    tree = treeOrder(data.items);
    render();
  }

  function render() {
    replace(list, tree.map((c) => h("li", { class: `category-row depth-${Math.min(c.depth, 5)}`,
      "data-category": c.path },
    h("span", { class: "category-name" }, h("span", { class: "strong" }, c.name),
      c.active ? null : h("span", { class: "status status-off" }, t("categories.retired"))),
    h("span", { class: "category-actions" },
      c.active ? h("button", { type: "button", class: "btn btn-small",
        "aria-label": t("categories.add_under", { name: c.path }), onclick: () => create(c.id) },
      t("categories.add_sub")) : null,
      h("button", { type: "button", class: "btn btn-small",
        "aria-label": t("categories.edit_named", { name: c.path }), onclick: () => edit(c) }, t("categories.edit")),
      h("button", { type: "button", class: "btn btn-small",
        "aria-label": t(c.active ? "categories.retire_named" : "categories.restore_named", { name: c.path }),
        onclick: () => setActive(c, !c.active) }, t(c.active ? "categories.retire" : "categories.restore"))))));
    const retired = tree.filter((c) => !c.active).length;
    replace(count, tn("categories.count", tree.length), retired ? ` ${tn("categories.retired_count", retired)}` : "");
    empty.hidden = tree.length > 0;
    list.hidden = tree.length === 0;
  }

  function create(parentId = null) {
    const dialog = openModal(t("categories.new"), categoryForm({ category: null, parentId, tree,
      onSubmit: async (body) => {
        const created = await api.post(spec.path, body);
        dialog.close();
        await load();
        showSuccess(t("categories.created", { name: created.name }));
      } }));
  }

  function edit(c) {
    const dialog = openModal(t("categories.edit_title", { name: c.name }), categoryForm({ category: c, tree,
      onSubmit: async (body) => {
        const patch = {};
        if (body.name !== c.name) patch.name = body.name;
        if (body.parent_id !== c.parent_id) patch.parent_id = body.parent_id;
        if (Object.keys(patch).length) await api.patch(`${spec.path}/${c.id}`, patch);
        dialog.close();
        await load();
        showSuccess(t("categories.saved", { name: body.name }));
      } }));
  }

  async function setActive(c, active) {
    clearNotice();
    try {
      await api.patch(`${spec.path}/${c.id}`, { active });
    } catch (error) {
      showError(error.code === "invalid_parent" ? t("categories.error.restore_parent") : error);
      return;
    }
    await load();
    showSuccess(t(active ? "categories.restored" : "categories.retired_done", { name: c.path }));
    list.querySelector(`[data-category="${CSS.escape(c.path)}"] .category-actions button:last-child`)?.focus();
  }

  load();
  return panel(t(`categories.${spec.key}.title`),
    [h("p", { class: "muted" }, t(`categories.${spec.key}.lead`)), list, empty, count],
    { actions: iconButton("plus", t("categories.new"), { class: "btn btn-primary btn-small",
      "aria-label": t(`categories.${spec.key}.new`), onclick: () => create(null) }) });
}

/** Fill the Categories admin view: both trees, one panel each. */
export function categoriesAdminView(root) {
  root.append(h("div", { class: "stack-lg" }, TREES.map(treePanel)));
}
