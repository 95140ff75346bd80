"""Banco de testes (999): a bank that speaks generic FEBRABAN CNAB 240, for the demo and tests.

Pure functions, no database:

* `testbank_process_remessa` reads one of our CNAB 240 remessas the way a bank's system would
  (its own small P/Q reader, independent of the portal's parser), validates each title and
  answers with a real CNAB 240 retorno (T/U segments): 02 entrada confirmada or 03 entrada
  rejeitada with FEBRABAN C047 reasons; 09 baixa for a write-off request (02) of a known title;
  14 for a due-date change (06), 27 for other data (31); 26 / 30 (instruction rejected) with a
  reason otherwise.
* `testbank_payment_retorno` writes the retorno a bank sends later: 06 liquidação (the amount paid
  may differ from the nominal), 17 liquidação após baixa, 09 baixa (automatic, on expiry) and 28
  débito de tarifa.

C047 reasons used: 05 código de movimento inválido, 08 nosso número inválido, 09 nosso número
duplicado, 16 data de vencimento inválida, 20 valor do título inválido, 45 nome do pagador não
informado, 46 tipo/número de inscrição do pagador inválidos, 48 CEP inválido, 60 movimento para
título não cadastrado; for 09 (baixa): 10 comandada cliente arquivo, 13 decurso de prazo.
Every retorno carries bank code 999, "BANCO DE TESTES", operation ``T`` in the lote header and
``2`` (retorno) at header 143; positions as docs/banking.md §2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import holidays
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from billing.cnab.remessa import RemessaAccount, ascii_text, clean_digits
from portal.documents import is_valid_cnpj, is_valid_cpf

__all__ = [
    "TEST_BANK_CODE",
    "TEST_BANK_NAME",
    "TestBankAnswer",
    "TestBankError",
    "TestBankPayment",
    "TestBankTitle",
    "next_business_day",
    "testbank_payment_retorno",
    "testbank_process_remessa",
]

TEST_BANK_CODE = "999"
TEST_BANK_NAME = "BANCO DE TESTES"
LINE = 240
CRLF = "\r\n"
#: Records in one lote: the sequence field (9-13) has 5 digits.
MAX_RECORDS_IN_LOTE = 99999

PAYMENT_OCCURRENCES = frozenset({"06", "17", "09", "28"})


class TestBankError(ValueError):
    """A file the test bank cannot read; ``str(e)`` is one sentence of plain Portuguese."""

    __test__ = False


@dataclass(frozen=True, slots=True)
class TestBankTitle:
    """One title of a remessa, as the test bank read it. `nosso_numero` is the file form
    (spaces stripped); `payer_document` digits (CPF 11 / CNPJ 14 characters)."""

    __test__ = False

    nosso_numero: str
    our_id: str
    amount: Decimal | None
    due_date: date | None
    payer_document: str
    movement: str = "01"
    line: int = 0


@dataclass(slots=True)
class TestBankAnswer:
    """What the test bank did with a remessa, and its retorno (bytes of a CNAB 240 file)."""

    __test__ = False

    retorno: bytes
    accepted: list[TestBankTitle] = field(default_factory=list)
    rejected: list[tuple[TestBankTitle, list[str]]] = field(default_factory=list)
    written_off: list[TestBankTitle] = field(default_factory=list)
    altered: list[TestBankTitle] = field(default_factory=list)
    instructions_rejected: list[tuple[TestBankTitle, list[str]]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TestBankPayment:
    """One event of a payment retorno. `occurrence`: "06" paid, "17" paid after write-off,
    "09" baixa (automatic write-off), "28" fee debit. `credited_on` None = the next business day
    after `paid_on` (06/17); `paid_on` None = the retorno's `today`."""

    __test__ = False

    nosso_numero: str
    our_id: str
    amount: Decimal
    due_date: date
    amount_paid: Decimal = Decimal(0)
    paid_on: date | None = None
    credited_on: date | None = None
    fee: Decimal = Decimal(0)
    interest_fine: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)
    occurrence: str = "06"
    seu_numero: str = ""
    payer_document: str = ""
    payer_name: str = ""


# -- business days --------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _holidays(year: int):
    return holidays.country_holidays("BR", years=year)


