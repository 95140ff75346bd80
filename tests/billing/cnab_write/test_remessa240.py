"""Our CNAB 240 remessas, field by field (positions from docs/banking.md §2, sliced here
independently of the writer) and against the structure of brcobranca's samples."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.cnab import remessa240
from billing.cnab.remessa import RemessaError, remessa_build

from .conftest import GENERATED_AT, field, lines_of, make_account, make_title


def build(bank="999", titles=None, **account_changes):
    return lines_of(
        remessa_build(
            layout="cnab240",
            account=make_account(bank, **account_changes),
            titles=titles if titles is not None else [make_title()],
            nsa=7,
            generated_at=GENERATED_AT,
        )
    )


def test_generic_file_field_by_field():
    lines = build("999")
    assert [len(line) for line in lines] == [240] * 7
    header, lote, p, q, r, lote_trailer, trailer = lines
    assert field(header, 1, 8) == "99900000"
    assert field(header, 18, 18) == "2"
    assert field(header, 19, 32) == "11222333000181"
    assert field(header, 33, 52).strip() == "1234567"
    assert field(header, 53, 71) == "012343000000012345" + "5"
    assert field(header, 73, 102).strip() == "ACADEMIA MOVIMENTO LTDA"
    assert field(header, 103, 132).strip() == "BANCO DE TESTES"
    assert field(header, 143, 143) == "1"
    assert field(header, 144, 151) == "05012026"
    assert field(header, 152, 157) == "101112"
    assert field(header, 158, 163) == "000007"
    assert field(header, 164, 166) == "087"

    assert field(lote, 1, 8) == "99900011"
    assert field(lote, 9, 11) == "R01"
    assert field(lote, 14, 16) == "045"
    assert field(lote, 19, 33) == "011222333000181"
    assert field(lote, 184, 191) == "00000007"
    assert field(lote, 192, 199) == "05012026"

    assert field(p, 1, 8) == "99900013"
    assert field(p, 9, 14) == "00001P"
    assert field(p, 16, 17) == "01"
    assert field(p, 38, 57) == "00000000000000000123"
    assert field(p, 63, 77) == "7-3            "
    assert field(p, 78, 85) == "10022026"
    assert field(p, 86, 100) == "000000000019990"
    assert field(p, 107, 109) == "02N"
    assert field(p, 110, 117) == "05012026"
    # 1 % a month of 199.90 = 0.0666/day -> 0.07, from the day after the due date.
    assert field(p, 118, 118) == "1"
    assert field(p, 119, 126) == "11022026"
    assert field(p, 127, 141) == "000000000000007"
    assert field(p, 196, 220) == "PB42" + " " * 21
    assert field(p, 221, 223) == "300"
    assert field(p, 224, 227) == "1030"
    assert field(p, 228, 229) == "09"

    assert field(q, 9, 14) == "00002Q"
    assert field(q, 16, 17) == "01"
    assert field(q, 18, 18) == "1"
    assert field(q, 19, 33) == "000052998224725"
    assert field(q, 34, 73).rstrip() == "JOSE DA CONCEICAO AVILA"
    assert field(q, 74, 113).rstrip() == "RUA SAO JOAO, 12"
    assert field(q, 114, 128).rstrip() == "CENTRO"
    assert field(q, 129, 136) == "01310100"
    assert field(q, 137, 151).rstrip() == "SAO PAULO"
    assert field(q, 152, 153) == "SP"

    assert field(r, 9, 14) == "00003R"
    assert field(r, 66, 66) == "2"
    assert field(r, 67, 74) == "11022026"
    assert field(r, 75, 89) == "000000000000200"

    assert field(lote_trailer, 1, 8) == "99900015"
    assert field(lote_trailer, 18, 23) == "000005"
    assert field(trailer, 1, 8) == "99999999"
    assert field(trailer, 18, 23) == "000001"
    assert field(trailer, 24, 29) == "000007"


def test_no_interest_no_fine_and_bank_default_write_off():
    title = make_title(
        late_fee_percent=Decimal(0), monthly_interest_percent=Decimal(0), write_off_days=None
    )
    lines = build("999", [title])
    p = lines[2]
    assert field(p, 118, 141) == "3" + "0" * 23  # isento
    assert field(p, 224, 227) == "2000"  # não baixar / não devolver
    assert [field(line, 14, 14) for line in lines[2:-2]] == ["P", "Q"]  # no R without a fine


def test_other_movements_and_alphanumeric_cnpj():
    titles = [
        make_title(movement="02", nosso_numero=5, payer_document="12.ABC.345/01DE-35"),
        make_title(movement="06", nosso_numero=6, due_date=date(2026, 3, 1)),
    ]
    lines = build("999", titles)
    p1, q1, p2, q2 = lines[2:6]  # R only with 01
    assert field(p1, 16, 17) == field(q1, 16, 17) == "02"
    assert field(q1, 18, 33) == "20" + "12ABC34501DE35"
    assert field(p2, 16, 17) == "06"
    assert field(p2, 78, 85) == "01032026"
    assert field(lines[-2], 18, 23) == "000006"


def test_banco_do_brasil_specifics():
    header, lote, p, *_rest = build("001")
    assert field(header, 1, 3) == "001"
    assert field(header, 33, 52) == "001234567" + "0014" + "17" + "019" + "  "
    assert field(lote, 34, 53) == field(header, 33, 52)
    assert field(header, 164, 166) == "083"
    assert field(lote, 14, 16) == "042"
    assert field(p, 38, 57) == "12345670000000123   "
    assert field(p, 58, 58) == "7"  # carteira 17


def test_santander_specifics():
    lines = build("033")
    header, lote, p = lines[:3]
    assert field(header, 17, 17) == "2"
    assert field(header, 18, 32) == "011222333000181"
    assert field(header, 33, 47) == "000100001234567"
    assert field(lote, 54, 68) == "000100001234567"
    assert field(header, 164, 166) == "040"
    assert field(lote, 14, 16) == "030"
    assert field(p, 18, 21) == "1234"
    assert field(p, 23, 32) == "0000123455"
    assert field(p, 33, 42) == "0000123455"
    nn = field(p, 45, 57)
    assert nn[:12] == "000000000123"
    assert field(p, 63, 77).strip() == "7-3"
    assert field(p, 78, 85) == "10022026"
    assert field(p, 224, 227) == "1030"
    default = build("033", [make_title(write_off_days=None)])[2]
    assert field(default, 224, 227) == "3000"  # utilizar perfil do beneficiário


@pytest.mark.parametrize(
    ("bank", "sample"),
    [
        ("001", "remessa-banco_brasil-cnab240.rem"),
        ("033", "remessa-santander-cnab240.rem"),
    ],
)
def test_structure_matches_library_sample(bank, sample, sample_lines):
    ours = build(bank)
    theirs = sample_lines(sample)
    assert [len(line) for line in ours] == [len(line) for line in theirs] == [240] * 7
    kinds = [(field(line, 8, 8), field(line, 14, 14) if line[7] == "3" else "") for line in ours]
    assert kinds == [
        (field(line, 8, 8), field(line, 14, 14) if line[7] == "3" else "") for line in theirs
    ]
    for ours_line, their_line in zip(ours, theirs, strict=True):
        assert field(ours_line, 1, 3) == field(their_line, 1, 3) == bank
        assert field(ours_line, 4, 7) == field(their_line, 4, 7)
    # Header: direction and layout version; lote: operation, service and version.
    assert field(ours[0], 143, 143) == field(theirs[0], 143, 143) == "1"
    assert field(ours[0], 164, 166) == field(theirs[0], 164, 166)
    assert field(ours[1], 9, 17) == field(theirs[1], 9, 17)
    # P/Q: movement, dates, amounts where the sample has them.
    for index in (2, 3):
        assert field(ours[index], 16, 17) == field(theirs[index], 16, 17) == "01"
    assert field(theirs[2], 78, 85).isdigit() and field(ours[2], 78, 85).isdigit()
    assert field(theirs[2], 86, 100).isdigit() and field(ours[2], 86, 100).isdigit()
    assert field(ours[3], 18, 33)[0] == field(theirs[3], 18, 33)[0] == "1"
    assert field(ours[3], 129, 136).isdigit() and field(theirs[3], 129, 136).isdigit()
    # Trailers count the same way.
    assert field(ours[-2], 18, 23) == field(theirs[-2], 18, 23) == "000005"
    assert field(ours[-1], 18, 29) == field(theirs[-1], 18, 29) == "000001000007"
    if bank == "001":  # BB puts convênio + 0014 + carteira + variação in 33-52
        assert field(ours[0], 42, 45) == field(theirs[0], 42, 45) == "0014"
        assert field(ours[2], 38, 44) == field(theirs[2], 38, 44) == "1234567"
    else:  # Santander: nosso número + DV at 45-57, código de transmissão at 33-47
        assert field(ours[2], 43, 44) == field(theirs[2], 43, 44) == "  "
        assert field(ours[0], 33, 47).isdigit() and field(theirs[0], 33, 47).isdigit()


def test_large_remessa_continues_in_new_lotes(monkeypatch):
    monkeypatch.setattr(remessa240, "MAX_DETAILS_IN_LOTE", 10)
    titles = [make_title(nosso_numero=n) for n in range(1, 8)]  # P+Q+R each
    lines = build("999", titles)
    lote_headers = [line for line in lines if line[7] == "1"]
    assert [field(line, 4, 7) for line in lote_headers] == ["0001", "0002", "0003"]
    trailers = [line for line in lines if line[7] == "5"]
    assert [field(line, 18, 23) for line in trailers] == ["000011", "000011", "000005"]
    assert field(lines[-1], 18, 23) == "000003"
    assert int(field(lines[-1], 24, 29)) == len(lines)
    details = [line for line in lines if line[7] == "3"]
    assert len(details) == 21
    for line in details:
        assert field(line, 4, 7) in {"0001", "0002", "0003"}


def test_aware_datetime_read_on_business_clock():
    at = datetime(2026, 1, 5, 2, 30, tzinfo=ZoneInfo("UTC"))  # 23:30 of the 4th in São Paulo
    data = remessa_build(
        layout="cnab240", account=make_account("999"), titles=[make_title()], nsa=1, generated_at=at
    )
    assert field(lines_of(data)[0], 144, 157) == "04012026233000"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payer_document": "1234"}, "CPF/CNPJ do pagador"),
        ({"payer_zip": "0131010"}, "CEP do pagador"),
        ({"amount": Decimal("0")}, "maior que zero"),
        ({"amount": Decimal("1.234")}, "duas casas"),
        ({"seu_numero": "X" * 16}, "número do documento"),
        ({"our_id": "P" * 26}, "identificação do título"),
        ({"movement": "99"}, "movimento"),
        ({"nosso_numero": 10**20}, "fora do intervalo"),
        ({"write_off_days": 0}, "baixa automática"),
    ],
)
def test_errors_name_the_title(changes, message):
    with pytest.raises(RemessaError, match=message) as error:
        build("999", [make_title(), make_title(**{"seu_numero": "9-9", **changes})])
    assert str(error.value).startswith("título ")


def test_account_and_layout_errors():
    with pytest.raises(RemessaError, match="não suportada"):
        build("104")
    with pytest.raises(RemessaError, match="código de transmissão"):
        build("033", company_code="")
    with pytest.raises(RemessaError, match="Agência"):
        build("999", agency="1234567")
    with pytest.raises(RemessaError, match="Santander aceita baixa"):
        build("033", [make_title(write_off_days=120)])
    with pytest.raises(RemessaError, match="sem títulos"):
        build("999", [])
    with pytest.raises(RemessaError, match="Layout"):
        remessa_build(
            layout="cnab500",
            account=make_account("999"),
            titles=[make_title()],
            nsa=1,
            generated_at=GENERATED_AT,
        )
    with pytest.raises(RemessaError, match="NSA"):
        remessa_build(
            layout="cnab240",
            account=make_account("999"),
            titles=[make_title()],
            nsa=0,
            generated_at=GENERATED_AT,
        )


def test_names_are_truncated_and_non_ascii_removed():
    title = make_title(payer_name="Ñandú Þórsson " + "x" * 60, payer_city="Itaú\x07çé")
    q = build("999", [title])[3]
    assert field(q, 34, 73) == ("NANDU  ORSSON " + "X" * 60)[:40]
    assert field(q, 137, 151).rstrip() == "ITAU CE"
