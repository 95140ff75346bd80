"""Golden tests on every retorno in tests/data/cnab/retorno and every remessa sample.

The expected values were read BY HAND from the files at the layout positions written next to
them (banking.md sections 2 and 3), not snapshotted from the parser's output.
"""

from datetime import date
from decimal import Decimal

import pytest

from billing.cnab import PAYMENT_KINDS, Kind, parse_file
from tests.billing.cnab import REMESSA, RETORNO, read

D = Decimal


def test_every_retorno_sample_has_a_golden_test():
    tested = {"bb_240.ret", "caixa_240.ret", "santander_240.ret", "itau_400.ret"}
    tested |= {"bradesco_400.ret", "bb_400.ret", "fake_999_400.ret"}
    tested |= {"santander_400.ret", "santander_400_pix.ret", "santander_240_pix.ret"}
    tested |= {"cresol_240.ret", "santander_240_mixed_eol.ret"}
    assert {path.name for path in RETORNO.iterdir()} == tested


def test_bb_240_five_payments_and_a_241_character_line():
    data = read("bb_240.ret")
    assert len(data.split(b"\n")[1]) == 241  # the lote header carries one extra character
    parsed = parse_file(data)
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab240", "retorno", "001")
    assert parsed.nsa == 257  # header 158-163 "000257"
    assert parsed.generated_on == date(2011, 3, 21)  # header 144-151 "21032011"
    assert parsed.line_count == 14  # trailer 24-29 "000014"
    # T 38-54 (BB: 17 digits), T 74-81 due, T 82-96 nominal, U 78-92 paid, U 93-107 credited,
    # T 199-213 fee, U 138-145 occurrence date, U 146-153 credit date.
    expected = [
        ("32948600000000196", date(2011, 3, 23), "40.00", "35.00"),
        ("32948600000000236", date(2011, 3, 25), "30.00", "25.00"),
        ("32948600000000244", date(2011, 3, 23), "15.00", "10.00"),
        ("32948600000000249", date(2011, 3, 23), "15.00", "10.00"),
        ("32948600000005048", date(2011, 4, 1), "28.80", "23.80"),
    ]
    assert [e.line for e in parsed.events] == [3, 5, 7, 9, 11]
    for event, (nosso_numero, due, amount, credited) in zip(parsed.events, expected, strict=True):
        assert event.nosso_numero == nosso_numero
        assert (event.occurrence, event.kind, event.reasons) == ("06", Kind.PAID, [])
        assert event.due_date == due
        assert event.amount == event.amount_paid == D(amount)
        assert event.amount_credited == D(credited)
        assert event.fee == D("5.00")
        assert (event.interest_fine, event.discount) == (D("0.00"), D("0.00"))
        assert (event.occurred_on, event.credited_on) == (date(2011, 3, 21), date(2011, 3, 23))
    assert parsed.totals() == {"records": 5, "paid": "128.80"}


def test_caixa_240_nosso_numero_of_17_digits_and_discounts():
    parsed = parse_file(read("caixa_240.ret"))
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab240", "retorno", "104")
    assert parsed.nsa == 1622
    # T 40-56: modalidade 24 + 15 digits; U 33-47 discount, U 78-92 paid; T 199-213 fee.
    expected = [
        ("24000000011136997", "80.00", "80.00", "0.00", "1.25", date(2014, 1, 2)),
        ("24000000011138197", "80.00", "80.00", "0.00", "1.25", date(2014, 1, 5)),
        ("24000000011137889", "80.00", "70.00", "10.00", "1.25", date(2014, 1, 10)),
        ("24000000011137125", "80.00", "70.00", "10.00", "1.25", date(2014, 1, 10)),
        ("24000000000022247", "80.00", "70.00", "10.00", "1.25", date(2014, 1, 15)),
        ("24000000011136916", "80.00", "70.00", "10.00", "1.25", date(2014, 1, 10)),
        ("24000000011136898", "80.00", "80.00", "0.00", "1.25", date(2014, 1, 10)),
        ("24000000000031999", "480.00", "420.00", "60.00", "1.25", date(2014, 1, 10)),
        ("24000000000030572", "80.00", "70.00", "10.00", "2.70", date(2014, 1, 10)),
    ]
    assert len(parsed.events) == len(expected)
    for event, (nosso_numero, amount, paid, discount, fee, due) in zip(
        parsed.events, expected, strict=True
    ):
        assert (event.nosso_numero, event.occurrence, event.kind) == (nosso_numero, "06", "paid")
        assert event.amount == D(amount)
        assert event.amount_paid == event.amount_credited == D(paid)  # paid != nominal: kept
        assert event.discount == D(discount)
        assert event.fee == D(fee)
        assert event.due_date == due
        assert (event.occurred_on, event.credited_on) == (date(2014, 1, 6), date(2014, 1, 7))
    assert parsed.totals() == {"records": 9, "paid": "1010.00"}


