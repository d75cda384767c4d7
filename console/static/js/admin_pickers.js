// Pickers the admin pages share: people by name (searchable), groups and categories by name.

import { h } from "./dom.js";
import { t } from "./i18n.js";

let counter = 0;

/** The text a person is shown as in a picker: "Display Name (username)". */
export function personText(user) {
  return `${user.display_name} (${user.username})`;
}

/**
 * A searchable person picker: a text box with the matching people offered as you type
 * (a <datalist>, so the browser's own keyboard handling applies). `picked()` returns the
 * chosen user, null when empty, or undefined when the text names nobody on the list.
 */
export function personPicker(users, selectedId, { name = "person" } = {}) {
  counter += 1;
  const list = h("datalist", { id: `people-${counter}` },
    users.map((u) => h("option", { value: personText(u) })));
  const chosen = users.find((u) => u.id === selectedId);
  const input = h("input", { name, type: "search", list: list.id, autocomplete: "off",
    placeholder: t("picker.person.placeholder"), value: chosen ? personText(chosen) : null });
  const wrap = h("div", { class: "person-picker" }, input, list);
  input.picked = () => {
    const text = input.value.trim();
    if (!text) return null;
    const folded = text.toLocaleLowerCase();
    return users.find((u) => personText(u).toLocaleLowerCase() === folded)
      || users.find((u) => u.username.toLocaleLowerCase() === folded)
      || users.find((u) => u.display_name.toLocaleLowerCase() === folded)
      || undefined;
  };
  return { input, element: wrap };
}

/** A <select> of groups by name, "None" first. */
export function groupSelect(groups, selectedId, { name = "group_id" } = {}) {
  return h("select", { name },
    h("option", { value: "", selected: selectedId === null }, t("picker.none")),
    [...groups].sort((a, b) => a.name.localeCompare(b.name))
      .map((g) => h("option", { value: String(g.id), selected: g.id === selectedId }, g.name)));
}

/**
 * Return categories ({id, parent_id, name, active}) in tree order with `depth` and `path`
 * ("Hardware › Laptops"); retired ones keep their place.
 */
export function treeOrder(items) {
  const children = new Map();
  for (const c of items) {
    const key = c.parent_id ?? 0;
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(c);
  }
  const out = [];
  const seen = new Set();
  const walk = (parent, depth, prefix) => {
    for (const c of (children.get(parent) || []).sort((a, b) => a.name.localeCompare(b.name))) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      const path = prefix ? `${prefix} \u203a ${c.name}` : c.name;
      out.push({ ...c, depth, path });
      walk(c.id, depth + 1, path);
    }
  };
  walk(0, 0, "");
  return out;
}

/**
 * A <select> of categories in tree order by path, "None" first. Retired categories are
 * left out, except the selected one (kept, marked retired, so saving does not drop it).
 */
export function treeSelect(tree, selectedId, { name = "category_id", none = t("picker.none"), skip = new Set() } = {}) {
  return h("select", { name },
    h("option", { value: "", selected: selectedId === null || selectedId === undefined }, none),
    tree.filter((c) => !skip.has(c.id) && (c.active || c.id === selectedId))
      .map((c) => h("option", { value: String(c.id), selected: c.id === selectedId },
        c.active ? c.path : t("picker.retired", { name: c.path }))));
}
