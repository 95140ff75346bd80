"""Our CNAB 400 remessas (Itaú, Bradesco, BB CBR643): fields by position and the structure of
brcobranca's samples."""

from decimal import Decimal

import pytest

from billing.cnab.nosso_numero import file_nosso_numero
from billing.cnab.remessa import RemessaError, remessa_build

from .conftest import GENERATED_AT, field, lines_of, make_account, make_title


def build(bank, titles=None, **account_changes):
    return lines_of(
        remessa_build(
            layout="cnab400",
            account=make_account(bank, **account_changes),
            titles=titles if titles is not None else [make_title()],
            nsa=7,
            generated_at=GENERATED_AT,
        )
    )


def check_common(lines, bank, bank_name):
    assert all(len(line) == 400 for line in lines)
    header = lines[0]
    assert field(header, 1, 26) == "01REMESSA01COBRANCA       "
    assert field(header, 47, 76).rstrip() == "ACADEMIA MOVIMENTO LTDA"
    assert field(header, 77, 79) == bank
    assert field(header, 80, 94).rstrip() == bank_name
    assert field(header, 95, 100) == "050126"
    assert field(lines[-1], 1, 1) == "9"
    assert [field(line, 395, 400) for line in lines] == [
        f"{n:06d}" for n in range(1, len(lines) + 1)
    ]


def test_itau_fields():
    lines = build("341")
    check_common(lines, "341", "BANCO ITAU SA")
    header, detail, fine, _trailer = lines
    assert field(header, 27, 46) == "1234" + "00" + "12345" + "5" + " " * 8
    assert field(detail, 1, 1) == "1"
    assert field(detail, 2, 17) == "02" + "11222333000181"
    assert field(detail, 38, 62).rstrip() == "PB42"
    assert field(detail, 63, 70) == "00000123"
    assert field(detail, 84, 86) == "109"
    assert field(detail, 108, 110) == "I01"
    assert field(detail, 111, 120).rstrip() == "7-3"
    assert field(detail, 121, 126) == "100226"
    assert field(detail, 127, 139) == "0000000019990"
    assert field(detail, 140, 142) == "341"
    assert field(detail, 151, 156) == "050126"
    assert field(detail, 161, 173) == "0000000000007"
    assert field(detail, 219, 234) == "01" + "00052998224725"
    assert field(detail, 235, 264).rstrip() == "JOSE DA CONCEICAO AVILA"
    assert field(detail, 327, 334) == "01310100"
    assert field(detail, 350, 351) == "SP"
    assert field(detail, 386, 391) == "110226"
    assert field(fine, 1, 23) == "2" + "2" + "11022026" + "0000000000200"


def test_bradesco_fields():
    lines = build("237")
    check_common(lines, "237", "BRADESCO")
    header, detail, _trailer = lines
    assert field(header, 27, 46) == "4321".zfill(20)
    assert field(header, 109, 117) == "MX0000007"
    assert field(detail, 21, 37) == "0" + "009" + "01234" + "0012345" + "5"
    assert field(detail, 38, 62).rstrip() == "PB42"
    assert field(detail, 66, 70) == "20200"
    nn = file_nosso_numero(bank_code="237", account=make_account("237"), sequence=123)
    assert field(detail, 71, 82) == nn
    assert field(detail, 93, 94) == "2N"
    assert field(detail, 109, 110) == "01"
    assert field(detail, 111, 120).rstrip() == "7-3"
    assert field(detail, 121, 126) == "100226"
    assert field(detail, 127, 139) == "0000000019990"
    assert field(detail, 161, 173) == "0000000000007"
    assert field(detail, 219, 234) == "01" + "00052998224725"
    assert field(detail, 235, 274).rstrip() == "JOSE DA CONCEICAO AVILA"
    assert field(detail, 275, 314).rstrip() == "RUA SAO JOAO, 12, SAO PAULO/SP"
    assert field(detail, 327, 334) == "01310100"


def test_banco_do_brasil_cbr643_fields():
    lines = build("001")
    check_common(lines, "001", "BANCODOBRASIL")
    header, detail, fine, _trailer = lines
    assert field(header, 27, 46) == "1234" + "3" + "00012345" + "5" + "000000"
    assert field(header, 101, 107) == "0000007"
    assert field(header, 130, 136) == "1234567"
    assert field(detail, 1, 1) == "7"
    assert field(detail, 32, 38) == "1234567"
    assert field(detail, 39, 63).rstrip() == "PB42"
    assert field(detail, 64, 80) == "12345670000000123"
    assert field(detail, 92, 94) == "019"
    assert field(detail, 107, 110) == "17" + "01"
    assert field(detail, 121, 139) == "100226" + "0000000019990"
    assert field(detail, 219, 234) == "01" + "00052998224725"
    assert field(detail, 327, 334) == "01310100"
    assert field(detail, 335, 349).rstrip() == "SAO PAULO"
    assert field(fine, 1, 22) == "5" + "99" + "2" + "110226" + "000000000200"


SAMPLES = [
    ("341", "remessa-itau-cnab400.rem", {}),
    ("237", "remessa-bradesco-cnab400.rem", {"late_fee_percent": Decimal(0)}),
    ("001", "remessa-banco-brasil-cnab400.rem", {"late_fee_percent": Decimal(0)}),
]


@pytest.mark.parametrize(("bank", "sample", "changes"), SAMPLES)
def test_structure_matches_library_sample(bank, sample, changes, sample_lines):
    ours = build(bank, [make_title(**changes)])
    theirs = sample_lines(sample)
    assert [len(line) for line in ours] == [len(line) for line in theirs]
    assert [line[0] for line in ours] == [line[0] for line in theirs]
    for start, end in [(1, 26), (77, 79)]:
        assert field(ours[0], start, end) == field(theirs[0], start, end)
    assert [field(line, 395, 400) for line in ours] == [field(line, 395, 400) for line in theirs]
    detail, their_detail = ours[1], theirs[1]
    nn = {"341": (63, 70), "237": (71, 82), "001": (64, 80)}[bank]
    assert field(detail, *nn).isalnum() and field(their_detail, *nn).isalnum()
    assert len(field(detail, *nn).strip()) == len(field(their_detail, *nn).strip())
    assert field(detail, 109, 110) == field(their_detail, 109, 110) == "01"
    for start, end in [(121, 126), (127, 139), (151, 156), (221, 234), (327, 334)]:
        assert field(detail, start, end).isdigit(), (start, end)
        assert field(their_detail, start, end).isdigit(), (start, end)
    assert field(detail, 219, 220) == field(their_detail, 219, 220) == "01"
    if bank == "237":
        assert field(ours[0], 109, 110) == field(theirs[0], 109, 110) == "MX"
    if bank == "001":
        assert field(detail, 32, 38) == field(detail, 64, 70)  # convênio in both places
        assert field(their_detail, 32, 38) == field(their_detail, 64, 70)


def test_errors():
    with pytest.raises(RemessaError, match="código da empresa"):
        build("237", company_code="")
    with pytest.raises(RemessaError, match="7 dígitos"):
        build("001", agreement="123456")
    with pytest.raises(RemessaError, match="não suportada"):
        build("033")
    with pytest.raises(RemessaError, match="número do documento"):
        build("341", [make_title(seu_numero="12345678901")])
    with pytest.raises(RemessaError, match="CEP"):
        build("341", [make_title(payer_zip="abc")])
