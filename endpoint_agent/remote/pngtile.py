"""Lossless tiles: PNG of a screen area, indexed colour at 1, 2, 4 or 8 bits when it can.

Text and UI have few colours and sharp edges: a palette and zlib keep them exact in a
fraction of a JPEG's bytes (a 844x589 terminal of 2-colour text: ~3.5 KB against ~72 KB
of JPEG at quality 60). Photos and gradients have thousands of colours: they stay JPEG.
:func:`palette` tells which is which cheaply (the colours of a sample of the pixels, then
one table lookup per pixel); :func:`encode_png` writes the PNG. The browser decodes it
natively (``createImageBitmap``). Pure numpy and zlib; runs on the capture thread.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

from shared import screen

MAX_COLOURS = 256  # more than this: not a palette area (a photo, a gradient)
PACKED_LEVEL = 6  # zlib level for 1-4 bit indexes: small data, the better ratio is cheap
INDEX_LEVEL = 3  # 8-bit indexes: several times the data; level 6 costs ~3x for ~1.5x
RGB_LEVEL = 6  # the refinement of a many-colour area (sent once, when it rests)
SAMPLE = 7  # every SAMPLE-th pixel gives the first guess of the colours
_SLOTS_BITS = 16  # the lookup table of a palette: 65,536 one-byte slots
_MULTIPLIERS = (0x9E3779B1, 0x85EBCA6B, 0xC2B2AE35, 0x27D4EB2F, 0x165667B1, 0xD3A2646C)
_CHUNK = struct.Struct(">I4s")

Palette = tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]  # colours, index per pixel


def palette(bgra: npt.NDArray[np.uint8], *, limit: int = MAX_COLOURS) -> Palette | None:
    """Return (colours as 0xXXRRGGBB, index per pixel) of an area with at most ``limit``
    colours, else None.

    The colours of every :data:`SAMPLE`-th pixel are the first guess; every pixel is then
    looked up in a small hash table of them (a multiply, a shift and a gather per pixel,
    no sort of the whole area). Colours the sample missed are added once and looked up
    again. An area with more colours than ``limit`` is usually told by its sample alone.
    """
    height, width = bgra.shape[:2]
    packed = np.ascontiguousarray(bgra).view(np.uint32).reshape(height, width)
    # The fourth byte (X's padding, constant on a screen) stays in: masking it off would
    # cost a pass over every pixel, and a colour seen with two paddings merely takes two
    # palette entries.
    flat = packed.ravel()
    if flat.size > 64 * SAMPLE * SAMPLE and np.unique(flat[::SAMPLE * SAMPLE]).size > limit:
        return None  # a photo is told from a sparse sample (~2 ms for a whole screen)
    colours = np.unique(flat[::SAMPLE])
    for _attempt in range(2):
        if colours.size > limit:
            return None
        found = _lookup(flat, colours)
        if found is None:
            return None
        where, missing = found
        if not missing.any():
            return colours, where.reshape(height, width)
        colours = np.union1d(colours, np.unique(flat[missing]))
    return None


def _lookup(flat: npt.NDArray[np.uint32], colours: npt.NDArray[np.uint32],
            ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]] | None:
    """Return the index of each pixel in ``colours`` and where a pixel is not among them."""
    if colours.size <= 2:  # one or two colours (a fill, plain text): compare, no table
        second = flat == colours[-1]
        missing = ~second if colours.size == 1 else ~second & (flat != colours[0])
        return (second if colours.size == 2 else np.zeros(flat.shape, bool)).view(np.uint8), \
            missing
    shift = np.uint32(32 - _SLOTS_BITS)
    for multiplier in _MULTIPLIERS:
        mul = np.uint32(multiplier)
        slots = (colours * mul) >> shift
        if np.unique(slots).size == colours.size:  # no two colours share a slot
            break
    else:
        return None
    table = np.zeros(1 << _SLOTS_BITS, dtype=np.uint8)
    table[slots] = np.arange(colours.size, dtype=np.uint8)
    where = table[(flat * mul) >> shift]
    return where, colours[where] != flat


def encode_png(bgra: npt.NDArray[np.uint8], found: Palette | None = None, *,
               level: int | None = None) -> bytes:
    """Return a PNG of a BGRA area: indexed colour when it has at most 256, else RGB.

    ``found`` is the area's :func:`palette` if the caller already has it. Indexed PNGs
    use the smallest bit depth that holds the palette (1, 2, 4 or 8 bits a pixel). No
    gamma or colour-profile chunk, so browsers draw the pixels exactly as given.
    """
    height, width = bgra.shape[:2]
    if found is None:
        found = palette(bgra)
    if found is not None:
        colours, where = found
        table = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255],
                         axis=1).astype(np.uint8)
        depth = 1 if colours.size <= 2 else 2 if colours.size <= 4 else \
            4 if colours.size <= 16 else 8
        body = _pack(where, depth)
        rows = np.zeros((height, body.shape[1] + 1), dtype=np.uint8)  # filter 0: none
        rows[:, 1:] = body
        ihdr = struct.pack(">IIBBBBB", width, height, depth, 3, 0, 0, 0)
        chunks = [(b"IHDR", ihdr), (b"PLTE", table.tobytes())]
        if level is None:
            level = INDEX_LEVEL if depth == 8 else PACKED_LEVEL
    else:
        flat = np.ascontiguousarray(bgra[:, :, 2::-1]).reshape(height, width * 3)  # RGB
        rows = np.empty((height, width * 3 + 1), dtype=np.uint8)
        rows[:, 0] = 1  # filter Sub: each byte minus the same channel of the pixel left
        rows[:, 1:4] = flat[:, :3]
        np.subtract(flat[:, 3:], flat[:, :-3], out=rows[:, 4:])
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        chunks = [(b"IHDR", ihdr)]
        if level is None:
            level = RGB_LEVEL
    chunks.append((b"IDAT", zlib.compress(rows.tobytes(), level)))
    chunks.append((b"IEND", b""))
    parts = [screen.PNG_SIGNATURE]
    for tag, data in chunks:
        parts += [_CHUNK.pack(len(data), tag), data,
                  struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)]
    return b"".join(parts)


def _pack(where: npt.NDArray[np.uint8], depth: int) -> npt.NDArray[np.uint8]:
    """Return the rows of indexes packed ``depth`` bits a pixel, leftmost pixel highest."""
    if depth == 8:
        return where
    if depth == 1:
        return np.packbits(where, axis=1)
    per = 8 // depth
    height, width = where.shape
    padded = np.zeros((height, -(-width // per) * per), dtype=np.uint8)
    padded[:, :width] = where
    groups = padded.reshape(height, -1, per)
    out = np.zeros(groups.shape[:2], dtype=np.uint8)
    for i in range(per):
        out |= groups[:, :, i] << np.uint8(8 - depth * (i + 1))
    return out


def decode_png(data: bytes) -> npt.NDArray[np.uint8]:
    """Return the RGB pixels of a PNG :func:`encode_png` wrote (benchmark and tests).

    Raises:
        ValueError: the data is not such a PNG.
    """
    if data[:8] != screen.PNG_SIGNATURE:
        raise ValueError("not a PNG")
    offset, chunks = 8, {}
    while offset < len(data):
        length, tag = _CHUNK.unpack_from(data, offset)
        body = data[offset + 8:offset + 8 + length]
        if struct.unpack_from(">I", data, offset + 8 + length)[0] != zlib.crc32(tag + body):
            raise ValueError(f"bad CRC in the {tag!r} chunk")
        chunks[tag] = body
        offset += 12 + length
    width, height, depth, kind = struct.unpack_from(">IIBB", chunks[b"IHDR"])
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    if kind == 3 and depth in (1, 2, 4, 8):
        rows = raw.reshape(height, -1)
        if (rows[:, 0] != 0).any():
            raise ValueError("an indexed PNG row with a filter")
        table = np.frombuffer(chunks[b"PLTE"], dtype=np.uint8).reshape(-1, 3)
        body = rows[:, 1:]
        if depth == 8:
            return table[body[:, :width]]
        mask = np.uint8((1 << depth) - 1)
        parts = [(body >> np.uint8(8 - depth * (i + 1))) & mask for i in range(8 // depth)]
        return table[np.stack(parts, axis=2).reshape(height, -1)[:, :width]]
    rows = raw.reshape(height, width * 3 + 1)
    if depth != 8 or kind != 2 or (rows[:, 0] != 1).any():
        raise ValueError("not an 8-bit RGB PNG with Sub filters")
    deltas = rows[:, 1:].reshape(height, width, 3).astype(np.uint32)
    return (np.cumsum(deltas, axis=1) % 256).astype(np.uint8)
