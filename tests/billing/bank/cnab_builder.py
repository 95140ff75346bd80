"""A CNAB 240 retorno writer for tests: any occurrence code, any bank header (FEBRABAN
positions, banking.md §2), so that every kind and every refusal can be exercised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


def _num(value, size: int) -> str:
    text = str(value)
    assert len(text) <= size, (value, size)
    return text.zfill(size)


def _alpha(value: str, size: int) -> str:
    return value[:size].ljust(size)


def _money(value: Decimal | None, size: int = 15) -> str:
    return _num(int((value or Decimal(0)) * 100), size)


def _date(value: date | None) -> str:
    return value.strftime("%d%m%Y") if value else "00000000"


@dataclass
class Title:
    nosso_numero: str
    occurrence: str = "06"
    our_id: str = ""
    amount: Decimal = Decimal("150.00")
    amount_paid: Decimal | None = None
    amount_credited: Decimal | None = None
    fee: Decimal | None = None
    interest_fine: Decimal | None = None
    discount: Decimal | None = None
    due_date: date | None = date(2026, 3, 20)
    occurred_on: date | None = date(2026, 3, 18)
    credited_on: date | None = date(2026, 3, 19)
    reasons: str = ""
    seu_numero: str = ""


@dataclass
class Retorno240:
    bank: str = "999"
    document: str = ""
    agreement: str = ""
    agency: str = ""
    account: str = ""
    direction: str = "2"  # 1 remessa, 2 retorno
    nsa: int = 1
    generated_on: date = date(2026, 3, 19)
    titles: list[Title] = field(default_factory=list)

    def lines(self) -> list[str]:
        b = self.bank
        header = (
            b
            + "0000"
            + "0"
            + " " * 9
            + ("2" if self.document else "0")
            + _num(self.document or "0", 14)
            + _alpha(self.agreement, 20)
            + _num(self.agency or "0", 5)
            + " "
            + _num(self.account or "0", 12)
            + " "
            + " "
            + _alpha("LOJISTA TESTE LTDA", 30)
            + _alpha("BANCO DE TESTES", 30)
            + " " * 10
            + self.direction
            + _date(self.generated_on)
            + "120000"
            + _num(self.nsa, 6)
            + "040"
            + "00000"
        )
        operation = "T" if self.direction == "2" else "R"
        lote_header = b + "0001" + "1" + operation + "01" + "  " + "030"
        details = []
        seq = 0
        for t in self.titles:
            seq += 1
            paid = t.amount_paid if t.amount_paid is not None else Decimal(0)
            tseg = (
                b
                + "0001"
                + "3"
                + _num(seq, 5)
                + "T"
                + " "
                + t.occurrence
                + " " * 20
                + _alpha(t.nosso_numero, 20)
                + "1"
                + _alpha(t.seu_numero, 15)
                + _date(t.due_date)
                + _money(t.amount)
                + "000"
                + "000000"
                + _alpha(t.our_id, 25)
                + "09"
                + "1"
                + _num("0", 15)
                + _alpha("PAGADOR", 40)
                + " " * 10
                + _money(t.fee)
                + _alpha(t.reasons, 10)
            )
            seq += 1
            useg = (
                b
                + "0001"
                + "3"
                + _num(seq, 5)
                + "U"
                + " "
                + t.occurrence
                + _money(t.interest_fine)
                + _money(t.discount)
                + _money(None)
                + _money(None)
                + _money(paid)
                + _money(t.amount_credited if t.amount_credited is not None else paid)
                + _money(None)
                + _money(None)
                + _date(t.occurred_on)
                + _date(t.credited_on)
            )
            details += [tseg, useg]
        lote_trailer = b + "0001" + "5" + " " * 9 + _num(len(details) + 2, 6)
        records = len(details) + 4
        trailer = b + "9999" + "9" + " " * 9 + _num(1, 6) + _num(records, 6)
        return [line.ljust(240) for line in [header, lote_header, *details, lote_trailer, trailer]]

    def build(self) -> bytes:
        return ("\r\n".join(self.lines()) + "\r\n").encode("ascii")
