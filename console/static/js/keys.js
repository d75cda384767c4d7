// Keyboard shortcuts of the view on screen, and the "?" overlay that lists them.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { openModal } from "./ui.js";

let current = null; // {root, bindings: [{key, label, run}]}
let helpOpen = false;

function typing(target) {
  if (!(target instanceof Element)) return false;
  return target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']") !== null;
}

function activates(target) {
  return target instanceof Element && target.closest("a[href], button, summary") !== null;
}

function keyLabel(key) {
  return { Enter: "Enter", Escape: "Esc", "/": "/" }[key] || key;
}

/** Show the shortcuts of the current view in a modal. */
export function showHelp() {
  if (helpOpen || !current) return;
  const rows = [...current.bindings, { key: "?", label: t("keys.show_help") }];
  helpOpen = true;
  openModal(t("keys.title"), h("div", { class: "stack" },
    h("table", { class: "table shortcuts", "aria-label": t("keys.title") },
      h("tbody", {}, rows.map((b) => h("tr", {},
        h("td", { class: "shortcut-key" }, h("kbd", {}, keyLabel(b.key))),
        h("td", {}, b.label))))),
    h("p", { class: "hint" }, t("keys.hint"))),
  { onClose: () => { helpOpen = false; } });
}

function onKeyDown(event) {
  if (!current || !current.root.isConnected) return;
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (document.querySelector("dialog[open]")) return; // a dialog has the keyboard
  const { target } = event;
  if (typing(target)) {
    // Esc leaves a field, so the next key is a shortcut again.
    if (event.key === "Escape" && target.closest(".main")) {
      target.blur();
      event.preventDefault();
    }
    return;
  }
  if (event.key === "?") {
    event.preventDefault();
    showHelp();
    return;
  }
  if ((event.key === "Enter" || event.key === " ") && activates(target)) return;
  const binding = current.bindings.find((b) => b.key === event.key);
  if (!binding) return;
  event.preventDefault();
  binding.run(event);
}

document.addEventListener("keydown", onKeyDown);

/**
 * Make `bindings` ([{key, label, run}]) the shortcuts while `root` is on screen; the
 * view shown last wins.
 */
export function shortcuts(root, bindings) {
  current = { root, bindings };
}

/** A small "Keyboard shortcuts (?)" button for a view's toolbar. */
export function helpButton() {
  return h("button", { type: "button", class: "btn btn-ghost btn-small kbd-hint", onclick: showHelp,
    title: t("keys.title"), "aria-label": t("keys.title") }, h("kbd", {}, "?"), t("keys.shortcuts"));
}
