"""The Pix QR of the boleto as a 1-bit PNG: segno's symbol, with segno's mask chosen faster.

`pix_qr_png(payload)` returns the same bytes as::

    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=1, border=4)

in ~3.5 ms instead of ~14 (Pix payloads, versions 7–10). segno spends ~11 ms of that call
choosing the data mask: it applies each of the 8 mask patterns module by module and scores the
result with the ISO/IEC 18004 penalty rules (7.8.3.1) in pure Python. Here segno's encoder
functions build the unmasked symbol (`_unmasked`: the steps of `segno.encoder._encode` before the
mask, ~2.4 ms, most of what is left), and each masked symbol is one Python int, one bit per
module: its rows, then its columns (so each rule is computed once for both directions), each row
and column followed by 4 light "gap" bits. Masking is one XOR with a precomputed int per mask;
the rules are shifts, ANDs and `int.bit_count` (the 8 masks are scored in ~0.2 ms):

* N1, runs of k ≥ 5 same-colour modules in a row or column, k − 2 each (3 + (k − 5)): the bits
  that start 5 equal modules (k − 4 per run) plus 2 per run (the first of those bits);
* N2, 2 × 2 blocks of one colour, 3 each: counted in the rows and again in the columns, halved;
* N3, 1:1:3:1:1 finder-like patterns with 4 light modules (or the symbol's edge: the gap) before
  or after, 40 each; where patterns overlap, segno's search (resumed 7 modules after a counted
  pattern, 4 after a rejected one) is replayed over the few patterns found;
* N4, the dark proportion: 10 per full 5 % away from 50 %, with segno's float expression.

What is scored is what segno scores (`segno.encoder.find_and_apply_best_mask`): the masked symbol
*before* format and version information are written (those modules and the dark module are 0),
and the lowest score wins, the first mask on ties. The chosen mask is applied, format and version
information added with segno's own functions and the PNG written by segno's writer.

This leans on segno internals (the encoder functions `_encode` calls, `Code`, `QRCode(code)`;
checked against segno 1.6.6). tests/billing/test_qr.py compares the unmasked symbol and each
mask's score with segno's, and mask and PNG bytes with segno's default path for 600 payloads, so
an upgrade that changes them fails there; anything unexpected at run time (a Micro QR, a module
that is neither 0 nor 1) falls back to `segno.make`.
"""

from __future__ import annotations

import io
from functools import cache

import segno
from segno import consts, encoder

__all__ = ["best_mask", "pix_qr", "pix_qr_png"]

ERROR = "m"
#: Light modules after each row (and column): enough for the 4-module light areas of N3 to stop
#: at the row's end, and for runs, blocks and patterns never to span two rows.
_GAP = 4
_TO_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_FROM_DIGITS = bytes.maketrans(b"01", b"\x00\x01")


def _bits(modules: bytes) -> int:
    """Modules (one byte each, 0 or 1) as an int whose bit p is module p."""
    return int(modules.translate(_TO_DIGITS)[::-1], 2)


def _modules(bits: int, count: int) -> bytes:
    """The inverse of `_bits`, for the first `count` modules."""
    return format(bits, f"0{count}b")[::-1].encode("ascii").translate(_FROM_DIGITS)


def _lines(matrix, width: int) -> bytes:
    """The rows, an empty line, then the columns of a square matrix, as bytes.

    Each row and column is followed by `_GAP` zero bytes; the empty line keeps the last row
    from forming 2 × 2 blocks with the first column.
    """
    gap = bytes(_GAP)
    stride = width + _GAP
    rows = gap.join(bytes(row) for row in matrix) + gap
    columns = gap.join(rows[j::stride] for j in range(width)) + gap
    return rows + bytes(stride) + columns


@cache
def _layout(width: int) -> tuple[int, tuple[int, ...]]:
    """Per symbol size, as bits over `_lines` (rows then columns): ``(modules, masks)``.

    `modules` has every module (not the gaps), `masks` the modules each of the 8 mask patterns
    flips: data modules only, as segno's `find_and_apply_best_mask` and `apply_mask` do.
    """
    function = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(function, width, width)
    encoder.add_alignment_patterns(function, width, width)
    function[-8][8] = 0x1  # the dark module is no data module
    masks = []
    for pattern in encoder.get_data_mask_functions(False):
        flips = [
            bytes(value > 0x1 and bool(pattern(i, j)) for j, value in enumerate(row))
            for i, row in enumerate(function)
        ]
        masks.append(_bits(_lines(flips, width)))
    return _bits(_lines([b"\x01" * width] * width, width)), tuple(masks)


def _n1(dark: int) -> int:
    """N1 of one colour: a run of k ≥ 5 modules scores k − 2 (3 + (k − 5))."""
    fives = dark & dark >> 1 & dark >> 2 & dark >> 3 & dark >> 4  # 5 from here: k − 4 per run
    return fives.bit_count() + 2 * (fives & ~(fives << 1)).bit_count()


