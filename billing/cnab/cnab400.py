"""CNAB 400 cobrança: the layouts of Banco do Brasil (CBR643), Itaú, Bradesco and Santander.

Every record is 400 characters and ends with its sequence number at 395-400, so (unlike CNAB 240)
a shorter detail or trailer is damaged, not merely stripped of trailing spaces. A header may be
short in its filler (seen in Santander samples: 397 characters): it is read when its fields are
all there, since the trailer's record count still checks the file. The header says the
direction at 1-9 ("02RETORNO" / "01REMESSA") and the bank at 77-79. Any other bank is refused:
CNAB 400 positions and occurrence codes differ per bank, and guessing them would misread money.

Bank 999 ("FAKE") is the code of eduardokum/laravel-boleto's example CNAB 400 retorno
(tests/data/cnab/retorno/fake_999_400.ret). Its detail records are byte for byte those of the
library's Bradesco retorno (only the header's bank code and name differ), so it is read with
Bradesco's positions and codes. Our own test bank (999) speaks CNAB 240.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.cnab import codes
from billing.cnab.reading import date6, digits, integer, money, overlong_but_whole
from billing.cnab.records import (
    PAYMENT_KINDS,
    REJECTION_KINDS,
    BankEvent,
    CnabError,
    Kind,
    ParsedFile,
)

LAYOUT = "cnab400"
WIDTH = 400


@dataclass(frozen=True, slots=True)
class Bank400:
    """0-based (start, end) slices of one bank's CNAB 400 records."""

    name: str
    detail: str  # record type of a title ("1"; BB CBR643 "7")
    nosso_numero: tuple[int, int]
    our_id: tuple[int, int]
    fee: tuple[int, int]
    credit_date: tuple[int, int]
    reasons: tuple[int, int, int]  # start, end, width of each code
    occurrences: dict
    reason_texts: dict
    credited_amount: tuple[int, int] | None = None
    nsa_retorno: tuple[int, int] | None = None
    nsa_remessa: tuple[int, int] | None = None


# Common to the four layouts (retorno): occurrence 109-110, its date 111-116, seu número
# 117-126, due date 147-152, nominal 153-165, abatimento 228-240, desconto 241-253, amount
# received 254-266, juros/mora 267-279. Remessa: movement 109-110, seu número 111-120, due
# 121-126, amount 127-139.
ITAU = Bank400(
    name="Itaú",
    detail="1",
    nosso_numero=(62, 70),
    our_id=(37, 62),
    fee=(175, 188),
    credit_date=(295, 301),
    reasons=(377, 385, 2),
    occurrences=codes.ITAU400,
    reason_texts=codes.ITAU400_REASONS,
    nsa_retorno=(108, 113),
)
BRADESCO = Bank400(
    name="Bradesco",
    detail="1",
    nosso_numero=(70, 82),
    our_id=(37, 62),
    fee=(175, 188),
    credit_date=(295, 301),
    reasons=(318, 328, 2),
    occurrences=codes.BRADESCO400,
    reason_texts=codes.BRADESCO400_REASONS,
    nsa_retorno=(108, 113),  # número do aviso bancário
    nsa_remessa=(110, 117),
)
BANCO_DO_BRASIL = Bank400(
    name="Banco do Brasil",
    detail="7",
    nosso_numero=(63, 80),
    our_id=(38, 63),
    fee=(181, 188),
    credit_date=(175, 181),
    reasons=(86, 88, 2),
    occurrences=codes.BB400,
    reason_texts=codes.BB400_REASONS,
    credited_amount=(305, 318),  # valor do lançamento
    nsa_retorno=(100, 107),
    nsa_remessa=(100, 107),
)
SANTANDER = Bank400(
    name="Santander",
    detail="1",
    nosso_numero=(62, 70),
    our_id=(37, 62),
    fee=(175, 188),
    credit_date=(295, 301),
    reasons=(136, 145, 3),  # three 3-digit error codes
    occurrences=codes.SANTANDER400,
    reason_texts=codes.SANTANDER400_REASONS,
)
BANKS = {"341": ITAU, "237": BRADESCO, "001": BANCO_DO_BRASIL, "033": SANTANDER, "999": BRADESCO}


def _bad_length(number: int, length: int) -> CnabError:
    return CnabError(f"linha {number}: registro de tamanho {length}, esperado {WIDTH}")


# The header fields read (direction, bank, name, date: 1-100; BB's NSA and convênio up to 156).
_HEADER_READ = 160


def _record(lines: list[str], index: int, *, header: bool = False) -> str | None:
    """The record at index, padded/cut to 400; None for an empty line. Accepted besides 400:
    one extra character, blanks padded past 400, and a header shorter than 400 whose fields
    (not its filler) are all there: the header carries no sequence-checked data past them."""
    line = lines[index]
    length = len(line)
    if length == WIDTH:
        return line
    if not line.strip():
        return None
    if length > WIDTH and overlong_but_whole(line, WIDTH):
        return line[:WIDTH]
    if header and _HEADER_READ <= length < WIDTH:
        return line.ljust(WIDTH)
    raise _bad_length(index + 1, length)


