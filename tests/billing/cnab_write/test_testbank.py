"""The test bank (999): our remessa in, a CNAB 240 retorno out, checked by slicing positions."""

from datetime import date
from decimal import Decimal

import pytest

from billing.cnab.remessa import remessa_build
from billing.testbank import (
    TestBankError,
    TestBankPayment,
    next_business_day,
    testbank_payment_retorno,
    testbank_process_remessa,
)

from .conftest import GENERATED_AT, field, lines_of, make_account, make_title

TODAY = date(2026, 1, 6)


def remessa(titles, bank="999"):
    return remessa_build(
        layout="cnab240",
        account=make_account(bank),
        titles=titles,
        nsa=7,
        generated_at=GENERATED_AT,
    )


def pairs(retorno: bytes):
    lines = lines_of(retorno)
    details = [line for line in lines if line[7] == "3"]
    assert [field(line, 14, 14) for line in details] == ["T", "U"] * (len(details) // 2)
    return lines, list(zip(details[::2], details[1::2], strict=True))


def check_envelope(lines, nsa="000003"):
    assert all(len(line) == 240 for line in lines)
    header, lote = lines[0], lines[1]
    assert field(header, 1, 8) == "99900000"
    assert field(header, 103, 132).rstrip() == "BANCO DE TESTES"
    assert field(header, 143, 143) == "2"
    assert field(header, 158, 163) == nsa
    assert field(lote, 8, 11) == "1T01"
    assert field(lines[-2], 8, 8) == "5"
    assert int(field(lines[-2], 18, 23)) == len(lines) - 2
    assert field(lines[-1], 1, 8) == "99999999"
    assert field(lines[-1], 18, 23) == "000001"
    assert int(field(lines[-1], 24, 29)) == len(lines)


def test_round_trip_accepts_a_good_title():
    answer = testbank_process_remessa(
        data=remessa([make_title()]), known=lambda nn: False, today=TODAY, nsa=3
    )
    assert answer.rejected == []
    [title] = answer.accepted
    assert title.nosso_numero == "00000000000000000123"
    assert title.our_id == "PB42"
    assert title.amount == Decimal("199.90")
    assert title.due_date == date(2026, 2, 10)
    assert title.payer_document == "52998224725"
    lines, [(t, u)] = pairs(answer.retorno)
    check_envelope(lines)
    assert field(header := lines[0], 19, 32) == "11222333000181"
    assert field(header, 53, 72) == field(t, 18, 37)
    assert field(t, 16, 17) == field(u, 16, 17) == "02"
    assert field(t, 38, 57) == "00000000000000000123"
    assert field(t, 59, 73).rstrip() == "7-3"
    assert field(t, 74, 81) == "10022026"
    assert field(t, 82, 96) == "000000000019990"
    assert field(t, 106, 130).rstrip() == "PB42"
    assert field(t, 133, 148) == "1000052998224725"
    assert field(t, 214, 223).strip() == ""
    assert field(u, 78, 92) == "0" * 15
    assert field(u, 138, 145) == "06012026"
    assert field(u, 146, 153) == "00000000"


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"payer_document": "52998224724"}, ["46"]),  # CPF with a wrong check digit
        ({"payer_document": "11222333000182"}, ["46"]),  # CNPJ with a wrong check digit
        ({"payer_zip": "00000000"}, ["48"]),
        ({"payer_name": "   "}, ["45"]),
        ({"due_date": date(2026, 1, 5)}, ["16"]),
        ({"payer_zip": "00000000", "payer_name": ""}, ["45", "48"]),
    ],
)
def test_invalid_entries_are_rejected_with_c047_reasons(changes, reasons):
    answer = testbank_process_remessa(
        data=remessa([make_title(**changes)]), known=lambda nn: False, today=TODAY
    )
    assert answer.accepted == []
    [(title, got)] = answer.rejected
    assert got == reasons
    _lines, [(t, u)] = pairs(answer.retorno)
    assert field(t, 16, 17) == field(u, 16, 17) == "03"
    assert field(t, 214, 223).rstrip() == "".join(reasons)


def test_zero_amount_is_rejected():
    # The writer refuses a zero amount, so the test bank is fed a hand-edited remessa.
    data = bytearray(remessa([make_title()]))
    p_start = data.index(b"P 01")  # P at 14, movement 16-17
    line_start = p_start - 13
    data[line_start + 85 : line_start + 100] = b"0" * 15
    answer = testbank_process_remessa(data=bytes(data), known=lambda nn: False, today=TODAY)
    assert answer.rejected[0][1] == ["20"]


def test_duplicates_in_file_and_known():
    titles = [make_title(nosso_numero=1), make_title(nosso_numero=1), make_title(nosso_numero=2)]
    answer = testbank_process_remessa(
        data=remessa(titles), known=lambda nn: nn.endswith("2"), today=TODAY
    )
    assert [t.nosso_numero[-1] for t in answer.accepted] == ["1"]
    assert [(t.nosso_numero[-1], r) for t, r in answer.rejected] == [("1", ["09"]), ("2", ["09"])]
    _lines, found = pairs(answer.retorno)
    assert [field(t, 16, 17) for t, _u in found] == ["02", "03", "03"]


