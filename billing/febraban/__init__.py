"""FEBRABAN boleto de cobrança toolkit: check digits, due-date factor, barcode and linha
digitável, per-bank campo livre, and Pix BR Code. Pure Python (stdlib only), no Django.

Reference: shared/docs/boleto-standard.md. Money is always `decimal.Decimal`.
"""

from .banks import (
    BANK_NAMES,
    BancoDoBrasil,
    Bank,
    BankAccount,
    Bradesco,
    Itau,
    Santander,
    bank_name,
    get_bank,
    supported_banks,
)
from .barcode import (
    MAX_AMOUNT,
    ParsedBoleto,
    barcode_to_linha,
    build_barcode,
    clean_input,
    format_brl,
    format_linha,
    linha_to_barcode,
    parse,
)
from .checkdigits import BoletoError, barcode_dv, mod10, mod11, mod11_remainder, weighted_sum
from .factor import decode_factor, encode_factor, factor_window
from .pix import PixError, brcode, crc16_ccitt, parse_brcode, parse_tlv, validate_brcode

__all__ = [
    "BANK_NAMES",
    "MAX_AMOUNT",
    "BancoDoBrasil",
    "Bank",
    "BankAccount",
    "BoletoError",
    "Bradesco",
    "Itau",
    "ParsedBoleto",
    "PixError",
    "Santander",
    "bank_name",
    "barcode_dv",
    "barcode_to_linha",
    "brcode",
    "build_barcode",
    "clean_input",
    "crc16_ccitt",
    "decode_factor",
    "encode_factor",
    "factor_window",
    "format_brl",
    "format_linha",
    "get_bank",
    "linha_to_barcode",
    "mod10",
    "mod11",
    "mod11_remainder",
    "parse",
    "parse_brcode",
    "parse_tlv",
    "supported_banks",
    "validate_brcode",
    "weighted_sum",
]
