"""Remessas: the files that tell the merchant's bank what to register and what to write off.

One remessa carries everything not yet sent, per merchant: the entries (movement 01, issued
boletos whose registration is pending and that no remessa carried yet) and the write-off requests
(movement 02, boletos whose ``instruction`` is a pending WRITE_OFF). It is generated under the
merchant's BankCollection row lock, which also allocates its NSA (one more per file), so two
generations never share a title or a number. A generated remessa is immutable: stored once
(Remessa.file, default storage) and, when settings.BANK_OUTBOX_DIR is set, also written to
``<BANK_OUTBOX_DIR>/<merchant cnpj>/<filename>`` for the merchant's VAN/SFTP client.

Withdrawn entries: a boleto cancelled before any remessa carried it has nothing to write off at
the bank, and must never be sent. Its registration stays ``pending`` (the database allows no
other state for an issued boleto that the bank does not know) and it is marked with instruction
WRITE_OFF, status CONFIRMED and no instruction remessa: "withdrawn before registration". The
entry scan takes only boletos with no instruction, so it is never sent.

Generation is fast on purpose (100,000 titles well under two seconds with the database): rows are
read with ``.values()`` (payer fields extracted by the database), titles are built in one pass,
and the boletos are marked with one UPDATE per kind over an id array.
"""

import logging
import os
from datetime import time
from decimal import Decimal
from hashlib import sha256
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from billing.cnab.remessa import RemessaTitle
from billing.connectors import connector_for, remessa_account
from billing.models import BankCollection, Boleto, BoletoBank, CollectionChannel, Remessa
from billing.selectors import bank_q
from billing.services import bank_collection_get
from portal.logs import log_decision
from portal.models import Merchant
from portal.timezones import business_day_start, business_localtime

logger = logging.getLogger(__name__)

MOVEMENT_ENTRY = "01"
MOVEMENT_WRITE_OFF = "02"
# CNAB 400's seu número (111-120) is the shortest document-number field of the layouts.
SEU_NUMERO_MAX = 10

_PAYER_KEYS = (
    "name",
    "document",
    "address_street",
    "address_district",
    "address_city",
    "address_state",
    "address_zip",
)
_TITLE_FIELDS = (
    "pk",
    "nosso_numero",
    "sequence",
    "due_date",
    "amount",
    "issued_at",
)


def seu_numero(*, schedule_number: int, sequence: int) -> str:
    """The document number printed and sent to the bank: "<schedule nº>-<installment>" (up to
    "999999-999"). Longer forms keep their right-most characters (the installment stays
    readable); the bank matches titles by nosso número and our id, never by this."""
    return f"{schedule_number}-{sequence}"[-SEU_NUMERO_MAX:]


def our_id(boleto_id: int) -> str:
    """What goes to "uso da empresa" (CNAB 240 P 196-220, CNAB 400 38-62), echoed back in the
    retorno: the second key retorno matching uses (billing.retornos)."""
    return f"PB{boleto_id}"


def _title_rows(queryset):
    return queryset.order_by("pk").values(
        *_TITLE_FIELDS,
        schedule_number=F("schedule__number"),
        late_fee=KT("beneficiary__late_fee_percent"),
        interest=KT("beneficiary__monthly_interest_percent"),
        **{f"payer_{key}": KT(f"payer__{key}") for key in _PAYER_KEYS},
    )


def _titles(rows, *, movement: str, merchant: Merchant, write_off_days) -> list[RemessaTitle]:
    """RemessaTitles from the boletos' own snapshots (what was printed on them), the merchant's
    current fine and interest only when an old snapshot lacks them."""
    decimals: dict = {}

    def percent(text, default: Decimal) -> Decimal:
        if text is None or text == "":
            return default
        value = decimals.get(text)
        if value is None:
            value = decimals[text] = Decimal(text)
        return value

    late_fee_default = merchant.late_fee_percent
    interest_default = merchant.monthly_interest_percent
    localdate = timezone.localdate
    titles = []
    append = titles.append
    for row in rows:
        append(
            RemessaTitle(
                movement=movement,
                nosso_numero=row["nosso_numero"],
                our_id=f"PB{row['pk']}",
                seu_numero=f"{row['schedule_number']}-{row['sequence']}"[-SEU_NUMERO_MAX:],
                issue_date=localdate(row["issued_at"]),
                due_date=row["due_date"],
                amount=row["amount"],
                payer_document=row["payer_document"] or "",
                payer_name=row["payer_name"] or "",
                payer_street=row["payer_address_street"] or "",
                payer_district=row["payer_address_district"] or "",
                payer_city=row["payer_address_city"] or "",
                payer_state=row["payer_address_state"] or "",
                payer_zip=row["payer_address_zip"] or "",
                late_fee_percent=percent(row["late_fee"], late_fee_default),
                monthly_interest_percent=percent(row["interest"], interest_default),
                write_off_days=write_off_days,
            )
        )
    return titles