@lru_cache(maxsize=4096)
def next_business_day(day: date) -> date:
    """The first weekday after `day` that is not a national holiday (python-holidays, BR)."""
    day += timedelta(days=1)
    while day.weekday() >= 5 or day in _holidays(day.year):
        day += timedelta(days=1)
    return day


# -- the retorno writer ---------------------------------------------------------------------------


# Labels translated only when an error names them (gettext per title would be the hot spot).
FEE = gettext_noop("Tarifa")
NOMINAL = gettext_noop("Valor do título")
INTEREST_FINE = gettext_noop("Juros/multa")
DISCOUNT = gettext_noop("Desconto")
PAID = gettext_noop("Valor pago")
CREDITED = gettext_noop("Valor creditado")


def _money(value: Decimal | int | None, label: str) -> str:
    """15 digits, 2 implied decimals; `TestBankError` for negative or sub-centavo values.
    `label` is an untranslated msgid (one of the constants above)."""
    if not value:
        return "000000000000000"
    try:
        cents = Decimal(value) * 100
    except (InvalidOperation, TypeError, ValueError):
        raise TestBankError(
            _("%(label)s inválido: %(v)r") % {"label": _(label), "v": value}
        ) from None
    whole = int(cents)
    if whole != cents or whole < 0 or whole >= 10**15:
        raise TestBankError(_("%(label)s inválido: %(v)s") % {"label": _(label), "v": value})
    return f"{whole:015d}"


class _Dates(dict):
    def __missing__(self, key: date | None) -> str:
        text = self[key] = "00000000" if key is None else key.strftime("%d%m%Y")
        return text


class _Retorno:
    """Writes a CNAB 240 retorno of bank 999: header, lotes of T/U pairs, trailers."""

    def __init__(
        self,
        *,
        doc_type: str,
        document: str,
        agreement: str,
        account_block: str,
        company: str,
        nsa: int,
        generated_at: datetime,
    ) -> None:
        if isinstance(nsa, bool) or not isinstance(nsa, int) or not 1 <= nsa <= 999999:
            raise TestBankError(
                _("Número sequencial do arquivo (NSA) inválido: %(nsa)s") % {"nsa": nsa}
            )
        self.doc_type = doc_type
        self.document = document
        self.agreement = f"{agreement:<20.20}"
        self.account_block = f"{account_block:<20.20}"
        self.company = f"{ascii_text(company):<30.30}"
        self.nsa = nsa
        self.when = generated_at
        self.dates = _Dates()
        self.lines = [
            f"{TEST_BANK_CODE}00000{'':9}{doc_type}{document:0>14}{self.agreement}"
            f"{self.account_block}{self.company}{TEST_BANK_NAME:<30}{'':10}2"
            f"{generated_at:%d%m%Y}{generated_at:%H%M%S}{nsa:06d}08700000{'':69}"
        ]
        self.lote = 0
        self._open_lote()

    def _open_lote(self) -> None:
        self.lote += 1
        self.seq = 0
        self.titles_in_lote = 0
        self.total_in_lote = 0
        self.prefix = f"{TEST_BANK_CODE}{self.lote:04d}3"
        self.lines.append(
            f"{TEST_BANK_CODE}{self.lote:04d}1T01  045 {self.doc_type}{self.document:0>15}"
            f"{self.agreement}{self.account_block}{self.company}{'':80}{self.nsa:08d}"
            f"{self.when:%d%m%Y}00000000{'':33}"
        )

    def _close_lote(self) -> None:
        self.lines.append(
            f"{TEST_BANK_CODE}{self.lote:04d}5{'':9}{self.seq + 2:06d}{self.titles_in_lote:06d}"
            f"{self.total_in_lote:017d}{'':0>69}{'':125}"
        )

    def title(
        self,
        *,
        occurrence: str,
        nosso_numero: str,
        seu_numero: str,
        due_date: date | None,
        amount: str,
        our_id: str,
        payer: str,
        payer_name: str,
        fee: str = "000000000000000",
        reasons: str = "",
        interest_fine: str = "000000000000000",
        discount: str = "000000000000000",
        paid: str = "000000000000000",
        net: str = "000000000000000",
        occurred_on: date | None = None,
        credited_on: date | None = None,
        collected: bool = False,
    ) -> None:
        if self.seq + 2 > MAX_RECORDS_IN_LOTE:
            self._close_lote()
            self._open_lote()
        dates = self.dates
        collector = f"{TEST_BANK_CODE}00001 " if collected else "00000000 "
        self.seq += 1
        t = (
            f"{self.prefix}{self.seq:05d}T {occurrence}{self.account_block}{nosso_numero:<20.20}1"
            f"{seu_numero:<15.15}{dates[due_date]}{amount}{collector}{our_id:<25.25}09"
            f"{payer:<16.16}{payer_name:<40.40}0000000000{fee}{reasons:<10.10}{'':17}"
        )
        self.seq += 1
        u = (
            f"{self.prefix}{self.seq:05d}U {occurrence}{interest_fine}{discount}"
            f"{'':0>15}{'':0>15}{paid}{net}{'':0>15}{'':0>15}{dates[occurred_on]}"
            f"{dates[credited_on]}{'':4}{'':0>8}{'':0>15}{'':30}000{'':20}{'':7}"
        )
        if len(t) != LINE or len(u) != LINE:  # a programming error, not bad input
            raise AssertionError(f"T/U of {len(t)}/{len(u)} characters")
        self.lines.append(t)
        self.lines.append(u)
        self.titles_in_lote += 1
        self.total_in_lote += int(amount)

    def bytes(self) -> bytes:
        self._close_lote()
        lines = self.lines
        lines.append(
            f"{TEST_BANK_CODE}99999{'':9}{self.lote:06d}{len(lines) + 1:06d}000000{'':205}"
        )
        return (CRLF.join(lines) + CRLF).encode("ascii")


