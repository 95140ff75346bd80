"""Demo data: two merchants (so tenant isolation can be seen), customers, and schedules in every
state, with installments issued by the real generator as if the portal had been running.

The story at start: the months before today are history (every installment issued on its day
and delivered, a few schedules deactivated weeks ago, one cancelled), nothing of it is queued
to be emailed again; and today a customer's first boleto was emailed to a mistyped address, the
ESP's bounce arrived through the real tracking webhook, the schedule was deactivated, the
boleto is *não entregue*, the banner is up and the merchant's alert email is in var/mail/.

Both merchants use the Banco de testes (999), the default channel: history boletos were
registered on their day (and those already due were paid on their due date); today one boleto
is paid through the test bank's "Simular pagamento" (billing.registration.testbank_pay), so the
lists and the dashboard show "Pago" at once.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail.message import make_msgid
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from billing.cnab.nosso_numero import file_nosso_numero
from billing.connectors import remessa_account
from billing.models import Boleto, BoletoBank, TestBankTitle
from billing.registration import (
    business_days_after,
    testbank_account_key,
    testbank_pay,
    testbank_register,
)
from billing.services import bank_collection_get, customer_create
from notifications.alerts import merchant_alert_email
from notifications.delivery import delivery_hand_off
from notifications.models import MerchantAlert, OutboundEmail
from notifications.sending import boleto_send
from notifications.simulation import SimulationError, delivery_event_simulate
from notifications.vocabulary import EmailState
from portal.models import Membership, Merchant
from schedules.generator import installments_issue_due
from schedules.models import DeactivationCause, Schedule, ScheduleStatus
from schedules.services import schedule_cancel, schedule_create, schedule_deactivate

DEMO_USERNAME, DEMO_PASSWORD = "demo", "demo-boletos-2026"
OTHER_USERNAME, OTHER_PASSWORD = "outra", "outra-boletos-2026"

CUSTOMERS = [
    ("Ana Souza", "Rua das Flores, 120", "Pinheiros", "São Paulo", "SP", "05422010"),
    ("Bruno Lima", "Av. Brasil, 1500", "Centro", "Rio de Janeiro", "RJ", "20040002"),
    ("Carla Mendes", "Rua XV de Novembro, 45", "Centro", "Curitiba", "PR", "80020310"),
    ("Diego Rocha", "Rua da Bahia, 900", "Lourdes", "Belo Horizonte", "MG", "30160011"),
    ("Elisa Prado", "Av. Sete de Setembro, 300", "Centro", "Salvador", "BA", "40060001"),
    ("Fábio Costa", "Rua Padre Chagas, 80", "Moinhos", "Porto Alegre", "RS", "90570080"),
    ("Gabriel Nunes", "Av. Boa Viagem, 2200", "Boa Viagem", "Recife", "PE", "51020000"),
    ("Helena Dias", "Rua Bocaiúva, 1200", "Centro", "Florianópolis", "SC", "88015530"),
    ("Igor Martins", "SQS 308 Bloco C", "Asa Sul", "Brasília", "DF", "70355030"),
    ("Júlia Ferreira", "Rua Oscar Freire, 700", "Jardins", "São Paulo", "SP", "01426001"),
]


def _cpf(seed: int) -> str:
    base = f"{seed:09d}"
    digits = [int(c) for c in base]
    for weights_start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weights_start, 1, -1), strict=False))
        remainder = total % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


class Command(BaseCommand):
    help = "Create the demo merchant, its login, customers and schedules (idempotent)."

    def handle(self, *args, **options):
        if Merchant.objects.filter(cnpj="11222333000181").exists():
            self.stdout.write("Demo data already present.")
            return
        if not (settings.ANYMAIL or {}).get("WEBHOOK_SECRET"):
            raise CommandError(
                "ANYMAIL_WEBHOOK_SECRET não está configurado: o demo recebe um bounce pelo "
                "webhook real do provedor (as configurações de desenvolvimento definem um)."
            )
        with transaction.atomic():
            demo = self._merchant(
                legal_name="Academia Corpo em Movimento Ltda",
                trade_name="Academia Corpo em Movimento",
                cnpj="11222333000181",
                username=DEMO_USERNAME,
                password=DEMO_PASSWORD,
                bank_code="341",
                agency="0057",
                account="12345",
                account_digit="7",
                wallet="109",
                pix_key="financeiro@corpoemmovimento.example.com",
                late_fee_percent=Decimal("2.00"),
                monthly_interest_percent=Decimal("1.00"),
            )
            other = self._merchant(
                legal_name="Escola Saber Mais S.A.",
                trade_name="Escola Saber Mais",
                cnpj="26637142000158",
                username=OTHER_USERNAME,
                password=OTHER_PASSWORD,
                bank_code="237",
                agency="1234",
                account="0012345",
                account_digit="6",
                wallet="09",
            )
        self._schedules(demo, seed=100_000_000)
        self._schedules(other, seed=200_000_000, only=3)
        self._bounce_today(demo, seed=100_000_000 + len(CUSTOMERS))
        self._paid_today(demo)
        self.stdout.write(self.style.SUCCESS("Demo data created."))

    def _merchant(self, *, username, password, **fields) -> Merchant:
        merchant = Merchant.objects.create(
            alert_email=f"alertas+{username}@example.com",
            address_street="Rua Augusta, 1000",
            address_city="São Paulo",
            address_state="SP",
            address_zip="01304001",
            **fields,
        )
        user = get_user_model().objects.create_user(
            username=username, password=password, email=f"{username}@example.com"
        )
        Membership.objects.create(user=user, merchant=merchant, role=Membership.Role.OWNER)
        return merchant

    def _schedules(self, merchant: Merchant, *, seed: int, only: int | None = None) -> None:
        today = timezone.localdate()
        start = today - relativedelta(months=4)
        customers = [
            customer_create(
                merchant=merchant,
                name=name,
                document=_cpf(seed + i),
                email=f"{name.split()[0].lower()}.{i}@example.com".replace("á", "a").replace(
                    "ú", "u"
                ),
                address_street=street,
                address_district=district,
                address_city=city,
                address_state=state,
                address_zip=zip_code,
            )
            for i, (name, street, district, city, state, zip_code) in enumerate(
                CUSTOMERS[:only] if only else CUSTOMERS
            )
        ]
        # Schedules that started months ago; the generator is replayed day by day so their
        # installments are issued exactly as the beat job would have issued them.
        plans = [
            (1, "199.90"),
            (1, "89.00"),
            (3, "540.00"),
            (1, "1250.00"),
            (6, "2400.00"),
            (12, "4800.00"),
            (1, "149.90"),
            (2, "320.00"),
        ]
        schedules = []
        for i, customer in enumerate(customers[: len(plans)]):
            every, amount = plans[i]
            schedules.append(
                schedule_create(
                    merchant=merchant,
                    customer=customer,
                    amount=Decimal(amount),
                    frequency_months=every,
                    first_due_date=start + timedelta(days=15 + 3 * i),
                    lead_days=10,
                    description="Mensalidade" if every == 1 else "Plano",
                    today=start,
                )
            )
        # Weeks ago three schedules stopped: their latest boleto failed (the cause says how).
        stops = {}
        if not only:
            causes = [
                (DeactivationCause.INVALID_ADDRESS, EmailState.HARD, 40),
                (DeactivationCause.MAILBOX_FULL, EmailState.SOFT, 25),
                (DeactivationCause.SPAM_COMPLAINT, EmailState.COMPLAINT, 12),
            ]
            for schedule, (cause, state, days_ago) in zip(schedules[1:4], causes, strict=True):
                stops[today - timedelta(days=days_ago)] = (schedule, cause, state)
        with transaction.atomic():
            # The generator hands what it issues to delivery after commit; everything issued
            # here is history (sent and delivered on its day) before that commit, so the
            # hand-off finds nothing pending and no past boleto is emailed at start.
            day = start
            while day <= today:
                installments_issue_due(today=day, merchant_id=merchant.pk)
                self._delivered_history(merchant, day)
                if day in stops:
                    self._stopped(*stops[day], day=day)
                day += timedelta(days=1)
            self._paid_history(merchant)
        # A schedule created today whose first installment is already inside its lead window:
        # the running worker issues it without anyone clicking anything.
        if len(customers) > len(plans):
            schedule_create(
                merchant=merchant,
                customer=customers[len(plans)],
                amount=Decimal("99.90"),
                frequency_months=1,
                first_due_date=today + timedelta(days=5),
                lead_days=10,
                description="Plano mensal (novo)",
            )
        if not only:
            schedule_cancel(schedule=schedules[4])

    @staticmethod
    def _at(day, at: time):
        moment = timezone.make_aware(datetime.combine(day, at))
        return min(moment, timezone.now() - timedelta(minutes=30))

    def _delivered_history(self, merchant: Merchant, day) -> None:
        """What the generator issued on ``day``: handed off, emailed and delivered that day."""
        issued = list(
            Boleto.objects.filter(
                merchant=merchant,
                status=Boleto.Status.ISSUED,
                delivery_status=Boleto.DeliveryStatus.PENDING,
            ).select_related("schedule__customer")
        )
        if not issued:
            return
        at = self._at(day, time(0, 1))
        ids = [b.pk for b in issued]
        Boleto.objects.filter(pk__in=ids).update(
            issued_at=at, handed_off_at=at, delivery_status=Boleto.DeliveryStatus.DELIVERED
        )
        BoletoBank.objects.filter(pk__in=ids).update(
            registration_status=Boleto.Registration.REGISTERED, registered_at=at
        )
        self._registered_at_test_bank(merchant, issued, day=day)
        OutboundEmail.objects.bulk_create(
            OutboundEmail(
                merchant=merchant,
                boleto=boleto,
                schedule=boleto.schedule,
                schedule_epoch=boleto.schedule.epoch,
                attempt=1,
                recipient=boleto.schedule.customer.email,
                message_id=make_msgid(domain="boletos.local"),
                send_status=OutboundEmail.SendStatus.SENT,
                sent_at=at + timedelta(minutes=2),
                state=EmailState.DELIVERED,
                last_event_at=at + timedelta(minutes=3),
            )
            for boleto in issued
        )

    @staticmethod
    def _registered_at_test_bank(merchant: Merchant, boletos, *, day) -> None:
        """The test bank's memory of what it registered on ``day`` (as its answer to that day's
        remessa would have left it), so its write-offs and payments work on history boletos."""
        account = remessa_account(
            merchant=merchant, collection=bank_collection_get(merchant=merchant)
        )
        key = testbank_account_key(account)
        TestBankTitle.objects.bulk_create(
            TestBankTitle(
                account_key=key,
                nosso_numero=file_nosso_numero(
                    bank_code=account.bank_code, account=account, sequence=boleto.nosso_numero
                ).strip(),
                our_id=f"PB{boleto.pk}",
                amount=boleto.amount,
                due_date=boleto.due_date,
                registered_on=day,
            )
            for boleto in boletos
        )

    @staticmethod
    def _paid_history(merchant: Merchant) -> None:
        """History boletos already due were paid on their due date (credited the next business
        day), as the test bank's payment retornos of those days would have said."""
        today = timezone.localdate()
        due = list(
            Boleto.objects.filter(
                merchant=merchant,
                status=Boleto.Status.ISSUED,
                bank__registration_status=Boleto.Registration.REGISTERED,
                bank__payment_status=Boleto.Payment.OPEN,
                due_date__lt=today,
            ).values_list("pk", "amount", "due_date", "nosso_numero")
        )
        for pk, amount, due_date, _ in due:
            BoletoBank.objects.filter(pk=pk).update(
                payment_status=Boleto.Payment.PAID,
                amount_paid=amount,
                amount_credited=amount,
                bank_fee=Decimal("0.00"),
                paid_on=due_date,
                credited_on=business_days_after(due_date, 1),
            )
        account = remessa_account(
            merchant=merchant, collection=bank_collection_get(merchant=merchant)
        )
        TestBankTitle.objects.filter(
            account_key=testbank_account_key(account),
            nosso_numero__in=[
                file_nosso_numero(bank_code=account.bank_code, account=account, sequence=nn).strip()
                for *_, nn in due
            ],
        ).update(status=TestBankTitle.Status.PAID)

    def _paid_today(self, merchant: Merchant) -> None:
        """Today's payment, through the test bank: the open boleto of an active schedule that
        is due first is paid now; its payment retorno goes through the real ingestion."""
        boleto = (
            Boleto.objects.filter(
                merchant=merchant,
                status=Boleto.Status.ISSUED,
                bank__registration_status=Boleto.Registration.REGISTERED,
                bank__payment_status=Boleto.Payment.OPEN,
                schedule__status=ScheduleStatus.ACTIVE,
            )
            .order_by("due_date", "pk")
            .first()
        )
        if boleto is None:
            return
        testbank_pay(boleto=boleto)
        self.stdout.write(
            f"Agendamento nº {boleto.schedule.number}, parcela {boleto.sequence}: pago no Banco "
            "de testes (Simular pagamento)."
        )

    def _stopped(self, schedule: Schedule, cause, state: int, *, day) -> None:
        """``schedule`` stopped on ``day``: its latest boleto was not delivered, nothing is
        issued after it. (The deactivation itself carries the seed's time: the schedule's
        history is append-only and dated by the database, so the seed does not back-date it.)"""
        boleto = (
            Boleto.objects.filter(schedule=schedule, status=Boleto.Status.ISSUED)
            .order_by("-sequence")
            .first()
        )
        if boleto is not None:
            Boleto.objects.filter(pk=boleto.pk).update(
                delivery_status=Boleto.DeliveryStatus.UNDELIVERED
            )
            OutboundEmail.objects.filter(boleto=boleto).update(state=state)
        schedule_deactivate(
            schedule=schedule,
            cause=cause,
            boleto_id=boleto.pk if boleto else None,
            source="demo",
        )

    def _bounce_today(self, merchant: Merchant, *, seed: int) -> None:
        """Today's story, through the real code: a new customer registered with a mistyped
        address; the schedule issues its first boleto at once (inside the lead window), it is
        emailed, and the ESP's real-format hard bounce arrives at the tracking webhook: the
        policy deactivates the schedule, marks the boleto não entregue and alerts the merchant
        (banner + email, the email sent here so it is in var/mail/ before anyone looks)."""
        today = timezone.localdate()
        customer = customer_create(
            merchant=merchant,
            name="Karina Alves",
            document=_cpf(seed),
            email="karina.alves@gmial.com",  # gmail.com, mistyped: the bounce says it
            address_street="Rua Harmonia, 250",
            address_district="Vila Madalena",
            address_city="São Paulo",
            address_state="SP",
            address_zip="05435000",
        )
        schedule = schedule_create(
            merchant=merchant,
            customer=customer,
            amount=Decimal("179.90"),
            frequency_months=1,
            first_due_date=today + timedelta(days=7),
            lead_days=10,
            description="Mensalidade",
        )
        installments_issue_due(today=today, schedule_id=schedule.pk)
        # Registered at the test bank before it is emailed (eagerly run already in tests: then
        # there is nothing left to send and this does nothing).
        testbank_register(merchant=merchant)
        boleto = Boleto.objects.get(schedule=schedule, sequence=1)
        if boleto.delivery_status == Boleto.DeliveryStatus.PENDING:
            delivery_hand_off(merchant_id=merchant.pk, boleto_ids=[boleto.pk])
        outbound = boleto_send(merchant_id=merchant.pk, boleto_id=boleto.pk)
        if outbound is None:  # already sent by an eager hand-off (tests)
            outbound = OutboundEmail.objects.filter(boleto=boleto).latest("sent_at")
        try:
            delivery_event_simulate(outbound=outbound, event="hard-bounce")
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        schedule.refresh_from_db()
        for alert in MerchantAlert.objects.filter(schedule=schedule, emailed_at__isnull=True):
            merchant_alert_email(alert_id=alert.pk)
        self.stdout.write(
            f"Agendamento nº {schedule.number} ({customer.name}, {customer.email}): "
            f"{schedule.get_status_display()} por um bounce do provedor; alerta em "
            f"{getattr(settings, 'EMAIL_FILE_PATH', 'var/mail')}."
        )
