"""FEBRABAN CNAB 240 cobrança, any bank: retorno (T/U pairs) and remessa (P/Q/R/S groups).

Positions (1-based in comments, 0-based slices in code) follow FEBRABAN's layout; banks that move
fields get an override here:
- Santander (033) shifts segment T: agência/conta 18-32, nosso número 41-53, carteira 54,
  seu número 55-69, due date 70-77, nominal amount 78-92, uso da empresa 101-125, fee 194-208,
  reasons 209-218 (its U is standard); its segment P has the nosso número at 45-57; its file
  header carries the código de transmissão at 33-47 and no agência/conta.
- Caixa (104, SIGCB): T nosso número is 17 digits (modalidade 14/24 + 15) at 40-56; P at 41-57.
- Banco do Brasil (001): the full 17-digit nosso número at 38-54.

Speed matters (a 100,000-title retorno must be applied at >= 20,000 titles/s end to end): the
loop slices the padded lines directly with per-bank offsets fixed before it starts, and money and
date conversions are cached (reading.money / reading.date8).
"""

from __future__ import annotations

from billing.cnab import codes
from billing.cnab.reading import date8, digits, integer, money, overlong_but_whole
from billing.cnab.records import (
    PAYMENT_KINDS,
    REJECTION_KINDS,
    BankEvent,
    CnabError,
    Kind,
    ParsedFile,
)

LAYOUT = "cnab240"
WIDTH = 240

# Segment T: 0-based (start, end) per bank; everything else is FEBRABAN's.
T_GENERIC = {
    "nn": (37, 57),
    "seu": (58, 73),
    "due": (73, 81),
    "amount": (81, 96),
    "our_id": (105, 130),
    "fee": (198, 213),
    "reasons": (213, 223),
}
T_BY_BANK = {
    "033": {
        "nn": (40, 53),
        "seu": (54, 69),
        "due": (69, 77),
        "amount": (77, 92),
        "our_id": (100, 125),
        "fee": (193, 208),
        "reasons": (208, 218),
    },
    "104": {"nn": (39, 56)},
    "001": {"nn": (37, 54)},
}
# Segment P nosso número per bank (the other P fields are standard for these banks).
P_NOSSO_NUMERO = {"033": (44, 57), "104": (40, 57), "001": (37, 54)}
P_GENERIC_NN = (37, 57)

# Occurrence tables per bank: FEBRABAN C044 unless a bank is known to differ.
OCCURRENCES_BY_BANK: dict[str, dict] = {}

DIRECTIONS = {"1": "remessa", "2": "retorno"}
LOTE_OPERATIONS = {"R": "remessa", "T": "retorno"}


def _too_long(number: int, length: int) -> CnabError:
    return CnabError(f"linha {number}: registro de tamanho {length}, esperado {WIDTH}")


def _direction(lines: list[str], first: int, header: str) -> str:
    from_header = DIRECTIONS.get(header[142])
    # The first lote header (type 1) says R or T at position 9.
    from_lote = None
    for index in range(first + 1, min(len(lines), first + 50)):
        line = lines[index]
        if len(line) >= 9 and line[7] == "1":
            from_lote = LOTE_OPERATIONS.get(line[8])
            break
    if from_header and from_lote and from_header != from_lote:
        raise CnabError(
            f"direção inconsistente: o cabeçalho do arquivo diz {from_header} "
            f"e o cabeçalho de lote diz {from_lote}"
        )
    direction = from_header or from_lote
    if direction is None:
        raise CnabError(
            "direção do arquivo não identificada (posição 143 do cabeçalho deve ser "
            "1 = remessa ou 2 = retorno)"
        )
    return direction


def parse(lines: list[str], first: int) -> ParsedFile:
    raw_header = lines[first]
    if len(raw_header) > WIDTH and not overlong_but_whole(raw_header, WIDTH):
        raise _too_long(first + 1, len(raw_header))
    if len(raw_header.rstrip()) < 143:
        raise CnabError("arquivo truncado: cabeçalho de arquivo incompleto")
    header = raw_header[:WIDTH].ljust(WIDTH)
    bank = header[0:3]
    if not (bank.isdigit() and bank.isascii()):
        raise CnabError(f"linha {first + 1}: código do banco inválido no cabeçalho ({bank!r})")
    direction = _direction(lines, first, header)
    santander, caixa = bank == "033", bank == "104"
    parsed = ParsedFile(
        layout=LAYOUT,
        direction=direction,
        bank_code=bank,
        bank_name=header[102:132].strip(),
        nsa=integer(header[157:163]),
        generated_on=date8(header[143:151]),
        beneficiary_document=digits(header[17:32] if santander else header[18:32]),
        agreement=(
            header[32:47].strip()
            if santander
            else header[58:64].strip()
            if caixa
            else header[32:52].strip()
        ),
        agency="" if santander else digits(header[52:57]).lstrip("0"),
        account="" if santander or caixa else digits(header[58:70]).lstrip("0"),
    )
    occurrences = OCCURRENCES_BY_BANK.get(bank, codes.C044)
    if direction == "retorno":
        records = _read_retorno(lines, first, parsed, occurrences)
    else:
        records = _read_remessa(lines, first, parsed)
    parsed.line_count = records
    return parsed


