// Reading a session recording (.dmrec) as it downloads: the header line, then records of
// (milliseconds since the start, one frame), then an end record with the totals.
// Format: docs/protocol.md section 4, "Recording file".

import { t } from "./i18n.js";

const FORMAT = "deskmate-recording";
const MAX_HEADER = 64 * 1024;
const MAX_FRAME = 4 * 1024 * 1024;
const FLAG_KEY = 0x01;
const FLAG_REFRESH = 0x02;

/** Parses a recording fed chunk by chunk; records are appended as they complete. */
export class RecordingReader {
  constructor() {
    this.header = null;
    this.records = []; // {offset (ms), frame (ArrayBuffer), key, refresh, seq}
    this.totals = null; // set by the end record: the recording was closed properly
    this.ended = false;
    this.rest = new Uint8Array(0);
  }

  /** Feed the next chunk of bytes (a Uint8Array). Throws on a malformed recording. */
  push(chunk) {
    let data = chunk;
    if (this.rest.length) {
      data = new Uint8Array(this.rest.length + chunk.length);
      data.set(this.rest);
      data.set(chunk, this.rest.length);
    }
    let pos = 0;
    if (!this.header) {
      const newline = data.indexOf(10);
      if (newline < 0) {
        if (data.length > MAX_HEADER) throw new Error(t("player.not_recording"));
        this.rest = data;
        return;
      }
      const header = JSON.parse(new TextDecoder().decode(data.subarray(0, newline)));
      if (!header || header.format !== FORMAT) throw new Error(t("player.not_recording"));
      if (header.version !== 1) throw new Error(t("player.bad_version", { version: header.version }));
      this.header = header;
      pos = newline + 1;
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    while (!this.ended && pos + 8 <= data.length) {
      const offset = view.getUint32(pos, true);
      const length = view.getUint32(pos + 4, true);
      if (length === 0) {
        const newline = data.indexOf(10, pos + 8);
        if (newline < 0) break; // the totals line is still coming
        this.totals = { ...JSON.parse(new TextDecoder().decode(data.subarray(pos + 8, newline))), duration_ms: offset };
        this.ended = true;
        pos = newline + 1;
        break;
      }
      if (length > MAX_FRAME) throw new Error(t("player.bad_record", { n: length }));
      if (pos + 8 + length > data.length) break; // the rest of this frame is still coming
      const frame = data.slice(pos + 8, pos + 8 + length).buffer;
      const flags = view.getUint8(pos + 9);
      this.records.push({ offset, frame, key: (flags & FLAG_KEY) !== 0, refresh: (flags & FLAG_REFRESH) !== 0,
        seq: view.getUint32(pos + 12, true) });
      pos += 8 + length;
    }
    this.rest = data.slice(pos);
  }

  /** The download finished: whatever is left is a record cut short (a stopped server). */
  finish() {
    this.ended = true;
    this.rest = new Uint8Array(0);
  }

  /** Milliseconds the recording lasts (known for sure once it is complete). */
  duration() {
    if (this.totals) return this.totals.duration_ms;
    return this.records.length ? this.records[this.records.length - 1].offset : 0;
  }
}

/** Return m:ss (or h:mm:ss) for a time in milliseconds. */
export function clockText(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}
