"""billing.qr: the Pix QR with segno's mask chosen by a fast evaluator, byte for byte segno's."""

from __future__ import annotations

import io
import json
import random
import string
import uuid
from decimal import Decimal

import pytest
import segno
from segno import encoder

from billing import qr
from billing.febraban import PixError, brcode
from tests import BOLETO_VECTORS

VECTORS_PATH = BOLETO_VECTORS
REAL_PAYLOADS = [
    item["payload"] for item in json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["pix_payloads"]
]

NAMES = (
    "CORPO EM FORMA ACADEMIA",
    "MERCEARIA MANASSES PEREIR",
    "ESCOLA DE IDIOMAS SAO JOSE",
    "JOAO",
    "CLINICA VETERINARIA BICHO FELIZ LTDA",
    "Padaria Pão de Açúcar",
    "A",
)
CITIES = ("SAO PAULO", "BRASILIA", "RIO DE JANEIRO", "Florianópolis", "BELO HORIZONTE", "ITU")


def _key(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:  # CPF
        return "".join(rng.choice(string.digits) for _ in range(11))
    if kind == 1:  # CNPJ
        return "".join(rng.choice(string.digits) for _ in range(14))
    if kind == 2:  # phone
        return "+55" + "".join(rng.choice(string.digits) for _ in range(11))
    if kind == 3:  # e-mail, 6 to 60 characters
        user = "".join(rng.choice(string.ascii_lowercase + ".") for _ in range(rng.randint(1, 40)))
        return f"{user.strip('.') or 'x'}@{rng.choice(('gmail.com', 'empresa.com.br', 'x.io'))}"
    return str(uuid.UUID(int=rng.getrandbits(128)))  # random key


def _payload(rng: random.Random) -> str:
    amount = None if rng.random() < 0.1 else Decimal(rng.randint(1, 10_000_000)) / 100
    txid = rng.choice(
        (
            "***",
            "BOL" + str(rng.randint(1, 10**12)),
            "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(25)),
        )
    )
    description = None
    if rng.random() < 0.25:
        description = "Mensalidade " + "".join(
            rng.choice(string.ascii_uppercase + " ") for _ in range(rng.randint(0, 40))
        )
    fields = {
        "key": _key(rng),
        "merchant_name": rng.choice(NAMES)[: rng.randint(1, 25)].strip() or "A",
        "merchant_city": rng.choice(CITIES),
        "amount": amount,
        "txid": txid,
    }
    try:
        return brcode(**fields, description=description)
    except PixError:  # the description does not fit next to a long key
        return brcode(**fields)


def _random_payloads(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [_payload(rng) for _ in range(count)]


PAYLOADS = REAL_PAYLOADS + _random_payloads(600, seed=3)


def _segno_png(payload: str) -> tuple[int, bytes, int]:
    """segno's default path, as billing/pdf.py used it: mask, PNG bytes, version."""
    symbol = segno.make(payload, error="m", micro=False)
    buffer = io.BytesIO()
    symbol.save(buffer, kind="png", scale=1, border=4)
    return symbol.mask, buffer.getvalue(), symbol.version


def test_same_mask_and_png_as_segno():
    """601 payloads (98–220 characters): versions 6–11, 7 of the 8 masks chosen."""
    assert len(PAYLOADS) >= 500
    masks, versions = set(), set()
    for payload in PAYLOADS:
        mask, png, version = _segno_png(payload)
        assert qr.best_mask(payload) == mask, payload
        assert qr.pix_qr_png(payload) == png, payload
        masks.add(mask)
        versions.add(version)
    assert {6, 7, 8, 9, 10} <= versions
    assert len(masks) >= 6  # the payloads exercise most masks, not one winner


@pytest.mark.parametrize("payload", REAL_PAYLOADS)
def test_real_payload(payload):
    mask, png, _ = _segno_png(payload)
    assert qr.best_mask(payload) == mask
    assert qr.pix_qr_png(payload) == png
    symbol = qr.pix_qr(payload)
    assert symbol.mask == mask and symbol.designator == segno.make(payload, error="m").designator


def _segno_unmasked(payload: str) -> list[bytearray]:
    """segno's matrix before masking, from its public encoding with mask 0."""
    code = encoder.encode(payload, error="m", micro=False, mask=0)
    width = len(code.matrix)
    template = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(template, width, width)
    encoder.add_alignment_patterns(template, width, width)
    unmask = encoder.get_data_mask_functions(False)[0]
    # Data modules (still 0x2 in the template): undo mask 0; the rest is the template (format and
    # version areas and the dark module 0, as segno has them when it scores).
    return [
        bytearray(
            (value ^ unmask(i, j)) if template[i][j] > 0x1 else template[i][j]
            for j, value in enumerate(row)
        )
        for i, row in enumerate(code.matrix)
    ]


def _segno_scores(unmasked: list[bytearray]) -> list[int]:
    """segno's own evaluation of each mask (`find_and_apply_best_mask`, unrolled)."""
    width = len(unmasked)
    function = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(function, width, width)
    encoder.add_alignment_patterns(function, width, width)
    function[-8][8] = 0x1
    scores = []
    for pattern in encoder.get_data_mask_functions(False):
        matrix = [bytearray(row) for row in unmasked]
        encoder.apply_mask(matrix, pattern, width, width, lambda i, j: function[i][j] > 0x1)
        scores.append(encoder.evaluate_mask(matrix, width, width))
    return scores


@pytest.mark.parametrize("payload", REAL_PAYLOADS + _random_payloads(40, seed=11))
def test_unmasked_symbol_and_every_mask_score_as_segno(payload):
    code = qr._unmasked(payload)
    width = len(code.matrix)
    expected = _segno_unmasked(payload)
    assert [bytes(row) for row in code.matrix] == [bytes(row) for row in expected]
    assert qr._scores(qr._bits(qr._lines(code.matrix, width)), width) == _segno_scores(expected)


def _matrix_score(matrix) -> int:
    width = len(matrix)
    dark = qr._bits(qr._lines(matrix, width))
    modules = qr._layout(width)[0]
    return qr._penalty(dark, dark ^ modules, width)


@pytest.mark.parametrize("seed", range(60))
def test_penalty_of_any_matrix_as_segno(seed):
    """Random matrices (any density), rows seeded with overlapping finder-like patterns."""
    rng = random.Random(seed)
    width = rng.choice((21, 25, 41, 45, 49, 53, 57))
    density = rng.choice((0.1, 0.3, 0.5, 0.7, 0.9))
    matrix = [bytearray(rng.random() < density for _ in range(width)) for _ in range(width)]
    chunks = (
        b"\x01\x00\x01\x01\x01\x00\x01\x01\x01\x00\x01",  # overlap 4 modules on
        b"\x01\x00\x01\x01\x01\x00\x01\x00\x01\x01\x01\x00\x01",  # overlap 6 modules on
        b"\x00\x00\x00\x00\x01\x00\x01\x01\x01\x00\x01\x00\x01\x01\x01\x00\x01",
        b"\x01\x00\x01\x01\x01\x00\x01\x00\x00\x00\x00",
    )
    for _ in range(rng.randint(0, 12)):
        chunk = rng.choice(chunks)
        i, j = rng.randrange(width), rng.randrange(width - len(chunk) + 1)
        if rng.random() < 0.5:
            matrix[i][j : j + len(chunk)] = chunk
        else:
            for k, value in enumerate(chunk):
                matrix[j + k][i] = value
    assert _matrix_score(matrix) == encoder.evaluate_mask(matrix, width, width)


def test_overlapping_finder_like_patterns_resume_as_segno():
    width = 21
    row = b"\x00" * 4 + b"\x01\x00\x01\x01\x01\x00\x01\x01\x01\x00\x01" + b"\x00" * 6
    matrix = [bytearray(row)] + [bytearray(width) for _ in range(width - 1)]
    assert _matrix_score(matrix) == encoder.evaluate_mask(matrix, width, width)