def _check_lote(number: int, line: str, direction: str) -> None:
    operation = LOTE_OPERATIONS.get(line[8])
    if operation is not None and operation != direction:
        raise CnabError(f"linha {number}: lote de {operation} dentro de um arquivo de {direction}")
    service = line[9:11]
    if service != "01":
        raise CnabError(f"linha {number}: lote de serviço {service!r}, esperado 01 (cobrança)")


def _check_trailer(number: int, line: str, records: int, lines: list[str], index: int) -> None:
    for later in range(index + 1, len(lines)):
        if lines[later].strip(" \x1a\t"):
            raise CnabError(f"linha {later + 1}: registro depois do trailer de arquivo")
    declared = integer(line[23:29])
    if declared is None:
        raise CnabError(
            f"linha {number}: trailer de arquivo sem a quantidade de registros (posições 24-29)"
        )
    if declared != records:
        raise CnabError(
            f"trailer de arquivo informa {declared} registros, mas o arquivo tem {records}"
        )


def _read_retorno(lines: list[str], first: int, parsed: ParsedFile, occurrences: dict) -> int:
    bank = parsed.bank_code
    pos = {**T_GENERIC, **T_BY_BANK.get(bank, {})}
    nn_a, nn_b = pos["nn"]
    seu_a, seu_b = pos["seu"]
    due_a, due_b = pos["due"]
    amount_a, amount_b = pos["amount"]
    our_a, our_b = pos["our_id"]
    fee_a, fee_b = pos["fee"]
    reasons_a = pos["reasons"][0]
    direction = parsed.direction
    events = parsed.events
    append = events.append
    lookup = occurrences.get
    unknown = codes.occurrence
    reason_tables = codes.C047_FOR_OCCURRENCE
    reasons_from_codes = codes.reasons_from_codes
    payment_kinds = PAYMENT_KINDS
    explained = REJECTION_KINDS | {Kind.WRITTEN_OFF, Kind.FEE}

    def event(t_number: int, t: str | None, u_number: int, u: str | None) -> BankEvent:
        source = t if t is not None else u
        occurrence = source[15:17]
        found = lookup(occurrence)
        kind, label = found if found is not None else unknown(occurrences, occurrence)
        if t is not None:
            nosso_numero = t[nn_a:nn_b].strip()
            our_id = t[our_a:our_b].strip()
            seu_numero = t[seu_a:seu_b].strip()
            due_date = date8(t[due_a:due_b])
            amount = money(t[amount_a:amount_b])
            fee = money(t[fee_a:fee_b])
            if kind in explained:
                r = t[reasons_a : reasons_a + 10]
                reasons = reasons_from_codes(
                    [r[0:2], r[2:4], r[4:6], r[6:8], r[8:10]],
                    reason_tables.get(occurrence, codes.C047_REJECTION),
                    kind,
                )
            else:
                reasons = []
        else:
            nosso_numero = our_id = seu_numero = ""
            due_date = amount = fee = None
            reasons = [codes.GENERIC_REASON] if kind in REJECTION_KINDS else []
        if u is not None:
            occurred_on = date8(u[137:145])
            credited_on = date8(u[145:153])
            if kind in payment_kinds:
                amount_paid = money(u[77:92])
                amount_credited = money(u[92:107])
                interest_fine = money(u[17:32])
                discount = money(u[32:47])
                rebate = money(u[47:62])
                if rebate and discount is not None:
                    discount += rebate
            else:
                amount_paid = amount_credited = interest_fine = discount = None
            raw = u if t is None else f"{t}\n{u}"
        else:
            occurred_on = credited_on = None
            amount_paid = amount_credited = interest_fine = discount = None
            raw = t
        return BankEvent(
            t_number if t is not None else u_number,
            bank,
            nosso_numero,
            our_id,
            seu_numero,
            occurrence,
            kind,
            reasons,
            due_date,
            amount,
            amount_paid,
            amount_credited,
            fee,
            interest_fine,
            discount,
            occurred_on,
            credited_on,
            raw,
            label,
            ("T" if t is not None else "") + ("U" if u is not None else ""),
        )

    def pair(t_number: int, t: str, u: str) -> BankEvent:
        # The common case (a T followed by its U), kept lean: it runs once per title.
        occurrence = t[15:17]
        kind, label = lookup(occurrence) or unknown(occurrences, occurrence)
        if kind in payment_kinds:
            discount = money(u[32:47])
            rebate = money(u[47:62])
            if rebate and discount is not None:
                discount += rebate
            return BankEvent(
                t_number,
                bank,
                t[nn_a:nn_b].strip(),
                t[our_a:our_b].strip(),
                t[seu_a:seu_b].strip(),
                occurrence,
                kind,
                [],
                date8(t[due_a:due_b]),
                money(t[amount_a:amount_b]),
                money(u[77:92]),
                money(u[92:107]),
                money(t[fee_a:fee_b]),
                money(u[17:32]),
                discount,
                date8(u[137:145]),
                date8(u[145:153]),
                f"{t}\n{u}",
                label,
                "TU",
            )
        return event(t_number, t, 0, u)

    records = 1
    t_line: str | None = None
    t_number = 0
    total = len(lines)
    index = first
    while True:
        index += 1
        if index >= total:
            raise CnabError("arquivo truncado: trailer ausente")
        line = lines[index]
        length = len(line)
        if length != WIDTH:
            if length < WIDTH:
                if not line.strip():
                    continue
                line = line.ljust(WIDTH)
            elif overlong_but_whole(line, WIDTH):
                line = line[:WIDTH]
            else:
                raise _too_long(index + 1, length)
        records += 1
        kind = line[7]
        if kind == "3":
            segment = line[13]
            if segment == "T":
                if t_line is not None:
                    append(event(t_number, t_line, 0, None))
                t_line, t_number = line, index + 1
            elif segment == "U":
                if t_line is not None:
                    append(pair(t_number, t_line, line))
                else:
                    append(event(0, None, index + 1, line))
                t_line = None
            # Y (Pix), W and other segments: skipped; a pending T keeps waiting for its U.
            continue
        if t_line is not None:
            append(event(t_number, t_line, 0, None))
            t_line = None
        if kind == "1":
            _check_lote(index + 1, line, direction)
        elif kind == "9":
            _check_trailer(index + 1, line, records, lines, index)
            return records
        elif kind == "0":
            raise CnabError(f"linha {index + 1}: segundo cabeçalho de arquivo")
        elif not (kind.isdigit() and kind.isascii()):
            raise CnabError(f"linha {index + 1}: tipo de registro inválido ({kind!r})")
        # 5 (trailer de lote), 2/4 (optional lote records): nothing to read.


