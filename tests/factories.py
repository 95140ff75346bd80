"""Factories that keep every object graph inside one merchant (customer.merchant ==
schedule.merchant == boleto.merchant)."""

import itertools
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from billing.models import Boleto, BoletoBank, Customer
from portal.models import Membership, Merchant
from schedules.apps import _boletos_issued_register
from schedules.models import Schedule
from schedules.services import next_issue_date
from schedules.signals import boletos_issued

_cnpj_bases = itertools.count(10_000_000)
_cpf_bases = itertools.count(300_000_000)


def _with_check_digits(base: str, weight_sets) -> str:
    digits = [ord(c) - 48 for c in base]
    for weights in weight_sets:
        remainder = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return base + "".join(str(d) for d in digits[len(base) :])


def make_cpf(n: int) -> str:
    return _with_check_digits(f"{n:09d}", [range(10, 1, -1), range(11, 1, -1)])


def make_cnpj(n: int) -> str:
    w1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    return _with_check_digits(f"{n:08d}0001", [w1, [6, *w1]])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("senha-de-teste-123")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    legal_name = factory.Sequence(lambda n: f"Lojista {n} Ltda")
    trade_name = factory.Sequence(lambda n: f"Lojista {n}")
    cnpj = factory.LazyFunction(lambda: make_cnpj(next(_cnpj_bases)))
    alert_email = factory.Sequence(lambda n: f"alertas{n}@example.com")
    address_street = "Rua Augusta, 1000"
    address_city = "São Paulo"
    address_state = "SP"
    address_zip = "01304001"
    bank_code = "341"
    agency = "0057"
    account = "12345"
    account_digit = "7"
    wallet = "109"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Membership.Role.OWNER


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Cliente {n}")
    document = factory.LazyFunction(lambda: make_cpf(next(_cpf_bases)))
    email = factory.Sequence(lambda n: f"cliente{n}@example.com")
    address_street = "Rua das Flores, 120"
    address_district = "Centro"
    address_city = "Curitiba"
    address_state = "PR"
    address_zip = "80020310"


class ScheduleFactory(factory.django.DjangoModelFactory):
    """A schedule as schedule_create leaves it (cursor at installment 1)."""

    class Meta:
        model = Schedule

    merchant = factory.SubFactory(MerchantFactory)
    # The customer always belongs to the schedule's merchant.
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    number = factory.Sequence(lambda n: n + 1)
    amount = Decimal("150.00")
    frequency_months = 1
    first_due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    lead_days = 10
    next_issue_on = factory.LazyAttribute(
        lambda o: next_issue_date(
            first_due_date=o.first_due_date,
            frequency_months=o.frequency_months,
            lead_days=o.lead_days,
            sequence=1,
        )
    )


def registered_at_bank(*boleto_ids: int) -> None:
    """Mark boletos registered, as the bank's 02 leaves them (billing.retornos), for tests that
    build the sending side by hand: only registered boletos are handed to delivery. The
    registration itself is tested in tests/billing/bank."""
    BoletoBank.objects.filter(pk__in=boleto_ids, boleto__status=Boleto.Status.ISSUED).update(
        registration_status=Boleto.Registration.REGISTERED, registered_at=timezone.now()
    )


# The fields of a boleto's bank row (BoletoBank), as tests pass them along with the boleto's own.
BANK_FIELDS = frozenset(
    field.name
    for field in BoletoBank._meta.concrete_fields
    if field.name not in ("boleto", "merchant", "due_date", "created_at", "updated_at")
)


def bank_set(boleto: "Boleto | int", **fields) -> None:
    """Put a boleto's bank row in a state (the database made the row with the boleto)."""
    BoletoBank.objects.filter(pk=getattr(boleto, "pk", boleto)).update(**fields)


def bank_of(boleto: "Boleto | int") -> BoletoBank:
    """A boleto's bank row as stored now."""
    return BoletoBank.objects.get(pk=getattr(boleto, "pk", boleto))


def boleto_create(**fields) -> Boleto:
    """Boleto.objects.create, where bank fields (registration_status=..., payment_status=...)
    go to the boleto's bank row."""
    bank = {name: fields.pop(name) for name in list(fields) if name in BANK_FIELDS}
    boleto = Boleto.objects.create(**fields)
    if bank:
        bank_set(boleto, **bank)
    return boleto


@contextmanager
def registration_paused():
    """Issue without the automatic registration at the bank (schedules.apps queues it on
    boletos_issued): for tests that play the bank themselves or build the sending side by
    hand."""
    boletos_issued.disconnect(dispatch_uid="schedules.boletos_issued_register")
    try:
        yield
    finally:
        boletos_issued.connect(
            _boletos_issued_register, dispatch_uid="schedules.boletos_issued_register"
        )
