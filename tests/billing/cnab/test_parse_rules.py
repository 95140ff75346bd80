"""The rules from real files and the bad inputs: variants of the real samples built here."""

import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.cnab import CnabError, Kind, parse_file
from billing.cnab.reading import UTF16_MESSAGE
from tests.billing.cnab import RETORNO, read

D = Decimal


def lines_of(name: str) -> list[str]:
    return read(name).decode("latin-1").replace("\r\n", "\n").rstrip("\n").split("\n")


def build(lines: list[str], end: str = "\r\n") -> bytes:
    return (end.join(lines) + end).encode("latin-1")


def set_at(line: str, position: int, text: str) -> str:
    """Write text at a 1-based position of a (padded) record."""
    width = 400 if len(line) >= 395 else 240
    line = line.ljust(width)
    return line[: position - 1] + text + line[position - 1 + len(text) :]


def with_trailer_count(lines: list[str]) -> list[str]:
    """Fix the CNAB 240 trailer de arquivo (24-29) after adding or removing lines."""
    return lines[:-1] + [set_at(lines[-1], 24, f"{len(lines):06d}")]


def records(parsed):
    return [{k: v for k, v in e.as_json().items() if k != "line"} for e in parsed.events]


# --- line ends, BOM, padding ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["caixa_240.ret", "bradesco_400.ret", "bb_240.ret"])
def test_line_ends_bom_and_stripped_spaces_do_not_change_the_result(name):
    lines = lines_of(name)
    expected = parse_file(read(name)).as_json()
    mixed = "".join(line + ("\r\n", "\n", "\r")[i % 3] for i, line in enumerate(lines))
    variants = {
        "lf": build(lines, "\n"),
        "crlf": build(lines, "\r\n"),
        "cr": build(lines, "\r"),
        "mixed": mixed.encode("latin-1"),
        "no final newline": build(lines, "\n").rstrip(b"\n"),
        "bom": b"\xef\xbb\xbf" + read(name),
        "stripped": build([line.rstrip() for line in lines]),
        "ctrl-z": read(name) + b"\x1a",
    }
    for label, data in variants.items():
        assert parse_file(data).as_json() == expected, label


def test_empty_lines_are_ignored_and_line_numbers_kept():
    lines = lines_of("bb_240.ret")
    spaced = [lines[0], "", "   "] + lines[1:5] + [""] + lines[5:]
    parsed = parse_file(build(spaced))
    assert records(parsed) == records(parse_file(read("bb_240.ret")))
    assert [e.line for e in parsed.events] == [5, 7, 10, 12, 14]


@pytest.mark.parametrize(("name", "width"), [("bb_240.ret", 240), ("itau_400.ret", 400)])
def test_blanks_padded_past_the_record_width_are_cut(name, width):
    # eduardokum/laravel-boleto's BTG CNAB 240 sample has a 308-character header, blanks past 240.
    lines = lines_of(name)
    lines[0] = lines[0][:width].ljust(width + 68)
    assert records(parse_file(build(lines))) == records(parse_file(read(name)))
    lines[0] = lines[0][:width] + " " * 10 + "X"
    with pytest.raises(CnabError, match=f"linha 1: registro de tamanho {width + 11}"):
        parse_file(build(lines))


def test_bare_lf_lines_among_crlf_records_keep_every_record_whole():
    lines = lines_of("bb_240.ret")
    crlf_with_lf_blanks = "\r\n".join(lines[:3]) + "\r\n\n\n" + "\r\n".join(lines[3:]) + "\r\n"
    parsed = parse_file(crlf_with_lf_blanks.encode("latin-1"))
    assert records(parsed) == records(parse_file(read("bb_240.ret")))


@pytest.mark.parametrize("field", ["01085000", "01081899", "31122150"])
def test_an_implausible_year_is_no_date(field):
    from billing.cnab.reading import date8

    assert date8(field) is None


def test_a_401_character_cnab_400_record_is_accepted():
    lines = lines_of("itau_400.ret")
    lines[1] += " "
    assert records(parse_file(build(lines))) == records(parse_file(read("itau_400.ret")))


