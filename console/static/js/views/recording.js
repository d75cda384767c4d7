// The recording player: a recorded session replayed on a canvas with the live viewer's own
// decoder (parseFrame, drawFrame), with play/pause, position and time, and speed 1x/2x/4x.
// The first picture shows as soon as it has arrived; the rest streams in while it plays.
// Seeking goes on from the current frame when ahead, else replays from the last key frame.

import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { bytes, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { guarded, showError } from "../notice.js";
import { RecordingReader, clockText } from "../recording.js";
import { drawFrame, parseFrame, placeCursorMark } from "../remote_stream.js";
import { currentUser } from "../session.js";
import { confirmDialog, emptyState } from "../ui.js";

const SPEEDS = [1, 2, 4];

/** Fill the player of one session's recording; `params[0]` is the session id. */
export function recordingView(root, { params, setTitle }) {
  const id = Number(params[0]);
  const reader = new RecordingReader();
  let session = null;
  let failed = null;
  let index = 0; // next record to draw
  let lastSeq = null; // seq of the last frame drawn (null: nothing drawn since a seek)
  let drawn = 0;
  let playing = false;
  let speed = 1;
  let base = 0; // position (ms) when the clock was last set
  let wallStart = 0; // performance.now() then
  let generation = 0; // bumped to stop a running playback loop
  let running = Promise.resolve();
  let waiters = []; // playback waiting for more of the download
  let frameSize = { width: 0, height: 0 };
  let gone = false;
  let shown = false; // the first picture was drawn (or is being drawn)

  const canvas = h("canvas", { class: "remote-canvas recording-canvas", "aria-label": t("player.screen"),
    width: 16, height: 9 });
  const cursor = h("div", { class: "remote-cursor", hidden: true });
  const banner = h("div", { class: "remote-banner" }, t("player.loading"));
  const stage = h("div", { class: "remote-stage" }, canvas, cursor, banner);
  const title = h("div", { class: "remote-title" });
  const playButton = h("button", { type: "button", class: "btn btn-small", "data-action": "play", disabled: true });
  const time = h("span", { class: "recording-time", "aria-live": "off" }, "0:00 / 0:00");
  const position = h("input", { type: "range", class: "recording-position", min: "0", max: "0", step: "100",
    value: "0", "aria-label": t("player.position") });
  const speedSelect = h("select", { name: "speed", "aria-label": t("player.speed") },
    SPEEDS.map((s) => h("option", { value: String(s) }, `${s}\u00d7`)));
  const deleteButton = h("button", { type: "button", class: "btn btn-small btn-danger", hidden: true },
    icon("trash"), t("player.delete"));
  const toolbar = h("div", { class: "remote-toolbar" }, title,
    h("span", { class: "remote-controls" }, deleteButton));
  const controls = h("div", { class: "recording-controls" }, playButton, time, position, speedSelect);

  setTitle?.(t("route.recording"));
  const view = h("div", { class: "remote-view recording-view", "data-state": "loading", "data-speed": "1" },
    toolbar, stage, controls);
  root.append(view);

  // ---------- layout (as the live viewer) ----------
  function fit() {
    if (!frameSize.width) return;
    const box = stage.getBoundingClientRect();
    const scale = Math.min(box.width / frameSize.width, box.height / frameSize.height);
    canvas.style.width = `${Math.floor(frameSize.width * scale)}px`;
    canvas.style.height = `${Math.floor(frameSize.height * scale)}px`;
  }
  const resize = new ResizeObserver(fit);
  resize.observe(stage);

  function placeCursor(frame) { placeCursorMark(cursor, canvas, stage, frame); }

  // ---------- the clock ----------
  const duration = () => Math.max(reader.duration(), session ? session.recording.duration_seconds * 1000 : 0);
  const clock = () => Math.min(playing ? base + (performance.now() - wallStart) * speed : base, duration());
  const atEnd = () => reader.ended && index >= reader.records.length && clock() >= duration();
  function setClock(ms) {
    base = ms;
    wallStart = performance.now();
  }

  function showTime() {
    const now = clock();
    const total = duration();
    time.textContent = `${clockText(now)} / ${clockText(total)}`;
    position.max = String(Math.ceil(total));
    if (document.activeElement !== position) position.value = String(Math.floor(now));
    view.dataset.position = String(Math.floor(now));
    view.dataset.state = failed ? "failed" : playing ? "playing" : atEnd() ? "ended" : "paused";
    replace(playButton, icon(playing ? "pause" : "play"), playing ? t("player.pause")
      : view.dataset.state === "ended" ? t("player.replay") : t("player.play"));
  }
  const ticker = setInterval(showTime, 250);

  // ---------- drawing: one frame at a time, in order ----------
  // A key frame marked REFRESH repeats the delta of the same seq: skip it when that delta
  // was drawn; draw it when frames were left out before it (a gap in the recording).
  const redundant = (rec) => rec.refresh && lastSeq === rec.seq;

  async function draw(rec) {
    const frame = parseFrame(rec.frame);
    await drawFrame(canvas, frame);
    lastSeq = frame.seq;
    drawn += 1;
    canvas.dataset.frames = String(drawn);
    if (frame.width !== frameSize.width || frame.height !== frameSize.height) {
      frameSize = { width: frame.width, height: frame.height };
      fit();
    }
    banner.hidden = true;
    placeCursor(frame);
  }

  function more() {
    return new Promise((resolve) => { waiters.push(resolve); });
  }
  function wake() {
    const ready = waiters;
    waiters = [];
    ready.forEach((resolve) => resolve());
  }
  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  async function run(mine) {
    while (mine === generation && playing && !gone) {
      const rec = reader.records[index];
      if (!rec) {
        if (reader.ended || failed) {
          // The screen stood still after the last frame: play on to the end.
          const left = (duration() - clock()) / speed;
          if (left > 1 && !failed) {
            await sleep(Math.min(left, 200));
            continue;
          }
          setClock(duration());
          playing = false;
          break;
        }
        await more();
        continue;
      }
      const wait = (rec.offset - clock()) / speed;
      if (wait > 1) {
        await sleep(Math.min(wait, 200));
        continue;
      }
      index += 1;
      try {
        if (!redundant(rec)) await draw(rec);
      } catch (error) {
        failed = error;
        playing = false;
        banner.hidden = false;
        banner.textContent = t("player.cannot_play_because", { error: error.message });
      }
    }
    showTime();
  }

  // Play, pause and seek run one after the other, never two at once (frames are deltas).
  let queue = Promise.resolve();
  function serial(work) {
    queue = queue.then(work).catch((error) => showError(error));
    return queue;
  }

  async function stop() {
    generation += 1;
    const was = playing;
    if (playing) setClock(clock());
    playing = false;
    wake();
    await running;
    return was;
  }

  function start() {
    playing = true;
    setClock(base);
    running = run(generation);
    showTime();
  }

  async function play() {
    if (playing || failed) return;
    if (atEnd()) await seekNow(0);
    start();
  }

  /** Show the picture at `target` ms: from the current frame if ahead, else from a key frame. */
  async function seekNow(target) {
    const wasPlaying = await stop();
    const records = reader.records;
    // The last record at or before the target (the first one at least: the picture
    // before the first frame arrived is that frame).
    let last = records.length ? 0 : -1;
    while (last + 1 < records.length && records[last + 1].offset <= target) last += 1;
    let first = last;
    while (first > 0 && !records[first].key) first -= 1;
    if (last >= index - 1 && first < index) first = index; // ahead: go on from here
    else lastSeq = null;
    for (let i = Math.max(first, 0); i <= last && !gone; i += 1) {
      if (i === first && lastSeq === null) await draw(records[i]);
      else if (!redundant(records[i])) await draw(records[i]);
    }
    index = last + 1;
    setClock(Math.min(target, duration()));
    showTime();
    if (wasPlaying) start();
  }

  // ---------- controls ----------
  playButton.addEventListener("click", () => serial(async () => {
    if (playing) {
      await stop();
      showTime();
    } else {
      await play();
    }
  }));
  speedSelect.addEventListener("change", () => {
    setClock(clock());
    speed = Number(speedSelect.value);
    view.dataset.speed = String(speed);
  });
  position.addEventListener("input", () => {
    time.textContent = `${clockText(Number(position.value))} / ${clockText(duration())}`;
  });
  position.addEventListener("change", () => serial(() => seekNow(Number(position.value))));
  deleteButton.addEventListener("click", () => guarded(async () => {
    const yes = await confirmDialog(t("player.delete"), t("player.delete_question"),
      { confirmLabel: t("common.delete"), danger: true });
    if (!yes) return;
    await serial(stop);
    await api.delete(`/api/v1/remote-sessions/${id}/recording`);
    location.hash = `#/desk/tickets/${session.ticket_id}`;
  }));

  function renderTitle() {
    const rec = session.recording;
    replace(title, h("strong", {}, session.device_name), " \u00b7 ",
      h("a", { href: `#/desk/tickets/${session.ticket_id}` }, session.ticket_number), " \u00b7 ",
      h("span", { class: "muted" }, t("player.recorded_at", { when: dateTime(session.started_at) }),
        session.technician ? `, ${t("player.opened_by", { name: session.technician.display_name })}` : "",
        ` \u00b7 ${bytes(rec.bytes)}`),
      rec.dropped_frames ? h("span", { class: "chip" }, t("player.gaps", { n: rec.gaps })) : null,
      rec.complete ? null : h("span", { class: "chip" }, t("player.cut_short")));
  }

  // ---------- the download ----------
  async function download() {
    let response;
    try {
      response = await fetch(`/api/v1/remote-sessions/${id}/recording`,
        { credentials: "same-origin", cache: "no-store" });
    } catch {
      throw new Error(t("error.network"));
    }
    if (!response.ok) {
      let message = t("error.http", { status: response.status });
      try {
        message = (await response.json()).error.message;
      } catch { /* not our error shape */ }
      throw new Error(message);
    }
    const stream = response.body.getReader();
    for (;;) {
      const { done, value } = await stream.read();
      if (done || gone) break;
      reader.push(value);
      wake();
      if (!shown && reader.records.length) {
        shown = true; // show the first picture; playing is the user's choice
        serial(() => seekNow(0));
      }
    }
    reader.finish();
    wake();
    if (!reader.records.length) throw new Error(t("player.no_frames"));
  }

  (async () => {
    session = await guarded(() => api.get(`/api/v1/remote-sessions/${id}`));
    if (!session || !session.recording || session.recording.state !== "ready") {
      const text = !session ? t("viewer.cannot_show_text")
        : !session.recording ? t("player.not_recorded")
          : session.recording.state === "deleted" ? t("player.deleted", { when: dateTime(session.recording.deleted_at) })
            : t("player.not_ready");
      replace(root, emptyState("monitor", t("player.cannot_play"), text,
        h("a", { class: "btn", href: session ? `#/desk/tickets/${session.ticket_id}` : "#/desk" },
          session ? t("player.back_ticket") : t("ticket.key.escape"))));
      clearInterval(ticker);
      resize.disconnect();
      return;
    }
    renderTitle();
    deleteButton.hidden = currentUser()?.role !== "admin";
    playButton.disabled = false;
    showTime();
    try {
      await download();
    } catch (error) {
      failed = error;
      banner.hidden = false;
      banner.textContent = t("player.cannot_play_because", { error: error.message });
      showError(error);
    }
    showTime();
  })();

  // Leaving the view stops playback and the download.
  const watch = new MutationObserver(() => {
    if (!root.isConnected) {
      gone = true;
      generation += 1;
      wake();
      clearInterval(ticker);
      resize.disconnect();
      watch.disconnect();
    }
  });
  watch.observe(document.body, { childList: true, subtree: true });
}
