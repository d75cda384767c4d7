// A terminal on a ticket's device (xterm.js, vendored under /static/vendor/xterm) in a wide
// dialog: keystrokes go to the server's tool socket, output comes back, the size follows the
// dialog, copy and paste work with Ctrl+Shift+C / Ctrl+Shift+V or the buttons. Watchers
// (rights on the ticket, not the opener) see it read-only. A transcript plays in the same
// terminal, read-only. See docs/toolbox.md.

import { api, csrf } from "./api.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { guarded, showError } from "./notice.js";
import { openModal } from "./ui.js";

const VENDOR = "/static/vendor/xterm";
const MAX_INPUT = 4096; // characters per input message (the server takes up to 8192)
let loaded = null;

/** Load xterm.js and its fit addon once (ES modules and the stylesheet, no build step). */
function loadXterm() {
  if (!loaded) {
    if (!document.querySelector("link[data-xterm]")) {
      document.head.append(h("link", { rel: "stylesheet", href: `${VENDOR}/xterm.css`, "data-xterm": "" }));
    }
    loaded = Promise.all([import(`${VENDOR}/xterm.mjs`), import(`${VENDOR}/addon-fit.mjs`)]);
  }
  return loaded;
}

/**
 * xterm.js writes its colours and cell sizes into <style> elements, which the console's
 * Content-Security-Policy (style-src 'self') refuses. While it builds its elements, its
 * <style> elements are made inert <xterm-style> ones (hidden by app.css); their text is
 * copied into one constructed stylesheet (CSSOM, which the policy allows) whenever
 * xterm.js changes it.
 */
function inertStyles(build) {
  const create = document.createElement;
  document.createElement = function createElement(name, options) {
    return create.call(this, String(name).toLowerCase() === "style" ? "xterm-style" : name, options);
  };
  try {
    return build();
  } finally {
    document.createElement = create;
  }
}

function adoptStyles(host) {
  const sheet = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  const sync = () => {
    const text = [...host.querySelectorAll("xterm-style")].map((s) => s.textContent).join("\n");
    try {
      sheet.replaceSync(text);
    } catch {
      // a rule the browser cannot parse: keep the previous ones
    }
  };
  const watcher = new MutationObserver(sync);
  watcher.observe(host, { subtree: true, childList: true, characterData: true });
  sync();
  return () => {
    watcher.disconnect();
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
  };
}

async function makeTerminal(host, { readOnly }) {
  const [{ Terminal }, { FitAddon }] = await loadXterm();
  const term = new Terminal({ scrollback: 5000, convertEol: false, cursorBlink: !readOnly,
    disableStdin: readOnly, fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace", fontSize: 14,
    screenReaderMode: false });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const unadopt = adoptStyles(host);
  inertStyles(() => term.open(host));
  return { term, fit, dispose: () => { term.dispose(); unadopt(); } };
}

function dialogShell(title, toolbar, host) {
  const dialog = openModal(title, h("div", { class: "terminal-box" }, toolbar, host));
  dialog.classList.add("modal-wide", "modal-terminal");
  // Escape belongs to the programs in the terminal (vi, less), not to the dialog.
  dialog.addEventListener("cancel", (event) => event.preventDefault());
  return dialog;
}