def test_latin1_and_utf8_accents_keep_positions():
    lines = lines_of("bb_240.ret")
    lines[0] = set_at(lines[0], 73, "CONFECÇÕES")
    for data in (build(lines), "\r\n".join(lines).encode("utf-8")):
        parsed = parse_file(data)
        assert parsed.events[0].amount == D("40.00")


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bb_240.ret", "itau_400.ret"])
def test_a_file_without_trailer_is_truncated(name):
    lines = lines_of(name)
    with pytest.raises(CnabError, match="^arquivo truncado: trailer ausente$"):
        parse_file(build(lines[:-1]))
    with pytest.raises(CnabError, match="^arquivo truncado: trailer ausente$"):
        parse_file(build(lines[:-3]))


@pytest.mark.parametrize("cut", [10, 100, 142])
def test_a_file_shorter_than_its_header(cut):
    with pytest.raises(CnabError):
        parse_file(read("caixa_240.ret")[:cut])
    with pytest.raises(CnabError):
        parse_file(read("bradesco_400.ret")[:cut])


def test_trailer_record_count_mismatch_names_both_numbers():
    lines = lines_of("bb_240.ret")
    lines[-1] = set_at(lines[-1], 24, "000015")
    with pytest.raises(CnabError, match="15 registros, mas o arquivo tem 14"):
        parse_file(build(lines))
    lines = lines_of("bradesco_400.ret")
    lines[-1] = set_at(lines[-1], 395, "000008")
    with pytest.raises(CnabError, match="8 registros, mas o arquivo tem 9"):
        parse_file(build(lines))


def test_a_line_that_fits_no_layout_is_named():
    lines = lines_of("bb_240.ret")
    lines[4] = lines[4] + "X" * 60
    with pytest.raises(CnabError, match="^linha 5: registro de tamanho 300, esperado 240$"):
        parse_file(build(lines))
    lines = lines_of("itau_400.ret")
    lines[2] = lines[2][:180]
    with pytest.raises(CnabError, match="^linha 3: registro de tamanho 180, esperado 400$"):
        parse_file(build(lines))


@pytest.mark.parametrize(
    "data",
    [
        "X".encode("utf-16"),
        read("caixa_240.ret").decode("latin-1").encode("utf-16"),
        read("caixa_240.ret").decode("latin-1").encode("utf-16-le"),
        read("itau_400.ret").decode("latin-1").encode("utf-16-be"),
    ],
)
def test_utf16_is_refused_with_a_clear_message(data):
    with pytest.raises(CnabError) as error:
        parse_file(data)
    assert str(error.value) == UTF16_MESSAGE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "arquivo vazio"),
        (b"\r\n\r\n  \n", "arquivo vazio"),
        (bytes(range(256)) * 4, "arquivo binário"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "cabeçalho de arquivo não reconhecido"),
        (b"PK\x03\x04" + b"\x14" * 300, "cabeçalho de arquivo não reconhecido"),
    ],
)
def test_empty_and_garbage(data, message):
    with pytest.raises(CnabError, match=message):
        parse_file(data)


def test_cnab_400_of_an_unsupported_bank():
    data = bytearray(read("itau_400.ret"))
    data[76:79] = b"041"  # header 77-79
    with pytest.raises(CnabError) as error:
        parse_file(bytes(data))
    assert str(error.value) == "CNAB 400 do banco 041 não suportado"


def test_direction_header_and_lote_must_agree():
    lines = lines_of("bb_240.ret")
    lines[1] = set_at(lines[1], 9, "R")
    with pytest.raises(CnabError, match="direção inconsistente"):
        parse_file(build(lines))


# --- codes ---------------------------------------------------------------------------------


def bb240_with(occurrence: str, reasons: str = "", paid: str | None = None) -> list[str]:
    """bb_240.ret with its first title's T/U occurrence (16-17) and T reasons (214-223) set."""
    lines = lines_of("bb_240.ret")
    lines[2] = set_at(set_at(lines[2], 16, occurrence), 214, reasons.ljust(10))
    lines[3] = set_at(lines[3], 16, occurrence)
    if paid is not None:
        lines[3] = set_at(lines[3], 78, paid)
    return lines


