"""FEBRABAN CNAB 240 remessa (cobrança): header de arquivo, one lote (header, P + Q [+ R] per
title, trailer), trailer de arquivo. Positions are 1-based, inclusive (docs/banking.md §2).

Banks:

* 999 Banco de testes and the generic FEBRABAN layout: file layout 087, lote 045; header 33-52 the
  convênio; P 18-37 agência (5) + DV + conta (12) + DV + DV agência/conta; 38-57 nosso número.
* 001 Banco do Brasil: file 083, lote 042; header/lote convênio field = convênio (9) + ``0014``
  + carteira (2) + variação (3) + 2 spaces; P 58 carteira ``7`` for carteira 17, ``1`` otherwise;
  nosso número convênio + sequence left-aligned in 38-57.
* 033 Santander: file 040, lote 030; header 17 document type, 18-32 CNPJ (15), 33-47 código de
  transmissão (`RemessaAccount.company_code`); lote 54-68 código de transmissão; P 18-21
  agência + 22 DV, 23-31 conta + 32 DV, 33-41 conta cobrança + 42 DV, 45-57 nosso número + DV;
  61-62 blank; 224 baixa code, 225 ``0``, 226-227 days, 228-229 ``00``.

Decisions:

* Interest (P 118-141): code ``1`` (valor por dia) = amount × monthly % / 100 / 30 rounded half up
  to centavos, from the day after the due date; code ``3`` (isento, FEBRABAN C018) with zero date
  and value when there is no interest (or it rounds to zero).
* Fine (segment R 66-89, only with movement 01 and a fine): code ``2`` (percentual), date = due
  date + 1, the percentage with 2 decimals.
* Write-off (P 224-227, C028): ``1`` (baixar/devolver) + days when `write_off_days` is set;
  otherwise ``2`` (não baixar/não devolver) + ``000``, except Santander ``3`` (utilizar o perfil
  do beneficiário, its documented default).
* P 196-220 (uso da empresa) = `our_id`, echoed back by the bank in T 106-130.
* P 221 protest ``3`` (não protestar); espécie ``02`` (DM), aceite ``N``; emission and
  distribution ``2`` (the beneficiary prints and sends the boleto).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from .nosso_numero import file_nosso_numero, nosso_numero_formatter
from .remessa import (
    MOVEMENTS,
    DateCache,
    RemessaAccount,
    RemessaError,
    RemessaTitle,
    account_document,
    ascii_text,
    cents,
    check_title,
    digits_field,
    interest_per_day,
    title_error,
)

__all__ = ["build"]

LINE = 240
#: Records in one lote (P/Q/R): its sequence field (9-13) has 5 digits.
MAX_DETAILS_IN_LOTE = 99999
CRLF = "\r\n"
_SEP = str.maketrans("", "", " .-/")
_ONE_DAY = timedelta(days=1)


def _text(value: str, size: int) -> str:
    value = ascii_text(value)
    return f"{value:<{size}.{size}}"


class _Bank:
    """What varies per bank: constant pieces of the records, prepared once per file."""

    file_version = "087"
    lote_version = "045"
    default_bank_name = "BANCO DE TESTES"
    nn_width = 20
    currency = "09"

    def __init__(self, account: RemessaAccount) -> None:
        self.account = account
        self.code = account.bank_code
        self.doc_type, self.document = account_document(account)
        self.company = _text(account.company_name, 30)
        self.bank_name = _text(account.bank_name or self.default_bank_name, 30)
        self.agency = digits_field(account.agency, 5, _("Agência"))
        self.account_number = digits_field(account.account, 12, _("Conta"))
        self.agency_dv = (account.agency_digit or "0").strip().upper()[:1] or "0"
        self.account_dv = (account.account_digit or "0").strip().upper()[:1] or "0"

    # header and lote header -----------------------------------------------------------------
    def agreement(self) -> str:
        agreement = (self.account.agreement or "").strip()
        if len(agreement) > 20 or not agreement.isascii():
            raise RemessaError(_("Convênio inválido: %(v)r (até 20 caracteres)") % {"v": agreement})
        return f"{agreement:<20}"

    def account_block(self) -> str:
        """Agência (5) + DV + conta (12) + DV + DV agência/conta: header 53-72, lote 54-73."""
        return f"{self.agency}{self.agency_dv}{self.account_number}{self.account_dv} "

    def file_header(self, nsa: int, when: datetime) -> str:
        return (
            f"{self.code}00000{'':9}{self.doc_type}{self.document:0>14}{self.agreement()}"
            f"{self.account_block()}{self.company}{self.bank_name}{'':10}1"
            f"{when:%d%m%Y}{when:%H%M%S}{nsa:06d}{self.file_version}00000{'':69}"
        )

    def lote_header(self, lote: int, nsa: int, when: datetime) -> str:
        return (
            f"{self.code}{lote:04d}1R01  {self.lote_version} {self.doc_type}{self.document:0>15}"
            f"{self.agreement()}{self.account_block()}{self.company}{'':80}"
            f"{nsa:08d}{when:%d%m%Y}00000000{'':33}"
        )

    # segment P pieces -----------------------------------------------------------------------
    def p_account(self) -> str:
        """P 18-37 (before the nosso número)."""
        return self.account_block()

    def p_kind(self) -> str:
        """P 58-62: carteira, forma de cadastramento, tipo de documento, emissão, distribuição."""
        return "11122"

    def write_off(self, days: int | None) -> str:
        """P 224-227."""
        return "2000" if days is None else f"1{days:03d}"

    def p_tail(self) -> str:
        """P 228-240: currency, contract number, blank."""
        return f"{self.currency}0000000000 "

    def q_tail(self) -> str:
        """Q 154-240: no sacador/avalista, no correspondent bank."""
        return f"0{'':0>15}{'':40}000{'':20}{'':8}"

    def lote_trailer_tail(self) -> str:
        """Trailer de lote 24-240 (totals are for retornos: zeros)."""
        return f"{'':0>92}{'':125}"

    def file_trailer_tail(self) -> str:
        return f"000000{'':205}"


class _BancoDoBrasil(_Bank):
    file_version = "083"
    lote_version = "042"
    default_bank_name = "BANCO DO BRASIL S.A."

    def __init__(self, account: RemessaAccount) -> None:
        super().__init__(account)
        # Imported here to keep the BB DV rule in billing.febraban only (used when the account
        # leaves its DVs blank).
        from billing.febraban import BancoDoBrasil

        if not (account.agency_digit or "").strip():
            self.agency_dv = BancoDoBrasil.dv(self.agency[-4:])
        if not (account.account_digit or "").strip():
            self.account_dv = BancoDoBrasil.dv(self.account_number.lstrip("0") or "0")

    def agreement(self) -> str:
        account = self.account
        convenio = digits_field(account.agreement, 9, _("Convênio"))
        wallet = digits_field(account.wallet, 2, _("Carteira"))
        variation = digits_field(account.wallet_variation, 3, _("Variação da carteira"))
        return f"{convenio}0014{wallet}{variation}  "

    def p_kind(self) -> str:
        wallet = (self.account.wallet or "").strip()
        return f"{'7' if wallet == '17' else '1'}1122"

    def lote_trailer_tail(self) -> str:
        return f"{'':0>217}"

    def file_trailer_tail(self) -> str:
        return f"{'':211}"


class _Santander(_Bank):
    file_version = "040"
    lote_version = "030"
    default_bank_name = "BANCO SANTANDER"
    nn_width = 13
    currency = "00"

    def __init__(self, account: RemessaAccount) -> None:
        super().__init__(account)
        code = (account.company_code or "").strip()
        if not code:
            raise RemessaError(
                _("Santander CNAB 240: informe o código de transmissão (até 15 dígitos).")
            )
        self.transmission = digits_field(code, 15, _("Código de transmissão"))
        self.agency4 = digits_field(account.agency, 4, _("Agência"))
        self.account9 = digits_field(account.account, 9, _("Conta"))

    def file_header(self, nsa: int, when: datetime) -> str:
        return (
            f"03300000{'':8}{self.doc_type}{self.document:0>15}{self.transmission}{'':25}"
            f"{self.company}{self.bank_name}{'':10}1{when:%d%m%Y}{'':6}{nsa:06d}"
            f"{self.file_version}{'':74}"
        )

    def lote_header(self, lote: int, nsa: int, when: datetime) -> str:
        return (
            f"033{lote:04d}1R01  {self.lote_version} {self.doc_type}{self.document:0>15}{'':20}"
            f"{self.transmission}{'':5}{self.company}{'':80}{nsa:08d}{when:%d%m%Y}{'':41}"
        )

    def p_account(self) -> str:
        """P 18-44: agência + DV, conta + DV, conta cobrança + DV, 2 blanks."""
        conta = f"{self.account9}{self.account_dv}"
        return f"{self.agency4}{self.agency_dv}{conta}{conta}  "

    def p_kind(self) -> str:
        # 58 tipo de cobrança 1 (simples, eletrônica com registro), 59 registrada, 60 escritural,
        # 61-62 blank (emissão/distribuição are not Santander fields).
        return "112  "

    def write_off(self, days: int | None) -> str:
        return "3000" if days is None else f"10{days:02d}"

    def p_tail(self) -> str:
        return f"00{'':11}"

    def q_tail(self) -> str:
        return f"0{'':0>15}{'':40}{'':0>12}{'':19}"

    def lote_trailer_tail(self) -> str:
        return f"{'':217}"

    def file_trailer_tail(self) -> str:
        return f"{'':211}"


_BANKS = {"001": _BancoDoBrasil, "033": _Santander, "999": _Bank}


class _Interest(dict):
    """(amount, monthly %) -> P 118-141 (code, date placeholder handled by caller)."""

    def __missing__(self, key):
        amount, percent = key
        per_day = interest_per_day(amount, percent)
        self[key] = per_day
        return per_day


class _WriteOffs(dict):
    """write_off_days -> P 224-227."""

    def __init__(self, bank: _Bank) -> None:
        super().__init__()
        self.bank = bank

    def __missing__(self, days):
        text = self[days] = self.bank.write_off(days)
        return text


def _payer_document(raw: str) -> str:
    """Q 18-33: type + document (15), or "" when it is neither a CPF nor a CNPJ."""
    document = (raw or "").translate(_SEP).upper()
    if len(document) == 11 and document.isascii() and document.isdigit():
        return f"1{document:0>15}"
    if len(document) == 14 and document.isascii() and document.isalnum():
        return f"2{document:0>15}"
    return ""


def _zip(raw: str) -> str:
    zip_code = (raw or "").translate(_SEP)
    return zip_code if len(zip_code) == 8 and zip_code.isascii() and zip_code.isdigit() else ""


def build(
    *, account: RemessaAccount, titles: list[RemessaTitle], nsa: int, generated_at: datetime
) -> bytes:
    bank = _BANKS[account.bank_code](account)
    code = bank.code
    nn_of = nosso_numero_formatter(bank_code=code, account=account)
    nn_pad = " " * (
        bank.nn_width - len(file_nosso_numero(bank_code=code, account=account, sequence=1))
    )
    lote = 1
    p_start = f"{code}00013"
    p_account = bank.p_account()
    p_kind = bank.p_kind()
    p_tail = bank.p_tail()
    q_tail = bank.q_tail()
    write_offs = _WriteOffs(bank)
    max_days = 99 if code == "033" else 999
    no_interest = f"3{'':0>8}{'':0>15}"
    no_discounts = f"0{'':0>8}{'':0>15}{'':0>15}{'':0>15}"
    r_discounts = f"0{'':0>8}{'':0>15}0{'':0>8}{'':0>15}"
    r_tail = f"{'':10}{'':80}{'':61}"
    dmy = DateCache("%d%m%Y")
    interest_of = _Interest()
    amounts: dict = {}
    fees: dict = {}
    payers: dict = {}
    zips: dict = {}
    movements = MOVEMENTS

    lines = [bank.file_header(nsa, generated_at), bank.lote_header(1, nsa, generated_at)]
    append = lines.append
    seq = 0
    lote_trailer_tail = bank.lote_trailer_tail()
    for t in titles:
        if seq > MAX_DETAILS_IN_LOTE - 3:
            # Sequence in lote (9-13) has 5 digits: a large remessa continues in a new lote.
            append(f"{code}{lote:04d}5{'':9}{seq + 2:06d}{lote_trailer_tail}")
            lote += 1
            p_start = f"{code}{lote:04d}3"
            append(bank.lote_header(lote, nsa, generated_at))
            seq = 0
        mov = t.movement
        n = t.nosso_numero
        amount = t.amount
        amount_text = amounts.get(amount)
        if amount_text is None:
            try:
                value = cents(amount) if amount is not None else 0
            except (RemessaError, TypeError, ArithmeticError):
                value = 0
            amount_text = f"{value:015d}" if 0 < value < 10**13 else ""
            amounts[amount] = amount_text
        payer = payers.get(t.payer_document)
        if payer is None:
            payer = payers[t.payer_document] = _payer_document(t.payer_document)
        zip_code = zips.get(t.payer_zip)
        if zip_code is None:
            zip_code = zips[t.payer_zip] = _zip(t.payer_zip)
        days = t.write_off_days
        if (
            mov not in movements
            or not amount_text
            or not payer
            or not zip_code
            or n.__class__ is not int
            or n < 1
            or (days is not None and not 0 < days <= max_days)
        ):
            _reject(t, account)

        due = t.due_date
        percent = t.monthly_interest_percent
        if percent:
            per_day = interest_of[amount, percent]
            interest = f"1{dmy[due + _ONE_DAY]}{per_day:015d}" if per_day else no_interest
        else:
            interest = no_interest

        name = t.payer_name
        street = t.payer_street
        district = t.payer_district
        city = t.payer_city
        state = t.payer_state
        joined = f"{name}{street}{district}{city}{state}"
        if not (joined.isascii() and joined.isprintable()):
            name = ascii_text(name)
            street = ascii_text(street)
            district = ascii_text(district)
            city = ascii_text(city)
            state = ascii_text(state)

        seq += 1
        p = (
            f"{p_start}{seq:05d}P {mov}{p_account}{nn_of(n)}{nn_pad}{p_kind}{t.seu_numero:<15}"
            f"{dmy[due]}{amount_text}00000 02N{dmy[t.issue_date]}{interest}{no_discounts}"
            f"{t.our_id:<25}300{write_offs[days]}"
            f"{p_tail}"
        )
        seq += 1
        q = (
            f"{p_start}{seq:05d}Q {mov}{payer}{name:<40.40}{street:<40.40}{district:<15.15}"
            f"{zip_code}{city:<15.15}{state:<2.2}{q_tail}"
        ).upper()
        if len(p) != LINE or len(q) != LINE:
            _reject(t, account, p, q)
        append(p)
        append(q)
        fee = t.late_fee_percent
        if fee and mov == "01":
            fee_value = fees.get(fee)
            if fee_value is None:
                try:
                    fee_value = cents(fee)
                except (RemessaError, TypeError, ArithmeticError):
                    fee_value = -1
                fees[fee] = fee_value
            if not 0 < fee_value < 10000:
                _reject(t, account)
            seq += 1
            append(
                f"{p_start}{seq:05d}R {mov}{r_discounts}2{dmy[due + _ONE_DAY]}{fee_value:015d}"
                f"{r_tail}"
            )

    append(f"{code}{lote:04d}5{'':9}{seq + 2:06d}{lote_trailer_tail}")
    append(f"{code}99999{'':9}{lote:06d}{len(lines) + 1:06d}{bank.file_trailer_tail()}")
    text = CRLF.join(lines) + CRLF
    try:
        data = text.encode("ascii")
    except UnicodeEncodeError:
        for t in titles:
            check_title(t, seu_numero_size=15, our_id_size=25)
        raise RemessaError(_("Remessa com caracteres fora do ASCII.")) from None
    if any(len(line) != LINE for line in lines[:2] + lines[-2:]):
        raise RemessaError(_("Dados da conta não cabem no cabeçalho do arquivo."))
    return data


def _reject(title: RemessaTitle, account: RemessaAccount, *lines: str) -> None:
    """A title whose line came out wrong: name the reason (`check_title`), or the line."""
    check_title(title, seu_numero_size=15, our_id_size=25)
    try:
        file_nosso_numero(bank_code=account.bank_code, account=account, sequence=title.nosso_numero)
    except RemessaError as error:
        raise title_error(title, str(error)) from None
    if (
        account.bank_code == "033"
        and title.write_off_days is not None
        and title.write_off_days > 99
    ):
        raise title_error(title, _("Santander aceita baixa automática de até 99 dias"))
    fee = title.late_fee_percent
    if fee:
        try:
            cents(fee)
        except RemessaError as error:
            raise title_error(title, str(error)) from None
    for line in lines:
        if len(line) != LINE:
            raise title_error(
                title,
                _("registro com %(size)s caracteres, esperado 240") % {"size": len(line)},
            )
    raise title_error(title, _("dados que o arquivo não comporta"))
