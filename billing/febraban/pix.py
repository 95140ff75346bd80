"""Pix "copia e cola" (EMV® BR Code) for a STATIC Pix, and BR Code validation.

Warning (docs §6): a boleto híbrido (Bolepix) must print the dynamic ``cobv`` payload that the
bank returns when it registers the boleto, never a static code built here, or a Pix payment would
not settle the boleto. Use `brcode` only for plain static Pix charges, and `validate_brcode` to
check any payload (static or dynamic) before printing it.

Format: a sequence of TLV fields, each a 2-digit ID, a 2-digit length and the value. The payload
ends with ID 63 (CRC16), computed over the whole string including the literal ``6304``, with
CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR), as 4 upper-case hex
digits.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = [
    "PIX_GUI",
    "PixError",
    "brcode",
    "crc16_ccitt",
    "normalize_text",
    "parse_brcode",
    "parse_tlv",
    "validate_brcode",
]

PIX_GUI = "br.gov.bcb.pix"
MAX_NAME = 25
MAX_CITY = 15
MAX_KEY = 77
MAX_TXID = 25
#: Field 54 holds at most 13 characters: "9999999999.99".
MAX_AMOUNT = Decimal("9999999999.99")
_TXID_RE = re.compile(r"^(\*\*\*|[A-Za-z0-9]{1,25})$")
# Template IDs whose value is itself a TLV list: merchant accounts 26–51, additional data 62,
# unreserved templates 80–99.
_TEMPLATE_IDS = frozenset({f"{i:02d}" for i in (*range(26, 52), 62, *range(80, 100))})
_REQUIRED_IDS = ("00", "52", "53", "58", "59", "60", "63")


class PixError(ValueError):
    """Invalid Pix data or malformed BR Code (Portuguese message)."""


def crc16_ccitt(payload: str) -> str:
    """CRC-16/CCITT-FALSE of `payload` (UTF-8) as 4 upper-case hex digits (check: "123456789"
    → "29B1")."""
    crc = 0xFFFF
    for byte in payload.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return f"{crc:04X}"


def normalize_text(value: str, max_length: int) -> str:
    """ASCII upper case without accents, runs of spaces collapsed, cut to `max_length`.

    ``"São João d'Aliança"`` → ``"SAO JOAO D'ALIANCA"``. Characters with no ASCII form are dropped.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    printable = "".join(ch if ch.isprintable() else " " for ch in ascii_text)
    return " ".join(printable.split()).upper()[:max_length].rstrip()


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise PixError(f"Campo {tag} do BR Code com {len(value)} caracteres (máximo 99)")
    return f"{tag}{len(value):02d}{value}"