def test_unknown_occurrence_is_unknown_never_paid():
    event = parse_file(build(bb240_with("77"))).events[0]
    assert (event.occurrence, event.kind, event.reasons) == ("77", Kind.UNKNOWN, [])
    assert event.amount_paid is None and event.amount_credited is None
    assert event.amount == D("40.00")
    parsed = parse_file(build(bb240_with("77")))
    assert parsed.totals()["paid"] == "88.80"  # 128.80 minus the unknown title's 40.00


@pytest.mark.parametrize("occurrence", ["02", "09", "28", "03"])
def test_a_value_in_the_paid_column_of_a_non_payment_is_ignored(occurrence):
    event = parse_file(build(bb240_with(occurrence, paid="000000000009999"))).events[0]
    assert event.amount_paid is None and event.interest_fine is None and event.discount is None


def test_fee_debit_is_a_fee_never_a_payment():
    event = parse_file(build(bb240_with("28", reasons="03"))).events[0]
    assert (event.kind, event.fee, event.amount_paid) == (Kind.FEE, D("5.00"), None)
    assert [(r.code, r.text) for r in event.reasons] == [("03", "Tarifa de sustação")]


def test_rejection_reasons_are_translated():
    event = parse_file(build(bb240_with("03", reasons="0948Q900"))).events[0]
    assert event.kind == Kind.REJECTED
    assert [r.as_json() for r in event.reasons] == [
        {"code": "09", "text": "Nosso número duplicado"},
        {"code": "48", "text": "CEP inválido"},
        {"code": "Q9", "text": "Motivo Q9 (código não catalogado pelo banco)"},
    ]
    event = parse_file(build(bb240_with("26", reasons="0000000000"))).events[0]
    assert event.kind == Kind.INSTRUCTION_REJECTED
    assert [r.as_json() for r in event.reasons] == [
        {"code": "", "text": "Motivo não informado pelo banco"}
    ]


def test_cnab_240_generic_17_is_paid_after_write_off():
    event = parse_file(build(bb240_with("17"))).events[0]
    assert (event.kind, event.amount_paid) == (Kind.PAID_AFTER_WRITE_OFF, D("40.00"))


def test_cnab_400_codes_differ_per_bank():
    itau = lines_of("itau_400.ret")
    itau[1] = set_at(itau[1], 109, "16")
    itau[1] = set_at(itau[1], 378, "1100")
    event = parse_file(build(itau)).events[0]
    assert (event.kind, event.amount_paid) == (Kind.INSTRUCTION_REJECTED, None)
    assert [r.as_json() for r in event.reasons] == [{"code": "11", "text": "CEP inválido"}]
    itau[1] = set_at(itau[1], 109, "17")
    assert parse_file(build(itau)).events[0].kind == Kind.INSTRUCTION_REJECTED

    bradesco = lines_of("bradesco_400.ret")
    bradesco[2] = set_at(bradesco[2], 109, "10")
    bradesco[3] = set_at(bradesco[3], 109, "03")
    bradesco[3] = set_at(bradesco[3], 319, "4800000000")
    events = parse_file(build(bradesco)).events
    assert (events[1].kind, events[1].amount_paid) == (Kind.WRITTEN_OFF, None)
    assert events[2].kind == Kind.REJECTED
    assert [r.as_json() for r in events[2].reasons] == [{"code": "48", "text": "CEP inválido"}]
    assert events[3].kind == Kind.PAID_AFTER_WRITE_OFF  # Bradesco 17

    bb = lines_of("bb_400.ret")
    bb[1] = set_at(bb[1], 109, "03")
    event = parse_file(build(bb)).events[0]
    assert event.kind == Kind.REJECTED
    assert [r.code for r in event.reasons] == ["01"]  # 87-88

    santander = lines_of("bradesco_400.ret")
    santander[0] = set_at(santander[0], 77, "033")
    santander[1] = set_at(santander[1], 109, "03")
    santander[1] = set_at(santander[1], 137, "092108777")
    santander[2] = set_at(santander[2], 109, "17")
    events = parse_file(build(santander)).events
    assert events[0].kind == Kind.REJECTED
    assert [r.as_json() for r in events[0].reasons] == [
        {"code": "092", "text": "Nosso número já cadastrado"},
        {"code": "108", "text": "Dígito do CPF/CNPJ do pagador incorreto"},
        {"code": "777", "text": "Motivo 777 (código não catalogado pelo banco)"},
    ]
    assert events[1].kind == Kind.PAID  # Santander 17: liquidado em cartório


