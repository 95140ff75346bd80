"""Registration at the bank, and the Banco de testes (999) that answers at once.

Issuing a boleto makes it ``pending``. What happens next depends on the merchant's channel:

- INSTANT connectors (the test bank): `registration_request` (a Celery task queued on commit
  after issuance, see schedules.apps) generates the merchant's remessa at once, hands it to the
  test bank (billing.testbank, with `TestBankTitle` as the bank's memory), and imports the
  retorno it answers through the same path as any bank's file (billing.retornos.retorno_import,
  source "testbank"): 02 -> registered -> billing.signals.boletos_registered -> notifications
  emails the boleto; 03 -> rejected with reasons -> bank_attention.
- File channels (CNAB 240/400): the boleto waits for the scheduled remessa
  (billing.remessas.remessas_generate_due) or the merchant's "Gerar remessa", then for the
  bank's retorno (upload or inbox). It is emailed only once a 02 is imported.

`testbank_pay` is the test bank's "Simular pagamento": a 06 retorno (17 once written off), again
through retorno_import. `registrations_sweep` re-requests lost test-bank registrations;
`registrations_overdue_alert` tells the merchant about boletos still unconfirmed N business days
after their remessa.
"""

import logging
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import holidays
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.cnab.nosso_numero import file_nosso_numero
from billing.cnab.remessa import RemessaAccount
from billing.connectors import remessa_account
from billing.models import (
    BankAttention,
    BankCollection,
    Boleto,
    BoletoBank,
    CollectionChannel,
    Remessa,
    Retorno,
    TestBankTitle,
)
from billing.remessas import remessa_generate
from billing.retornos import retorno_import
from billing.services import bank_collection_get
from billing.signals import bank_attention, boletos_registered_on_commit
from billing.testbank import TestBankPayment, testbank_payment_retorno, testbank_process_remessa
from portal.logs import log_decision
from portal.models import Merchant
from portal.queue import enqueue_on_commit
from portal.timezones import business_localtime, business_today

logger = logging.getLogger(__name__)

TESTBANK_NOT_USED = _("O lojista deste boleto não usa o Banco de testes (999).")
TESTBANK_NOT_REGISTERED = _("Este boleto ainda não foi registrado no Banco de testes.")
TESTBANK_ALREADY_PAID = _("Este boleto já foi pago no Banco de testes.")
TESTBANK_AMOUNT_INVALID = _("O valor pago deve ser maior que zero.")

# A test-bank boleto still pending and in no remessa this long after issue lost its
# registration task (broker down at commit): the sweep requests it again.
LOST_REGISTRATION_AFTER = timedelta(minutes=10)
# The overdue alert is (re)announced while the boleto is at most this many days past its
# threshold; notifications keeps one alert per boleto and kind, so the merchant hears it once.
OVERDUE_ALERT_WINDOW_DAYS = 7


# --- Business days (billing cannot import schedules.dates: imports run one way) ---------------


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Brazil(years=year, categories=(holidays.PUBLIC,)).keys())


def is_business_day(day: date) -> bool:
    """Banks open: a weekday that is not a national public holiday."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def business_days_after(day: date, count: int) -> date:
    """The ``count``-th business day after ``day``."""
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


# --- The test bank's memory -----------------------------------------------------------------


def testbank_account_key(account: RemessaAccount) -> str:
    """How the test bank names a beneficiary account (its TestBankTitle rows)."""
    return ":".join(
        (account.bank_code, account.document, account.agreement, account.agency, account.account)
    )[:80]


def _testbank_known(account_key: str):
    """``known(nosso_numero)`` for billing.testbank: the account's titles, read once."""
    cache: set[str] | None = None

    def known(nosso_numero: str) -> bool:
        nonlocal cache
        if cache is None:
            cache = set(
                TestBankTitle.objects.filter(account_key=account_key).values_list(
                    "nosso_numero", flat=True
                )
            )
        return nosso_numero.strip() in cache

    return known