def test_santander_240_reads_the_shifted_t_segment():
    parsed = parse_file(read("santander_240.ret"))
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab240", "retorno", "033")
    assert parsed.nsa == 77
    [event] = parsed.events
    # Santander T: nosso número 41-53, due 70-77, nominal 78-92, fee 194-208. Read with the
    # generic positions (82-96) this R$ 10,00 title would be R$ 100.003,30.
    assert event.nosso_numero == "0000000001040"
    assert event.due_date == date(2014, 6, 4)
    assert event.amount == D("10.00")
    assert event.fee == D("3.24")
    assert (event.occurrence, event.kind) == ("17", Kind.PAID_AFTER_WRITE_OFF)
    # Its U is standard: paid 78-92, credited 93-107, dates 138-145 / 146-153.
    assert event.amount_paid == event.amount_credited == D("11.00")
    assert (event.occurred_on, event.credited_on) == (date(2014, 6, 4), date(2014, 6, 5))
    assert parsed.totals() == {"records": 1, "paid": "11.00"}


def test_itau_400_payments_and_a_payer_allegation():
    parsed = parse_file(read("itau_400.ret"))
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab400", "retorno", "341")
    assert parsed.generated_on == date(2013, 8, 22)  # header 95-100 "220813"
    # Itaú: nosso número 63-70, occurrence 109-110, nominal 153-165, fee 176-188,
    # valor principal 254-266, credit date 296-301.
    expected = [
        ("00231327", "06", Kind.PAID, "389.75", "209.97"),
        ("00123442", "25", Kind.INFO, "565.00", None),  # alegação do pagador: not a payment
        ("00211842", "06", Kind.PAID, "395.41", "392.09"),
        ("00237636", "06", Kind.PAID, "545.60", "340.67"),
    ]
    for event, (nosso_numero, occurrence, kind, amount, paid) in zip(
        parsed.events, expected, strict=True
    ):
        assert (event.nosso_numero, event.occurrence, event.kind) == (
            nosso_numero,
            occurrence,
            kind,
        )
        assert event.amount == D(amount)
        assert event.amount_paid == (D(paid) if paid else None)
        assert event.fee == D("3.33")
        assert (event.occurred_on, event.credited_on) == (date(2013, 6, 20), date(2013, 6, 21))
        assert event.reasons == []
    assert parsed.totals() == {"records": 4, "paid": "942.73"}


