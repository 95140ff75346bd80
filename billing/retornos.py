"""Retornos: the bank's answer files, received once and applied once.

Every way a retorno arrives goes through `retorno_import` (upload, inbox folder, the
``bank_return_import`` command, the test bank): `retorno_receive` checks the file (size,
encoding, readable, a retorno and not a remessa, the merchant's bank, beneficiary and account
where the header says them) and stores it once per (merchant, sha256); `retorno_apply` then
applies it once (row lock + status guard) and in one transaction: nothing half-applied, and a
failure leaves the Retorno "received" so that it can be retried.

Applying: each title (BankEvent) is matched within the merchant, first by nosso número (the
connector turns the file's form into our sequence), then by our id ("PB<boleto id>", echoed in
"uso da empresa"); it is recorded in BankOccurrence with its outcome (applied, duplicate,
not_found, ignored). A fact is applied once whatever file carries it: ``applied_key`` =
boleto:occurrence:date, unique per merchant.

State precedence (states never go backwards):
- payment: open -> paid | written_off | paid_after_write_off; written_off -> paid_after_write_off
  (a 17, or a 06 for a written-off title); paid and paid_after_write_off are final.
- registration: pending -> registered | rejected; registered is final; rejected -> registered
  only by a 02 dated after the rejection (the answer to a resubmission). A payment marks a
  pending or rejected boleto registered (the bank would not take payment otherwise).
- instruction: pending/sent -> confirmed (its confirmation, or a 09 for a write-off) | rejected.
- 28 (fee) is recorded in the ledger and never touches the payment; info and unknown codes
  change nothing.
A title whose fact cannot apply (a late 02 after a 06, a second 06) is recorded as ignored.

On PostgreSQL the whole file is applied in a handful of set-based statements (one lookup of
the nosso números, COPY of the ledger rows, one UPDATE of the boletos' bank rows
(billing.models.BoletoBank) through a temporary table); elsewhere (SQLite, the dev default) by
the plain ORM. Both give the same result (tests/billing/bank/test_retorno_paths.py);
``settings.BANK_RETORNO_FAST_PATH = False`` forces the plain path.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.cnab.records import CnabError, Kind, ParsedFile
from billing.connectors import BankConnector, connector_for, remessa_account
from billing.models import BankAttention, BankOccurrence, Boleto, BoletoBank, Retorno
from billing.services import bank_collection_get
from billing.signals import bank_attention, boletos_registered_on_commit
from portal.formats import date_br
from portal.models import Merchant
from portal.timezones import business_localtime, business_today

logger = logging.getLogger(__name__)

RETORNO_TOO_LARGE = _(
    "Arquivo grande demais (%(size)s): o limite para arquivos do banco é %(limit)s."
)
RETORNO_EMPTY = _("O arquivo está vazio: não há nada para processar.")
RETORNO_UTF16 = _("O arquivo está em UTF-16: salve-o como texto (ANSI ou UTF-8) e envie de novo.")
RETORNO_UNREADABLE = _("Não foi possível ler o retorno: %(error)s.")
RETORNO_IS_REMESSA = _(
    "Este arquivo é uma remessa (arquivo que o portal envia ao banco), não um retorno. Envie o "
    "arquivo de retorno que o banco devolveu."
)
RETORNO_OTHER_BANK = _(
    "Este retorno é do banco %(file_bank)s, mas sua conta de cobrança é do banco %(bank)s."
)
RETORNO_OTHER_BENEFICIARY = _(
    "Este retorno é de outro beneficiário (CNPJ %(document)s), não do CNPJ %(cnpj)s da sua "
    "conta de cobrança."
)
RETORNO_OTHER_ACCOUNT = _(
    "Este retorno é de outra conta (agência %(agency)s, conta %(account)s); sua conta de "
    "cobrança é agência %(our_agency)s, conta %(our_account)s."
)
RETORNO_OTHER_AGREEMENT = _(
    "Este retorno é de outro convênio (%(agreement)s); o convênio da sua conta de cobrança é "
    "%(our_agreement)s."
)
RETORNO_AMOUNT_OUT_OF_RANGE = _(
    "Linha %(line)s: valor %(value)s acima do limite de um boleto; o arquivo não foi processado."
)
# For the pages (the command and the inbox treat the same file again as done, not as an error).
RETORNO_ALREADY_IMPORTED = _("Este arquivo já foi processado em %(date)s.")
RETORNO_UNKNOWN_MERCHANT = _("Lojista não encontrado: nenhum lojista com o CNPJ %(cnpj)s.")
RETORNO_PATH_UNREADABLE = _("Não foi possível ler o arquivo %(path)s: %(error)s.")

# A boleto's amount fits 10 digits (barcode): anything from here up is not a real title.
_AMOUNT_LIMIT = Decimal("10000000000")
_OUR_ID = re.compile(r"PB0*([1-9][0-9]{0,17})")
_APPLY_ATTEMPTS = 3
_CHUNK = 500  # plain path: ids per IN (...) (SQLite's variable limit)

SUMMARY_KINDS = (
    "registered",
    "rejected",
    "paid",
    "paid_after_write_off",
    "written_off",
    "instruction_confirmed",
    "instruction_rejected",
    "fee",
    "info",
    "unknown",
)

_REG = Boleto.Registration
_PAY = Boleto.Payment
_INSTR = Boleto.InstructionStatus
_PAID_STATES = frozenset({_PAY.PAID.value, _PAY.PAID_AFTER_WRITE_OFF.value})
_OPEN_INSTRUCTION = frozenset({_INSTR.PENDING.value, _INSTR.SENT.value})
_APPLIED = BankOccurrence.Outcome.APPLIED.value
_DUPLICATE = BankOccurrence.Outcome.DUPLICATE.value
_NOT_FOUND = BankOccurrence.Outcome.NOT_FOUND.value
_IGNORED = BankOccurrence.Outcome.IGNORED.value
_ZERO = Decimal("0.00")


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB".replace(".", ",")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def _refuse(message, **params) -> ValidationError:
    return ValidationError(message, params=params or None)


def _message(error: ValidationError) -> str:
    """The one pt-BR line a refusal carries (for the command and the inbox's .txt)."""
    return " ".join(str(m) for m in error.messages)


# --- receiving ---------------------------------------------------------------------------------


def _check_size(size: int) -> None:
    limit = settings.BANK_FILE_MAX_BYTES
    if size > limit:
        raise _refuse(RETORNO_TOO_LARGE, size=_size_text(size), limit=_size_text(limit))


def _looks_utf16(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:512]
    if b"\x00" not in head:
        return False
    odd, even = head[1::2], head[0::2]
    return odd.count(0) > len(odd) * 0.8 or even.count(0) > len(even) * 0.8


def _numeric(value: str) -> str:
    return "".join(ch for ch in value or "" if ch.isdigit()).lstrip("0")


def _check_parsed(*, merchant: Merchant, collection, connector, parsed: ParsedFile) -> None:
    """The file is a retorno of this merchant's bank, beneficiary and account (checked where
    the header carries them; banks differ in what they fill)."""
    if parsed.direction != "retorno":
        raise _refuse(RETORNO_IS_REMESSA)
    if parsed.bank_code != connector.code:
        raise _refuse(RETORNO_OTHER_BANK, file_bank=parsed.bank_code, bank=connector.code)
    document = _numeric(parsed.beneficiary_document)
    if document and document != _numeric(merchant.cnpj):
        raise _refuse(
            RETORNO_OTHER_BENEFICIARY,
            document=parsed.beneficiary_document,
            cnpj=merchant.cnpj,
        )
    agency, account = _numeric(parsed.agency), _numeric(parsed.account)
    our_agency, our_account = _numeric(merchant.agency), _numeric(merchant.account)
    with_digit = _numeric(merchant.account + merchant.account_digit)
    agency_ok = (
        not agency
        or not our_agency
        or agency in (our_agency, _numeric(merchant.agency + merchant.agency_digit))
    )
    account_ok = not account or not our_account or account in (our_account, with_digit)
    if not (agency_ok and account_ok):
        raise _refuse(
            RETORNO_OTHER_ACCOUNT,
            agency=parsed.agency or "-",
            account=parsed.account or "-",
            our_agency=merchant.agency,
            our_account=merchant.account,
        )
    agreement = _numeric(parsed.agreement)
    ours = [c for c in (_numeric(merchant.agreement), _numeric(collection.company_code)) if c]
    if agreement and ours and not any(c in agreement or agreement in c for c in ours):
        raise _refuse(
            RETORNO_OTHER_AGREEMENT,
            agreement=parsed.agreement,
            our_agreement=merchant.agreement or collection.company_code,
        )
    for event in parsed.events:
        for value in (
            event.amount,
            event.amount_paid,
            event.amount_credited,
            event.fee,
            event.interest_fine,
            event.discount,
        ):
            if value is not None and abs(value) >= _AMOUNT_LIMIT:
                raise _refuse(RETORNO_AMOUNT_OUT_OF_RANGE, line=event.line, value=f"{value:.2f}")


@dataclass
class _Received:
    retorno: Retorno
    created: bool
    parsed: ParsedFile | None  # None when the file was stored before (not parsed again)


def _receive(*, merchant, data, filename, source, actor) -> _Received:
    data = bytes(data)
    _check_size(len(data))
    if not data or data.strip(b" \t\r\n\x1a") in (b"", b"\xef\xbb\xbf"):
        raise _refuse(RETORNO_EMPTY)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = Retorno.objects.for_merchant(merchant).filter(sha256=sha256).first()
    if existing is not None:
        return _Received(existing, False, None)
    if _looks_utf16(data):
        raise _refuse(RETORNO_UTF16)
    collection = bank_collection_get(merchant=merchant)
    connector = connector_for(merchant=merchant, collection=collection)
    try:
        parsed = connector.parse_retorno(data)
    except CnabError as exc:
        raise _refuse(RETORNO_UNREADABLE, error=str(exc).rstrip(".")) from None
    _check_parsed(merchant=merchant, collection=collection, connector=connector, parsed=parsed)

    # The file first, then the row: the (merchant, sha256) constraint decides between two
    # uploads at once; the loser removes its copy of the file and takes the winner's row.
    name = default_storage.save(
        f"bank/retornos/{timezone.now():%Y/%m}/{merchant.pk}-{sha256[:16]}.ret",
        ContentFile(data),
    )
    try:
        with transaction.atomic():
            retorno = Retorno.objects.create(
                merchant=merchant,
                sha256=sha256,
                file=name,
                filename=(os.path.basename(filename or "") or "retorno.ret")[:255],
                size=len(data),
                layout=parsed.layout,
                bank_code=parsed.bank_code,
                nsa=parsed.nsa if parsed.nsa and parsed.nsa < 2**31 else None,
                generated_on=parsed.generated_on,
                source=source,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        default_storage.delete(name)
        existing = Retorno.objects.for_merchant(merchant).filter(sha256=sha256).first()
        if existing is None:
            raise
        return _Received(existing, False, None)
    return _Received(retorno, True, parsed)


def retorno_receive(
    *, merchant: Merchant, data: bytes, filename: str, source: str, actor=None
) -> tuple[Retorno, bool]:
    """Check a retorno and store it once per merchant: (retorno, True) when stored now,
    (the stored one, False) for a file already received. A file that is not this merchant's
    retorno raises ValidationError with one pt-BR message; nothing is stored then."""
    received = _receive(merchant=merchant, data=data, filename=filename, source=source, actor=actor)
    return received.retorno, received.created


def retorno_import(
    *, merchant: Merchant, data: bytes, filename: str, source: str, actor=None
) -> Retorno:
    """Receive and apply: the upload, the inbox, the command and the test bank all come here.
    The returned retorno's ``summary`` says what was done; ``already_imported`` (attribute,
    also in the summary dict) is True when the file had been applied before: nothing changed."""
    received = _receive(merchant=merchant, data=data, filename=filename, source=source, actor=actor)
    retorno = received.retorno
    summary = _apply(retorno=retorno, parsed=received.parsed)
    retorno.refresh_from_db()
    retorno.already_imported = summary["already_imported"]
    retorno.summary = summary
    return retorno


def retorno_read_path(path: str | os.PathLike) -> bytes:
    """A file's bytes for the command and the inbox; refused by size before being read."""
    try:
        _check_size(os.path.getsize(path))
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise _refuse(
            RETORNO_PATH_UNREADABLE, path=os.fspath(path), error=exc.strerror or str(exc)
        ) from None


# --- applying ----------------------------------------------------------------------------------


class _Conflict(Exception):
    """A boleto changed under us (a remessa, a cancellation): roll back and apply again."""


def retorno_apply(*, retorno: Retorno) -> dict:
    """Apply a received retorno once (a second call returns its summary, already_imported
    True). Idempotent and safe with two workers at once."""
    return _apply(retorno=retorno, parsed=None)


def _apply(*, retorno: Retorno, parsed: ParsedFile | None) -> dict:
    for attempt in range(1, _APPLY_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _apply_locked(retorno_id=retorno.pk, parsed=parsed)
        except (_Conflict, IntegrityError) as exc:
            # Another retorno applied the same fact, or a boleto changed meanwhile: the
            # committed state is visible now, so the next attempt decides again from it.
            if attempt == _APPLY_ATTEMPTS:
                raise
            logger.info("retorno %s: apply retried (%s)", retorno.pk, exc)
    raise AssertionError("unreachable")


def _apply_locked(*, retorno_id: int, parsed: ParsedFile | None) -> dict:
    retorno = Retorno.objects.select_for_update().select_related("merchant").get(pk=retorno_id)
    if retorno.status == Retorno.Status.APPLIED:
        return {**retorno.summary, "already_imported": True}
    merchant = retorno.merchant
    collection = bank_collection_get(merchant=merchant)
    connector = connector_for(merchant=merchant, collection=collection)
    if parsed is None:
        with retorno.file.open("rb") as handle:
            parsed = connector.parse_retorno(handle.read())
    account = remessa_account(merchant=merchant, collection=collection)
    io = _FastIO() if _fast_path() else _PlainIO()
    summary = _Applier(
        merchant=merchant, retorno=retorno, connector=connector, account=account, io=io
    ).run(parsed.events)
    retorno.status = Retorno.Status.APPLIED
    retorno.summary = summary
    retorno.applied_at = timezone.now()
    retorno.save(update_fields=["status", "summary", "applied_at", "updated_at"])
    return {**summary}


def _fast_path() -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "BANK_RETORNO_FAST_PATH", True)


# The columns of _State.COLUMNS that are the boleto's own; the others are its bank row's
# (billing.models.BoletoBank).
_BOLETO_COLUMNS = ("id", "amount")


class _State:
    """A boleto's bank fields while a file is applied (plain attributes: fast to touch)."""

    __slots__ = (
        "id",
        "amount",
        "reg",
        "registered_at",
        "pay",
        "amount_paid",
        "amount_credited",
        "fee",
        "interest_fine",
        "discount",
        "paid_on",
        "credited_on",
        "written_off_on",
        "instruction",
        "instr",
        "reg_reasons",
        "instr_reasons",
        "orig",
        "dirty",
        "rejected_on",
    )

    # Column order of the loading queries (both paths).
    COLUMNS = (
        "id",
        "amount",
        "registration_status",
        "registered_at",
        "payment_status",
        "amount_paid",
        "amount_credited",
        "bank_fee",
        "interest_fine",
        "discount",
        "paid_on",
        "credited_on",
        "written_off_on",
        "instruction",
        "instruction_status",
    )
    # The same through the ORM: all but the boleto's own columns are its bank row's.
    LOOKUPS = tuple(c if c in _BOLETO_COLUMNS else f"bank__{c}" for c in COLUMNS)

    def __init__(self, row) -> None:
        (
            self.id,
            self.amount,
            self.reg,
            self.registered_at,
            self.pay,
            self.amount_paid,
            self.amount_credited,
            self.fee,
            self.interest_fine,
            self.discount,
            self.paid_on,
            self.credited_on,
            self.written_off_on,
            self.instruction,
            self.instr,
        ) = row
        self.reg_reasons = None  # new JSON value when changed
        self.instr_reasons = None
        self.orig = (self.reg, self.pay, self.instruction, self.instr)
        self.dirty = False
        self.rejected_on = False  # False: not looked up yet


class _Applier:
    def __init__(self, *, merchant, retorno, connector: BankConnector, account, io) -> None:
        self.merchant = merchant
        self.retorno = retorno
        self.connector = connector
        self.account = account
        self.io = io
        self.now = timezone.now()
        self.today = business_today()

    def _sequences(self, events) -> list[int | None]:
        cache: dict[str, int | None] = {}
        convert = self.connector.sequence_from_file
        account = self.account
        result = []
        append = result.append
        for event in events:
            raw = event.nosso_numero
            sequence = cache.get(raw, False)
            if sequence is False:
                sequence = cache[raw] = convert(account=account, raw=raw) if raw else None
            append(sequence)
        return result

    def run(self, events) -> dict:
        # Tens of thousands of small objects and no reference cycles: the cyclic collector would
        # rescan them over and over (as billing.cnab.reading does while parsing).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run(events)
        finally:
            if collecting:
                gc.enable()

    def _run(self, events) -> dict:
        merchant_id = self.merchant.pk
        io = self.io
        sequences = self._sequences(events)
        by_number: dict[int, _State] = {}
        states: dict[int, _State] = {}
        wanted = {s for s in sequences if s is not None}
        for number, row in io.load_by_nosso_numero(merchant_id, wanted):
            state = _State(row)
            by_number[number] = state
            states[state.id] = state
        # Then by our id ("PB<boleto id>") within the merchant, for titles not matched so far.
        our_ids: dict[int, int] = {}
        for index, (event, sequence) in enumerate(zip(events, sequences, strict=True)):
            if (sequence is None or sequence not in by_number) and event.our_id:
                match = _OUR_ID.fullmatch(event.our_id)
                if match:
                    our_ids[index] = int(match.group(1))
        missing = {i for i in our_ids.values() if i not in states}
        if missing:
            for row in io.load_by_ids(merchant_id, missing):
                states[row[0]] = _State(row)
        matched: list[_State | None] = []
        for index, sequence in enumerate(sequences):
            state = by_number.get(sequence) if sequence is not None else None
            if state is None and index in our_ids:
                state = states.get(our_ids[index])
            matched.append(state)

        inert = {Kind.INFO, Kind.UNKNOWN}
        # Each fact's key, once (None where nothing can apply): looked up, then reused below.
        keys = [
            _applied_key(state.id, event) if state is not None and event.kind not in inert else None
            for event, state in zip(events, matched, strict=True)
        ]
        wanted_keys = [key for key in keys if key is not None]
        seen = io.existing_keys(merchant_id, wanted_keys) if wanted_keys else set()

        # Rejected boletos that a 02 might register: when was each rejected?
        to_check = [
            s.id
            for e, s in zip(events, matched, strict=True)
            if s is not None and s.reg == _REG.REJECTED and e.kind == Kind.REGISTERED
        ]
        if to_check:
            dates = _rejection_dates(to_check)
            for boleto_id in to_check:
                states[boleto_id].rejected_on = dates.get(boleto_id)

        counts = dict.fromkeys(SUMMARY_KINDS, 0)
        counts.update(not_found=0, duplicates=0, ignored=0)
        paid_total = _ZERO
        rows = []
        registered: set[int] = set()
        attentions: list[tuple[int, str, dict]] = []
        now = self.now
        retorno_id = self.retorno.pk
        for event, state, key in zip(events, matched, keys, strict=True):
            kind = event.kind
            if state is None:
                outcome = _NOT_FOUND
                counts["not_found"] += 1
            elif kind in inert:
                outcome = _IGNORED
                counts[kind.value] += 1
            else:
                if key in seen:
                    outcome, key = _DUPLICATE, None
                    counts["duplicates"] += 1
                elif self._transition(event, state, registered, attentions):
                    outcome = _APPLIED
                    seen.add(key)
                    counts[kind.value] += 1
                    if kind == Kind.PAID or kind == Kind.PAID_AFTER_WRITE_OFF:
                        paid_total += state.amount_paid
                else:
                    outcome, key = _IGNORED, None
                    counts["ignored"] += 1
            rows.append(
                (
                    merchant_id,
                    now,
                    now,
                    retorno_id,
                    event.line,
                    state.id if state is not None else None,
                    event.nosso_numero[:30],
                    event.our_id[:25],
                    event.occurrence[:2],
                    kind.value,
                    [r.as_json() for r in event.reasons] if event.reasons else [],
                    event.amount,
                    event.amount_paid,
                    event.amount_credited,
                    event.fee,
                    event.interest_fine,
                    event.discount,
                    event.occurred_on,
                    event.credited_on,
                    outcome,
                    key,
                )
            )
        io.insert_occurrences(rows)
        changed = [s for s in states.values() if s.dirty]
        if changed:
            updated = io.update_boletos(changed, now)
            if updated != len(changed):
                raise _Conflict(f"{len(changed) - updated} boleto(s) changed meanwhile")

        announce = sorted(i for i in registered if states[i].pay == _PAY.OPEN)
        if announce:
            boletos_registered_on_commit({merchant_id: announce})
        if attentions:
            transaction.on_commit(lambda: _send_attentions(merchant_id, attentions), robust=True)
        return {
            "file": self.retorno.filename,
            "records": len(events),
            **counts,
            "amount_paid": f"{paid_total:.2f}",
            "already_imported": False,
        }

    def _transition(self, event, s: _State, registered: set, attentions: list) -> bool:
        """Apply one fact to the boleto's state in memory; False when it cannot apply (the
        state would go backwards)."""
        kind = event.kind
        if kind == Kind.REGISTERED:
            if s.reg == _REG.PENDING or (
                s.reg == _REG.REJECTED
                and event.occurred_on is not None
                and s.rejected_on is not None
                and s.rejected_on is not False
                and event.occurred_on > s.rejected_on
            ):
                self._register(s, registered)
                return True
            return False
        if kind == Kind.REJECTED:
            if s.reg != _REG.PENDING or s.pay != _PAY.OPEN:
                return False
            s.reg = _REG.REJECTED
            s.reg_reasons = [r.as_json() for r in event.reasons]
            s.rejected_on = event.occurred_on or self.today
            s.dirty = True
            attentions.append(
                (
                    s.id,
                    BankAttention.REGISTRATION_REJECTED.value,
                    {
                        "nosso_numero": event.nosso_numero,
                        "reasons": "; ".join(
                            f"{r.code} - {r.text}" if r.code else r.text for r in event.reasons
                        ),
                    },
                )
            )
            return True
        if kind == Kind.PAID or kind == Kind.PAID_AFTER_WRITE_OFF:
            if s.pay in _PAID_STATES:
                return False
            after_write_off = kind == Kind.PAID_AFTER_WRITE_OFF or s.pay == _PAY.WRITTEN_OFF
            s.pay = _PAY.PAID_AFTER_WRITE_OFF if after_write_off else _PAY.PAID
            s.amount_paid = event.amount_paid if event.amount_paid is not None else _ZERO
            s.amount_credited = event.amount_credited
            s.fee = event.fee
            s.interest_fine = event.interest_fine
            s.discount = event.discount
            s.paid_on = event.occurred_on or event.credited_on or self.today
            s.credited_on = event.credited_on
            s.dirty = True
            if s.reg == _REG.PENDING or s.reg == _REG.REJECTED:
                self._register(s, registered)
            if after_write_off:
                attentions.append((s.id, BankAttention.PAID_AFTER_WRITE_OFF.value, _paid(event, s)))
            elif s.amount_paid != s.amount:
                attentions.append((s.id, BankAttention.AMOUNT_DIFFERS.value, _paid(event, s)))
            return True
        if kind == Kind.WRITTEN_OFF:
            if s.pay != _PAY.OPEN:
                return False
            s.pay = _PAY.WRITTEN_OFF
            s.written_off_on = event.occurred_on or self.today
            if s.instruction == Boleto.Instruction.WRITE_OFF and s.instr in _OPEN_INSTRUCTION:
                s.instr = _INSTR.CONFIRMED
            s.dirty = True
            return True
        if kind == Kind.INSTRUCTION_CONFIRMED or kind == Kind.INSTRUCTION_REJECTED:
            if s.instr not in _OPEN_INSTRUCTION:
                return False
            if kind == Kind.INSTRUCTION_CONFIRMED:
                s.instr = _INSTR.CONFIRMED
            else:
                s.instr = _INSTR.REJECTED
                s.instr_reasons = [r.as_json() for r in event.reasons]
            s.dirty = True
            return True
        if kind == Kind.FEE:
            return True  # the ledger row is the record; the payment is untouched
        return False

    def _register(self, s: _State, registered: set) -> None:
        s.reg = _REG.REGISTERED
        s.registered_at = self.now
        s.reg_reasons = []
        s.dirty = True
        registered.add(s.id)


def _paid(event, s: _State) -> dict:
    """The detail of a payment's alert (built only when there is one)."""
    return {
        "nosso_numero": event.nosso_numero,
        "amount": f"{s.amount:.2f}",
        "amount_paid": f"{s.amount_paid:.2f}",
        "paid_on": s.paid_on.isoformat(),
    }


def _applied_key(boleto_id: int, event) -> str:
    occurred = event.occurred_on.isoformat() if event.occurred_on else "-"
    return f"{boleto_id}:{event.occurrence}:{occurred}"


def _rejection_dates(boleto_ids: list[int]) -> dict[int, date | None]:
    """When each boleto's registration was last rejected (rare: plain ORM on both paths)."""
    result: dict[int, date | None] = {}
    rows = (
        BankOccurrence.objects.filter(
            boleto_id__in=boleto_ids, kind=Kind.REJECTED.value, outcome=_APPLIED
        )
        .order_by("boleto_id", "occurred_on")
        .values_list("boleto_id", "occurred_on", "created_at")
    )
    for boleto_id, occurred_on, created_at in rows:
        result[boleto_id] = occurred_on or timezone.localdate(created_at)
    return result


def _send_attentions(merchant_id: int, attentions: list[tuple[int, str, dict]]) -> None:
    for boleto_id, kind, detail in attentions:
        bank_attention.send(
            sender=None, merchant_id=merchant_id, boleto_id=boleto_id, kind=kind, detail=detail
        )


# --- database access: plain ORM, and the PostgreSQL fast path ------------------------------------

_OCCURRENCE_COLUMNS = (
    "merchant_id",
    "created_at",
    "updated_at",
    "retorno_id",
    "line",
    "boleto_id",
    "nosso_numero",
    "our_id",
    "occurrence",
    "kind",
    "reasons",
    "amount",
    "amount_paid",
    "amount_credited",
    "fee",
    "interest_fine",
    "discount",
    "occurred_on",
    "credited_on",
    "outcome",
    "applied_key",
)


def _chunks(values, size=_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _PlainIO:
    """The ORM, chunked: any database."""

    def load_by_nosso_numero(self, merchant_id, numbers):
        for chunk in _chunks(numbers):
            rows = Boleto.objects.filter(merchant_id=merchant_id, nosso_numero__in=chunk)
            for row in rows.values_list("nosso_numero", *_State.LOOKUPS):
                yield row[0], row[1:]

    def load_by_ids(self, merchant_id, ids):
        for chunk in _chunks(ids):
            rows = Boleto.objects.filter(merchant_id=merchant_id, pk__in=chunk)
            yield from rows.values_list(*_State.LOOKUPS)

    def existing_keys(self, merchant_id, keys):
        found = set()
        for chunk in _chunks(set(keys)):
            found.update(
                BankOccurrence.objects.filter(
                    merchant_id=merchant_id, applied_key__in=chunk
                ).values_list("applied_key", flat=True)
            )
        return found

    def insert_occurrences(self, rows):
        BankOccurrence.objects.bulk_create(
            (BankOccurrence(**dict(zip(_OCCURRENCE_COLUMNS, row, strict=True))) for row in rows),
            batch_size=_CHUNK,
        )

    def update_boletos(self, states, now) -> int:
        updated = 0
        for s in states:
            fields = _update_fields(s)
            fields["updated_at"] = now
            reg, pay, instruction, instr = s.orig
            updated += BoletoBank.objects.filter(
                pk=s.id,
                registration_status=reg,
                payment_status=pay,
                instruction=instruction,
                instruction_status=instr,
            ).update(**fields)
        return updated


def _update_fields(s: _State) -> dict:
    fields = {
        "registration_status": s.reg,
        "registered_at": s.registered_at,
        "payment_status": s.pay,
        "amount_paid": s.amount_paid,
        "amount_credited": s.amount_credited,
        "bank_fee": s.fee,
        "interest_fine": s.interest_fine,
        "discount": s.discount,
        "paid_on": s.paid_on,
        "credited_on": s.credited_on,
        "written_off_on": s.written_off_on,
        "instruction_status": s.instr,
    }
    if s.reg_reasons is not None:
        fields["registration_reasons"] = s.reg_reasons
    if s.instr_reasons is not None:
        fields["instruction_reasons"] = s.instr_reasons
    return fields


def _reasons_json(reasons: list) -> str:
    """A reasons list as JSON text; most are empty (a registration clears them)."""
    return json.dumps(reasons, ensure_ascii=False) if reasons else "[]"


def _array_literal(values) -> str:
    """A PostgreSQL array literal of ints or applied keys (digits, ":" and "-": nothing to
    quote), passed as ONE text parameter: Django binds parameters client-side, and quoting a
    100,000-element list element by element costs more than the query."""
    return "{" + ",".join(map(str, values)) + "}"


class _FastIO:
    """PostgreSQL: one query per step whatever the file's size (arrays, COPY, UPDATE ... FROM)."""

    _SELECT = ", ".join(f"b.{c}" if c in _BOLETO_COLUMNS else f"k.{c}" for c in _State.COLUMNS)
    _FROM = "billing_boleto b JOIN billing_boletobank k ON k.boleto_id = b.id"

    def load_by_nosso_numero(self, merchant_id, numbers):
        if not numbers:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT b.nosso_numero, {self._SELECT} FROM {self._FROM}"  # noqa: S608
                " WHERE b.merchant_id = %s AND b.nosso_numero = ANY(%s::bigint[])",
                [merchant_id, _array_literal(numbers)],
            )
            return [(row[0], row[1:]) for row in cursor.fetchall()]

    def load_by_ids(self, merchant_id, ids):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {self._SELECT} FROM {self._FROM}"  # noqa: S608
                " WHERE b.merchant_id = %s AND b.id = ANY(%s::bigint[])",
                [merchant_id, _array_literal(ids)],
            )
            return cursor.fetchall()

    def existing_keys(self, merchant_id, keys):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT applied_key FROM billing_bankoccurrence WHERE merchant_id = %s"
                " AND applied_key IS NOT NULL AND applied_key = ANY(%s::varchar[])",
                [merchant_id, _array_literal(set(keys))],
            )
            return {row[0] for row in cursor.fetchall()}

    def insert_occurrences(self, rows):
        if not rows:
            return
        table = BankOccurrence._meta.db_table
        columns = ", ".join(_OCCURRENCE_COLUMNS)
        reasons_at = _OCCURRENCE_COLUMNS.index("reasons")
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            write_row = copy.write_row
            for row in rows:
                reasons = row[reasons_at]
                row = list(row)
                row[reasons_at] = _reasons_json(reasons)
                write_row(row)

    def update_boletos(self, states, now) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS retorno_boleto_update ("
                " id bigint, old_reg varchar(10), old_pay varchar(20), old_instruction"
                " varchar(10), old_instr varchar(10), reg varchar(10), reg_reasons jsonb,"
                " registered_at timestamptz, pay varchar(20), amount_paid numeric(12,2),"
                " amount_credited numeric(12,2), bank_fee numeric(12,2),"
                " interest_fine numeric(12,2), discount numeric(12,2), paid_on date,"
                " credited_on date, written_off_on date, instr varchar(10),"
                " instr_reasons jsonb) ON COMMIT DELETE ROWS"
            )
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy("COPY retorno_boleto_update FROM STDIN") as copy,
            ):
                write_row = copy.write_row
                dumps = _reasons_json
                for s in states:
                    write_row(
                        (
                            s.id,
                            *s.orig,
                            s.reg,
                            None if s.reg_reasons is None else dumps(s.reg_reasons),
                            s.registered_at,
                            s.pay,
                            s.amount_paid,
                            s.amount_credited,
                            s.fee,
                            s.interest_fine,
                            s.discount,
                            s.paid_on,
                            s.credited_on,
                            s.written_off_on,
                            s.instr,
                            None if s.instr_reasons is None else dumps(s.instr_reasons),
                        )
                    )
            cursor.execute(
                "UPDATE billing_boletobank b SET registration_status = u.reg,"
                " registration_reasons = COALESCE(u.reg_reasons, b.registration_reasons),"
                " registered_at = u.registered_at, payment_status = u.pay,"
                " amount_paid = u.amount_paid, amount_credited = u.amount_credited,"
                " bank_fee = u.bank_fee, interest_fine = u.interest_fine,"
                " discount = u.discount, paid_on = u.paid_on, credited_on = u.credited_on,"
                " written_off_on = u.written_off_on, instruction_status = u.instr,"
                " instruction_reasons = COALESCE(u.instr_reasons, b.instruction_reasons),"
                " updated_at = %s"
                " FROM retorno_boleto_update u WHERE b.boleto_id = u.id"
                " AND b.registration_status = u.old_reg AND b.payment_status = u.old_pay"
                " AND b.instruction = u.old_instruction AND b.instruction_status = u.old_instr",
                [now],
            )
            updated = cursor.rowcount
            cursor.execute("DELETE FROM retorno_boleto_update")
            return updated


