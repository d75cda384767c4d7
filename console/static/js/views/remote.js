// The remote-session viewer: the endpoint's screen on a canvas scaled to the window, an
// overlay with fps, latency and bandwidth, quality and monitor choices, control requests,
// and End session. Several technicians may watch; only the one who opened it controls.

import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { guarded, showError, showSuccess } from "../notice.js";
import { clipboardControls } from "../remote_clipboard.js";
import { recordingLink } from "../remote_panel.js";
import { keysymOf, openStream, placeCursorMark } from "../remote_stream.js";
import { emptyState } from "../ui.js";

const STATE_TEXT = {
  get requested() { return t("viewer.state.requested"); },
  get active() { return t("viewer.state.active"); },
  get ended() { return t("viewer.state.ended"); },
};

/** Fill the viewer of one session; `params[0]` is the session id. */
export function remoteView(root, { params, setTitle }) {
  const id = Number(params[0]);
  let session = null;
  let status = null;
  let controller = false;
  let stream = null;
  let frameSize = { width: 0, height: 0 };
  let lastFrame = null; // for the cursor mark when the layout changes between frames

  const canvas = h("canvas", { class: "remote-canvas", tabindex: "0", "aria-label": t("viewer.screen"),
    width: 16, height: 9 });
  const cursor = h("div", { class: "remote-cursor", hidden: true });
  const overlay = h("div", { class: "remote-overlay", "aria-live": "off" }, "\u2013 fps");
  const banner = h("div", { class: "remote-banner" }, t("live.state.connecting"));
  const stage = h("div", { class: "remote-stage" }, canvas, cursor, overlay, banner);
  const title = h("div", { class: "remote-title" });
  const quality = h("select", { name: "quality", "aria-label": t("viewer.quality") },
    [[0, t("viewer.quality_auto")], [30, t("viewer.low")], [60, t("viewer.medium")], [85, t("viewer.high")]].map(([v, label]) =>
      h("option", { value: String(v) }, label)));
  const monitor = h("select", { name: "monitor", "aria-label": t("viewer.monitor") });
  const modeButton = h("button", { type: "button", class: "btn btn-small" });
  const endButton = h("button", { type: "button", class: "btn btn-small btn-danger" }, icon("x"), t("viewer.end"));
  const clip = clipboardControls({ send: (message) => stream?.send(message) });
  const toolbar = h("div", { class: "remote-toolbar" }, title,
    h("span", { class: "remote-controls" }, quality, monitor, clip.button, modeButton, endButton));

  setTitle?.(t("route.remote"));
  root.append(h("div", { class: "remote-view" }, toolbar, clip.panel, clip.incoming, stage));

  // ---------- layout: the canvas keeps the screen's aspect ratio inside the stage ----------
  function fit() {
    if (!frameSize.width) return;
    const box = stage.getBoundingClientRect();
    const scale = Math.min(box.width / frameSize.width, box.height / frameSize.height);
    canvas.style.width = `${Math.floor(frameSize.width * scale)}px`;
    canvas.style.height = `${Math.floor(frameSize.height * scale)}px`;
    if (lastFrame) placeCursor(lastFrame);
  }
  const resize = new ResizeObserver(fit);
  resize.observe(stage);

  function placeCursor(frame) { placeCursorMark(cursor, canvas, stage, frame); }

  // ---------- status ----------
  function render() {
    const state = status ? status.state : session.state;
    const mode = status ? status.mode : session.mode;
    replace(title, h("strong", {}, session.device_name), " \u00b7 ",
      h("a", { href: `#/desk/tickets/${session.ticket_id}` }, session.ticket_number), " \u00b7 ",
      h("span", { class: `remote-state remote-state-${state}`, "data-state": state }, STATE_TEXT[state] || state),
      " \u00b7 ", h("span", { "data-mode": mode }, mode === "control" ? t("remote.mode.control") : t("remote.mode.view")),
      status && status.viewers.length
        ? h("span", { class: "muted" }, ` \u00b7 ${t("viewer.watching", { names: status.viewers.join(", ") })}`) : null,
      session.recording && state !== "ended" ? h("span", { class: "remote-recorded" }, ` \u25cf ${t("remote.recorded")}`) : null,
      state === "ended" ? recordingLink(session) : null);
    const pending = status && status.pending_mode;
    modeButton.hidden = !controller || state !== "active";
    modeButton.disabled = Boolean(pending);
    replace(modeButton, pending ? t("viewer.waiting_user") : mode === "control" ? t("remote.mode.view") : t("viewer.request_control"));
    quality.disabled = monitor.disabled = !controller || state !== "active";
    clip.show(controller && state === "active" && mode === "control" && Boolean(status && status.clipboard));
    endButton.disabled = state === "ended";
    const monitors = status ? status.monitors : [];
    if (monitor.options.length !== monitors.length) {
      replace(monitor, monitors.map((m, i) => h("option", { value: String(i) },
        t("viewer.monitor_n", { n: i + 1, size: `${m.width}\u00d7${m.height}` }))));
    }
    monitor.hidden = monitors.length < 2;
    if (status) {
      monitor.value = String(status.monitor);
      quality.value = String(status.quality);
    }
    if (state === "requested") banner.textContent = STATE_TEXT.requested;
    else if (state === "ended") banner.hidden = false;
  }

  function ended(message) {
    const who = ["user", "technician", "agent", "server"].includes(message.by) ? t(`viewer.by.${message.by}`) : message.by;
    banner.hidden = false;
    banner.textContent = message.outcome === "completed" ? t("viewer.ended_by", { who })
      : t("viewer.ended_because", { reason: message.reason || message.outcome });
    session.state = "ended";
    status = status ? { ...status, state: "ended" } : null;
    render();
    if (session.recording) {
      // The recording is closed by now: fetch its totals for the link to play it.
      api.get(`/api/v1/remote-sessions/${id}`).then((fresh) => { session = fresh; render(); }).catch(() => {});
    }
  }

  // ---------- input ----------
  function toScreen(event) {
    const rect = canvas.getBoundingClientRect();
    const x = Math.round(((event.clientX - rect.left) * frameSize.width) / rect.width);
    const y = Math.round(((event.clientY - rect.top) * frameSize.height) / rect.height);
    return { x: Math.max(0, Math.min(frameSize.width - 1, x)), y: Math.max(0, Math.min(frameSize.height - 1, y)) };
  }
  const controlling = () => controller && status && status.state === "active" && status.mode === "control"
    && frameSize.width > 0;
  let moved = null;
  function pointer(event) {
    if (!controlling()) return;
    event.preventDefault();
    const at = toScreen(event);
    const message = { type: "pointer", x: at.x, y: at.y, buttons: event.buttons & 31 };
    if (event.type === "pointermove") {
      // Coalesce moves to one per animation frame; presses go at once.
      if (!moved) {
        requestAnimationFrame(() => {
          if (moved) stream?.send(moved);
          moved = null;
        });
      }
      moved = message;
      return;
    }
    if (moved) { stream?.send(moved); moved = null; }
    // Without preventScroll a page taller than the window (a notice shown) scrolls between
    // press and release, and the release lands elsewhere on the remote screen.
    if (event.type === "pointerdown") canvas.focus({ preventScroll: true });
    stream?.send(message);
  }
  for (const type of ["pointermove", "pointerdown", "pointerup"]) canvas.addEventListener(type, pointer);
  canvas.addEventListener("contextmenu", (event) => { if (controlling()) event.preventDefault(); });
  canvas.addEventListener("wheel", (event) => {
    if (!controlling()) return;
    event.preventDefault();
    const at = toScreen(event);
    stream?.send({ type: "wheel", x: at.x, y: at.y, dx: Math.sign(event.deltaX), dy: Math.sign(event.deltaY) });
  }, { passive: false });
  for (const type of ["keydown", "keyup"]) {
    canvas.addEventListener(type, (event) => {
      if (!controlling()) return;
      const keysym = keysymOf(event);
      if (!keysym) return;
      event.preventDefault();
      stream?.send({ type: "key", keysym, down: type === "keydown" });
    });
  }

  // ---------- controls ----------
  quality.addEventListener("change", () => stream?.send({ type: "quality", quality: Number(quality.value) }));
  monitor.addEventListener("change", () => stream?.send({ type: "monitor", index: Number(monitor.value) }));
  modeButton.addEventListener("click", () => guarded(async () => {
    const next = status.mode === "control" ? "view" : "control";
    await api.post(`/api/v1/remote-sessions/${id}/mode`, { mode: next });
    if (next === "control") showSuccess(t("viewer.control_asked"));
  }));
  endButton.addEventListener("click", () => guarded(async () => {
    await api.post(`/api/v1/remote-sessions/${id}/end`);
  }));

  let revoked = null; // why the server stopped this viewer, when it did
  function connect() {
    stream = openStream(id, canvas, {
      welcome: (message) => { controller = message.controller; render(); },
      status: (message) => {
        status = message;
        if (message.state === "active" && banner.textContent === STATE_TEXT.requested) banner.textContent = t("viewer.first_picture");
        render();
      },
      ended,
      error: (message) => {
        clip.failed();
        if (message.code === "rights_revoked") revoked = message.message;
        showError(new Error(`${message.code}: ${message.message}`));
      },
      clipboard: (message) => clip.received(message),
      clipboard_sent: (message) => clip.sent(message),
      frame: (frame) => {
        if (frame.width !== frameSize.width || frame.height !== frameSize.height) {
          frameSize = { width: frame.width, height: frame.height };
          fit();
        }
        banner.hidden = true;
        lastFrame = { cursorX: frame.cursorX, cursorY: frame.cursorY, width: frame.width, height: frame.height };
        placeCursor(frame);
        canvas.dataset.frames = String(stream.stats.drawn);
      },
      stats: (s) => {
        const kb = s.bandwidth / 1024;
        overlay.textContent = `${s.fps.toFixed(0)} fps \u00b7 ${s.latency === null ? "\u2013" : Math.round(s.latency)} ms \u00b7 `
          + `${kb >= 1024 ? `${(kb / 1024).toFixed(1)} MB/s` : `${kb.toFixed(0)} KB/s`}`;
      },
      closed: () => {
        if (session.state !== "ended") {
          banner.hidden = false;
          banner.textContent = revoked || t("viewer.disconnected");
        }
      },
    });
  }

  (async () => {
    session = await guarded(() => api.get(`/api/v1/remote-sessions/${id}`));
    if (!session) {
      replace(root, emptyState("monitor", t("viewer.cannot_show"), t("viewer.cannot_show_text"),
        h("a", { class: "btn", href: "#/desk" }, t("ticket.key.escape"))));
      return;
    }
    render();
    if (session.state === "ended") {
      banner.textContent = t("viewer.over");
      return;
    }
    connect();
  })();

  // Leaving the view closes the socket (the session goes on for the others).
  const gone = new MutationObserver(() => {
    if (!root.isConnected) {
      stream?.close();
      resize.disconnect();
      gone.disconnect();
    }
  });
  gone.observe(document.body, { childList: true, subtree: true });
}