@pytest.mark.parametrize(
    ("name", "bank"), [("bradesco_400.ret", "237"), ("fake_999_400.ret", "999")]
)
def test_bradesco_400_and_the_libraries_fake_bank(name, bank):
    parsed = parse_file(read(name))
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab400", "retorno", bank)
    assert parsed.nsa == 42  # header 109-113 aviso bancário "00042"
    kinds = [(e.occurrence, e.kind) for e in parsed.events]
    assert (
        kinds
        == [("02", Kind.REGISTERED), ("06", Kind.PAID)] + [("17", Kind.PAID_AFTER_WRITE_OFF)] * 5
    )
    registered, paid, *after = parsed.events
    # Bradesco: nosso número 71-82, nominal 153-165, fee 176-188, paid 254-266.
    assert registered.nosso_numero == paid.nosso_numero == "000000000097"
    assert registered.amount == D("5.00") and registered.fee == D("2.52")
    assert registered.amount_paid is None
    assert registered.due_date == date(2012, 4, 12)
    assert paid.amount_paid == D("5.00") and paid.credited_on == date(2012, 4, 13)
    assert [e.nosso_numero for e in after] == [
        "000000000186",
        "000000000194",
        "000000000208",
        "000000000216",
        "000000000224",
    ]
    assert all(e.amount_paid == D("0.02") and e.due_date is None for e in after)
    assert parsed.totals() == {"records": 7, "paid": "5.10"}


def test_bb_400_cbr643_detail_type_7():
    parsed = parse_file(read("bb_400.ret"))
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab400", "retorno", "001")
    assert parsed.nsa == 17  # header 101-107
    [event] = parsed.events
    # CBR643: nosso número 64-80, comando 109-110, credit date 176-181, fee 182-188,
    # received 254-266, valor do lançamento 306-318.
    assert (event.nosso_numero, event.occurrence, event.kind) == ("11122450000000290", "06", "paid")
    assert event.amount == event.amount_paid == D("25.00")
    assert event.fee == D("9.00")
    assert event.amount_credited == D("16.00")
    assert event.due_date is None  # 147-152 "000000"
    assert (event.occurred_on, event.credited_on) == (date(2015, 9, 8), date(2015, 9, 10))


REMESSAS = [
    ("remessa-banco_brasil-cnab240.rem", "cnab240", "001", "12345670000000123"),
    ("remessa-caixa-cnab240.rem", "cnab240", "104", "14000000000000123"),
    ("remessa-santander-cnab240.rem", "cnab240", "033", "0000012345679"),
    ("remessa-banco-brasil-cnab400.rem", "cnab400", "001", "12345670000000123"),
    ("remessa-bradesco-cnab400.rem", "cnab400", "237", "00000000123P"),
    ("remessa-itau-cnab400.rem", "cnab400", "341", "00000123"),
    ("remessa-santander-cnab400.rem", "cnab400", "033", "00000123"),
]


def test_every_remessa_sample_is_listed():
    assert {path.name for path in REMESSA.iterdir()} == {row[0] for row in REMESSAS}


@pytest.mark.parametrize(("name", "layout", "bank", "nosso_numero"), REMESSAS)
def test_remessas_are_read_as_remessas(name, layout, bank, nosso_numero):
    parsed = parse_file(read(name))
    assert (parsed.layout, parsed.direction, parsed.bank_code) == (layout, "remessa", bank)
    [event] = parsed.events
    assert event.kind == Kind.INFO and event.kind not in PAYMENT_KINDS
    assert event.occurrence == "01"  # entrada de título
    assert event.nosso_numero == nosso_numero
    assert event.amount == D("199.90")
    assert event.due_date == date(2015, 7, 14)
    assert parsed.totals() == {"records": 1, "paid": "0.00"}


@pytest.mark.parametrize("name", ["santander_400.ret", "santander_400_pix.ret"])
def test_santander_400_with_a_short_header_and_a_pix_record(name):
    data = read(name)
    assert len(data.split(b"\n")[0]) == 397  # the header is short in its filler
    parsed = parse_file(data)
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab400", "retorno", "033")
    assert parsed.generated_on == date(2016, 10, 20)  # header 95-100 "201016"
    assert parsed.line_count == (3 if name == "santander_400.ret" else 4)  # trailer 395-400
    # 63-70 nosso número, 109-110 occurrence, 111-116 date, 153-165 amount; the 02 carries
    # 100.00 in the paid columns (254-266), which is not a payment.
    (event,) = parsed.events
    assert (event.nosso_numero, event.occurrence, event.kind) == ("00000019", "02", Kind.REGISTERED)
    assert (event.occurred_on, event.amount, event.amount_paid) == (
        date(2016, 10, 20),
        D("100.00"),
        None,
    )
    assert parsed.totals() == {"records": 1, "paid": "0.00"}


