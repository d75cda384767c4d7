// The viewer's side of a remote session: the WebSocket, frame decoding onto a canvas,
// acknowledgements, statistics and input events. Wire format: docs/protocol.md section 4
// (tiles are JPEG, PNG — text and UI, or the refinement of a resting area — or copies).
// parseFrame and drawFrame are also the recording player's decoder (views/recording.js).

import { csrf } from "./api.js";

const HEADER = 24;
const TILE = 12;
const FLAG_KEY = 0x01;

/** Parse a binary frame: header fields and tile views (no copy). Throws on a bad frame. */
export function parseFrame(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < HEADER || view.getUint8(0) !== 1) throw new Error("bad frame header");
  const frame = {
    flags: view.getUint8(1), count: view.getUint16(2, true), seq: view.getUint32(4, true),
    capturedAt: view.getFloat64(8, true), width: view.getUint16(16, true),
    height: view.getUint16(18, true), cursorX: view.getInt16(20, true), cursorY: view.getInt16(22, true),
    tiles: [],
  };
  frame.key = (frame.flags & FLAG_KEY) !== 0;
  let offset = HEADER;
  for (let i = 0; i < frame.count; i += 1) {
    if (offset + TILE > buffer.byteLength) throw new Error("tile overruns the frame");
    const x = view.getUint16(offset, true);
    const y = view.getUint16(offset + 2, true);
    const w = view.getUint16(offset + 4, true);
    const h = view.getUint16(offset + 6, true);
    const length = view.getUint32(offset + 8, true);
    offset += TILE;
    if (offset + length > buffer.byteLength) throw new Error("tile overruns the frame");
    if (length === 6 && view.getUint8(offset) === 0x43 && view.getUint8(offset + 1) === 0x50) {
      // "CP": copy a rectangle of the current picture (a scroll).
      frame.tiles.push({ x, y, w, h, src: [view.getUint16(offset + 2, true), view.getUint16(offset + 4, true)] });
    } else {
      // A JPEG, or a PNG (0x89 "P"): text and UI, or the refinement of an area that rests.
      const png = view.getUint8(offset) === 0x89 && view.getUint8(offset + 1) === 0x50;
      frame.tiles.push({ x, y, w, h, type: png ? "image/png" : "image/jpeg", jpeg: new Uint8Array(buffer, offset, length) });
    }
    offset += length;
  }
  return frame;
}

/**
 * Draw a parsed frame on `canvas` as a viewer does: the canvas takes the frame's screen
 * size, then each tile is applied in order (JPEG and PNG images, and copies of the picture as it
 * was before that tile). Frames must be drawn one after the other, never two at once.
 */
/**
 * Put the `cursor` mark over `canvas` (scaled inside `stage`) where `frame` says the
 * remote pointer is, or hide it when the frame has no pointer position.
 */
export function placeCursorMark(cursor, canvas, stage, frame) {
  if (frame.cursorX < 0 || frame.cursorY < 0) {
    cursor.hidden = true;
    return;
  }
  const rect = canvas.getBoundingClientRect();
  const base = stage.getBoundingClientRect();
  cursor.hidden = false;
  cursor.style.left = `${rect.left - base.left + (frame.cursorX * rect.width) / frame.width}px`;
  cursor.style.top = `${rect.top - base.top + (frame.cursorY * rect.height) / frame.height}px`;
}

export async function drawFrame(canvas, frame) {
  const ctx = canvas.getContext("2d");
  const bitmaps = await Promise.all(frame.tiles.map((t) => (t.src ? null
    : createImageBitmap(new Blob([t.jpeg], { type: t.type }), { colorSpaceConversion: "none" }))));
  if (canvas.width !== frame.width || canvas.height !== frame.height) {
    canvas.width = frame.width;
    canvas.height = frame.height;
  }
  frame.tiles.forEach((t, i) => {
    if (t.src) {
      ctx.drawImage(canvas, t.src[0], t.src[1], t.w, t.h, t.x, t.y, t.w, t.h);
    } else {
      ctx.drawImage(bitmaps[i], t.x, t.y, t.w, t.h);
      bitmaps[i].close();
    }
  });
}

