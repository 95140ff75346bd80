"""Reading a CNAB file: bytes -> text -> records, then the layout's reader.

Hygiene rules come from real files (see docs in billing/cnab/__init__.py): UTF-8 BOM, UTF-16
refused, latin-1 fallback, CRLF/LF/CR/mixed line ends, empty lines ignored, trailing spaces
stripped by whoever handled the file (every record is padded before slicing), one extra trailing
character tolerated (a 241/401-character record), a DOS end-of-file mark (Ctrl-Z) ignored.
"""

from __future__ import annotations

import gc
from datetime import date
from decimal import Decimal

from billing.cnab.records import CnabError, ParsedFile

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_MESSAGE = "arquivo em UTF-16: salve o arquivo como texto (ANSI/UTF-8)"

# Conversions are cached per string: a retorno repeats the same dates and many zero amounts,
# and a dict lookup is much cheaper than building a Decimal or a date each time.
_MONEY: dict[str, Decimal | None] = {}
_DATES: dict[str, date | None] = {}
_CACHE_LIMIT = 50_000
_MISSING = object()
_scaled = Decimal


def money(field: str) -> Decimal | None:
    """A fixed-point amount with 2 decimals ("000000000004000" -> Decimal("40.00")); blank or
    not numeric -> None."""
    value = _MONEY.get(field, _MISSING)
    if value is not _MISSING:
        return value
    text = field.strip()
    value = _scaled(text).scaleb(-2) if text.isdigit() and text.isascii() else None
    if len(_MONEY) < _CACHE_LIMIT:
        _MONEY[field] = value
    return value


# Years a cobrança file can mention (FEBRABAN's due-date factor starts in 1997).
_FIRST_YEAR, _LAST_YEAR = 1990, 2099


def date8(field: str) -> date | None:
    """DDMMAAAA; zeros, blanks, an impossible date or a year outside 1990-2099 -> None."""
    try:
        return _DATES[field]
    except KeyError:
        pass
    value = None
    if len(field) == 8 and field.isdigit() and field.isascii():
        year = int(field[4:])
        if _FIRST_YEAR <= year <= _LAST_YEAR:  # a misaligned field reads as year 5000
            try:
                value = date(year, int(field[2:4]), int(field[:2]))
            except ValueError:
                value = None
    if len(_DATES) < _CACHE_LIMIT:
        _DATES[field] = value
    return value


def date6(field: str) -> date | None:
    """DDMMAA (CNAB 400): years 00-69 are 20xx, 70-99 are 19xx."""
    if len(field) != 6 or not field.isdigit() or not field.isascii():
        return None
    year = int(field[4:])
    return date8(f"{field[:4]}{2000 + year if year < 70 else 1900 + year}")


def integer(field: str) -> int | None:
    field = field.strip()
    return int(field) if field.isdigit() and field.isascii() else None


def digits(field: str) -> str:
    return "".join(ch for ch in field if ch.isdigit() and ch.isascii())


def overlong_but_whole(line: str, width: int) -> bool:
    """A record longer than ``width`` that is still whole: one extra character (a 241/401
    record), or blanks padded past the width. Anything else past it is a damaged record."""
    return len(line) == width + 1 or not line[width:].strip()


def decode(data: bytes) -> str:
    """Bytes -> text, refusing what is not a single-byte text file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CnabError(UTF16_MESSAGE)
    if b"\x00" in data:
        head = data[:512]
        odd, even = head[1::2], head[0::2]
        if odd.count(0) > len(odd) * 0.8 or even.count(0) > len(even) * 0.8:
            raise CnabError(UTF16_MESSAGE)
        raise CnabError("arquivo binário: não é um arquivo de texto CNAB")
    if data.startswith(UTF8_BOM):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Bank files are single-byte (ASCII, sometimes latin-1 accents): latin-1 never fails.
        return data.decode("latin-1")


def split_lines(text: str) -> list[str]:
    """Lines of the file, any line end; numbering kept (empty lines stay in the list)."""
    carriage_returns = text.count("\r")
    if not carriage_returns:
        lines = text.split("\n")
    elif carriage_returns == text.count("\r\n") == text.count("\n"):
        lines = text.split("\r\n")  # plain CRLF: one pass, no copy of the whole text
    else:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # DOS end-of-file mark and blank tail.
    while lines and not lines[-1].strip(" \x1a\t"):
        lines.pop()
    return lines


def parse_file(data: bytes) -> ParsedFile:
    """Read a CNAB 240 or CNAB 400 cobrança file (retorno or remessa). Raises CnabError."""
    # Imported here: the layout readers import this module's helpers (money, date8...).
    from billing.cnab import cnab240, cnab400

    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_file expects bytes")
    data = bytes(data)
    if not data or data.isspace():
        raise CnabError("arquivo vazio")
    lines = split_lines(decode(data))
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first == len(lines):
        raise CnabError("arquivo vazio")
    header = lines[first]
    if header[:9] in ("02RETORNO", "01REMESSA"):
        reader = cnab400.parse
    elif len(header) >= 8 and header[3:8] == "00000":
        reader = cnab240.parse
    else:
        reader = None
    if reader is not None:
        # The readers build one object per title and no reference cycles; the cyclic garbage
        # collector would rescan them again and again (a third of the time on 100,000 titles).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return reader(lines, first)
        finally:
            if collecting:
                gc.enable()
    if len(header) >= 395 and header[:1] == "0":
        raise CnabError(
            f"linha {first + 1}: cabeçalho CNAB 400 não reconhecido "
            "(esperado 02RETORNO ou 01REMESSA nas posições 1 a 9)"
        )
    raise CnabError(
        f"linha {first + 1}: cabeçalho de arquivo não reconhecido (não é CNAB 240 nem CNAB 400)"
    )