def _bulk_update(ids: list[int], **values) -> int:
    """UPDATE the bank state of the boletos ``ids`` with ``values``: one statement over an id
    array on PostgreSQL (no 100,000-parameter IN list), chunks elsewhere."""
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        meta = BoletoBank._meta
        columns = ", ".join(f"{meta.get_field(name).column} = %s" for name in values)
        params = [getattr(value, "pk", value) for value in values.values()]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {meta.db_table} SET {columns} WHERE boleto_id = ANY(%s)",  # noqa: S608
                [*params, ids],
            )
            return cursor.rowcount
    updated = 0
    for start in range(0, len(ids), 500):
        updated += BoletoBank.objects.filter(pk__in=ids[start : start + 500]).update(**values)
    return updated


def _outbox_write(*, merchant: Merchant, filename: str, data: bytes) -> Path | None:
    """Copy the remessa to the outbox folder for the merchant's transfer client. Written to a
    temporary name and renamed, so the client never picks up half a file."""
    root = settings.BANK_OUTBOX_DIR
    if not root:
        return None
    folder = Path(root) / merchant.cnpj
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    partial = folder / f".{filename}.partial"
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def _generate_locked(
    *, merchant: Merchant, collection: BankCollection, trigger: str, actor, now
) -> Remessa | None:
    """The remessa of everything not yet sent; the caller holds the collection row's lock."""
    connector = connector_for(merchant=merchant, collection=collection)
    account = remessa_account(merchant=merchant, collection=collection)
    issued = Boleto.objects.filter(
        bank_q(merchant), merchant_id=merchant.pk, status=Boleto.Status.ISSUED
    )
    entry_rows = list(
        _title_rows(
            issued.filter(
                bank__registration_status=Boleto.Registration.PENDING,
                bank__registration_remessa__isnull=True,
                bank__instruction=Boleto.Instruction.NONE,
            )
        )
    )
    write_off_rows = list(
        _title_rows(
            issued.filter(
                bank__instruction=Boleto.Instruction.WRITE_OFF,
                bank__instruction_status=Boleto.InstructionStatus.PENDING,
            )
        )
    )
    if not entry_rows and not write_off_rows:
        return None
    # 0 ("baixa no vencimento") is not a term the layouts carry (P 225-227 counts days after
    # the due date, 1 and up): such titles go with the bank's default.
    write_off_days = collection.write_off_days or None
    titles = _titles(
        entry_rows, movement=MOVEMENT_ENTRY, merchant=merchant, write_off_days=write_off_days
    ) + _titles(
        write_off_rows,
        movement=MOVEMENT_WRITE_OFF,
        merchant=merchant,
        write_off_days=write_off_days,
    )
    nsa = collection.next_nsa
    data = connector.build_remessa(account=account, titles=titles, nsa=nsa, generated_at=now)
    filename = f"REM{nsa:06d}_{connector.code}.rem"
    remessa = Remessa(
        merchant=merchant,
        nsa=nsa,
        layout=connector.layout,
        bank_code=connector.code,
        filename=filename,
        sha256=sha256(data).hexdigest(),
        titles=len(titles),
        movements={
            code: count
            for code, count in (
                (MOVEMENT_ENTRY, len(entry_rows)),
                (MOVEMENT_WRITE_OFF, len(write_off_rows)),
            )
            if count
        },
        total_amount=sum((row["amount"] for row in entry_rows), Decimal("0")),
        trigger=trigger,
        created_by=actor,
    )
    remessa.file.save(filename, ContentFile(data), save=False)
    remessa.save()
    collection.next_nsa = nsa + 1
    collection.save(update_fields=["next_nsa", "updated_at"])
    _bulk_update([row["pk"] for row in entry_rows], registration_remessa=remessa, updated_at=now)
    _bulk_update(
        [row["pk"] for row in write_off_rows],
        instruction_status=Boleto.InstructionStatus.SENT,
        instruction_remessa=remessa,
        updated_at=now,
    )
    _outbox_write(merchant=merchant, filename=filename, data=data)
    log_decision(
        logger,
        "remessa_generated",
        merchant=merchant.pk,
        decision=trigger,
        nsa=nsa,
        bank=connector.code,
        entries=len(entry_rows),
        write_offs=len(write_off_rows),
    )
    return remessa


def remessa_generate(*, merchant: Merchant, trigger: str, actor=None, now=None) -> Remessa | None:
    """Generate the merchant's next remessa: the entries (01) and write-off requests (02) not yet
    sent, NSA = collection.next_nsa (then one more). Returns None when there is nothing to send
    (no file, no NSA used). Raises ValidationError when the channel cannot take the merchant's
    bank (connector_for), and the layout's RemessaError on data a layout cannot carry: nothing
    is marked then."""
    now = now or timezone.now()
    bank_collection_get(merchant=merchant)
    with transaction.atomic():
        collection = BankCollection.objects.select_for_update().get(merchant_id=merchant.pk)
        return _generate_locked(
            merchant=merchant, collection=collection, trigger=trigger, actor=actor, now=now
        )


