"""Interleaved 2 of 5 (ITF) barcode, for the boleto's ficha de compensação: PNG or SVG.

Symbology (shared/docs/boleto-standard.md §5): numeric, even length; each pair of digits is coded
as 5 bars (first digit) interleaved with 5 spaces (second digit), each digit 2 wide + 3 narrow
elements. Start pattern narrow bar, narrow space, narrow bar, narrow space; stop pattern wide bar,
narrow space, narrow bar. Boletos use wide:narrow 3:1 and no ITF check character (the 44 digits
carry their own DV), so 44 digits make 4 + 22 × 18 + 5 = 405 modules: 0.254 mm each is ≈ 103 mm,
13 mm high, with ≥ 5 mm quiet zones on both sides.

The printed boleto uses `itf_png`: a 1-bit image one pixel per module and one pixel high, which the
template scales to 102.87 × 13 mm without interpolation (WeasyPrint parses SVG paths in Python).
`itf_svg` draws all bars as one ``<path>`` (one subpath per bar), for SVG uses.
"""

from __future__ import annotations

import struct
import zlib

NARROW = 1
WIDE = 3

# N = narrow, W = wide, for digits 0..9.
_PATTERNS = (
    "NNWWN",
    "WNNNW",
    "NWNNW",
    "WWNNN",
    "NNWNW",
    "WNWNN",
    "NWWNN",
    "NNNWW",
    "WNNWN",
    "NWNWN",
)
_WIDTH = {"N": NARROW, "W": WIDE}
_START = (NARROW, NARROW, NARROW, NARROW)  # bar, space, bar, space
_STOP = (WIDE, NARROW, NARROW)  # bar, space, bar


def itf_modules(digits: str) -> list[int]:
    """Widths (in modules) of the alternating elements, bar first: start, pairs, stop."""
    if not isinstance(digits, str) or not digits:
        raise ValueError("ITF needs a non-empty string of digits")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"ITF encodes digits only: {digits!r}")
    if len(digits) % 2:
        raise ValueError(f"ITF needs an even number of digits, got {len(digits)}")
    widths = list(_START)
    for i in range(0, len(digits), 2):
        bars = _PATTERNS[ord(digits[i]) - 48]
        spaces = _PATTERNS[ord(digits[i + 1]) - 48]
        for bar, space in zip(bars, spaces, strict=True):
            widths.append(_WIDTH[bar])
            widths.append(_WIDTH[space])
    widths.extend(_STOP)
    return widths


def _mm(value: float) -> str:
    """A coordinate in mm with at most 4 decimals and no trailing zeros (stable output)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def itf_svg(
    digits: str, *, module_mm: float = 0.254, height_mm: float = 13, quiet_mm: float = 5.0
) -> str:
    """Inline ``<svg>`` of the ITF barcode of `digits`, sized in mm, quiet zones included.

    The SVG's user unit is 1 mm (``viewBox`` in mm), so it prints at its nominal size without
    any CSS; ``ValueError`` for an empty, odd-length or non-digit input.
    """
    if module_mm <= 0 or height_mm <= 0 or quiet_mm < 0:
        raise ValueError("module_mm and height_mm must be positive, quiet_mm not negative")
    widths = itf_modules(digits)
    height = _mm(height_mm)
    parts = []
    x = 0  # in modules, from the end of the left quiet zone
    for index, width in enumerate(widths):
        if index % 2 == 0:  # even elements are bars
            left = _mm(quiet_mm + x * module_mm)
            parts.append(f"M{left} 0h{_mm(width * module_mm)}v{height}h-{_mm(width * module_mm)}z")
        x += width
    total = _mm(2 * quiet_mm + x * module_mm)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="itf" width="{total}mm" '
        f'height="{height}mm" viewBox="0 0 {total} {height}">'
        f'<path fill="#000" d="{"".join(parts)}"/></svg>'
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def itf_png(digits: str) -> bytes:
    """The ITF bars of `digits` as a 1-bit grayscale PNG, one pixel per module, 1 pixel high.

    No quiet zones (leave them as margins) and no height: scale it to ``modules × module width``
    by the bar height, without interpolation (``image-rendering: pixelated``), so every module is
    an exact rectangle. A raster image costs WeasyPrint almost nothing, where an SVG path is parsed
    in Python command by command. The width in pixels is ``sum(itf_modules(digits))``;
    ``ValueError`` for an empty, odd-length or non-digit input. Deterministic bytes.
    """
    bits = []
    for index, width in enumerate(itf_modules(digits)):
        bits.extend([index % 2] * width)  # bars (even elements) are 0, black; spaces 1, white
    count = len(bits)
    bits.extend([1] * (-count % 8))
    row = bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))
    header = struct.pack(">IIBBBBB", count, 1, 1, 0, 0, 0, 0)  # 1-bit grayscale, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" + row, 9))
        + _png_chunk(b"IEND", b"")
    )