# --- the inbox folder --------------------------------------------------------------------------

_IN_PROGRESS = (".part", ".tmp", ".filepart", ".partial")


def retornos_inbox_collect() -> int:
    """Import the retornos waiting in settings.BANK_INBOX_DIR/<merchant CNPJ digits>/ (the beat
    job; nothing when the setting is empty). Each file is imported (source inbox) and moved to
    processed/, or to refused/ with a .txt beside it saying why. Returns files imported (a file
    already imported counts too: it is moved to processed/)."""
    inbox = settings.BANK_INBOX_DIR
    if not inbox or not os.path.isdir(inbox):
        return 0
    imported = 0
    for folder in sorted(Path(inbox).iterdir()):
        if not folder.is_dir() or not folder.name.isdigit():
            continue
        merchant = Merchant.objects.filter(cnpj=folder.name).first()
        if merchant is None:
            logger.warning("bank inbox: no merchant with CNPJ %s", folder.name)
            continue
        for path in sorted(folder.iterdir()):
            if (
                not path.is_file()
                or path.name.startswith(".")
                or path.name.lower().endswith(_IN_PROGRESS)
            ):
                continue
            if _inbox_file(merchant, path):
                imported += 1
    return imported


def _inbox_file(merchant: Merchant, path: Path) -> bool:
    try:
        data = retorno_read_path(path)
        retorno_import(merchant=merchant, data=data, filename=path.name, source="inbox")
    except ValidationError as exc:
        target = _move(path, "refused")
        if target is not None:
            target.with_name(target.name + ".txt").write_text(_message(exc) + "\n", "utf-8")
        logger.info("bank inbox: %s refused: %s", path, _message(exc))
        return False
    except Exception:
        # Left where it is: the next run tries again (a database hiccup is not the file's fault).
        logger.exception("bank inbox: %s not imported", path)
        return False
    _move(path, "processed")
    return True


def _move(path: Path, folder: str) -> Path | None:
    target_dir = path.parent / folder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        stamp = datetime.now(tz=timezone.get_current_timezone()).strftime("%Y%m%d%H%M%S%f")
        target = target_dir / f"{path.stem}-{stamp}{path.suffix}"
    try:
        shutil.move(path, target)
    except FileNotFoundError:
        return None  # another run took it
    return target


def retorno_already_imported_message(retorno: Retorno) -> str:
    """ "Este arquivo já foi processado em 05/03/2026." for the upload page."""
    when = business_localtime(retorno.applied_at or retorno.created_at).date()
    return str(RETORNO_ALREADY_IMPORTED) % {"date": date_br(when)}
