"""The recording file format (``.dmrec``): pure packing and parsing, no I/O.

A recording holds the frames an agent sent during a session, byte for byte as the relay
forwarded them, each with the time it arrived. docs/protocol.md section 4 ("Recording
file") describes it:

- one header line: a JSON object, UTF-8, ending with ``\\n`` (at most 64 KiB);
- then records: ``offset_ms`` (uint32, little-endian: milliseconds since the recording
  started), ``length`` (uint32) and ``length`` bytes of one frame;
- then, when the recording was closed properly, an end record (``length`` 0, its
  ``offset_ms`` the recording's duration) and one JSON line with the totals.

The first record is a key frame; after frames were left out (a gap), the next record is
a key frame again, so every record can be applied in order from the start.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from shared import screen

FORMAT = "deskmate-recording"
VERSION = 1
SUFFIX = ".dmrec"
RECORD = struct.Struct("<II")  # offset_ms, length
MAX_HEADER = 64 * 1024
MAX_OFFSET_MS = 0xFFFFFFFF  # about 49 days


class RecordingError(ValueError):
    """A recording file is malformed; the message says where."""


def header_line(meta: dict[str, Any]) -> bytes:
    """Return the header line for a recording with these details (session, ticket, ...)."""
    line = json.dumps({"format": FORMAT, "version": VERSION,
                       "frame_version": screen.FRAME_VERSION, **meta},
                      separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    if len(line) > MAX_HEADER:
        raise RecordingError(f"header of {len(line)} bytes exceeds {MAX_HEADER}")
    return line


def record_head(offset_ms: int, length: int) -> bytes:
    """Return the 8 bytes that precede a frame of ``length`` bytes."""
    return RECORD.pack(max(0, min(offset_ms, MAX_OFFSET_MS)), length)


def end_record(duration_ms: int, totals: dict[str, Any]) -> bytes:
    """Return the end record and the totals line that close a recording."""
    return record_head(duration_ms, 0) + json.dumps(
        totals, separators=(",", ":")).encode() + b"\n"


@dataclass(frozen=True)
class Record:
    """One recorded frame: when it arrived and its bytes (a view into the file)."""

    offset_ms: int
    frame: memoryview


@dataclass
class Recording:
    """A parsed recording: header, records, and the totals if it was closed properly."""

    header: dict[str, Any]
    records: list[Record] = field(default_factory=list)
    totals: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        """Tell whether the file ends with its end record (it was not cut short)."""
        return self.totals is not None


def read_header(data: bytes | memoryview) -> tuple[dict[str, Any], int]:
    """Return the header of a recording and where its records start.

    Raises:
        RecordingError: no header line, not JSON, or another format or version.
    """
    end = bytes(data[:MAX_HEADER + 1]).find(b"\n")
    if end < 0:
        raise RecordingError("no header line in the first 64 KiB")
    try:
        header = json.loads(bytes(data[:end]))
    except ValueError as exc:
        raise RecordingError(f"header is not JSON: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingError("not a Deskmate recording")
    if header.get("version") != VERSION:
        raise RecordingError(f"recording version {header.get('version')!r} is not {VERSION}")
    return header, end + 1


def iter_records(data: bytes | memoryview, start: int
                 ) -> Iterator[tuple[int, int, memoryview | None]]:
    """Yield ``(offset_ms, position, frame)`` from ``start``; ``frame`` None is the end.

    A record cut short at the end of ``data`` (a recording still being written, or a
    server that stopped) ends the iteration quietly.
    """
    view = memoryview(data)
    pos = start
    while pos + RECORD.size <= len(view):
        offset_ms, length = RECORD.unpack_from(view, pos)
        if length == 0:
            yield offset_ms, pos, None
            return
        if length > screen.MAX_FRAME_BYTES:
            raise RecordingError(f"record at byte {pos} claims {length} bytes")
        body = pos + RECORD.size
        if body + length > len(view):
            return
        yield offset_ms, pos, view[body:body + length]
        pos = body + length


def parse(data: bytes | memoryview) -> Recording:
    """Return the whole recording held in ``data``.

    Raises:
        RecordingError: a malformed header, record or totals line.
    """
    header, start = read_header(data)
    recording = Recording(header=header)
    for offset_ms, pos, frame in iter_records(data, start):
        if frame is None:
            rest = bytes(memoryview(data)[pos + RECORD.size:])
            try:
                totals = json.loads(rest.split(b"\n", 1)[0])
            except ValueError as exc:
                raise RecordingError(f"totals line is not JSON: {exc}") from exc
            recording.totals = {**totals, "duration_ms": offset_ms} if isinstance(
                totals, dict) else {"duration_ms": offset_ms}
            break
        recording.records.append(Record(offset_ms, frame))
    return recording