def test_write_off_and_due_date_change():
    titles = [
        make_title(movement="02", nosso_numero=10),
        make_title(movement="02", nosso_numero=11),
        make_title(movement="06", nosso_numero=10, due_date=date(2026, 3, 1)),
    ]
    answer = testbank_process_remessa(
        data=remessa(titles), known=lambda nn: nn.endswith("10"), today=TODAY
    )
    assert [t.nosso_numero[-2:] for t in answer.written_off] == ["10"]
    assert [(t.nosso_numero[-2:], r) for t, r in answer.instructions_rejected] == [("11", ["60"])]
    assert [t.due_date for t in answer.altered] == [date(2026, 3, 1)]
    _lines, found = pairs(answer.retorno)
    assert [(field(t, 16, 17), field(t, 214, 223).strip()) for t, _u in found] == [
        ("09", "10"),
        ("26", "60"),
        ("14", ""),
    ]


def test_banco_do_brasil_remessa_is_read_too():
    answer = testbank_process_remessa(
        data=remessa([make_title()], bank="001"), known=lambda nn: False, today=TODAY
    )
    assert answer.accepted[0].nosso_numero == "12345670000000123"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "vazia"),
        ("\ufeffx".encode("utf-16"), "UTF-16"),
        (b"01REMESSA01COBRANCA".ljust(400, b" "), "400"),
    ],
)
def test_not_a_remessa(data, message):
    with pytest.raises(TestBankError, match=message):
        testbank_process_remessa(data=data, known=lambda nn: False, today=TODAY)


def test_a_retorno_or_a_truncated_file_is_refused():
    retorno = testbank_process_remessa(
        data=remessa([make_title()]), known=lambda nn: False, today=TODAY
    ).retorno
    with pytest.raises(TestBankError, match="retorno"):
        testbank_process_remessa(data=retorno, known=lambda nn: False, today=TODAY)
    truncated = b"\r\n".join(remessa([make_title()]).split(b"\r\n")[:-2])
    with pytest.raises(TestBankError, match="truncada"):
        testbank_process_remessa(data=truncated, known=lambda nn: False, today=TODAY)


def test_payment_retorno_occurrences():
    base = {
        "our_id": "PB42",
        "amount": Decimal("100.00"),
        "due_date": date(2026, 2, 10),
        "payer_document": "52998224725",
        "payer_name": "José",
    }
    payments = [
        TestBankPayment(
            nosso_numero="1".zfill(20),
            amount_paid=Decimal("101.50"),
            interest_fine=Decimal("3.50"),
            discount=Decimal("2.00"),
            fee=Decimal("1.20"),
            paid_on=date(2026, 2, 13),  # a Friday
            **base,
        ),
        TestBankPayment(
            nosso_numero="2".zfill(20),
            amount_paid=Decimal("80"),
            paid_on=date(2026, 2, 9),
            credited_on=date(2026, 2, 11),
            occurrence="17",
            **base,
        ),
        TestBankPayment(nosso_numero="3".zfill(20), occurrence="09", **base),
        TestBankPayment(nosso_numero="4".zfill(20), occurrence="28", fee=Decimal("2.5"), **base),
    ]
    retorno = testbank_payment_retorno(
        account=make_account("999"), payments=payments, nsa=9, today=date(2026, 2, 14)
    )
    lines, found = pairs(retorno)
    check_envelope(lines, nsa="000009")
    (t1, u1), (t2, u2), (t3, u3), (t4, u4) = found
    assert field(t1, 16, 17) == "06"
    assert field(t1, 38, 57) == "1".zfill(20)
    assert field(t1, 82, 96) == "000000000010000"
    assert field(t1, 106, 130).rstrip() == "PB42"
    assert field(t1, 199, 213) == "000000000000120"
    assert field(u1, 18, 32) == "000000000000350"
    assert field(u1, 33, 47) == "000000000000200"
    assert field(u1, 78, 92) == "000000000010150"
    assert field(u1, 93, 107) == "000000000010030"
    assert field(u1, 138, 145) == "13022026"
    assert field(u1, 146, 153) == next_business_day(date(2026, 2, 13)).strftime("%d%m%Y")
    assert field(t2, 16, 17) == "17"
    assert field(u2, 78, 92) == "000000000008000"
    assert field(u2, 146, 153) == "11022026"
    assert field(t3, 16, 17) == "09"
    assert field(u3, 78, 92) == "0" * 15
    assert field(u3, 138, 145) == "14022026"
    assert field(t4, 16, 17) == "28"
    assert field(t4, 199, 213) == "000000000000250"
    assert field(u4, 78, 92) == "0" * 15


def test_payment_retorno_refuses_unknown_occurrence_and_bad_amounts():
    base = {"nosso_numero": "1", "our_id": "", "amount": Decimal(1), "due_date": TODAY}
    account = make_account("999")
    with pytest.raises(TestBankError, match="Ocorrência"):
        testbank_payment_retorno(
            account=account, payments=[TestBankPayment(occurrence="02", **base)], nsa=1, today=TODAY
        )
    with pytest.raises(TestBankError, match="valor pago"):
        testbank_payment_retorno(
            account=account, payments=[TestBankPayment(**base)], nsa=1, today=TODAY
        )
    with pytest.raises(TestBankError, match="Desconto"):
        testbank_payment_retorno(
            account=account,
            payments=[TestBankPayment(amount_paid=Decimal(1), discount=Decimal("-1"), **base)],
            nsa=1,
            today=TODAY,
        )


def test_next_business_day_skips_weekends_and_holidays():
    assert next_business_day(date(2026, 2, 13)) == date(2026, 2, 16)  # Friday -> Monday
    assert next_business_day(date(2026, 4, 20)) == date(2026, 4, 22)  # Tiradentes on the 21st
    assert next_business_day(date(2026, 12, 24)) == date(2026, 12, 28)  # Christmas, weekend
