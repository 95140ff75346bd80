"""CNAB 400 remessas: Itaú (341), Bradesco (237) and Banco do Brasil CBR643 (001, detail type 7).

Every record is 400 characters and ends with its 6-digit sequence (395-400). Header
``01REMESSA01COBRANCA`` (1-26), beneficiary identification 27-46, company name 47-76, bank code
77-79, bank name 80-94, date DDMMAA 95-100. Trailer ``9``. Positions from the banks' manuals,
checked structurally against brcobranca's samples (tests/data/cnab/remessa/).

* Itaú: header 27-46 agência (4) + ``00`` + conta (5) + DAC; detail ``1``: 38-62 uso da
  empresa (our id), 63-70 nosso número (8), 84-86 carteira, 108 código da carteira (``I``),
  109-110 movement, 111-120 seu número, interest per day 161-173 with date 386-391; fine in an
  extra record ``2`` (code ``2`` percentual, date DDMMAAAA 3-10, value 11-23).
* Bradesco: header 27-46 código da empresa (`RemessaAccount.company_code`, 20 digits), 109-110
  ``MX``, 111-117 NSA; detail ``1``: 21-37 ``0`` + carteira (3) + agência (5) + conta (7) + DV,
  38-62 our id, 66-70 fine (``2`` + percent with 2 decimals), 71-82 nosso número + DV, 93 ``2``
  (beneficiary prints), 161-173 interest per day, address (275-314) with city/UF, CEP 327-334.
* Banco do Brasil CBR643 (convênio of 7 digits): header 27-46 agência + DV + conta (8) + DV +
  ``000000``, 101-107 NSA, 130-136 convênio; detail ``7``: 32-38 convênio, 39-63 our id, 64-80
  nosso número (convênio + sequence), 92-94 variação, 107-108 carteira, 109-110 comando; fine in
  an optional record ``5`` (``99``, code ``2``, date DDMMAA, percent 11-22).

`write_off_days` is not sent in CNAB 400: the instruction codes for it differ per bank and
contract; automatic write-off follows the account's profile at the bank.
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
    payer_document,
    payer_zip,
    title_error,
)

__all__ = ["build"]

LINE = 400
CRLF = "\r\n"
_ONE_DAY = timedelta(days=1)


def _text(value: str, size: int) -> str:
    value = ascii_text(value)
    return f"{value:<{size}.{size}}"


def _header(account: RemessaAccount, identification: str, bank_name: str, when, tail: str) -> str:
    company = _text(account.company_name, 30)
    return (
        f"01REMESSA01{'COBRANCA':<15}{identification}{company}{account.bank_code}"
        f"{bank_name:<15.15}{when:%d%m%y}{tail}000001"
    )


def build(
    *, account: RemessaAccount, titles: list[RemessaTitle], nsa: int, generated_at: datetime
) -> bytes:
    code = account.bank_code
    doc_type, document = account_document(account)
    company_type = "01" if doc_type == "1" else "02"
    nn_of = nosso_numero_formatter(bank_code=code, account=account)
    nn_size = len(file_nosso_numero(bank_code=code, account=account, sequence=1))
    dmy = DateCache("%d%m%y")
    dmyyyy = DateCache("%d%m%Y")
    agency4 = digits_field(account.agency, 4, _("Agência"))

    if code == "341":
        conta = digits_field(account.account, 5, _("Conta"))
        # Imported here to keep the Itaú DAC rule in billing.febraban only.
        from billing.febraban import Itau

        dac = (account.account_digit or "").strip() or Itau.account_dac(agency4, conta)
        wallet = digits_field(account.wallet, 3, _("Carteira"))
        header = _header(
            account, f"{agency4}00{conta}{dac}{'':8}", "BANCO ITAU SA", generated_at, f"{'':294}"
        )
        before_nn = f"{company_type}{document:0>14}{agency4}00{conta}{dac}{'':4}0000"
        after_nn = f"{'':0>13}{wallet}{'':21}I"
    elif code == "237":
        company_code = (account.company_code or "").strip()
        if not company_code:
            raise RemessaError(
                _("Bradesco CNAB 400: informe o código da empresa (até 20 dígitos).")
            )
        company_code = digits_field(company_code, 20, _("Código da empresa"))
        if nsa > 9999999:
            raise RemessaError(_("NSA grande demais para o Bradesco (7 dígitos)."))
        wallet = digits_field(account.wallet, 3, _("Carteira"))
        agency5 = digits_field(account.agency, 5, _("Agência"))
        conta = digits_field(account.account, 7, _("Conta"))
        dv = (account.account_digit or "0").strip()[:1] or "0"
        header = _header(
            account, company_code, "BRADESCO", generated_at, f"{'':8}MX{nsa:07d}{'':277}"
        )
        before_nn = f"{'':0>19}0{wallet}{agency5}{conta}{dv}"
    else:  # 001 CBR643
        agreement = (account.agreement or "").strip()
        if len(agreement) != 7 or not agreement.isdigit():
            raise RemessaError(
                _("Banco do Brasil CNAB 400 (CBR643) exige convênio de 7 dígitos (%(v)r)")
                % {"v": agreement}
            )
        # Imported here to keep the BB DV rule in billing.febraban only.
        from billing.febraban import BancoDoBrasil

        conta = digits_field(account.account, 8, _("Conta"))
        agency_dv = (account.agency_digit or "").strip()[:1] or BancoDoBrasil.dv(agency4)
        account_dv = (account.account_digit or "").strip()[:1] or BancoDoBrasil.dv(conta)
        wallet = digits_field(account.wallet, 2, _("Carteira"))
        variation = digits_field(account.wallet_variation, 3, _("Variação da carteira"))
        header = _header(
            account,
            f"{agency4}{agency_dv}{conta}{account_dv}000000",
            "BANCODOBRASIL",
            generated_at,
            f"{nsa:07d}{'':22}{agreement}{'':258}",
        )
        before_nn = (
            f"{company_type}{document:0>14}{agency4}{agency_dv}{conta}{account_dv}{agreement}"
        )
        after_nn = f"0000{'':3} {'':3}{variation}0000000{'':5}{wallet}"

    if len(header) != LINE:
        raise RemessaError(_("Dados da conta não cabem no cabeçalho do arquivo."))
    lines = [header]
    append = lines.append
    zeros13 = f"{'':0>13}"
    for t in titles:
        if t.movement not in MOVEMENTS or len(t.seu_numero) > 10:
            check_title(t, seu_numero_size=10, our_id_size=25)
        try:
            amount = cents(t.amount)
            payer_type, payer = payer_document(t)
            zip_code = payer_zip(t)
            nn = nn_of(t.nosso_numero) if t.nosso_numero >= 1 else ""
        except (RemessaError, TypeError, ArithmeticError):
            check_title(t, seu_numero_size=10, our_id_size=25)
            raise
        if not 0 < amount < 10**13 or len(nn) != nn_size:
            check_title(t, seu_numero_size=10, our_id_size=25)
            file_nosso_numero(bank_code=code, account=account, sequence=t.nosso_numero)
        payer_type = "01" if payer_type == "1" else "02"
        due = t.due_date
        per_day = interest_per_day(t.amount, t.monthly_interest_percent)
        name = ascii_text(t.payer_name)
        street = ascii_text(t.payer_street)
        district = ascii_text(t.payer_district)
        city = ascii_text(t.payer_city)
        state = ascii_text(t.payer_state)
        fee = cents(t.late_fee_percent) if t.late_fee_percent and t.movement == "01" else 0
        if not 0 <= fee < 10000:
            raise title_error(
                t, _("percentual de multa inválido: %(v)s") % {"v": t.late_fee_percent}
            )
        common = f"{t.movement}{t.seu_numero:<10}{dmy[due]}{amount:013d}"
        payer_common = f"{payer_type}{payer:0>14}"
        seq = len(lines) + 1
        if code == "341":
            mora_date = dmy[due + _ONE_DAY] if per_day else "000000"
            detail = (
                f"1{before_nn}{t.our_id:<25}{nn}{after_nn}{common}34100000{'01'}N"
                f"{dmy[t.issue_date]}0000{per_day:013d}000000{zeros13}{zeros13}{zeros13}"
                f"{payer_common}{name:<30.30}{'':10}{street:<40.40}{district:<12.12}"
                f"{zip_code}{city:<15.15}{state:<2.2}{'':30}{'':4}{mora_date}00 {seq:06d}"
            )
            extra = f"22{dmyyyy[due + _ONE_DAY]}{fee:013d}{'':371}" if fee else None
        elif code == "237":
            fine = f"2{fee:04d}" if fee else "00000"
            address = f"{street}, {city}/{state}" if city else street
            detail = (
                f"1{before_nn}{t.our_id:<25}000{fine}{nn}{'':0>10}2N{'':10}{'':4}{common}"
                f"00000000{'01'}N{dmy[t.issue_date]}0000{per_day:013d}000000{zeros13}"
                f"{zeros13}{zeros13}{payer_common}{name:<40.40}{address:<40.40}{'':12}"
                f"{zip_code}{'':60}{seq:06d}"
            )
            extra = None
        else:
            detail = (
                f"7{before_nn}{t.our_id:<25}{nn}{after_nn}{common}0010000 {'01'}N"
                f"{dmy[t.issue_date]}0000{per_day:013d}000000{zeros13}{zeros13}{zeros13}"
                f"{payer_common}{name:<37.37}{'':3}{street:<40.40}{district:<12.12}"
                f"{zip_code}{city:<15.15}{state:<2.2}{'':40}{'':2} {seq:06d}"
            )
            extra = f"599{2}{dmy[due + _ONE_DAY]}{fee:012d}{'':372}" if fee else None
        if len(detail) != LINE:
            check_title(t, seu_numero_size=10, our_id_size=25)
            raise title_error(
                t, _("registro com %(size)s caracteres, esperado 400") % {"size": len(detail)}
            )
        append(detail)
        if extra is not None:
            append(f"{extra}{len(lines) + 1:06d}")
    append(f"9{'':393}{len(lines) + 1:06d}")
    text = CRLF.join(lines) + CRLF
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        for t in titles:
            check_title(t, seu_numero_size=10, our_id_size=25)
        raise RemessaError(_("Remessa com caracteres fora do ASCII.")) from None
