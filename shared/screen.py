"""Remote-session wire formats: screen frames (binary) and viewer messages (JSON).

Sans-I/O. A screen frame is one binary WebSocket message: a fixed 24-byte header, then
``tiles`` tile records, each a 12-byte tile header and its payload: a JPEG image, a
PNG image (the lossless refinement of a resting area), or a 6-byte copy record
(scrolling). The server walks the tile table to check the frame is well formed (bounds,
lengths) but never decodes an image. Viewer messages are JSON text frames, a msgspec
tagged union like :mod:`shared.protocol`. docs/protocol.md sections 3 and 4 describe
both byte by byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from shared import clipboard

FRAME_VERSION = 1
FLAG_KEY = 0x01  # a full picture of the screen: a viewer may start from it
# With FLAG_KEY: this key frame repeats the state of a delta of the same seq, for viewers
# that fell out of step; viewers in step skip it.
FLAG_REFRESH = 0x02
FLAG_KNOWN = FLAG_KEY | FLAG_REFRESH
HEADER = struct.Struct("<BBHIdHHhh")  # version, flags, tiles, seq, captured_at, w, h, cx, cy
TILE = struct.Struct("<HHHHI")  # x, y, width, height, JPEG length
MAX_FRAME_BYTES = 4 * 1024 * 1024
MAX_TILES = 4096
MAX_SCREEN = 16384  # pixels on a side
JPEG_SOI = b"\xff\xd8"
# A lossless tile (the refinement of a resting area, endpoint_agent/remote/refine.py): a PNG.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COPY_TAG = b"CP"  # a copy record: the rectangle comes from elsewhere in the picture
COPY = struct.Struct("<2sHH")

# Viewer error codes (text frames on the viewer WebSocket; also used with agents).
BAD_FRAME = "bad_frame"
NOT_CONTROLLER = "not_controller"
VIEW_ONLY = "view_only"


class FrameError(ValueError):
    """A binary screen frame is malformed; the message says how."""


@dataclass(frozen=True)
class FrameHeader:
    """What the relay reads of a frame: enough to route it, nothing decoded."""

    flags: int
    tiles: int
    seq: int
    captured_at: float
    width: int
    height: int
    cursor_x: int
    cursor_y: int

    @property
    def key(self) -> bool:
        """Tell whether the frame is a key frame (a full picture)."""
        return bool(self.flags & FLAG_KEY)


@dataclass(frozen=True)
class Tile:
    """One changed rectangle: its image bytes, or where to copy it from (``src``).

    ``jpeg`` holds the image whatever its kind: a JPEG, or a PNG (a lossless refinement).
    """

    x: int
    y: int
    width: int
    height: int
    jpeg: bytes = b""
    src: tuple[int, int] | None = None

    def payload(self) -> bytes:
        """Return the bytes that follow the tile header."""
        if self.src is not None:
            return COPY.pack(COPY_TAG, self.src[0], self.src[1])
        return self.jpeg


def pack_frame(*, seq: int, captured_at: float, width: int, height: int, tiles: list[Tile],
               key: bool = False, refresh: bool = False,
               cursor: tuple[int, int] = (-1, -1)) -> bytes:
    """Return the binary message for one frame.

    Raises:
        FrameError: a value does not fit the format.
    """
    if len(tiles) > MAX_TILES:
        raise FrameError(f"{len(tiles)} tiles exceed {MAX_TILES}")
    cx = max(-1, min(cursor[0], 32767))
    cy = max(-1, min(cursor[1], 32767))
    flags = (FLAG_KEY if key else 0) | (FLAG_REFRESH if key and refresh else 0)
    parts = [HEADER.pack(FRAME_VERSION, flags, len(tiles), seq & 0xFFFFFFFF,
                         captured_at, width, height, cx, cy)]
    for tile in tiles:
        payload = tile.payload()
        parts.append(TILE.pack(tile.x, tile.y, tile.width, tile.height, len(payload)))
        parts.append(payload)
    return b"".join(parts)


def read_header(data: bytes | bytearray | memoryview) -> FrameHeader:
    """Check a frame's structure (header and tile table) and return its header.

    Args:
        data: the whole binary message.

    Raises:
        FrameError: the frame is too short or long, of another version, has unknown flags,
            or a tile lies outside the screen or overruns the message.
    """
    size = len(data)
    if size > MAX_FRAME_BYTES:
        raise FrameError(f"frame of {size} bytes exceeds {MAX_FRAME_BYTES}")
    if size < HEADER.size:
        raise FrameError(f"frame of {size} bytes is shorter than its {HEADER.size}-byte header")
    version, flags, count, seq, at, width, height, cx, cy = HEADER.unpack_from(data, 0)
    if version != FRAME_VERSION:
        raise FrameError(f"frame version {version} is not {FRAME_VERSION}")
    if flags & ~FLAG_KNOWN or (flags & FLAG_REFRESH and not flags & FLAG_KEY):
        raise FrameError(f"unknown frame flags {flags:#04x}")
    if not (0 < width <= MAX_SCREEN and 0 < height <= MAX_SCREEN):
        raise FrameError(f"screen size {width}x{height} out of range")
    if count > MAX_TILES:
        raise FrameError(f"{count} tiles exceed {MAX_TILES}")
    if not (at == at and 0 <= at < 4_102_444_800):  # not NaN, up to the year 2100
        raise FrameError("capture time out of range")
    offset = HEADER.size
    for index in range(count):
        if offset + TILE.size > size:
            raise FrameError(f"tile {index} header overruns the frame")
        x, y, w, h, length = TILE.unpack_from(data, offset)
        offset += TILE.size
        if w == 0 or h == 0 or x + w > width or y + h > height:
            raise FrameError(f"tile {index} ({x},{y} {w}x{h}) lies outside {width}x{height}")
        if length < 2 or offset + length > size:
            raise FrameError(f"tile {index} length {length} overruns the frame")
        kind = bytes(data[offset:offset + 2])
        if kind == COPY_TAG:
            if length != COPY.size:
                raise FrameError(f"tile {index} copy record of {length} bytes, not {COPY.size}")
            _tag, sx, sy = COPY.unpack_from(data, offset)
            if sx + w > width or sy + h > height:
                raise FrameError(f"tile {index} copies from outside {width}x{height}")
        elif kind != JPEG_SOI and bytes(data[offset:offset + 8]) != PNG_SIGNATURE:
            raise FrameError(f"tile {index} is neither a JPEG or PNG image nor a copy record")
        offset += length
    if offset != size:
        raise FrameError(f"{size - offset} bytes after the last tile")
    return FrameHeader(flags=flags, tiles=count, seq=seq, captured_at=at, width=width,
                       height=height, cursor_x=cx, cursor_y=cy)


def unpack_frame(data: bytes) -> tuple[FrameHeader, list[Tile]]:
    """Return a checked frame's header and tiles (viewers, tests and benchmarks).

    Raises:
        FrameError: as for :func:`read_header`.
    """
    header = read_header(data)
    tiles: list[Tile] = []
    offset = HEADER.size
    for _ in range(header.tiles):
        x, y, w, h, length = TILE.unpack_from(data, offset)
        offset += TILE.size
        payload = bytes(data[offset:offset + length])
        if payload[:2] == COPY_TAG:
            _tag, sx, sy = COPY.unpack(payload)
            tiles.append(Tile(x, y, w, h, src=(sx, sy)))
        else:
            tiles.append(Tile(x, y, w, h, payload))
        offset += length
    return header, tiles


# --- viewer <-> server (JSON text frames on the viewer WebSocket) --------------------

Coord = Annotated[int, Meta(ge=0, le=MAX_SCREEN)]
Buttons = Annotated[int, Meta(ge=0, le=31)]  # DOM MouseEvent.buttons: 1 left, 2 right, 4 middle
Keysym = Annotated[int, Meta(ge=1, le=0x1FFFFFFF)]
Steps = Annotated[int, Meta(ge=-20, le=20)]
Quality = Annotated[int, Meta(ge=0, le=95)]  # 0 = automatic


class ViewerMessage(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of the messages a viewer sends."""