def _payer_field(document: str) -> str:
    """T 133-148: inscription type (1 CPF, 2 CNPJ, 0 none) + 15 characters."""
    document = clean_digits(document)
    if not document:
        return f"0{'':0>15}"
    return f"{'1' if len(document) == 11 else '2'}{document:0>15}"


# -- reading a remessa ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    line: int
    p: str
    q: str = ""


def _lines(data: bytes) -> list[str]:
    if not isinstance(data, bytes | bytearray):
        raise TestBankError(_("Remessa inválida: esperado o conteúdo do arquivo."))
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise TestBankError(_("Remessa em UTF-16: salve o arquivo como texto (ASCII)."))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("latin-1")
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > LINE:
            raise TestBankError(
                _("Linha %(n)s: registro de %(size)s caracteres, esperado 240")
                % {"n": number, "size": len(line)}
            )
        lines.append(line.ljust(LINE))
    if not lines:
        raise TestBankError(_("Remessa vazia."))
    return lines


def _read_remessa(data: bytes) -> tuple[str, list[str], list[_Entry]]:
    lines = _lines(data)
    header = lines[0]
    if header[7] != "0" or not header[:3].isdigit():
        raise TestBankError(
            _("O arquivo não é uma remessa CNAB 240: cabeçalho de arquivo ausente.")
        )
    if header[142] != "1":
        raise TestBankError(
            _("O arquivo não é uma remessa CNAB 240: o cabeçalho indica um retorno.")
        )
    if lines[-1][7] != "9":
        raise TestBankError(_("Remessa truncada: trailer de arquivo ausente."))
    declared = lines[-1][23:29]
    if not declared.isdigit() or int(declared) != len(lines):
        raise TestBankError(
            _("Remessa com %(lines)s linhas, mas o trailer declara %(declared)s")
            % {"lines": len(lines), "declared": declared.strip() or "0"}
        )
    entries: list[_Entry] = []
    saw_lote = False
    for number, line in enumerate(lines[1:-1], start=2):
        kind = line[7]
        if kind == "1":
            if line[8] != "R" or line[9:11] != "01":
                raise TestBankError(
                    _("Linha %(n)s: lote que não é de remessa de cobrança (operação %(op)r)")
                    % {"n": number, "op": line[8:11]}
                )
            saw_lote = True
        elif kind == "3":
            segment = line[13]
            if segment == "P":
                entries.append(_Entry(number, line))
            elif segment == "Q":
                if not entries or entries[-1].q:
                    raise TestBankError(
                        _("Linha %(n)s: segmento Q sem o segmento P do título") % {"n": number}
                    )
                entries[-1].q = line
            # R, S, Y...: nothing the test bank checks.
        elif kind != "5":
            raise TestBankError(
                _("Linha %(n)s: tipo de registro %(kind)r desconhecido")
                % {"n": number, "kind": kind}
            )
    if not saw_lote:
        raise TestBankError(_("Remessa sem lote de cobrança."))
    return header, lines, entries


