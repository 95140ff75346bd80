"""Demo data: two merchants (so tenant isolation can be seen), customers, and schedules in every
state, with installments issued by the real generator as if the portal had been running."""

from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from billing.services import customer_create
from portal.models import Membership, Merchant
from schedules.generator import installments_issue_due
from schedules.models import DeactivationCause
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
        day = start
        while day <= today:
            installments_issue_due(today=day, merchant_id=merchant.pk)
            day += timedelta(days=1)
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
        if only:
            return
        causes = [
            DeactivationCause.INVALID_ADDRESS,
            DeactivationCause.MAILBOX_FULL,
            DeactivationCause.SPAM_COMPLAINT,
        ]
        for schedule, cause in zip(schedules[1:4], causes, strict=True):
            schedule_deactivate(schedule=schedule, cause=cause, source="demo")
        schedule_cancel(schedule=schedules[4])