def _testbank_remember(*, account_key: str, answer, write_off_days, today: date) -> None:
    """Record what the test bank just answered: the titles it registered (02) and wrote off
    (09), as a bank's own system would."""
    TestBankTitle.objects.bulk_create(
        [
            TestBankTitle(
                account_key=account_key,
                nosso_numero=title.nosso_numero,
                our_id=title.our_id,
                amount=title.amount or Decimal("0"),
                due_date=title.due_date or today,
                write_off_days=write_off_days,
                registered_on=today,
            )
            for title in answer.accepted
        ],
        ignore_conflicts=True,
        batch_size=2_000,
    )
    written_off = [title.nosso_numero for title in answer.written_off]
    if written_off:
        TestBankTitle.objects.filter(account_key=account_key, nosso_numero__in=written_off).update(
            status=TestBankTitle.Status.WRITTEN_OFF, updated_at=timezone.now()
        )


# --- Registration ---------------------------------------------------------------------------


def testbank_register(*, merchant: Merchant, now=None) -> Retorno | None:
    """The test bank's round trip for one merchant: its remessa (everything pending), the test
    bank's answer, and the import of that retorno. One transaction: a failure anywhere leaves
    the boletos pending and in no remessa, for `registrations_sweep` to request again. Returns
    the imported Retorno, or None when there was nothing to send."""
    today = business_today()
    with transaction.atomic():
        remessa = remessa_generate(merchant=merchant, trigger=Remessa.Trigger.TEST_BANK, now=now)
        if remessa is None:
            return None
        collection = BankCollection.objects.get(merchant_id=merchant.pk)
        account = remessa_account(merchant=merchant, collection=collection)
        key = testbank_account_key(account)
        with remessa.file.open("rb") as handle:
            data = handle.read()
        answer = testbank_process_remessa(
            data=data, known=_testbank_known(key), today=today, nsa=remessa.nsa
        )
        _testbank_remember(
            account_key=key,
            answer=answer,
            write_off_days=collection.write_off_days,
            today=today,
        )
        return retorno_import(
            merchant=merchant,
            data=answer.retorno,
            filename=f"RET{remessa.nsa:06d}_999.ret",
            source=Retorno.Source.TEST_BANK,
        )


def registration_request(*, boleto_ids_by_merchant: dict) -> int:
    """Register newly issued boletos where the bank answers at once: for each merchant on the
    test bank, `testbank_register` (everything the merchant has pending, not only these ids).
    Merchants on file channels wait for their remessa: nothing to do here. Those of the ids
    already registered and not yet sent are announced as registered (boletos_registered), so
    delivery takes them. Returns how many merchants went through the test bank."""
    merchant_ids = [int(merchant_id) for merchant_id in boleto_ids_by_merchant]
    # Boletos the bank already knows (a reactivation announces what it sends again with what it
    # issues) are announced as registered again: delivery takes those still waiting to be sent.
    known_ids: dict[int, list[int]] = {}
    for merchant_id, boleto_id in Boleto.objects.filter(
        pk__in=[int(i) for ids in boleto_ids_by_merchant.values() for i in ids],
        merchant_id__in=merchant_ids,
        bank__registration_status=Boleto.Registration.REGISTERED,
        delivery_status=Boleto.DeliveryStatus.PENDING,
    ).values_list("merchant_id", "pk"):
        known_ids.setdefault(merchant_id, []).append(boleto_id)
    boletos_registered_on_commit(known_ids)
    on_test_bank = BankCollection.objects.filter(
        merchant_id__in=merchant_ids, channel=CollectionChannel.TEST_BANK
    ).values_list("merchant_id", flat=True)
    # Merchants older than the bank connector may lack their row: the test bank by default.
    known = BankCollection.objects.filter(merchant_id__in=merchant_ids).values_list(
        "merchant_id", flat=True
    )
    targets = set(on_test_bank) | (set(merchant_ids) - set(known))
    done = 0
    for merchant in Merchant.objects.filter(pk__in=sorted(targets)).order_by("pk"):
        try:
            testbank_register(merchant=merchant)
        except Exception:
            # One merchant's failure must not keep the others' boletos unregistered; the sweep
            # tries again.
            log_decision(
                logger,
                "testbank_register_failed",
                level=logging.ERROR,
                exc_info=True,
                merchant=merchant.pk,
                decision="sweep_retries",
            )
            continue
        done += 1
    return done