def test_santander_240_payment_followed_by_a_pix_segment_y():
    parsed = parse_file(read("santander_240_pix.ret"))
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab240", "retorno", "033")
    # Shifted T: nosso número 41-53; U 78-92 paid 11.00, U 138-145 / 146-153 dates.
    (event,) = parsed.events
    assert (event.nosso_numero, event.occurrence, event.kind) == ("0000000001040", "06", Kind.PAID)
    assert (event.amount, event.amount_paid) == (D("10.00"), D("11.00"))
    assert (event.occurred_on, event.credited_on) == (date(2014, 6, 4), date(2014, 6, 5))
    assert parsed.totals() == {"records": 1, "paid": "11.00"}


def test_cresol_240_read_with_febraban_tables():
    parsed = parse_file(read("cresol_240.ret"))
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab240", "retorno", "133")
    paid, rejected = parsed.events
    # T 38-57 nosso número, T 82-96 amount, T 199-213 fee; U 78-92 paid, 93-107 credited.
    assert (paid.nosso_numero, paid.kind) == ("00000000000000000001", Kind.PAID)
    assert (paid.amount, paid.amount_paid, paid.amount_credited, paid.fee) == (
        D("150.00"),
        D("150.00"),
        D("147.50"),
        D("2.50"),
    )
    assert (paid.occurred_on, paid.credited_on) == (date(2026, 3, 11), date(2026, 3, 12))
    assert paid.reasons == []  # T 214-223 "04..." is a liquidation channel, not a reason
    # The 03's motivos (T 214-223 "0803000000"): C047 08 and 03.
    assert (rejected.occurrence, rejected.kind, rejected.amount_paid) == ("03", Kind.REJECTED, None)
    assert [r.code for r in rejected.reasons] == ["08", "03"]
    assert parsed.totals() == {"records": 2, "paid": "150.00"}


def test_santander_240_with_crlf_records_and_bare_lf_blank_lines():
    data = read("santander_240_mixed_eol.ret")
    assert data.count(b"\r\n") == 16 and data.count(b"\n") == 26  # 10 blank lines end in LF
    parsed = parse_file(data)
    assert (parsed.layout, parsed.direction, parsed.bank_code) == ("cnab240", "retorno", "033")
    # Shifted T: nosso número 41-53, due 70-77, amount 78-92; U 78-92 paid, 138-145, 146-153.
    expected = [
        ("0000000000001", "02", Kind.REGISTERED, date(2016, 5, 5), "10.25", None),
        ("0000000000002", "02", Kind.REGISTERED, date(2016, 5, 5), "1058.77", None),
        ("0000000000003", "02", Kind.REGISTERED, date(2016, 4, 28), "1.26", None),
        ("0000000000004", "02", Kind.REGISTERED, date(2016, 4, 28), "1.27", None),
        ("0000000000004", "06", Kind.PAID, date(2016, 4, 28), "1.27", "1.27"),
        ("0000000289647", "17", Kind.PAID_AFTER_WRITE_OFF, date(2016, 4, 28), "1.26", "1.26"),
    ]
    got = [
        (e.nosso_numero, e.occurrence, e.kind, e.due_date, e.amount, e.amount_paid)
        for e in parsed.events
    ]
    assert got == [
        (nn, occ, kind, due, D(amount), None if paid is None else D(paid))
        for nn, occ, kind, due, amount, paid in expected
    ]
    assert all(e.segments == "TU" for e in parsed.events)
    assert parsed.events[4].credited_on == date(2016, 4, 29)
    assert parsed.totals() == {"records": 6, "paid": "2.53"}
