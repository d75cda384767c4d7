// The live feed: one EventSource per login on /api/v1/stream, fanned out to the views.
//
// Messages name what changed, never its content; a view refetches through the API, which
// applies the caller's permissions. Every message type is handled by name (STYLE 14).

import { api } from "./api.js";
import { h } from "./dom.js";
import { labels, t } from "./i18n.js";
import { showError, showWarning } from "./notice.js";
import { CLOCK_LABELS } from "./sla.js";

const STREAM_URL = "/api/v1/stream";
const RETRY_CLOSED_MS = 5_000; // after a refused connection (EventSource gives up on those)

// Changes the server announces for a ticket; another one still refreshes, with a warning.
export /** Say an SLA escalation ({number, clock, event, percent}) in the console's language. */
function slaNotice({ number, clock, event, percent }) {
  const name = CLOCK_LABELS[clock] || clock;
  return event === "breach" ? t("live.sla_breached", { number, clock: name })
    : t("live.sla_warning", { number, clock: name, percent });
}

const TICKET_CHANGES = new Set(["created", "updated", "commented", "reopened", "closed",
  "attachment", "sla"]);

let source = null;
let retryTimer = 0;
let state = "off"; // off | connecting | live | reconnecting
let missed = false; // the feed was down: what is on screen may be stale
const listeners = new Set(); // {root, onTicket, onResync}
const stateListeners = new Set(); // {root, fn}

function setState(next) {
  if (state === next) return;
  state = next;
  for (const entry of [...stateListeners]) {
    if (!entry.root.isConnected) stateListeners.delete(entry);
    else entry.fn(state);
  }
}

function each(call) {
  for (const entry of [...listeners]) {
    if (!entry.root.isConnected) {
      listeners.delete(entry);
      continue;
    }
    try {
      call(entry);
    } catch (error) {
      console.error(error);
    }
  }
}

// One handler per message type the server sends.
const HANDLERS = {
  ticket(message) {
    if (!TICKET_CHANGES.has(message.change)) {
      console.warn(`live feed: unknown ticket change ${JSON.stringify(message.change)}; refreshing`);
    }
    each((entry) => entry.onTicket && entry.onTicket(message));
  },
  notice(message) {
    // An SLA escalation for the desk: shown in the notice area, the queue refreshes itself.
    const text = message.sla ? slaNotice(message.sla) : message.text;
    if (message.level === "error") showError(text);
    else showWarning(text);
  },
  resync() {
    // The server dropped our backlog: refetch everything on screen.
    each((entry) => entry.onResync && entry.onResync());
  },
  shutdown() {
    // The server is going away; EventSource reconnects by itself (the stream's retry).
    missed = true;
    setState("reconnecting");
  },
};

function dispatch(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    console.error(`live feed: a message that is not JSON: ${String(event.data).slice(0, 200)}`);
    return;
  }
  const handler = message && Object.hasOwn(HANDLERS, message.type) ? HANDLERS[message.type] : null;
  if (!handler) {
    console.error(`live feed: unknown message type ${JSON.stringify(message && message.type)}`);
    return;
  }
  handler(message);
}

function open() {
  clearTimeout(retryTimer);
  retryTimer = 0;
  setState(state === "off" ? "connecting" : "reconnecting");
  const es = new EventSource(STREAM_URL);
  source = es;
  es.addEventListener("open", () => {
    if (source !== es) return;
    setState("live");
    if (missed) {
      missed = false;
      HANDLERS.resync(); // changes made while we were away were not announced
    }
  });
  es.addEventListener("message", (event) => {
    if (source === es) dispatch(event);
  });
  es.addEventListener("error", () => {
    if (source !== es) return;
    missed = true;
    if (es.readyState === EventSource.CLOSED) {
      // Refused (a 401 when the session ended, or a proxy error): EventSource will not
      // retry. A normal API call lets the session-lost handler run if that is the cause.
      es.close();
      source = null;
      setState("reconnecting");
      retryTimer = setTimeout(async () => {
        retryTimer = 0;
        try {
          await api.get("/api/v1/auth/session");
        } catch {
          // The session-lost handler (on 401) stops the feed; otherwise try again later.
        }
        if (state !== "off" && !source) open();
      }, RETRY_CLOSED_MS);
    } else {
      setState("reconnecting");
    }
  });
}

/** Open the feed (once per login; a second call does nothing). */
export function startLive() {
  if (state !== "off") return;
  missed = false;
  open();
}

/** Close the feed (logout, lost session). */
export function stopLive() {
  clearTimeout(retryTimer);
  retryTimer = 0;
  if (source) source.close();
  source = null;
  setState("off");
}

/**
 * Call `onTicket(message)` for each ticket change and `onResync()` when everything on
 * screen should be fetched again, for as long as `root` is in the page.
 */
export function onLive(root, { onTicket = null, onResync = null }) {
  const entry = { root, onTicket, onResync };
  listeners.add(entry);
  return () => listeners.delete(entry);
}

/** Call `fn(state)` now and whenever the feed's state changes, while `root` is in the page. */
export function onLiveState(root, fn) {
  stateListeners.add({ root, fn });
  fn(state);
}

/** Return a function that runs `fn` once, `ms` after the last of a burst of calls. */
export function debounce(fn, ms = 300) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A small "Live" / "Reconnecting…" indicator that follows the feed while `root` shows. */
export function liveIndicator(root) {
  const el = h("span", { class: "live-state" });
  const LABELS = labels("live.state", ["live", "connecting", "reconnecting", "off"]);
  onLiveState(root, (s) => {
    el.dataset.state = s;
    el.textContent = LABELS[s] || s;
    el.title = s === "live" ? t("live.title_on") : t("live.title_off");
  });
  return el;
}