def registration_request_on_commit(boleto_ids_by_merchant: dict) -> None:
    """Queue `registration_request` once the current transaction commits (a thin task)."""
    # In the function: billing.tasks imports this module.
    from billing.tasks import registration_request_task

    if boleto_ids_by_merchant:
        enqueue_on_commit(
            registration_request_task,
            batch=[
                [int(merchant_id), list(ids)] for merchant_id, ids in boleto_ids_by_merchant.items()
            ],
        )


def registrations_sweep(*, now=None) -> int:
    """Beat, every 5 minutes: test-bank merchants with work whose registration task was lost
    (boletos pending and in no remessa, or write-offs pending, for LOST_REGISTRATION_AFTER) go
    through the test bank again, at once. Returns how many merchants were retried."""
    now = now or timezone.now()
    cutoff = now - LOST_REGISTRATION_AFTER
    test_bank = BankCollection.objects.filter(channel=CollectionChannel.TEST_BANK).values(
        "merchant_id"
    )
    lost_entries = BoletoBank.objects.filter(
        merchant_id__in=test_bank,
        registration_status=Boleto.Registration.PENDING,
        registration_remessa__isnull=True,
        instruction=Boleto.Instruction.NONE,
        boleto__issued_at__lt=cutoff,
    ).values_list("merchant_id", flat=True)
    lost_write_offs = BoletoBank.objects.filter(
        merchant_id__in=test_bank,
        instruction=Boleto.Instruction.WRITE_OFF,
        instruction_status=Boleto.InstructionStatus.PENDING,
        updated_at__lt=cutoff,
    ).values_list("merchant_id", flat=True)
    merchant_ids = set(lost_entries.distinct()[:1_000]) | set(lost_write_offs.distinct()[:1_000])
    if not merchant_ids:
        return 0
    log_decision(logger, "registrations_sweep", decision="retry", merchants=len(merchant_ids))
    return registration_request(boleto_ids_by_merchant={m: [] for m in merchant_ids})


def registrations_overdue_alert(*, today: date | None = None) -> int:
    """Beat (hourly): boletos whose remessa went out and whose registration is still unconfirmed
    ``registration_alert_days`` business days later: bank_attention REGISTRATION_OVERDUE (after
    commit), while within OVERDUE_ALERT_WINDOW_DAYS of the threshold (notifications keeps one
    alert per boleto, so a boleto is alerted once however often this runs). Returns how many
    boletos were announced."""
    today = today or business_today()
    announced = 0
    alert_days = dict(BankCollection.objects.values_list("merchant_id", "registration_alert_days"))
    rows = (
        BoletoBank.objects.filter(
            registration_status=Boleto.Registration.PENDING,
            registration_remessa__isnull=False,
            instruction=Boleto.Instruction.NONE,
            registration_remessa__created_at__gte=timezone.now()
            - timedelta(days=OVERDUE_ALERT_WINDOW_DAYS + 30),
        )
        .values_list(
            "pk",
            "merchant_id",
            "registration_remessa__created_at",
            "registration_remessa__filename",
        )
        .order_by("pk")[:10_000]
    )
    facts = []
    for boleto_id, merchant_id, sent_at, filename in rows:
        sent_on = business_localtime(sent_at).date()
        threshold = business_days_after(sent_on, alert_days.get(merchant_id, 2))
        if not threshold <= today <= threshold + timedelta(days=OVERDUE_ALERT_WINDOW_DAYS):
            continue
        facts.append(
            {
                "merchant_id": merchant_id,
                "boleto_id": boleto_id,
                "kind": BankAttention.REGISTRATION_OVERDUE,
                "detail": {
                    "remessa": filename,
                    "sent_on": sent_on.isoformat(),
                    "business_days": alert_days.get(merchant_id, 2),
                },
            }
        )
        announced += 1
    if facts:

        def announce():
            for fact in facts:
                bank_attention.send_robust(sender=None, **fact)

        transaction.on_commit(announce)
    return announced


