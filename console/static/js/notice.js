// The one notice area: API errors and confirmations are shown here, by their message.
// A host is a live region (aria-live) that stays in the page while empty: a screen reader
// only announces changes to a live region it already knew, so hosts are never hidden.

import { h, replace } from "./dom.js";
import { t } from "./i18n.js";

let host = null;

/** Make `el` the place where notices appear (the shell's or the login card's). */
export function setNoticeHost(el) {
  host = el;
  listen(el);
}

function listen(el) {
  el.hidden = false;
  if (!el.hasAttribute("aria-live")) el.setAttribute("aria-live", "polite");
}

// Errors and warnings may be the server's messages, which are lower-case ("a closed ticket
// takes no more attachments"): they start with a capital here. Confirmations are the
// console's own texts, written as they are shown; they may start with a name a person
// typed ("printer.jpg attached."), which keeps its case.
export function sentence(text) {
  const s = String(text || "").trim();
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

function show(kind, text, code) {
  if (!host) return;
  const close = h("button", { type: "button", class: "notice-close", "aria-label": t("common.dismiss"),
    onclick: () => clearNotice() }, "\u00d7");
  replace(host, h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status",
    "data-code": code || null }, h("span", { class: "notice-text" }, String(text || "").trim()), close));
}

/** Show notices in `el` until the returned function is called (for modal dialogs). */
export function pushNoticeHost(el) {
  const previous = host;
  host = el;
  listen(el);
  return () => {
    if (host === el) host = previous;
  };
}

/** Show an error: an ApiError's message (or any Error's / a string). */
export function showError(error) {
  if (error && typeof error === "object") {
    // A lost session is the router's business: it shows the login page with its own notice.
    if (error.status === 401 && error.code === "unauthorized") return;
    // Anything but an API answer is a bug in the console: log it loudly.
    if (error.name !== "ApiError") console.error(error);
    show("error", error.message ? sentence(error.message) : t("error.unknown"), error.code);
  } else {
    show("error", sentence(error));
  }
}

/** Show a confirmation. */
export function showSuccess(text) {
  show("success", text);
}

/** Show a warning that needs no answer (an SLA escalation). */
export function showWarning(text) {
  show("warning", sentence(text)); // the live feed's texts come from the server
}

/** Remove the current notice. */
export function clearNotice() {
  if (!host) return;
  host.replaceChildren();
}

/** Run `work`, showing its ApiError (if any) in the notice area; return its result or undefined. */
export async function guarded(work) {
  try {
    return await work();
  } catch (error) {
    showError(error);
    return undefined;
  }
}
