// Clipboard text in a remote session (control mode, the controlling technician only):
// a box to send text to the endpoint's clipboard, and a bar showing text the user copied
// on the endpoint with a Copy button. Browsers give a page the clipboard only on a user
// gesture and with permission, so sending goes through the box (Paste fills it where the
// browser allows reading the clipboard; Ctrl+V into it works everywhere).
// Wire format: docs/protocol.md section 3.1.

import { h, replace } from "./dom.js";
import { number } from "./format.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { showSuccess } from "./notice.js";

export const MAX_CLIPBOARD_BYTES = 64 * 1024;
const PREVIEW = 200; // characters of a received text shown in the bar

const utf8 = new TextEncoder();

function sizeText(bytes) {
  return bytes >= 1024 ? `${number(bytes / 1024)} KiB` : t("clip.bytes", { n: bytes });
}

/** Return the problem with a text to send, or null when it may go. */
export function clipboardProblem(text) {
  const bytes = utf8.encode(text).length;
  if (!text) return t("clip.nothing");
  if (bytes > MAX_CLIPBOARD_BYTES) return t("clip.too_big", { size: sizeText(bytes) });
  if (text.includes("\u0000")) return t("clip.nul");
  return null;
}

/**
 * Build the clipboard controls. `send(message)` sends on the viewer socket.
 * Returns {button, panel, incoming, show(allowed), received(msg), sent(msg), failed()}.
 */
export function clipboardControls({ send }) {
  const button = h("button", { type: "button", class: "btn btn-small", "data-action": "clipboard",
    "aria-expanded": "false", hidden: true }, icon("copy"), t("clip.button"));
  const box = h("textarea", { name: "clipboard", rows: 3, spellcheck: "false",
    "aria-label": t("clip.box"),
    placeholder: t("clip.placeholder") });
  const size = h("span", { class: "muted small", "aria-live": "polite" }, t("clip.size", { size: t("clip.bytes", { n: 0 }) }));
  const hint = h("p", { class: "remote-clip-hint small", hidden: true });
  const pasteButton = h("button", { type: "button", class: "btn btn-small" }, t("clip.paste"));
  const sendButton = h("button", { type: "button", class: "btn btn-small btn-primary", disabled: true },
    icon("send"), t("clip.send"));
  const panel = h("div", { class: "remote-clip", hidden: true, role: "group", "aria-label": t("clip.panel") },
    box, h("div", { class: "remote-clip-actions" }, pasteButton, sendButton, size), hint);
  const incoming = h("div", { class: "remote-clip-in", hidden: true, role: "status" });
  let allowed = false;

  function say(text) {
    hint.hidden = !text;
    hint.textContent = text || "";
  }

  function measure() {
    const bytes = utf8.encode(box.value).length;
    size.textContent = t("clip.size", { size: sizeText(bytes) });
    size.classList.toggle("remote-clip-over", bytes > MAX_CLIPBOARD_BYTES);
    sendButton.disabled = !box.value;
  }
  box.addEventListener("input", () => { measure(); say(null); });

  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) box.focus();
  });

  pasteButton.addEventListener("click", async () => {
    try {
      if (!navigator.clipboard || !navigator.clipboard.readText) throw new Error("no clipboard API");
      box.value = await navigator.clipboard.readText();
      measure();
      say(null);
    } catch {
      box.focus();
      say(t("clip.read_refused"));
    }
  });

  sendButton.addEventListener("click", () => {
    const problem = clipboardProblem(box.value);
    if (problem) {
      say(problem);
      return;
    }
    sendButton.disabled = true;
    send({ type: "clipboard", text: box.value });
  });

  /** Show the controls only while this viewer may send clipboard text. */
  function show(may) {
    allowed = may;
    button.hidden = !may;
    if (!may) {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
    }
  }

  /** The server passed the text on (`clipboard_sent`). */
  function sent(message) {
    box.value = "";
    measure();
    say(null);
    showSuccess(t("clip.sent", { size: sizeText(message.bytes) }));
  }

  /** The server refused something (shown as a notice): let the text be sent again. */
  function failed() {
    measure();
  }

  /** The user copied text on the endpoint (`clipboard`): offer it for the local clipboard. */
  function received(message) {
    const text = message.text;
    const chars = [...text].length;
    const preview = chars > PREVIEW ? `${[...text].slice(0, PREVIEW).join("")}\u2026` : text;
    const copyButton = h("button", { type: "button", class: "btn btn-small", "data-action": "copy-remote-clipboard" },
      icon("copy"), t("common.copy"));
    const close = h("button", { type: "button", class: "notice-close", "aria-label": t("common.dismiss"),
      onclick: () => { incoming.hidden = true; replace(incoming); } }, "\u00d7");
    const body = h("div", { class: "remote-clip-text" }, h("code", {}, preview));
    replace(incoming,
      h("div", { class: "remote-clip-head" },
        h("span", {}, h("strong", {}, t("clip.copied_remote")), ` ${t("clip.chars", { n: chars })}`),
        h("span", { class: "remote-clip-actions" }, copyButton, close)),
      body);
    incoming.hidden = false;
    copyButton.addEventListener("click", async () => {
      try {
        if (!navigator.clipboard || !navigator.clipboard.writeText) throw new Error("no clipboard API");
        await navigator.clipboard.writeText(text);
        replace(copyButton, icon("check"), t("common.copied"));
      } catch {
        // No clipboard access: hand over the whole text, selected, for Ctrl+C.
        const all = h("textarea", { readonly: true, rows: 3, "aria-label": t("clip.copied_text") });
        all.value = text;
        replace(body, all, h("p", { class: "remote-clip-hint small" },
          t("clip.write_refused")));
        all.focus();
        all.select();
      }
    });
  }

  return { button, panel, incoming, show, sent, failed, received, get allowed() { return allowed; } };
}
