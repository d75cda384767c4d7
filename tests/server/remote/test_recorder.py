"""The recording format and its writer thread, without a server."""

from __future__ import annotations

import asyncio
import stat
import threading
from pathlib import Path

import pytest

from server.remote import recfile
from server.remote.recorder import Recorder
from shared import screen
from tests.support.remote import frame
from tests.support.waiting import eventually


def test_records_round_trip_and_a_cut_file_keeps_its_whole_records() -> None:
    """Header, records and totals parse back; a file cut short keeps its whole records."""
    frames = [frame(0, key=True, size=300), frame(1, size=80), frame(2, size=90)]
    data = recfile.header_line({"session": 7, "ticket": "INC-000001"})
    for i, body in enumerate(frames):
        data += recfile.record_head(i * 40, len(body)) + body
    whole = data + recfile.end_record(130, {"frames": 3})
    parsed = recfile.parse(whole)
    assert parsed.header["session"] == 7 and parsed.header["format"] == recfile.FORMAT
    assert [bytes(r.frame) for r in parsed.records] == frames
    assert [r.offset_ms for r in parsed.records] == [0, 40, 80]
    assert parsed.complete and parsed.totals == {"frames": 3, "duration_ms": 130}
    cut = recfile.parse(data[:-10])  # the last record is missing its end
    assert [bytes(r.frame) for r in cut.records] == frames[:2] and not cut.complete


@pytest.mark.parametrize(("raw", "message"), [
    (b"no newline at all", "no header line"),
    (b"{not json\n", "not JSON"),
    (b'{"format": "other"}\n', "not a Deskmate recording"),
    (b'{"format": "deskmate-recording", "version": 9}\n', "version 9"),
    (recfile.header_line({}) + recfile.RECORD.pack(0, screen.MAX_FRAME_BYTES + 1), "claims"),
])
def test_malformed_recordings_are_refused(raw: bytes, message: str) -> None:
    """A file that is not a well-formed recording raises RecordingError saying why."""
    with pytest.raises(recfile.RecordingError, match=message):
        recfile.parse(raw)


class GatedRecorder(Recorder):
    """A recorder whose disk does not move until the test opens the gate."""

    gate = threading.Event()

    def _run(self, head: bytes) -> None:
        self.gate.wait(10)
        super()._run(head)


async def test_a_disk_that_falls_behind_leaves_out_frames_until_a_key_frame(
        tmp_path: Path) -> None:
    """Over the backlog limit frames are left out, counted, and the file resumes at a key."""
    GatedRecorder.gate = threading.Event()
    key1, d2, d3, d4 = frame(1, key=True, size=100), frame(2), frame(3), frame(4)
    limit = len(key1) + len(d2) + 10
    rec = GatedRecorder(tmp_path / "rec" / "9.dmrec", {"session": 9}, backlog_limit=limit)
    offered = [rec.offer(f, screen.read_header(f)) for f in (key1, d2, d3, d4)]
    # d3 does not fit: left out (a gap); d4 is a delta after the gap: left out as well.
    assert offered == [True, True, False, False]
    assert (rec.dropped, rec.gaps) == (2, 1)
    GatedRecorder.gate.set()
    await eventually(lambda: rec.backlog == 0)
    key5, d6 = frame(5, key=True, refresh=True), frame(6)
    assert rec.offer(key5, screen.read_header(key5)) and rec.offer(d6, screen.read_header(d6))
    stats = await rec.close()
    assert (stats.frames, stats.dropped_frames, stats.gaps, stats.complete) == (4, 2, 1, True)
    data = await asyncio.to_thread(rec.path.read_bytes)
    parsed = recfile.parse(data)
    assert [bytes(r.frame) for r in parsed.records] == [key1, d2, key5, d6]
    assert parsed.totals is not None and parsed.totals["dropped_frames"] == 2
    assert stats.file_bytes == len(data)
    mode = (await asyncio.to_thread(rec.path.stat)).st_mode
    assert stat.S_IMODE(mode) == 0o600


async def test_a_recording_waits_for_its_first_key_frame(tmp_path: Path) -> None:
    """Deltas before the first key frame are left out and ask for a key frame."""
    rec = Recorder(tmp_path / "1.dmrec", {"session": 1})
    delta, key = frame(0), frame(1, key=True)
    assert rec.offer(delta, screen.read_header(delta)) is False
    assert rec.offer(key, screen.read_header(key)) is True
    stats = await rec.close()
    assert (stats.frames, stats.dropped_frames, stats.gaps) == (1, 1, 0)
    parsed = recfile.parse(await asyncio.to_thread(rec.path.read_bytes))
    assert [bytes(r.frame) for r in parsed.records] == [key]


@pytest.mark.expect_error_log(r"deskmate\.remote: recording 2\.dmrec failed")
async def test_a_file_that_cannot_be_written_fails_quietly(tmp_path: Path) -> None:
    """A recording whose file cannot be created reports the error; offers never raise."""
    blocker = tmp_path / "not-a-directory"
    await asyncio.to_thread(blocker.write_bytes, b"")
    rec = Recorder(blocker / "2.dmrec", {"session": 2})
    await eventually(lambda: rec.error is not None)
    key = frame(1, key=True)
    assert rec.offer(key, screen.read_header(key)) is True  # nothing to ask the agent for
    stats = await rec.close()
    assert stats.error and not stats.complete and stats.frames == 0