def _date(text: str) -> date | None:
    if text == "00000000" or not text.isdigit():
        return None
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


def _amount(text: str) -> Decimal | None:
    return Decimal(int(text)) / 100 if text.isdigit() else None


def testbank_process_remessa(
    *, data: bytes, known: Callable[[str], bool], today: date, nsa: int = 1
) -> TestBankAnswer:
    """Validate the titles of a CNAB 240 remessa and answer with a retorno (see module doc).

    `known(nosso_numero)` says whether the bank already holds that nosso número (file form,
    stripped); `today` is the bank's date (entries due before it are rejected); `nsa` the
    retorno's file sequence. Raises `TestBankError` when the file is not a CNAB 240 remessa.
    """
    header, _lines_read, entries = _read_remessa(data)
    santander = header[:3] == "033"
    writer = _Retorno(
        doc_type=header[17],
        document=header[18:32],
        agreement=header[32:52].strip(),
        account_block=header[52:72],
        company=header[72:102],
        nsa=nsa,
        generated_at=datetime.combine(today, time(8, 0)),
    )
    answer = TestBankAnswer(retorno=b"")
    in_file: set[str] = set()
    checked: dict[tuple[str, str], bool] = {}
    registered_here: set[str] = set()
    for entry in entries:
        p, q = entry.p, entry.q
        movement = p[15:17]
        nosso_numero = (p[44:57] if santander else p[37:57]).strip()
        our_id = p[195:220].strip()
        seu_numero = p[62:77].strip()
        due = _date(p[77:85])
        amount = _amount(p[85:100])
        doc_type = q[17:18] if q else ""
        document = q[18:33].strip() if q else ""
        if doc_type == "1":
            document = document[-11:]
        elif doc_type == "2":
            document = document[-14:]
        payer_name = q[33:73].strip() if q else ""
        title = TestBankTitle(
            nosso_numero=nosso_numero,
            our_id=our_id,
            amount=amount,
            due_date=due,
            payer_document=document,
            movement=movement,
            line=entry.line,
        )
        common = {
            "nosso_numero": nosso_numero,
            "seu_numero": seu_numero,
            "due_date": due,
            "amount": p[85:100] if p[85:100].isdigit() else f"{'':0>15}",
            "our_id": our_id,
            "payer": f"{doc_type or '0'}{document:0>15}",
            "payer_name": payer_name,
            "occurred_on": today,
        }
        if movement == "01":
            reasons = _entry_reasons(
                nosso_numero=nosso_numero,
                known=known,
                in_file=in_file,
                q=q,
                doc_type=doc_type,
                document=document,
                payer_name=payer_name,
                amount=amount,
                due=due,
                today=today,
                checked=checked,
            )
            if nosso_numero:
                in_file.add(nosso_numero)
            if reasons:
                answer.rejected.append((title, reasons))
                writer.title(occurrence="03", reasons="".join(reasons), **common)
            else:
                registered_here.add(nosso_numero)
                answer.accepted.append(title)
                writer.title(occurrence="02", **common)
            continue
        exists = bool(nosso_numero) and (nosso_numero in registered_here or known(nosso_numero))
        if movement == "02":
            if exists:
                answer.written_off.append(title)
                writer.title(occurrence="09", reasons="10", **common)
            else:
                answer.instructions_rejected.append((title, ["60"]))
                writer.title(occurrence="26", reasons="60", **common)
        elif movement in ("06", "31"):
            reasons = [] if exists else ["60"]
            if movement == "06" and exists and (due is None or due < today):
                reasons.append("16")
            if reasons:
                answer.instructions_rejected.append((title, reasons))
                occurrence = "26" if movement == "06" else "30"
                writer.title(occurrence=occurrence, reasons="".join(reasons), **common)
            else:
                answer.altered.append(title)
                writer.title(occurrence="14" if movement == "06" else "27", **common)
        else:
            answer.instructions_rejected.append((title, ["05"]))
            writer.title(occurrence="26", reasons="05", **common)
    answer.retorno = writer.bytes()
    return answer