// KeyboardEvent.key -> X keysym for keys that are not characters.
const NAMED_KEYS = {
  Backspace: 0xff08, Tab: 0xff09, Enter: 0xff0d, Escape: 0xff1b, Delete: 0xffff, Home: 0xff50,
  ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54, PageUp: 0xff55,
  PageDown: 0xff56, End: 0xff57, Insert: 0xff63, Shift: 0xffe1, Control: 0xffe3, Alt: 0xffe9,
  Meta: 0xffeb, CapsLock: 0xffe5, ContextMenu: 0xff67,
  F1: 0xffbe, F2: 0xffbf, F3: 0xffc0, F4: 0xffc1, F5: 0xffc2, F6: 0xffc3, F7: 0xffc4, F8: 0xffc5,
  F9: 0xffc6, F10: 0xffc7, F11: 0xffc8, F12: 0xffc9,
};

/** Return the X keysym of a KeyboardEvent, or 0 when it has none. */
export function keysymOf(event) {
  if (NAMED_KEYS[event.key]) return event.key === "Shift" && event.location === 2 ? 0xffe2 : NAMED_KEYS[event.key];
  if ([...event.key].length === 1) {
    const cp = event.key.codePointAt(0);
    return cp >= 0x20 && cp <= 0xff ? cp : 0x01000000 + cp;
  }
  return 0;
}

/**
 * Open the viewer socket of a session and draw its frames on `canvas`.
 * `on` handlers: status(msg), welcome(msg), ended(msg), error(msg), frame(frame), stats(s), closed(ev).
 */
export function openStream(sessionId, canvas, on) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/api/v1/remote-sessions/${sessionId}/ws`);
  ws.binaryType = "arraybuffer";
  let chain = Promise.resolve();
  let pending = 0;
  const stats = { frames: 0, bytes: 0, latencies: [], fps: 0, bandwidth: 0, latency: null, drawn: 0 };
  let windowStart = performance.now();

  function send(message) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  async function draw(frame, size) {
    await drawFrame(canvas, frame);
    stats.frames += 1;
    stats.drawn += 1;
    stats.bytes += size;
    stats.latencies.push(Date.now() - frame.capturedAt * 1000);
    send({ type: "ack", seq: frame.seq });
    on.frame?.(frame);
  }

  // Once a second: frames drawn, bytes received and the median capture-to-draw latency
  // (an idle screen sends nothing: 0 fps, and the last latency stays shown).
  const ticker = setInterval(() => {
    const now = performance.now();
    const seconds = (now - windowStart) / 1000;
    stats.fps = stats.frames / seconds;
    stats.bandwidth = stats.bytes / seconds;
    const sorted = stats.latencies.sort((a, b) => a - b);
    if (sorted.length) stats.latency = sorted[Math.floor(sorted.length / 2)];
    stats.frames = 0;
    stats.bytes = 0;
    stats.latencies = [];
    windowStart = now;
    on.stats?.(stats);
  }, 1000);

  ws.addEventListener("open", () => send({ type: "hello", csrf: csrf() }));
  ws.addEventListener("message", (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      const handler = on[message.type];
      if (!handler) throw new Error(`unknown viewer message ${message.type}`);
      handler(message);
      return;
    }
    let frame;
    try {
      frame = parseFrame(event.data);
    } catch (error) {
      on.error?.({ code: "bad_frame", message: error.message });
      send({ type: "key_frame" });
      return;
    }
    pending += 1;
    const size = event.data.byteLength;
    // Frames are deltas: draw them in order, one after the other.
    chain = chain.then(() => draw(frame, size)).catch((error) => {
      on.error?.({ code: "bad_frame", message: String(error) });
      send({ type: "key_frame" });
    }).finally(() => { pending -= 1; });
  });
  ws.addEventListener("close", (event) => {
    clearInterval(ticker);
    on.closed?.(event);
  });

  return {
    ws,
    stats,
    send,
    pending: () => pending,
    close: () => {
      clearInterval(ticker);
      ws.close(1000, "viewer closed");
    },
  };
}
