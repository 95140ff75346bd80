"""billing.febraban.pix: CRC16, BR Code generation/validation, and the QR that carries it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from segno import consts

from billing.febraban import PixError, brcode, crc16_ccitt, parse_brcode, parse_tlv, validate_brcode
from billing.febraban.pix import normalize_text
from tests import BOLETO_VECTORS

VECTORS_PATH = BOLETO_VECTORS
PIX_PAYLOADS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["pix_payloads"]
REAL = PIX_PAYLOADS[0]["payload"]


# --------------------------------------------------------------------------------------------
# CRC and real payloads
# --------------------------------------------------------------------------------------------


def test_crc16_check_value():
    # CRC-16/CCITT-FALSE catalogue check value.
    assert crc16_ccitt("123456789") == "29B1"
    assert crc16_ccitt("") == "FFFF"


@pytest.mark.parametrize("item", PIX_PAYLOADS, ids=lambda i: i["kind"][:20])
def test_real_payload_crc_and_tlv(item):
    payload = item["payload"]
    assert item["crc_valid"] is True
    assert payload[-8:-4] == "6304"
    assert crc16_ccitt(payload[:-4]) == payload[-4:]
    assert validate_brcode(payload)
    fields = parse_tlv(payload)
    assert "".join(f"{tag}{len(value):02d}{value}" for tag, value in fields) == payload
    assert fields[0] == ("00", "01")
    assert fields[-1] == ("63", payload[-4:])


def test_real_payload_fields():
    parsed = parse_brcode(REAL)
    assert parsed["00"] == "01"
    assert parsed["01"] == "12"  # dynamic
    assert parsed["26"] == {
        "00": "br.gov.bcb.pix",
        "25": "qrcodepix-h.bb.com.br/pix/v2/cobv/ab49966b-c17e-46b6-a798-7aff3e724117",
    }
    assert parsed["52"] == "0000"
    assert parsed["53"] == "986"
    assert parsed["54"] == "3.00"
    assert parsed["58"] == "BR"
    assert parsed["59"] == "MERCEARIA MANASSES PEREIR"
    assert parsed["60"] == "BRASILIA"
    assert parsed["62"] == {"05": "***"}
    assert parsed["63"] == "665D"


@pytest.mark.parametrize(
    "bad",
    [
        REAL[:-4] + "665E",  # wrong CRC
        REAL[:-4] + "665d",  # right CRC in lower case is accepted? no: see below
        REAL.replace("54043.00", "54043.01"),  # amount changed, CRC kept
        REAL[:-1],  # truncated
        REAL + "0",  # trailing garbage
        REAL.replace("0014br.gov.bcb.pix", "0014br.gov.bcb.pax"),  # not a Pix account
        "",
        "hello",
        REAL.replace("MANASSES", "MANASSÉS"),  # non-ASCII
    ],
)
def test_validate_rejects(bad):
    if bad.endswith("665d"):
        # The CRC must match; upper/lower case of the hex digits does not matter.
        assert validate_brcode(bad)
        return
    assert not validate_brcode(bad)


def test_every_single_character_change_breaks_validation():
    for i in range(len(REAL) - 4):
        ch = REAL[i]
        replacement = "1" if ch != "1" else "2"
        assert not validate_brcode(REAL[:i] + replacement + REAL[i + 1 :]), i


def test_parse_tlv_errors():
    with pytest.raises(PixError, match="malformado"):
        parse_tlv("0005abc")
    with pytest.raises(PixError, match="malformado"):
        parse_tlv("0x02ab")
    with pytest.raises(PixError, match="repetido"):
        parse_brcode("000201000201")


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def test_generated_payload():
    payload = brcode(
        key="financeiro@example.com.br",
        merchant_name="Padaria São José & Filhos Ltda. – Matriz",
        merchant_city="São José dos Campos",
        amount=Decimal("1234.5"),
        txid="MENSALIDADE202611",
        description="Mensalidade de novembro",
    )
    assert validate_brcode(payload)
    assert "financeiro@example.com.br" in payload
    assert "54071234.50" in payload
    parsed = parse_brcode(payload)
    assert list(parsed) == ["00", "26", "52", "53", "54", "58", "59", "60", "62", "63"]
    assert parsed["26"] == {
        "00": "br.gov.bcb.pix",
        "01": "financeiro@example.com.br",
        "02": "Mensalidade de novembro",
    }
    assert parsed["59"] == "PADARIA SAO JOSE & FILHOS"  # 25 characters
    assert parsed["60"] == "SAO JOSE DOS CA"  # 15 characters
    assert parsed["62"] == {"05": "MENSALIDADE202611"}
    assert parsed["53"] == "986" and parsed["58"] == "BR" and parsed["52"] == "0000"


def test_generated_payload_without_amount():
    payload = brcode("12345678909", "Fulano", "Recife", None)
    assert validate_brcode(payload)
    parsed = parse_brcode(payload)
    assert "54" not in parsed
    assert parsed["62"] == {"05": "***"}


def test_crc_is_always_four_hex_digits():
    # Find a payload whose CRC is below 0x1000: it must still print 4 digits (leading zero).
    for n in range(1, 5000):
        payload = brcode("+5561999998888", "Loja", "Brasilia", Decimal(n) / 100)
        if payload[-4] == "0":
            break
    else:  # pragma: no cover
        pytest.fail("no CRC below 0x1000 found")
    assert len(payload[-4:]) == 4 and validate_brcode(payload)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": ""}, "Chave Pix vazia"),
        ({"key": "a b"}, "Chave Pix inválida"),
        ({"key": "x" * 78}, "Chave Pix inválida"),
        ({"merchant_name": "  "}, "Nome do recebedor vazio"),
        ({"merchant_city": "東京"}, "Cidade do recebedor vazia"),
        ({"amount": Decimal("0")}, "Valor do Pix deve ser positivo"),
        ({"amount": Decimal("-1")}, "Valor do Pix deve ser positivo"),
        ({"amount": Decimal("1.001")}, "mais de duas casas decimais"),
        ({"amount": Decimal("10000000000.00")}, "grande demais"),
        ({"amount": Decimal("1E+40")}, "grande demais"),
        ({"txid": "com espaço"}, "Identificador \\(txid\\) inválido"),
        ({"txid": "A" * 26}, "Identificador \\(txid\\) inválido"),
        ({"description": "x" * 80}, "Descrição do Pix longa demais"),
    ],
)
def test_brcode_errors(kwargs, message):
    args = {
        "key": "12345678909",
        "merchant_name": "Fulano",
        "merchant_city": "Recife",
        "amount": Decimal("10.00"),
    }
    args.update(kwargs)
    with pytest.raises(PixError, match=message):
        brcode(**args)


def test_brcode_float_amount_is_a_programming_error():
    with pytest.raises(TypeError):
        brcode("12345678909", "Fulano", "Recife", 10.0)


def test_normalize_text():
    assert normalize_text("  Açaí   do\tJoão ", 25) == "ACAI DO JOAO"
    assert normalize_text("Ñandú Ltda", 5) == "NANDU"
    assert normalize_text("abcd efgh", 5) == "ABCD"  # no trailing space after the cut


@settings(max_examples=200)
@given(
    key=st.from_regex(r"[a-z0-9.]{1,30}@[a-z]{1,20}\.com", fullmatch=True),
    name=st.text(min_size=1, max_size=60).filter(lambda s: normalize_text(s, 25)),
    city=st.text(min_size=1, max_size=40).filter(lambda s: normalize_text(s, 15)),
    cents=st.none() | st.integers(1, 10**12 - 1),
    txid=st.from_regex(r"\*\*\*|[A-Za-z0-9]{1,25}", fullmatch=True),
)
def test_generated_payloads_always_validate(key, name, city, cents, txid):
    amount = None if cents is None else Decimal(cents) / 100
    payload = brcode(key, name, city, amount, txid=txid)
    assert validate_brcode(payload)
    parsed = parse_brcode(payload)
    assert parsed["26"]["01"] == key
    assert (
        len(parsed["59"]) <= 25 and parsed["59"].isascii() and parsed["59"] == parsed["59"].upper()
    )
    assert len(parsed["60"]) <= 15
    if amount is not None:
        assert Decimal(parsed["54"]) == amount


# --------------------------------------------------------------------------------------------
# QR code: decode segno's module matrix back to text (no image involved)
# --------------------------------------------------------------------------------------------

_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _function_modules(version: int) -> set[tuple[int, int]]:
    """Modules that are not data (ISO/IEC 18004 §6.3): finder patterns, separators, format
    information, timing patterns, alignment patterns, version information and the dark module.

    Computed here from the spec instead of segno's verbose matrix, which (segno 1.6.6) labels
    module (8, size − 9) as format information although it is a data module.
    """
    size = 17 + 4 * version
    function: set[tuple[int, int]] = set()
    for r in range(size):
        for c in range(size):
            if (
                (r < 9 and c < 9)  # top-left finder + separator + format
                or (r < 9 and c >= size - 8)  # top-right finder + separator + format row
                or (r >= size - 8 and c < 9)  # bottom-left finder + separator + format + dark
                or r == 6
                or c == 6  # timing patterns
            ):
                function.add((r, c))
    if version >= 2:
        centres = consts.ALIGNMENT_POS[version - 2]
        corners = {(centres[0], centres[0]), (centres[0], centres[-1]), (centres[-1], centres[0])}
        for cy in centres:
            for cx in centres:
                if (cy, cx) in corners:
                    continue
                function.update((cy + dy, cx + dx) for dy in range(-2, 3) for dx in range(-2, 3))
    if version >= 7:
        for a in range(6):
            for b in range(size - 11, size - 8):
                function.update({(a, b), (b, a)})
    return function


def decode_qr(qr: segno.QRCode) -> str:
    """Read the data of a (non-micro) QR symbol from its module matrix (ISO/IEC 18004 §7-8).

    Walks the data modules in placement order, removes the mask, de-interleaves the data
    codewords and parses numeric/alphanumeric/byte segments. No error correction is needed: the
    matrix is exactly what segno drew.
    """
    version = qr.version
    matrix = [list(row) for row in qr.matrix_iter(border=0)]
    size = len(matrix)
    assert size == 17 + 4 * version
    function = _function_modules(version)
    mask = _MASKS[qr.mask]
    bits: list[int] = []
    col, upward = size - 1, True
    while col > 0:
        if col == 6:  # vertical timing pattern
            col -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for r in rows:
            for c in (col, col - 1):
                if (r, c) not in function:
                    bits.append(int(bool(matrix[r][c]) ^ mask(r, c)))
        upward = not upward
        col -= 2
    codewords = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits) - 7, 8)]

    sizes: list[int] = []
    for ec in consts.ECC[version][consts.ERROR_MAPPING[qr.error]]:
        sizes += [ec.num_data] * ec.num_blocks
    blocks: list[list[int]] = [[] for _ in sizes]
    it = iter(codewords)
    for i in range(max(sizes)):
        for b, n in enumerate(sizes):
            if i < n:
                blocks[b].append(next(it))
    stream = "".join(f"{cw:08b}" for block in blocks for cw in block)

    pos = 0

    def take(n: int) -> int:
        nonlocal pos
        value = int(stream[pos : pos + n], 2)
        pos += n
        return value

    size_class = 0 if version <= 9 else 1 if version <= 26 else 2
    out = bytearray()
    while pos + 4 <= len(stream):
        mode = take(4)
        if mode == 0:
            break
        if mode == consts.MODE_BYTE:
            count = take((8, 16, 16)[size_class])
            out += bytes(take(8) for _ in range(count))
        elif mode == consts.MODE_ALPHANUMERIC:
            count = take((9, 11, 13)[size_class])
            for _ in range(count // 2):
                v = take(11)
                out += (_ALNUM[v // 45] + _ALNUM[v % 45]).encode()
            if count % 2:
                out += _ALNUM[take(6)].encode()
        elif mode == consts.MODE_NUMERIC:
            count = take((10, 12, 14)[size_class])
            for _ in range(count // 3):
                out += f"{take(10):03d}".encode()
            if count % 3 == 2:
                out += f"{take(7):02d}".encode()
            elif count % 3 == 1:
                out += f"{take(4):01d}".encode()
        else:  # pragma: no cover
            raise AssertionError(f"unexpected QR mode {mode}")
    return out.decode("utf-8")


def test_qr_decoder_sanity():
    for text in ("HELLO WORLD", "0123456789", "hello, world"):
        assert decode_qr(segno.make(text, micro=False)) == text


@pytest.mark.parametrize(
    "payload",
    [
        REAL,
        brcode(
            "financeiro@example.com.br",
            "Padaria São José",
            "Campinas",
            Decimal("89.90"),
            txid="FAT000123",
        ),
        brcode("123e4567-e89b-12d3-a456-426614174000", "Clínica Ágil", "Belo Horizonte", None),
    ],
    ids=["real-bb-cobv", "static-email", "static-evp-no-amount"],
)
@pytest.mark.parametrize("error", ["L", "M", "Q", "H"])
def test_segno_qr_encodes_the_same_text(payload, error):
    qr = segno.make(payload, error=error, micro=False, boost_error=False)
    assert qr.error == error
    assert decode_qr(qr) == payload
    assert validate_brcode(decode_qr(qr))
