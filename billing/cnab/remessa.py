"""Remessa (the file we send to the bank): the data it carries and the dispatcher per layout.

`remessa_build` writes a CNAB 240 (`remessa240`) or CNAB 400 (`remessa400`) file from plain
dataclasses; no database. The bytes are ASCII (accents removed, upper case), CRLF line ends,
every line exactly 240 or 400 characters. Names and addresses that do not fit are truncated;
numbers (documents, nosso número, amounts, CEP) never are: `RemessaError` names the title.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _

__all__ = [
    "LAYOUTS",
    "RemessaAccount",
    "RemessaError",
    "RemessaTitle",
    "remessa_build",
    "supported_banks",
]


class RemessaError(ValueError):
    """Data a remessa cannot carry. ``str(e)`` is one sentence of plain Portuguese."""


@dataclass(frozen=True, slots=True)
class RemessaAccount:
    """The beneficiary and its collection settings, for the headers.

    Digits are strings (leading zeros matter). `agreement` is the convênio / código do
    beneficiário; `company_code` the código da empresa (Bradesco 400) or código de transmissão
    (Santander 240), "" where the layout has none; `wallet_variation` the BB variação da carteira.
    """

    bank_code: str
    bank_name: str
    company_name: str
    document: str
    agency: str
    agency_digit: str
    account: str
    account_digit: str
    wallet: str
    agreement: str
    company_code: str = ""
    wallet_variation: str = ""


@dataclass(frozen=True, slots=True)
class RemessaTitle:
    """One instruction for one boleto. `movement`: "01" entrada, "02" pedido de baixa, "06"
    alteração de vencimento, "31" alteração de outros dados. Interest and fine start the day after
    the due date. `write_off_days` None = the bank's default (see the layout modules)."""

    movement: str
    nosso_numero: int
    our_id: str
    seu_numero: str
    issue_date: date
    due_date: date
    amount: Decimal
    payer_document: str
    payer_name: str
    payer_street: str
    payer_district: str
    payer_city: str
    payer_state: str
    payer_zip: str
    late_fee_percent: Decimal = Decimal(0)
    monthly_interest_percent: Decimal = Decimal(0)
    write_off_days: int | None = None


#: Banks each layout writes ("999" is the Banco de testes, generic FEBRABAN CNAB 240).
LAYOUTS: dict[str, frozenset[str]] = {
    "cnab240": frozenset({"001", "033", "999"}),
    "cnab400": frozenset({"001", "237", "341"}),
}

MOVEMENTS = frozenset({"01", "02", "06", "31"})


def supported_banks(layout: str) -> frozenset[str]:
    """Bank codes `remessa_build` writes for `layout` (empty for an unknown layout)."""
    return LAYOUTS.get(layout, frozenset())


def remessa_build(
    *,
    layout: str,
    account: RemessaAccount,
    titles: list[RemessaTitle],
    nsa: int,
    generated_at: datetime,
) -> bytes:
    """The remessa file of `titles` for `account`, as bytes ready to send.

    `nsa` is the file sequence (número sequencial do arquivo) the bank expects to increase by one;
    `generated_at` (aware, read on the business clock; naive taken as business time) goes to the
    header. Raises `RemessaError` for a layout/bank we do not write and for data the layout
    cannot carry.
    """
    # Imported here: the layout modules import this module's dataclasses and helpers.
    from . import remessa240, remessa400

    if layout not in LAYOUTS:
        raise RemessaError(
            _("Layout de remessa desconhecido: %(layout)s (use cnab240 ou cnab400)")
            % {"layout": layout}
        )
    if account.bank_code not in LAYOUTS[layout]:
        raise RemessaError(
            _("Remessa %(layout)s do banco %(bank)s não suportada (bancos: %(banks)s)")
            % {
                "layout": "CNAB 240" if layout == "cnab240" else "CNAB 400",
                "bank": account.bank_code,
                "banks": ", ".join(sorted(LAYOUTS[layout])),
            }
        )
    if not titles:
        raise RemessaError(_("Remessa sem títulos: não há nada a enviar ao banco."))
    if isinstance(nsa, bool) or not isinstance(nsa, int) or not 1 <= nsa <= 999999:
        raise RemessaError(
            _("Número sequencial do arquivo (NSA) inválido: %(nsa)s (de 1 a 999999)") % {"nsa": nsa}
        )
    when = business_time(generated_at)
    module = remessa240 if layout == "cnab240" else remessa400
    return module.build(account=account, titles=titles, nsa=nsa, generated_at=when)