def remessa_time() -> time:
    """settings.BANK_REMESSA_TIME ("HH:MM", business time)."""
    hours, _, minutes = settings.BANK_REMESSA_TIME.partition(":")
    return time(int(hours), int(minutes or 0))


def remessas_generate_due(*, now=None) -> int:
    """The beat job (every 15 minutes): once the business day reaches BANK_REMESSA_TIME, each
    merchant on a file channel gets the day's scheduled remessa, once: a merchant that already
    has a scheduled remessa created today is skipped (checked under its collection's lock, so
    two runs at once generate one file). A day with nothing to send leaves no file; a later run
    the same day sends what was issued meanwhile. Returns how many remessas were generated."""
    # Imported here: billing.registration imports this module.
    from billing.registration import is_business_day

    now = now or timezone.now()
    local = business_localtime(now)
    if local.time() < remessa_time() or not is_business_day(local.date()):
        return 0
    day_start = business_day_start(local.date())
    generated = 0
    collections = BankCollection.objects.filter(
        channel__in=[CollectionChannel.CNAB240, CollectionChannel.CNAB400]
    ).values_list("pk", "merchant_id")
    for collection_id, merchant_id in collections:
        try:
            with transaction.atomic():
                collection = BankCollection.objects.select_for_update().get(pk=collection_id)
                done = Remessa.objects.filter(
                    merchant_id=merchant_id,
                    trigger=Remessa.Trigger.SCHEDULED,
                    created_at__gte=day_start,
                ).exists()
                if done:
                    continue
                merchant = Merchant.objects.get(pk=merchant_id)
                remessa = _generate_locked(
                    merchant=merchant,
                    collection=collection,
                    trigger=Remessa.Trigger.SCHEDULED,
                    actor=None,
                    now=now,
                )
        except Exception:
            # One merchant's bad data (a bank the channel does not take) must not stop the
            # others' files; the merchant's "Gerar remessa" shows the message.
            log_decision(
                logger,
                "remessa_scheduled_failed",
                level=logging.ERROR,
                exc_info=True,
                merchant=merchant_id,
                decision="skipped",
            )
            continue
        generated += remessa is not None
    return generated


def boletos_write_off_request(*, merchant_id: int, schedule_id: int, now=None) -> dict:
    """A cancelled schedule's open boletos leave the bank (called by schedules' cancellation,
    inside its transaction). Under the collection lock, so no remessa is being built meanwhile:

    - known to the bank (registered, or carried by a remessa and still unanswered) and open:
      instruction WRITE_OFF, PENDING: the next remessa carries a 02 for them;
    - never sent (pending, no remessa): withdrawn, never to be sent (instruction WRITE_OFF,
      CONFIRMED, no remessa; see the module docstring).

    Paid, written-off and rejected boletos are left alone. Returns {"requested": n,
    "withdrawn": n}. The test bank's write-off goes at once after commit
    (billing.registration)."""
    now = now or timezone.now()
    merchant = Merchant.objects.get(pk=merchant_id)
    bank_collection_get(merchant=merchant)
    with transaction.atomic():
        collection = BankCollection.objects.select_for_update().get(merchant_id=merchant_id)
        open_boletos = BoletoBank.objects.filter(
            merchant_id=merchant_id,
            boleto__schedule_id=schedule_id,
            boleto__status=Boleto.Status.ISSUED,
            payment_status=Boleto.Payment.OPEN,
            instruction=Boleto.Instruction.NONE,
        )
        withdrawn = open_boletos.filter(
            registration_status=Boleto.Registration.PENDING, registration_remessa__isnull=True
        ).update(
            instruction=Boleto.Instruction.WRITE_OFF,
            instruction_status=Boleto.InstructionStatus.CONFIRMED,
            updated_at=now,
        )
        requested = open_boletos.filter(
            Q(registration_status=Boleto.Registration.REGISTERED)
            | Q(
                registration_status=Boleto.Registration.PENDING,
                registration_remessa__isnull=False,
            )
        ).update(
            instruction=Boleto.Instruction.WRITE_OFF,
            instruction_status=Boleto.InstructionStatus.PENDING,
            updated_at=now,
        )
        if requested and collection.channel == CollectionChannel.TEST_BANK:
            # Imported here: billing.registration imports this module.
            from billing.registration import registration_request_on_commit

            registration_request_on_commit({merchant_id: []})
    log_decision(
        logger,
        "boletos_write_off_requested",
        merchant=merchant_id,
        schedule_id=schedule_id,
        decision="write_off",
        requested=requested,
        withdrawn=withdrawn,
    )
    return {"requested": requested, "withdrawn": withdrawn}