def _entry_reasons(
    *, nosso_numero, known, in_file, q, doc_type, document, payer_name, amount, due, today, checked
) -> list[str]:
    reasons = []
    if not nosso_numero or not nosso_numero.strip("0"):
        reasons.append("08")
    elif nosso_numero in in_file or known(nosso_numero):
        reasons.append("09")
    if not q:
        reasons.append("46")
    else:
        valid = checked.get((doc_type, document))
        if valid is None:  # payers repeat: check each document once per file
            valid = checked[doc_type, document] = (doc_type == "1" and is_valid_cpf(document)) or (
                doc_type == "2" and is_valid_cnpj(document)
            )
        if not valid:
            reasons.append("46")
        if not payer_name:
            reasons.append("45")
        zip_code = q[128:136]
        if not zip_code.isdigit() or zip_code == "00000000":
            reasons.append("48")
    if amount is None or amount <= 0:
        reasons.append("20")
    if due is None or due < today:
        reasons.append("16")
    return reasons[:5]


# -- payments -------------------------------------------------------------------------------------


def testbank_payment_retorno(
    *,
    account: RemessaAccount,
    payments: list[TestBankPayment] | None = None,
    nsa: int,
    today: date,
    titles: list[TestBankPayment] | None = None,
) -> bytes:
    """A CNAB 240 retorno of bank 999 with the given events (06, 17, 09, 28) for `account`.

    (`titles` is accepted as another name for `payments`.) Net credited = amount paid − fee;
    credit date defaults to the next business day after the payment. Raises `TestBankError` for
    an unknown occurrence or an invalid amount.
    """
    events = payments if payments is not None else (titles or [])
    document = clean_digits(account.document)
    agency = (account.agency or "").strip().zfill(5)[-5:]
    conta = (account.account or "").strip().zfill(12)[-12:]
    block = (
        f"{agency}{(account.agency_digit or '0')[:1]}{conta}{(account.account_digit or '0')[:1]} "
    )
    writer = _Retorno(
        doc_type="1" if len(document) == 11 else "2",
        document=document,
        agreement=(account.agreement or "").strip(),
        account_block=block,
        company=account.company_name,
        nsa=nsa,
        generated_at=datetime.combine(today, time(8, 0)),
    )
    zero = "000000000000000"
    for event in events:
        occurrence = event.occurrence
        if occurrence not in PAYMENT_OCCURRENCES:
            raise TestBankError(
                _("Ocorrência %(code)r não simulada pelo banco de testes (06, 17, 09 ou 28)")
                % {"code": occurrence}
            )
        occurred_on = event.paid_on or today
        fee = _money(event.fee, FEE)
        common = {
            "occurrence": occurrence,
            "nosso_numero": event.nosso_numero,
            "seu_numero": event.seu_numero,
            "due_date": event.due_date,
            "amount": _money(event.amount, NOMINAL),
            "our_id": event.our_id,
            "payer": _payer_field(event.payer_document),
            "payer_name": ascii_text(event.payer_name),
            "occurred_on": occurred_on,
            "fee": fee,
        }
        if occurrence in ("06", "17"):
            paid = Decimal(event.amount_paid or 0)
            if paid <= 0:
                raise TestBankError(
                    _("Pagamento sem valor pago (nosso número %(nn)s)") % {"nn": event.nosso_numero}
                )
            net = paid - Decimal(event.fee or 0)
            writer.title(
                interest_fine=_money(event.interest_fine, INTEREST_FINE),
                discount=_money(event.discount, DISCOUNT),
                paid=_money(paid, PAID),
                net=_money(net if net > 0 else 0, CREDITED),
                credited_on=event.credited_on or next_business_day(occurred_on),
                collected=True,
                **common,
            )
        elif occurrence == "09":
            writer.title(reasons="13", **common)
        else:  # 28: fee debit, not a payment
            writer.title(paid=zero, net=zero, **common)
    return writer.bytes()


# Their names start with "test": tell pytest they are not tests when a test module imports them.
testbank_process_remessa.__test__ = False
testbank_payment_retorno.__test__ = False