def _penalty(dark: int, light: int, width: int) -> int:
    """segno's `evaluate_mask` (N1 + N2 + N3 + N4) of a masked symbol, as bits over `_lines`."""
    stride = width + _GAP
    n1 = _n1(dark) + _n1(light)
    # N2: 2 × 2 blocks. They are counted in the rows and again in the columns (transposed): / 2.
    down = stride
    blocks = (dark & dark >> 1 & dark >> down & dark >> (down + 1)).bit_count() + (
        light & light >> 1 & light >> down & light >> (down + 1)
    ).bit_count()
    n2 = 3 * (blocks // 2)
    # N3: dark light dark dark dark light dark, with 4 light modules (or the edge) before or after.
    found = dark & light >> 1 & dark >> 2 & dark >> 3 & dark >> 4 & light >> 5 & dark >> 6
    n3 = 0
    if found:
        before = ~(dark << 1 | dark << 2 | dark << 3 | dark << 4)
        after = ~(dark >> 7 | dark >> 8 | dark >> 9 | dark >> 10)
        counted = found & (before | after)
        if counted & (found >> 4 | found >> 6):
            counted = _resumed(found, counted)
        n3 = 40 * counted.bit_count()
    # N4: the dark modules (counted twice, rows and columns) against the symbol's area.
    percent = float(dark.bit_count() // 2) / (width**2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def _resumed(found: int, counted: int) -> int:
    """The patterns segno counts when they overlap, as its search resumes.

    segno resumes the search 7 modules after a counted pattern, 4 after a rejected one: a counted
    pattern hides the ones overlapping it (the pattern overlaps itself 4 and 6 modules on).
    """
    kept = 0
    resume = 0
    while found:
        low = found & -found
        found ^= low
        index = low.bit_length() - 1
        if index < resume:
            continue
        if counted & low:
            kept |= low
            resume = index + 7
        else:
            resume = index + 4
    return kept


def _scores(unmasked: int, width: int) -> list[int]:
    """segno's penalty score of each of the 8 masks (the lowest wins, the first on ties)."""
    modules, masks = _layout(width)
    scores = []
    for mask in masks:
        dark = unmasked ^ mask
        scores.append(_penalty(dark, dark ^ modules, width))
    return scores


def _unmasked(payload: str) -> encoder.Code:
    """segno's symbol for `payload` before masking: `segno.encoder._encode` up to the mask.

    The same steps as ``encoder.encode(payload, error="m", micro=False)`` (no version, mode,
    encoding or ECI given; the error level boosted as segno does), stopped where segno chooses the
    mask. The matrix is what segno scores: data placed, format and version areas and the dark
    module still 0. Its ``mask`` is None.
    """
    segments = encoder.prepare_data(payload, None, None)
    error = encoder.normalize_errorlevel(ERROR)
    version = encoder.find_version(segments, error, eci=False, micro=False)
    error = encoder.boost_error_level(version, error, segments, False)
    buffer = encoder.Buffer()
    version_range = encoder.version_range(version)
    for segment in segments:
        encoder.write_segment(buffer, segment, None, version_range, False)
    capacity = consts.SYMBOL_CAPACITY[version][error]
    encoder.write_terminator(buffer, capacity, None, len(buffer))
    encoder.write_padding_bits(buffer, version, len(buffer))
    encoder.write_pad_codewords(buffer, version, capacity, len(buffer))
    codewords = encoder.make_final_message(version, error, buffer)
    width = encoder.calc_matrix_size(version)
    matrix = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(matrix, width, width)
    encoder.add_alignment_patterns(matrix, width, width)
    encoder.add_codewords(matrix, codewords, version)
    return encoder.Code(matrix, version, error, None, segments)


def _usable(code: encoder.Code) -> bool:
    width = len(code.matrix)
    return (
        code.version >= 1
        and width >= 21
        and all(len(row) == width and max(row) <= 1 for row in code.matrix)
    )


def _choose(code: encoder.Code) -> tuple[int, int]:
    """The mask segno chooses for the unmasked `code`, and the symbol's bits before masking."""
    width = len(code.matrix)
    unmasked = _bits(_lines(code.matrix, width))
    scores = _scores(unmasked, width)
    return scores.index(min(scores)), unmasked  # the first of the lowest, as segno


def best_mask(payload: str) -> int:
    """The mask segno would choose for `payload` (``segno.make(payload, error="m").mask``)."""
    code = _unmasked(payload)
    if not _usable(code):  # pragma: no cover (not a QR Code symbol as expected)
        return segno.make(payload, error=ERROR, micro=False).mask
    return _choose(code)[0]


def pix_qr(payload: str) -> segno.QRCode:
    """``segno.make(payload, error="m", micro=False)``: the same symbol, built ~3× faster."""
    code = _unmasked(payload)
    if not _usable(code):  # pragma: no cover (not a QR Code symbol as expected)
        return segno.make(payload, error=ERROR, micro=False)
    mask, unmasked = _choose(code)
    width = len(code.matrix)
    stride = width + _GAP
    rows = _modules(unmasked ^ _layout(width)[1][mask], stride * width)
    matrix = tuple(bytearray(rows[i * stride : i * stride + width]) for i in range(width))
    # What segno's `_encode` does after choosing the mask.
    encoder.add_format_info(matrix, code.version, code.error, mask)
    encoder.add_version_info(matrix, code.version)
    return segno.QRCode(code._replace(matrix=matrix, mask=mask))


def pix_qr_png(payload: str) -> bytes:
    """The Pix QR as a 1-bit PNG: one pixel per module, a quiet zone of 4 modules."""
    buffer = io.BytesIO()
    pix_qr(payload).save(buffer, kind="png", scale=1, border=4)
    return buffer.getvalue()