# -- helpers shared by the layout modules ---------------------------------------------------------


def business_time(value: datetime) -> datetime:
    """`value` on the business clock (America/Sao_Paulo); a naive value is taken as is."""
    if value.tzinfo is None:
        return value
    # Imported here: portal.timezones reads Django settings, which this pure module avoids at
    # import time (billing may import portal: the direction is respected).
    from portal.timezones import business_tz

    return value.astimezone(business_tz())


_SEPARATORS = str.maketrans("", "", " .-/")


def clean_digits(value: str) -> str:
    """Documents, CEP: punctuation and spaces removed, letters upper-cased (alphanumeric CNPJ)."""
    return (value or "").translate(_SEPARATORS).upper()


def _strip_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return text if text.isascii() and text.isprintable() else " "


#: Control characters and Latin letters with accents (and common typographic marks), mapped once.
_ASCII_TABLE = {
    code: _strip_char(chr(code))
    for code in (*range(0x20), 0x7F, *range(0x80, 0x250), *range(0x2010, 0x2027))
} | {
    ord(k): v
    for k, v in {
        "ß": "SS",
        "Ø": "O",
        "ø": "O",
        "Æ": "AE",
        "æ": "AE",
        "Œ": "OE",
        "œ": "OE",
        "Ł": "L",
        "ł": "L",
        "Đ": "D",
        "đ": "D",
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
    }.items()
}


def ascii_text(value: str) -> str:
    """Printable upper-case ASCII: accents removed (NFKD), anything else becomes a space."""
    value = value or ""
    if value.isascii() and value.isprintable():
        return value.upper()
    text = value.translate(_ASCII_TABLE)
    if not (text.isascii() and text.isprintable()):
        text = "".join(_strip_char(char) for char in text)
    return text.upper()


