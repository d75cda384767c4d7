// Readable summaries of inventory changes (what the server's section diff recorded).

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { sectionLabel } from "./inventory.js";

const NAME_KEYS = ["name", "description", "login", "type", "caption", "id", "ipaddress", "ipaddress6"];

function value(v) {
  if (v === null || v === undefined || v === "") return h("span", { class: "muted" }, t("changes.none"));
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Return "openssl 3.0.15 (amd64)" for a changed item's label fields. */
export function itemLabel(item, { version = true } = {}) {
  if (item === null || typeof item !== "object") return String(item);
  const name = NAME_KEYS.map((k) => item[k]).filter((v) => v !== null && v !== undefined && v !== "");
  const parts = [name.join(" ")];
  if (item.version && version) parts.push(item.version);
  if (item.arch) parts.push(`(${item.arch})`);
  return parts.filter(Boolean).join(" ") || JSON.stringify(item);
}

function fieldList(fields) {
  return h("ul", { class: "change-fields" }, Object.entries(fields || {}).map(([name, diff]) => h("li", {},
    h("span", { class: "change-field" }, `${name}:`), " ",
    h("span", { class: "change-before" }, value(diff && diff.before)),
    h("span", { class: "change-arrow", "aria-label": t("changes.changed_to") }, " \u2192 "),
    h("span", { class: "change-after" }, value(diff && diff.after)))));
}

function itemList(kind, items, total) {
  if (!items || !items.length) return null;
  const sign = { added: "+", removed: "\u2212", changed: "~" }[kind];
  const rest = total > items.length ? total - items.length : 0;
  return h("ul", { class: `change-items change-${kind}` },
    items.map((entry) => h("li", {},
      h("span", { class: "change-sign", "aria-hidden": "true" }, sign),
      h("span", { class: "change-item" }, kind === "changed"
        ? itemLabel(entry.item, { version: !(entry.fields && "version" in entry.fields) }) : itemLabel(entry)),
      kind === "changed" ? fieldList(entry.fields) : null)),
    rest ? h("li", { class: "muted" }, t("changes.and_more", { n: rest })) : null);
}

function counts(change) {
  const c = change.counts || {
    added: (change.added || []).length,
    removed: (change.removed || []).length,
    changed: (change.changed || []).length,
  };
  return h("span", { class: "change-counts" },
    c.added ? h("span", { class: "pill pill-added" }, t("changes.added", { n: c.added })) : null,
    c.removed ? h("span", { class: "pill pill-removed" }, t("changes.removed", { n: c.removed })) : null,
    c.changed ? h("span", { class: "pill pill-changed" }, t("changes.changed", { n: c.changed })) : null);
}

/** Return a node that says what one change of one section did. */
export function changeSummary(section, change) {
  const title = h("span", { class: "change-section" }, sectionLabel(section));
  const kind = change && change.kind;
  if (kind === "added") {
    return h("div", { class: "change" }, title, h("span", { class: "change-note" }, t("changes.first_reported")));
  }
  if (kind === "removed") {
    return h("div", { class: "change" }, title, h("span", { class: "change-note" }, t("changes.no_longer_reported")));
  }
  if (kind === "changed" && ("added" in change || "removed" in change || "changed" in change)) {
    const c = change.counts || {};
    return h("div", { class: "change" }, title, counts(change),
      itemList("added", change.added, c.added),
      itemList("removed", change.removed, c.removed),
      itemList("changed", change.changed, c.changed));
  }
  if (kind === "changed" && change.fields) {
    return h("div", { class: "change" }, title, fieldList(change.fields));
  }
  if (kind === "changed" && ("before" in change || "after" in change)) {
    return h("div", { class: "change" }, title, h("span", { class: "change-note" },
      h("span", { class: "change-before" }, value(change.before)),
      h("span", { class: "change-arrow", "aria-label": t("changes.changed_to") }, " \u2192 "),
      h("span", { class: "change-after" }, value(change.after))));
  }
  return h("div", { class: "change" }, title, h("code", { class: "mono" }, JSON.stringify(change)));
}
