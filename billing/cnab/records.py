"""What a CNAB file says, independent of layout and bank.

Pure data: no database, no Django. The readers (cnab240.py, cnab400.py) build these; the
remessa writers and the test bank import them. Field names are fixed (other modules rely on
them); new fields may be added at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Kind(StrEnum):
    """What an occurrence means for the portal (one per retorno record)."""

    REGISTERED = "registered"
    REJECTED = "rejected"
    PAID = "paid"
    PAID_AFTER_WRITE_OFF = "paid_after_write_off"
    WRITTEN_OFF = "written_off"
    INSTRUCTION_CONFIRMED = "instruction_confirmed"
    INSTRUCTION_REJECTED = "instruction_rejected"
    FEE = "fee"
    INFO = "info"
    UNKNOWN = "unknown"


# Only these kinds are payments: the "amount paid" columns of any other record are ignored.
PAYMENT_KINDS = frozenset({Kind.PAID, Kind.PAID_AFTER_WRITE_OFF})
# Kinds that always carry at least one Reason (a generic one when the file gives none).
REJECTION_KINDS = frozenset({Kind.REJECTED, Kind.INSTRUCTION_REJECTED})


class CnabError(ValueError):
    """A file we cannot read. ``str(e)`` is ONE line of plain Portuguese naming what is wrong,
    e.g. "arquivo truncado: trailer ausente" or "CNAB 400 do banco 041 não suportado"."""


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # as in the file ("00".."99", or bank-specific); "" when the file gives none
    text: str  # plain Portuguese ("CEP inválido")

    def as_json(self) -> dict:
        return {"code": self.code, "text": self.text}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(slots=True)
class BankEvent:
    """One title of a file: a T/U pair (CNAB 240 retorno), a P/Q group (CNAB 240 remessa, kind
    INFO) or a detail record (CNAB 400)."""

    line: int  # 1-based line number of its first record (T / P / detail) in the file
    bank_code: str  # "001", "341", "999"...
    nosso_numero: str  # as in the file, spaces stripped (digits, maybe with DV / prefix)
    our_id: str  # "uso da empresa" (240 T 106-130 / P 196-220; 400 38-62), stripped
    seu_numero: str  # document number, stripped
    occurrence: str  # the two characters of the file ("06"); movement code in a remessa
    kind: Kind
    reasons: list[Reason]  # non-empty for REJECTED and INSTRUCTION_REJECTED
    due_date: date | None
    amount: Decimal | None  # nominal
    amount_paid: Decimal | None  # ONLY for payment kinds; None otherwise
    amount_credited: Decimal | None  # net credited (payment kinds only)
    fee: Decimal | None  # tarifa (any kind; for FEE it is the debit)
    interest_fine: Decimal | None  # acréscimos (juros + multa), payment kinds
    discount: Decimal | None  # desconto (+ abatimento), payment kinds
    occurred_on: date | None
    credited_on: date | None
    raw: str  # the raw record line(s) joined with "\n" (normalised, padded)
    label: str = ""  # the occurrence's meaning in plain Portuguese ("Liquidação")
    segments: str = ""  # the segment letters / record types read for this title ("TU", "PQR")

    def as_json(self) -> dict:
        return {
            "line": self.line,
            "nosso_numero": self.nosso_numero,
            "our_id": self.our_id,
            "seu_numero": self.seu_numero,
            "occurrence": self.occurrence,
            "kind": str(self.kind),
            "label": self.label,
            "reasons": [reason.as_json() for reason in self.reasons],
            "due_date": _iso(self.due_date),
            "amount": _money(self.amount),
            "amount_paid": _money(self.amount_paid),
            "amount_credited": _money(self.amount_credited),
            "fee": _money(self.fee),
            "interest_fine": _money(self.interest_fine),
            "discount": _money(self.discount),
            "occurred_on": _iso(self.occurred_on),
            "credited_on": _iso(self.credited_on),
        }


@dataclass(slots=True)
class ParsedFile:
    layout: str  # "cnab240" | "cnab400"
    direction: str  # "retorno" | "remessa"
    bank_code: str  # three digits from the header
    bank_name: str
    nsa: int | None  # file sequence number where the layout has one
    generated_on: date | None
    beneficiary_document: str  # digits ("" if the layout has none)
    agreement: str  # convênio / código do beneficiário as in the header (stripped)
    agency: str  # digits, leading zeros stripped ("" when absent)
    account: str  # digits, leading zeros stripped ("" when absent)
    events: list[BankEvent] = field(default_factory=list)
    line_count: int = 0  # non-empty lines read

    def paid_total(self) -> Decimal:
        total = Decimal("0.00")
        for event in self.events:
            if event.kind in PAYMENT_KINDS and event.amount_paid is not None:
                total += event.amount_paid
        return total

    def totals(self) -> dict:
        return {"records": len(self.events), "paid": f"{self.paid_total():.2f}"}

    def as_json(self) -> dict:
        return {
            "layout": self.layout,
            "direction": self.direction,
            "bank_code": self.bank_code,
            "bank_name": self.bank_name,
            "nsa": self.nsa,
            "generated_on": _iso(self.generated_on),
            "beneficiary_document": self.beneficiary_document,
            "agreement": self.agreement,
            "agency": self.agency,
            "account": self.account,
            "line_count": self.line_count,
            "records": [event.as_json() for event in self.events],
            "totals": self.totals(),
        }