/** Open a live tool session `session` (from the API) in a dialog; return the dialog. */
export function openTerminal(session, { onEnded = null } = {}) {
  const host = h("div", { class: "terminal-host", "data-terminal": session.id });
  const state = h("span", { class: "terminal-state", "data-state": session.state }, t(`toolbox.state.${session.state}`));
  const who = h("span", { class: "muted small" });
  const copy = h("button", { type: "button", class: "btn btn-small", title: "Ctrl+Shift+C" }, icon("copy"), t("toolbox.copy"));
  const paste = h("button", { type: "button", class: "btn btn-small", title: "Ctrl+Shift+V" }, t("toolbox.paste"));
  const end = h("button", { type: "button", class: "btn btn-small btn-danger", "data-action": "end-terminal" },
    icon("x"), t("toolbox.end"));
  const toolbar = h("div", { class: "terminal-toolbar" },
    h("span", {}, h("strong", {}, session.device_name), " \u00b7 ", session.ticket_number, " \u00b7 ", state, " ", who),
    h("span", { class: "terminal-controls" }, copy, paste, end));
  let ws = null;
  let controller = false;
  let over = false;
  let cleanup = () => {};
  const dialog = dialogShell(t("toolbox.terminal_title", { name: session.device_name }), toolbar, host);
  dialog.addEventListener("close", () => {
    if (ws) ws.close();
    cleanup();
  });

  const send = (message) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  const type = (text) => {
    if (!controller || over) return;
    for (let i = 0; i < text.length; i += MAX_INPUT) send({ type: "input", data: text.slice(i, i + MAX_INPUT) });
  };

  function setState(value, account) {
    state.dataset.state = value;
    state.textContent = t(`toolbox.state.${value}`);
    who.textContent = account ? t("toolbox.runs_as", { account }) : "";
  }

  guarded(async () => {
    const { term, fit, dispose } = await makeTerminal(host, { readOnly: false });
    cleanup = dispose;
    const sendSize = () => {
      try {
        fit.fit();
      } catch {
        return; // not laid out yet
      }
      if (controller) send({ type: "resize", cols: term.cols, rows: term.rows });
    };
    const sizer = new ResizeObserver(() => sendSize());
    sizer.observe(host);
    const oldCleanup = cleanup;
    cleanup = () => { sizer.disconnect(); oldCleanup(); };
    term.onData(type);
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey) return true;
      if (event.code === "KeyC") { copySelection(); return false; }
      if (event.code === "KeyV") { pasteClipboard(); return false; }
      return true;
    });
    async function copySelection() {
      const text = term.getSelection();
      if (text) await navigator.clipboard.writeText(text).catch(() => showError(t("toolbox.copy_failed")));
    }
    async function pasteClipboard() {
      const text = await navigator.clipboard.readText().catch(() => null);
      if (text === null) showError(t("toolbox.paste_failed"));
      else term.paste(text); // bracketed paste when the program asked for it
    }
    copy.addEventListener("click", () => { copySelection(); term.focus(); });
    paste.addEventListener("click", () => { pasteClipboard(); term.focus(); });
    end.addEventListener("click", () => guarded(async () => {
      await api.post(`/api/v1/tool-sessions/${session.id}/end`);
    }));

    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${scheme}//${location.host}/api/v1/tool-sessions/${session.id}/ws`);
    ws.addEventListener("open", () => send({ type: "hello", csrf: csrf() }));
    ws.addEventListener("message", (event) => {
      const msg = JSON.parse(event.data);
      switch (msg.type) {
        case "welcome":
          controller = msg.controller;
          term.options.disableStdin = !controller;
          end.hidden = !controller;
          paste.hidden = !controller;
          sendSize();
          term.focus();
          break;
        case "status":
          setState(msg.state, msg.account);
          break;
        case "output":
          term.write(msg.data);
          break;
        case "ended":
          over = true;
          setState("ended", "");
          term.options.disableStdin = true;
          term.write(`\r\n\x1b[2m${t("toolbox.ended_line")}\x1b[0m\r\n`);
          end.hidden = true;
          paste.hidden = true;
          if (onEnded) onEnded();
          break;
        case "error":
          showError(msg.message);
          break;
        default:
          showError(t("toolbox.unknown_message", { type: String(msg.type) }));
      }
    });
    ws.addEventListener("close", () => {
      if (!over) setState("ended", "");
    });
  });
  return dialog;
}

/** Parse an asciicast v2 text: its header and its events [time, code, data]. */
export function parseCast(text) {
  const lines = text.split("\n").filter((line) => line.trim());
  const header = JSON.parse(lines[0] || "{}");
  return { header, events: lines.slice(1).map((line) => JSON.parse(line)) };
}

/** Show a terminal's transcript, read-only, in a dialog. */
export function openTranscript(session) {
  const host = h("div", { class: "terminal-host", "data-transcript": session.id });
  const toolbar = h("div", { class: "terminal-toolbar" },
    h("span", {}, h("strong", {}, session.device_name), " \u00b7 ", session.ticket_number, " \u00b7 ",
      h("span", { class: "muted" }, t("toolbox.read_only"))),
    h("a", { class: "btn btn-small", href: session.transcript.url, download: `terminal-${session.id}.cast` },
      t("toolbox.download")));
  let cleanup = () => {};
  const dialog = dialogShell(t("toolbox.transcript_title", { name: session.device_name }), toolbar, host);
  dialog.addEventListener("close", () => cleanup());
  guarded(async () => {
    const response = await fetch(session.transcript.url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(t("toolbox.transcript_missing"));
    const cast = parseCast(await response.text());
    const { term, dispose } = await makeTerminal(host, { readOnly: true });
    cleanup = dispose;
    term.resize(Math.max(2, cast.header.width || 80), Math.max(1, cast.header.height || 24));
    for (const [, code, data] of cast.events) {
      if (code === "o") term.write(data);
      else if (code === "r") {
        const [cols, rows] = String(data).split("x").map(Number);
        if (cols > 0 && rows > 0) term.resize(cols, rows);
      }
    }
  });
  return dialog;
}

/** Replace `el` with a line saying the terminal list could not be read. */
export function noRights(el) {
  replace(el, h("p", { class: "muted small", "data-toolbox": "no-rights" }, t("toolbox.no_rights")));
}