def _read_remessa(lines: list[str], first: int, parsed: ParsedFile) -> int:
    bank = parsed.bank_code
    nn_a, nn_b = P_NOSSO_NUMERO.get(bank, P_GENERIC_NN)
    direction = parsed.direction
    events = parsed.events
    group: list[str] = []
    group_number = 0
    segments = ""

    def flush() -> None:
        p = group[0]
        movement = p[15:17]
        events.append(
            BankEvent(
                line=group_number,
                bank_code=bank,
                nosso_numero=p[nn_a:nn_b].strip(),
                our_id=p[195:220].strip(),
                seu_numero=p[62:77].strip(),
                occurrence=movement,
                kind=Kind.INFO,
                reasons=[],
                due_date=date8(p[77:85]),
                amount=money(p[85:100]),
                amount_paid=None,
                amount_credited=None,
                fee=None,
                interest_fine=None,
                discount=None,
                occurred_on=None,
                credited_on=None,
                raw="\n".join(group),
                label=codes.REMESSA_MOVEMENTS.get(movement, f"Movimento {movement}"),
                segments=segments,
            )
        )

    records = 1
    index = first
    total = len(lines)
    while True:
        index += 1
        if index >= total:
            raise CnabError("arquivo truncado: trailer ausente")
        line = lines[index]
        length = len(line)
        if length < WIDTH:
            if not line.strip():
                continue
            line = line.ljust(WIDTH)
        elif length > WIDTH:
            if not overlong_but_whole(line, WIDTH):
                raise _too_long(index + 1, length)
            line = line[:WIDTH]
        records += 1
        kind = line[7]
        if kind == "3":
            segment = line[13]
            if segment == "P":
                if group:
                    flush()
                group, group_number, segments = [line], index + 1, "P"
            elif segment in "QRS" and group:
                group.append(line)
                segments += segment
            # Y (Pix) and others: skipped.
            continue
        if group:
            flush()
            group = []
        if kind == "1":
            _check_lote(index + 1, line, direction)
        elif kind == "9":
            _check_trailer(index + 1, line, records, lines, index)
            return records
        elif kind == "0":
            raise CnabError(f"linha {index + 1}: segundo cabeçalho de arquivo")
        elif not (kind.isdigit() and kind.isascii()):
            raise CnabError(f"linha {index + 1}: tipo de registro inválido ({kind!r})")