# --- Simular pagamento ----------------------------------------------------------------------


def _decimal_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def testbank_pay(*, boleto: Boleto, amount: Decimal | None = None, paid_on: date | None = None):
    """The test bank's "Simular pagamento": the payer paid ``amount`` (default: the nominal
    amount) on ``paid_on`` (default: business today), credited the next business day. The test
    bank writes a payment retorno (06; 17 when the title was written off) and it is imported as
    any bank's file (retorno_import, source "testbank"). Refused with ValidationError (one pt-BR
    message) when the merchant is not on the test bank or the test bank does not know the
    title (not registered yet, rejected), or it is already paid. Returns the Retorno."""
    merchant = Merchant.objects.get(pk=boleto.merchant_id)
    collection = bank_collection_get(merchant=merchant)
    if collection.channel != CollectionChannel.TEST_BANK:
        raise ValidationError(TESTBANK_NOT_USED, code="not_test_bank")
    if boleto.nosso_numero is None or boleto.status != Boleto.Status.ISSUED:
        raise ValidationError(TESTBANK_NOT_REGISTERED, code="not_registered")
    amount = _decimal_places(boleto.amount if amount is None else Decimal(amount))
    if amount <= 0:
        raise ValidationError(TESTBANK_AMOUNT_INVALID, code="amount")
    paid_on = paid_on or business_today()
    account = remessa_account(merchant=merchant, collection=collection)
    key = testbank_account_key(account)
    nosso_numero = file_nosso_numero(
        bank_code=account.bank_code, account=account, sequence=boleto.nosso_numero
    ).strip()
    with transaction.atomic():
        title = (
            TestBankTitle.objects.select_for_update()
            .filter(account_key=key, nosso_numero=nosso_numero)
            .first()
        )
        if title is None:
            raise ValidationError(TESTBANK_NOT_REGISTERED, code="not_registered")
        if title.status == TestBankTitle.Status.PAID:
            raise ValidationError(TESTBANK_ALREADY_PAID, code="already_paid")
        occurrence = "17" if title.status == TestBankTitle.Status.WRITTEN_OFF else "06"
        difference = amount - title.amount
        payment = TestBankPayment(
            nosso_numero=title.nosso_numero,
            our_id=title.our_id or f"PB{boleto.pk}",
            amount=title.amount,
            due_date=title.due_date,
            amount_paid=amount,
            paid_on=paid_on,
            credited_on=business_days_after(paid_on, 1),
            fee=Decimal("0.00"),
            interest_fine=max(difference, Decimal("0.00")),
            discount=max(-difference, Decimal("0.00")),
            occurrence=occurrence,
        )
        nsa = Retorno.objects.filter(merchant_id=merchant.pk).count() + 1
        data = testbank_payment_retorno(
            account=account, titles=[payment], nsa=nsa, today=business_today()
        )
        title.status = TestBankTitle.Status.PAID
        title.save(update_fields=["status", "updated_at"])
        retorno = retorno_import(
            merchant=merchant,
            data=data,
            filename=f"RET{nsa:06d}_999_PAG.ret",
            source=Retorno.Source.TEST_BANK,
        )
    log_decision(
        logger,
        "testbank_paid",
        merchant=merchant.pk,
        boleto=boleto.pk,
        decision=occurrence,
        amount=str(amount),
    )
    return retorno