def _format_amount(amount: Decimal) -> str:
    if isinstance(amount, bool) or isinstance(amount, float):
        raise TypeError("amount must be a Decimal, never a float")
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError):
        raise PixError(f"Valor do Pix inválido: {amount!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise PixError(f"Valor do Pix deve ser positivo: {amount}")
    if amount > MAX_AMOUNT:
        raise PixError(f"Valor do Pix grande demais: {amount} (máximo {MAX_AMOUNT})")
    if amount != amount.quantize(Decimal("0.01")):
        raise PixError(f"Valor do Pix com mais de duas casas decimais: {amount}")
    return f"{amount:.2f}"


def brcode(
    key: str,
    merchant_name: str,
    merchant_city: str,
    amount: Decimal | None,
    txid: str = "***",
    description: str | None = None,
) -> str:
    """Static Pix "copia e cola" payload.

    `key` is the recebedor's Pix key (CPF/CNPJ digits, +55 phone, e-mail or random UUID).
    `merchant_name`/`merchant_city` are normalized to ASCII upper case and cut to 25/15 characters.
    `amount` None lets the payer type the amount. `txid` is ``***`` or up to 25 letters/digits.
    `description` (optional, normalized to ASCII) goes in the merchant account template and must
    fit in its 99 characters.
    """
    key = key.strip() if isinstance(key, str) else key
    if not isinstance(key, str) or not key:
        raise PixError("Chave Pix vazia")
    if len(key) > MAX_KEY or not key.isascii() or any(ch.isspace() for ch in key):
        raise PixError(f"Chave Pix inválida: {key!r} (até 77 caracteres ASCII, sem espaços)")
    name = normalize_text(merchant_name, MAX_NAME)
    city = normalize_text(merchant_city, MAX_CITY)
    if not name:
        raise PixError("Nome do recebedor vazio")
    if not city:
        raise PixError("Cidade do recebedor vazia")
    if not isinstance(txid, str) or not _TXID_RE.match(txid):
        raise PixError(f"Identificador (txid) inválido: {txid!r} (até 25 letras e dígitos, ou ***)")

    account = _tlv("00", PIX_GUI) + _tlv("01", key)
    if description:
        info = " ".join(
            unicodedata.normalize("NFKD", description).encode("ascii", "ignore").decode().split()
        )
        room = 99 - len(account) - 4
        if len(info) > room:
            raise PixError(f"Descrição do Pix longa demais: {len(info)} caracteres (máximo {room})")
        if info:
            account += _tlv("02", info)

    payload = (
        _tlv("00", "01")
        + _tlv("26", account)
        + _tlv("52", "0000")
        + _tlv("53", "986")
        + (_tlv("54", _format_amount(amount)) if amount is not None else "")
        + _tlv("58", "BR")
        + _tlv("59", name)
        + _tlv("60", city)
        + _tlv("62", _tlv("05", txid))
        + "6304"
    )
    return payload + crc16_ccitt(payload)


def parse_tlv(data: str) -> list[tuple[str, str]]:
    """Split a TLV string into ``[(id, value), …]``; raises `PixError` when malformed."""
    fields: list[tuple[str, str]] = []
    i = 0
    while i < len(data):
        header = data[i : i + 4]
        if len(header) < 4 or not (header.isascii() and header.isdigit()):
            raise PixError(f"BR Code malformado na posição {i + 1}: cabeçalho {header!r}")
        tag, length = header[:2], int(header[2:])
        value = data[i + 4 : i + 4 + length]
        if len(value) != length:
            raise PixError(
                f"BR Code malformado: campo {tag} declara {length} caracteres e tem {len(value)}"
            )
        fields.append((tag, value))
        i += 4 + length
    return fields


def parse_brcode(payload: str) -> dict[str, str | dict[str, str]]:
    """TLV fields of a BR Code by ID; templates (26–51, 62, 80–99) are parsed one level down.

    Checks the structure only; use `validate_brcode` for the CRC and the mandatory fields.
    """
    result: dict[str, str | dict[str, str]] = {}
    for tag, value in parse_tlv(payload):
        if tag in result:
            raise PixError(f"BR Code malformado: campo {tag} repetido")
        result[tag] = dict(parse_tlv(value)) if tag in _TEMPLATE_IDS else value
    return result


def validate_brcode(payload: str) -> bool:
    """True when `payload` is a well-formed Pix BR Code with a correct CRC.

    Checks: TLV structure (templates included), ID 00 first with value 01, ID 63 last with 4 hex
    digits matching the CRC, the mandatory IDs 52/53/58/59/60, and a merchant account template
    for ``br.gov.bcb.pix`` with a key (01) or a location URL (25).
    """
    if not isinstance(payload, str) or not payload.isascii():
        return False
    try:
        fields = parse_tlv(payload)
        parsed = parse_brcode(payload)
    except PixError:
        return False
    if not fields or fields[0] != ("00", "01") or fields[-1][0] != "63":
        return False
    crc = fields[-1][1]
    if len(crc) != 4 or crc.upper() != crc16_ccitt(payload[:-4]):
        return False
    if any(tag not in parsed for tag in _REQUIRED_IDS):
        return False
    for tag in (f"{i:02d}" for i in range(26, 52)):
        account = parsed.get(tag)
        if (
            isinstance(account, dict)
            and account.get("00", "").lower() == PIX_GUI
            and ("01" in account or "25" in account)
        ):
            return True
    return False