class ViewerHello(ViewerMessage, tag="hello"):
    """The viewer's first message: the console session's CSRF token."""

    csrf: Annotated[str, Meta(min_length=1, max_length=128)]


class FrameAck(ViewerMessage, tag="ack"):
    """The viewer has drawn the frame with this sequence number."""

    seq: Annotated[int, Meta(ge=0, le=0xFFFFFFFF)]


class KeyFrameRequest(ViewerMessage, tag="key_frame"):
    """The viewer asks for a full picture."""


class SetQuality(ViewerMessage, tag="quality"):
    """JPEG quality for the session (0 = adapt to the link)."""

    quality: Quality


class SetMonitor(ViewerMessage, tag="monitor"):
    """Show another monitor (index into the session's monitor list)."""

    index: Annotated[int, Meta(ge=0, le=15)]


class PointerEvent(ViewerMessage, tag="pointer"):
    """Pointer at screen pixel (x, y) with these buttons held."""

    x: Coord
    y: Coord
    buttons: Buttons


class WheelEvent(ViewerMessage, tag="wheel"):
    """Wheel steps at (x, y): positive dy scrolls down, positive dx right."""

    x: Coord
    y: Coord
    dx: Steps = 0
    dy: Steps = 0


class KeyEvent(ViewerMessage, tag="key"):
    """An X keysym pressed or released."""

    keysym: Keysym
    down: bool


