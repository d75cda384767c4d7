// Small building blocks shared by the views: panels, badges, empty states, dialogs.

import { h } from "./dom.js";
import { icon } from "./icons.js";
import { t } from "./i18n.js";
import { pushNoticeHost } from "./notice.js";
import { roleLabel } from "./session.js";

/** A titled panel (card) with optional actions on the right of its header. */
export function panel(title, body, { actions = null, cls = "" } = {}) {
  return h("section", { class: `panel ${cls}`.trim() },
    title ? h("header", { class: "panel-head" },
      h("h2", { class: "panel-title" }, title), actions ? h("div", { class: "panel-actions" }, actions) : null)
      : null,
    h("div", { class: "panel-body" }, body));
}

/** A message for an empty list or a module still to come. */
export function emptyState(iconName, title, text, extra = null) {
  return h("div", { class: "empty" },
    h("div", { class: "empty-icon" }, icon(iconName)),
    h("h3", { class: "empty-title" }, title),
    h("p", { class: "empty-text" }, text),
    extra);
}

/** A coloured label for a role. */
export function roleBadge(role) {
  return h("span", { class: `badge badge-${role}` }, roleLabel(role));
}

/** A dot + label for active / inactive. */
export function statusBadge(active) {
  return h("span", { class: `status ${active ? "status-on" : "status-off"}` },
    active ? t("common.active") : t("common.inactive"));
}

/** A button with an icon. */
export function iconButton(iconName, label, attrs = {}) {
  return h("button", { type: "button", class: "btn", ...attrs }, icon(iconName), label);
}

/**
 * Open a modal dialog built around `content` (usually a form); return the <dialog>.
 * Closing removes it from the page and calls onClose.
 */
export function openModal(title, content, { onClose = null } = {}) {
  const notice = h("div", { class: "notice-host", hidden: true, "aria-live": "polite" });
  const heading = h("h2", { class: "modal-title", id: `modal-${Date.now()}` }, title);
  const dialog = h("dialog", { class: "modal", "aria-labelledby": heading.id },
    h("header", { class: "modal-head" }, heading,
      h("button", { type: "button", class: "notice-close", "aria-label": t("common.close"),
        onclick: () => dialog.close() }, "\u00d7")),
    h("div", { class: "modal-body" }, notice, content));
  const restore = pushNoticeHost(notice);
  // The "close" event fires a task later; notices shown right after close() belong to the page.
  const close = dialog.close.bind(dialog);
  dialog.close = (value) => {
    restore();
    close(value);
  };
  // Back to what had the focus (the button that opened it) when the dialog closes, unless
  // closing moved it on (a route change) or that control is gone.
  const opener = document.activeElement;
  dialog.addEventListener("close", () => {
    restore();
    const lost = dialog.contains(document.activeElement) || document.activeElement === document.body;
    dialog.remove();
    if (lost && opener instanceof HTMLElement && opener.isConnected) opener.focus();
    if (onClose) onClose();
  });
  dialog.addEventListener("keydown", keepFocusIn);
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

const TABBABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]";

/** Tab and Shift+Tab go round a modal dialog's controls, never out to the browser's own. */
function keepFocusIn(event) {
  if (event.key !== "Tab" || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  const dialog = event.currentTarget;
  const stops = [...dialog.querySelectorAll(TABBABLE)].filter((el) => el.tabIndex >= 0 && !el.matches(":disabled")
    && el.checkVisibility({ visibilityProperty: true }));
  if (!stops.length) return;
  const [first, last] = [stops[0], stops[stops.length - 1]];
  const at = document.activeElement;
  // A radio group is one stop: any of its radios stands for the group's first or last.
  const same = (a, b) => a === b || (a.type === "radio" && b.type === "radio" && a.name && a.name === b.name
    && a.form === b.form);
  if (event.shiftKey ? same(at, first) || at === dialog : same(at, last)) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
}

/** Ask a yes/no question in a modal; resolve true when confirmed. */
export function confirmDialog(title, message, { confirmLabel = t("common.confirm"), danger = false } = {}) {
  return new Promise((resolve) => {
    let answer = false;
    const confirmBtn = h("button", { type: "submit", class: danger ? "btn btn-danger" : "btn btn-primary" },
      confirmLabel);
    const form = h("form", { class: "confirm", method: "dialog" },
      h("p", {}, message),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        confirmBtn));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      answer = true;
      dialog.close();
    });
    const dialog = openModal(title, form, { onClose: () => resolve(answer) });
    confirmBtn.focus();
  });
}