def parse(lines: list[str], first: int) -> ParsedFile:
    header = _record(lines, first, header=True)
    direction = "retorno" if header[:9] == "02RETORNO" else "remessa"
    bank_code = header[76:79]
    spec = BANKS.get(bank_code)
    if spec is None:
        raise CnabError(f"CNAB 400 do banco {bank_code.strip() or '(em branco)'} não suportado")
    nsa_slice = spec.nsa_retorno if direction == "retorno" else spec.nsa_remessa
    agency = account = agreement = ""
    if bank_code == "341":
        agency, account = header[26:30], header[32:37]
    elif bank_code == "001":
        agency, account = header[26:30], header[31:39]
        agreement = (header[149:156] if direction == "retorno" else header[129:136]).strip()
    else:
        agreement = header[26:46].strip()
    parsed = ParsedFile(
        layout=LAYOUT,
        direction=direction,
        bank_code=bank_code,
        bank_name=header[79:94].strip(),
        nsa=integer(header[nsa_slice[0] : nsa_slice[1]]) if nsa_slice else None,
        generated_on=date6(header[94:100]),
        beneficiary_document="",
        agreement=agreement,
        agency=digits(agency).lstrip("0"),
        account=digits(account).lstrip("0"),
    )
    read = _retorno_event if direction == "retorno" else _remessa_event
    records = 1
    for index in range(first + 1, len(lines)):
        line = _record(lines, index)
        if line is None:
            continue
        records += 1
        kind = line[0]
        if kind == spec.detail:
            parsed.events.append(read(spec, bank_code, index + 1, line))
        elif kind == "9":
            _check_trailer(index + 1, line, records, lines, index)
            parsed.line_count = records
            return parsed
        elif kind == "0":
            raise CnabError(f"linha {index + 1}: segundo cabeçalho de arquivo")
        elif spec is BANCO_DO_BRASIL and kind == "1":
            raise CnabError(
                f"linha {index + 1}: CNAB 400 do Banco do Brasil com detalhe tipo 1 "
                "(convênio de 6 posições) não suportado; esperado CBR643 (detalhe tipo 7)"
            )
        elif not (kind.isdigit() and kind.isascii()):
            raise CnabError(f"linha {index + 1}: tipo de registro inválido ({kind!r})")
        # Other record types (Santander 8 = Pix, Itaú 2/4/5, BB 5...): skipped.
    raise CnabError("arquivo truncado: trailer ausente")


def _check_trailer(number: int, line: str, records: int, lines: list[str], index: int) -> None:
    for later in range(index + 1, len(lines)):
        if lines[later].strip(" \x1a\t"):
            raise CnabError(f"linha {later + 1}: registro depois do trailer de arquivo")
    declared = integer(line[394:400])
    if declared is None:
        raise CnabError(f"linha {number}: trailer sem número sequencial (posições 395-400)")
    if declared != records:
        raise CnabError(
            f"trailer de arquivo informa {declared} registros, mas o arquivo tem {records}"
        )


def _retorno_event(spec: Bank400, bank_code: str, number: int, line: str) -> BankEvent:
    occurrence = line[108:110]
    kind, label = codes.occurrence(spec.occurrences, occurrence)
    reasons = []
    if kind in REJECTION_KINDS:
        start, end, width = spec.reasons
        field = line[start:end]
        reasons = codes.reasons_from_codes(
            [field[i : i + width] for i in range(0, end - start, width)], spec.reason_texts, kind
        )
    amount_paid = amount_credited = interest_fine = discount = None
    if kind in PAYMENT_KINDS:
        amount_paid = money(line[253:266])
        interest_fine = money(line[266:279])
        discount = money(line[240:253])
        rebate = money(line[227:240])
        if rebate and discount is not None:
            discount += rebate
        if spec.credited_amount:
            amount_credited = money(line[spec.credited_amount[0] : spec.credited_amount[1]])
    nn_a, nn_b = spec.nosso_numero
    our_a, our_b = spec.our_id
    fee_a, fee_b = spec.fee
    credit_a, credit_b = spec.credit_date
    return BankEvent(
        line=number,
        bank_code=bank_code,
        nosso_numero=line[nn_a:nn_b].strip(),
        our_id=line[our_a:our_b].strip(),
        seu_numero=line[116:126].strip(),
        occurrence=occurrence,
        kind=kind,
        reasons=reasons,
        due_date=date6(line[146:152]),
        amount=money(line[152:165]),
        amount_paid=amount_paid,
        amount_credited=amount_credited,
        fee=money(line[fee_a:fee_b]),
        interest_fine=interest_fine,
        discount=discount,
        occurred_on=date6(line[110:116]),
        credited_on=date6(line[credit_a:credit_b]),
        raw=line,
        label=label,
        segments=line[0],
    )


def _remessa_event(spec: Bank400, bank_code: str, number: int, line: str) -> BankEvent:
    movement = line[108:110]
    nn_a, nn_b = spec.nosso_numero
    our_a, our_b = spec.our_id
    return BankEvent(
        line=number,
        bank_code=bank_code,
        nosso_numero=line[nn_a:nn_b].strip(),
        our_id=line[our_a:our_b].strip(),
        seu_numero=line[110:120].strip(),
        occurrence=movement,
        kind=Kind.INFO,
        reasons=[],
        due_date=date6(line[120:126]),
        amount=money(line[126:139]),
        amount_paid=None,
        amount_credited=None,
        fee=None,
        interest_fine=None,
        discount=None,
        occurred_on=None,
        credited_on=None,
        raw=line,
        label=codes.REMESSA_MOVEMENTS.get(movement, f"Movimento {movement}"),
        segments=line[0],
    )