class DateCache(dict):
    """date -> formatted string, computed once per distinct date (due dates repeat a lot)."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = pattern

    def __missing__(self, key: date | None) -> str:
        if key is None:
            text = "0" * len(date(2000, 1, 1).strftime(self.pattern))
        else:
            text = key.strftime(self.pattern)
        self[key] = text
        return text


def cents(amount: Decimal) -> int:
    """Amount in centavos; `RemessaError` when it has more than two decimal places."""
    value = Decimal(amount) * 100
    whole = int(value)
    if whole != value:
        raise RemessaError(
            _("Valor com mais de duas casas decimais: %(amount)s") % {"amount": amount}
        )
    return whole


def interest_per_day(amount: Decimal, monthly_percent: Decimal) -> int:
    """Juros de mora per day in centavos: amount × monthly % / 100 / 30, rounded half up."""
    if not monthly_percent:
        return 0
    value = Decimal(amount) * Decimal(monthly_percent) / Decimal(3000)
    return int((value * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def title_label(title: RemessaTitle) -> str:
    return _("título %(seu_numero)s (nosso número %(nn)s)") % {
        "seu_numero": title.seu_numero or title.our_id,
        "nn": title.nosso_numero,
    }


def title_error(title: RemessaTitle, message: str) -> RemessaError:
    return RemessaError(f"{title_label(title)}: {message}")


def payer_document(title: RemessaTitle) -> tuple[str, str]:
    """(type "1" CPF / "2" CNPJ, document) of the payer; `RemessaError` otherwise."""
    document = clean_digits(title.payer_document)
    if len(document) == 11 and document.isdigit():
        return "1", document
    if len(document) == 14 and document.isascii() and document.isalnum():
        return "2", document
    raise title_error(
        title,
        _("CPF/CNPJ do pagador inválido: %(doc)r (11 dígitos ou 14 caracteres)")
        % {"doc": title.payer_document},
    )


def payer_zip(title: RemessaTitle) -> str:
    zip_code = clean_digits(title.payer_zip)
    if len(zip_code) != 8 or not zip_code.isdigit():
        raise title_error(
            title, _("CEP do pagador inválido: %(cep)r (8 dígitos)") % {"cep": title.payer_zip}
        )
    return zip_code


def check_title(title: RemessaTitle, *, seu_numero_size: int, our_id_size: int) -> None:
    """The checks that name what a title's line cannot carry (run when a line came out wrong,
    and for every title by the layouts that do not check line lengths)."""
    if title.movement not in MOVEMENTS:
        raise title_error(
            title,
            _("código de movimento %(code)r não suportado (01, 02, 06 ou 31)")
            % {"code": title.movement},
        )
    if isinstance(title.nosso_numero, bool) or not isinstance(title.nosso_numero, int):
        raise title_error(title, _("nosso número deve ser um número inteiro"))
    if title.nosso_numero < 1:
        raise title_error(title, _("nosso número deve ser positivo"))
    if not title.amount or title.amount <= 0:
        raise title_error(title, _("valor do título deve ser maior que zero"))
    try:
        amount = cents(title.amount)
    except RemessaError as error:
        raise title_error(title, str(error)) from None
    if amount >= 10**13:
        raise title_error(title, _("valor do título grande demais para o arquivo"))
    if len(title.seu_numero) > seu_numero_size or not title.seu_numero.isascii():
        raise title_error(
            title,
            _("número do documento %(value)r não cabe no arquivo (até %(size)s caracteres ASCII)")
            % {"value": title.seu_numero, "size": seu_numero_size},
        )
    if len(title.our_id) > our_id_size or not title.our_id.isascii():
        raise title_error(
            title,
            _("identificação do título %(value)r não cabe no arquivo (até %(size)s caracteres)")
            % {"value": title.our_id, "size": our_id_size},
        )
    for value in (title.late_fee_percent, title.monthly_interest_percent):
        if value is None or value < 0 or value >= 100:
            raise title_error(
                title, _("percentual de multa ou juros inválido: %(v)s") % {"v": value}
            )
    if title.write_off_days is not None and not 0 < title.write_off_days <= 999:
        raise title_error(
            title,
            _("prazo de baixa automática inválido: %(days)s dias (de 1 a 999)")
            % {"days": title.write_off_days},
        )
    payer_document(title)
    payer_zip(title)


def digits_field(value: str, size: int, label: str) -> str:
    """An account number (agência, conta, convênio…) zero-padded to `size`; never truncated."""
    value = (value or "").strip()
    if value and not (value.isascii() and value.isdigit()):
        raise RemessaError(
            _("%(label)s inválido: %(value)r (apenas dígitos)") % {"label": label, "value": value}
        )
    if len(value) > size:
        raise RemessaError(
            _("%(label)s inválido: %(value)s tem mais de %(size)s dígitos")
            % {"label": label, "value": value, "size": size}
        )
    return value.zfill(size)


def account_document(account: RemessaAccount) -> tuple[str, str]:
    """(type "1" CPF / "2" CNPJ, document) of the beneficiary."""
    document = clean_digits(account.document)
    if len(document) == 14 and document.isascii() and document.isalnum():
        return "2", document
    if len(document) == 11 and document.isdigit():
        return "1", document
    raise RemessaError(_("CPF/CNPJ do beneficiário inválido: %(doc)r") % {"doc": account.document})