class TextEvent(ViewerMessage, tag="text"):
    """Text typed as a sequence of key presses."""

    text: Annotated[str, Meta(min_length=1, max_length=1000)]


class ClipboardText(ViewerMessage, tag="clipboard"):
    """Text for the endpoint's clipboard (the controlling technician, in control mode)."""

    text: str  # checked by shared.clipboard.text_size once decoded


InputEvent = PointerEvent | WheelEvent | KeyEvent | TextEvent
INPUT_TYPES = (PointerEvent, WheelEvent, KeyEvent, TextEvent)
AnyViewerMessage = (ViewerHello | FrameAck | KeyFrameRequest | SetQuality | SetMonitor
                    | PointerEvent | WheelEvent | KeyEvent | TextEvent | ClipboardText)
MAX_VIEWER_MESSAGE = 4096  # every viewer message but clipboard (clipboard.MAX_FRAME_BYTES)


class _Tag(Struct):
    type: str = ""


_tag_decoder = msgspec.json.Decoder(_Tag)

_viewer_decoder = msgspec.json.Decoder(AnyViewerMessage)
_encoder = msgspec.json.Encoder()


class ViewerError(ValueError):
    """A viewer message was refused; ``code`` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decode_viewer(data: str | bytes) -> AnyViewerMessage:
    """Parse one text frame from a viewer.

    Raises:
        ViewerError: too large, not JSON, unknown type or invalid fields.
    """
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_VIEWER_MESSAGE:
        limit = clipboard.MAX_FRAME_BYTES if _type_of(raw) == "clipboard" else MAX_VIEWER_MESSAGE
        if len(raw) > limit:
            raise ViewerError("too_large", f"message of {len(raw)} bytes exceeds {limit}")
    try:
        message = _viewer_decoder.decode(raw)
        if isinstance(message, ClipboardText):
            clipboard.text_size(message.text)
        return message
    except clipboard.ClipboardError as exc:
        raise ViewerError(exc.code, exc.message) from exc
    except msgspec.ValidationError as exc:
        text = str(exc)
        code = "unknown_type" if text.endswith("`$.type`") or "`type`" in text else \
            "invalid_message"
        raise ViewerError(code, text) from exc
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ViewerError("malformed", f"not a JSON message: {exc}") from exc


def _type_of(raw: bytes) -> str:
    """Return the ``type`` of a large frame without building it (size checks only)."""
    try:
        return _tag_decoder.decode(raw).type
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return ""


def decode_input(data: object) -> InputEvent:
    """Convert an input event carried inside an agent message (already JSON-decoded).

    Raises:
        ViewerError: the event is not a valid input event.
    """
    try:
        return msgspec.convert(data, InputEvent)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        raise ViewerError("invalid_message", str(exc)) from exc


def encode_viewer(message: ViewerMessage) -> str:
    """Return the JSON text of a viewer message (clients and tests)."""
    return _encoder.encode(message).decode()


Mode = Literal["view", "control"]