# --- structure: Pix and unknown segments, missing halves -----------------------------------


def test_pix_and_unknown_records_are_skipped_without_losing_place():
    lines = lines_of("bb_240.ret")
    pix = set_at(lines[2][:13], 14, "Y 0603")
    w = set_at(lines[2][:13], 14, "W")
    changed = lines[:3] + [pix] + lines[3:5] + [lines[5], w] + lines[6:]
    assert records(parse_file(build(with_trailer_count(changed)))) == records(
        parse_file(read("bb_240.ret"))
    )
    bradesco = lines_of("bradesco_400.ret")
    pix400 = "8".ljust(394) + "000000"  # Santander-style Pix record
    changed = bradesco[:2] + [pix400] + bradesco[2:]
    changed = [set_at(line, 395, f"{i:06d}") for i, line in enumerate(changed, 1)]
    assert records(parse_file(build(changed))) == records(parse_file(read("bradesco_400.ret")))


def test_a_t_without_its_u_and_a_u_without_its_t():
    lines = lines_of("bb_240.ret")
    # 0 header, 1 lote, 2/3 T/U title 1, 4/5 title 2, 6/7 title 3, 8/9 title 4, 10/11 title 5.
    changed = with_trailer_count(lines[:3] + lines[4:7] + lines[8:])  # drop U1 and U3
    events = parse_file(build(changed)).events
    assert [e.segments for e in events] == ["T", "TU", "T", "TU", "TU"]
    assert [e.nosso_numero for e in events] == [
        e.nosso_numero for e in parse_file(read("bb_240.ret")).events
    ]
    only_t = events[0]
    assert only_t.kind == Kind.PAID and only_t.amount == D("40.00")
    assert only_t.amount_paid is None and only_t.occurred_on is None
    assert events[1].amount_paid == D("30.00")

    changed = with_trailer_count(lines[:2] + lines[3:])  # drop T1
    first = parse_file(build(changed)).events[0]
    assert (first.nosso_numero, first.segments, first.amount_paid) == ("", "U", D("40.00"))
    assert first.line == 3


# --- size and robustness -------------------------------------------------------------------


def test_a_50_mb_retorno_parses_in_a_few_seconds():
    lines = lines_of("caixa_240.ret")
    header, lote, t, u = lines[:4]
    pairs = 105_000
    body = f"{t}\r\n{u}\r\n" * pairs
    trailer_lote = set_at(lines[-2], 18, f"{2 * pairs + 2:06d}")
    trailer = set_at(lines[-1], 24, f"{2 * pairs + 4:06d}")
    data = f"{header}\r\n{lote}\r\n{body}{trailer_lote}\r\n{trailer}\r\n".encode()
    assert len(data) > 50_000_000
    started = time.perf_counter()
    parsed = parse_file(data)
    elapsed = time.perf_counter() - started
    assert parsed.totals() == {"records": pairs, "paid": f"{80 * pairs}.00"}
    assert elapsed < 15, elapsed


SAMPLES = sorted(path.name for path in RETORNO.iterdir())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(SAMPLES),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=3)), max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_mutated_real_files_raise_only_cnab_error(name, edits, cut):
    data = bytearray(read(name))
    for offset, replacement in edits:
        offset %= len(data)
        data[offset : offset + len(replacement)] = replacement
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    try:
        parsed = parse_file(bytes(data))
    except CnabError as error:
        assert "\n" not in str(error) and str(error)
    else:
        parsed.as_json()
        for event in parsed.events:
            if event.kind not in (Kind.PAID, Kind.PAID_AFTER_WRITE_OFF):
                assert event.amount_paid is None
