from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from billing.models import BankOccurrence, Boleto, BoletoBank, Customer, Remessa, Retorno
from portal.models import Merchant
from portal.tenancy import get_for_merchant_or_404
from portal.timezones import business_today


def customer_list(*, merchant: Merchant):
    return Customer.objects.for_merchant(merchant).order_by("name", "id")


def boleto_list(*, merchant: Merchant, delivery_status: str = ""):
    queryset = (
        Boleto.objects.for_merchant(merchant)
        .filter(status=Boleto.Status.ISSUED)
        .select_related("schedule", "bank")
        .order_by("-issued_at", "-id")
    )
    if delivery_status:
        queryset = queryset.filter(delivery_status=delivery_status)
    return queryset


def boleto_get(*, merchant: Merchant, boleto_id: int) -> Boleto:
    """An issued boleto of this merchant, or Http404 (another merchant's id is 'not found')."""
    from portal.tenancy import get_for_merchant_or_404

    return get_for_merchant_or_404(Boleto, merchant, pk=boleto_id, status=Boleto.Status.ISSUED)


def boletos_for_zip(*, merchant: Merchant, boleto_ids):
    """The merchant's issued boletos among ``boleto_ids`` (those without numbers have no PDF)."""
    return (
        Boleto.objects.for_merchant(merchant)
        .filter(pk__in=boleto_ids, status=Boleto.Status.ISSUED)
        .select_related("schedule")
        .order_by("schedule__number", "sequence")
    )


# --- Bank states, files and the retorno result (issue 12) ---------------------------------------

# The payment filter of the Boletos tab and the dashboard's cards. "Vencido" is derived: an open
# boleto whose registration was not rejected (a rejected one cannot be paid) and whose due date
# has passed; "Em aberto" is the same before the due date. "Pago" is money received, whether
# or not the boleto had been written off ("Pago após baixa" is that subset).
PAYMENT_FILTERS = ("open", "overdue", "paid", "written_off", "paid_after_write_off")
REGISTRATION_FILTERS = (
    Boleto.Registration.PENDING,
    Boleto.Registration.REGISTERED,
    Boleto.Registration.REJECTED,
)
PAID_STATUSES = (Boleto.Payment.PAID, Boleto.Payment.PAID_AFTER_WRITE_OFF)


def _payable_open(prefix: str) -> Q:
    return Q(**{f"{prefix}payment_status": Boleto.Payment.OPEN}) & ~Q(
        **{f"{prefix}registration_status": Boleto.Registration.REJECTED}
    )


def boleto_payment_q(payment: str, *, today: date, prefix: str = "bank__") -> Q:
    """The condition of one PAYMENT_FILTERS value (an unknown value filters nothing), on
    boletos (``prefix`` "bank__") or on their bank rows (""). The due date is the bank row's
    copy: with the merchant (bank_q) it is the (merchant, payment_status, due_date) index."""
    if payment == "open":
        return _payable_open(prefix) & Q(**{f"{prefix}due_date__gte": today})
    if payment == "overdue":
        return _payable_open(prefix) & Q(**{f"{prefix}due_date__lt": today})
    if payment == "paid":
        return Q(**{f"{prefix}payment_status__in": PAID_STATUSES})
    if payment == "written_off":
        return Q(**{f"{prefix}payment_status": Boleto.Payment.WRITTEN_OFF})
    if payment == "paid_after_write_off":
        return Q(**{f"{prefix}payment_status": Boleto.Payment.PAID_AFTER_WRITE_OFF})
    return Q()


def bank_q(merchant: Merchant | int) -> Q:
    """Boletos whose bank row is the merchant's (always true): said in the query, it lets
    PostgreSQL reach the bank state's (merchant, ...) indexes instead of probing every boleto."""
    return Q(bank__merchant_id=merchant if isinstance(merchant, int) else merchant.pk)


def _bank_state_q(*, prefix, today, registration, payment, paid_month) -> Q:
    """The Boletos tab's bank-state filters as one condition, empty (falsy) when none applies,
    on boletos (``prefix`` "bank__") or on their bank rows ("")."""
    condition = Q()
    if registration:
        condition &= Q(**{f"{prefix}registration_status": registration})
    if payment:
        condition &= boleto_payment_q(payment, today=today, prefix=prefix)
    if paid_month is not None:
        first, following = month_bounds(paid_month)
        condition &= Q(
            **{
                f"{prefix}payment_status__in": PAID_STATUSES,
                f"{prefix}paid_on__gte": first,
                f"{prefix}paid_on__lt": following,
            }
        )
    return condition


def month_bounds(month: date) -> tuple[date, date]:
    """[first day of month, first day of the next month)."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def boleto_list_filtered(
    *,
    merchant: Merchant,
    today: date,
    delivery_status: str = "",
    registration: str = "",
    payment: str = "",
    paid_month: date | None = None,
):
    """The Boletos tab: the merchant's issued boletos, newest first, by delivery, registration
    and payment state (PAYMENT_FILTERS), and paid in a month (``paid_month``: any day of it)."""
    queryset = boleto_list(merchant=merchant, delivery_status=delivery_status)
    bank_state = _bank_state_q(
        prefix="bank__",
        today=today,
        registration=registration,
        payment=payment,
        paid_month=paid_month,
    )
    if bank_state:
        queryset = queryset.filter(bank_q(merchant), bank_state)
    return queryset


def boleto_list_count(
    *,
    merchant: Merchant,
    today: date,
    delivery_status: str = "",
    registration: str = "",
    payment: str = "",
    paid_month: date | None = None,
) -> int | None:
    """How many boletos boleto_list_filtered finds, counted on the bank rows alone (an
    index-only scan, not a join of two 100,000-row sets) when only bank states filter the list;
    None otherwise (the list counts itself). The same set: every boleto has its bank row, and a
    row whose registration is not "n/a" is an issued boleto's."""
    bank_state = _bank_state_q(
        prefix="", today=today, registration=registration, payment=payment, paid_month=paid_month
    )
    if delivery_status or not bank_state:
        return None
    rows = BoletoBank.objects.for_merchant(merchant).filter(bank_state)
    if not registration and payment in ("open", "overdue"):
        # The only filters a skipped boleto ("n/a", open) could pass. Not said for the others:
        # the count stays an index-only scan.
        rows = rows.exclude(registration_status=Boleto.Registration.NOT_APPLICABLE)
    return rows.count()


def boleto_payment_totals(*, merchant: Merchant, today: date) -> dict:
    """The dashboard's cards in one query (conditional aggregation): open, overdue and paid
    this month, each a count and a sum (Decimal; paid sums what was paid). Only the rows that
    can count are read: open ones and those paid since the first of the month."""
    first, following = month_bounds(today)
    paid_this_month = Q(
        bank__payment_status__in=PAID_STATUSES,
        bank__paid_on__gte=first,
        bank__paid_on__lt=following,
    )
    open_q = boleto_payment_q("open", today=today)
    overdue_q = boleto_payment_q("overdue", today=today)
    totals = (
        Boleto.objects.for_merchant(merchant)
        .filter(bank_q(merchant), status=Boleto.Status.ISSUED)
        .filter(Q(bank__payment_status=Boleto.Payment.OPEN) | paid_this_month)
        .aggregate(
            open_count=Count("pk", filter=open_q),
            open_sum=Sum("amount", filter=open_q),
            overdue_count=Count("pk", filter=overdue_q),
            overdue_sum=Sum("amount", filter=overdue_q),
            paid_count=Count("pk", filter=paid_this_month),
            paid_sum=Sum("bank__amount_paid", filter=paid_this_month),
        )
    )
    for key in ("open_sum", "overdue_sum", "paid_sum"):
        totals[key] = totals[key] or Decimal("0.00")
    totals["month"] = first
    return totals


def remessa_list(*, merchant: Merchant):
    return Remessa.objects.for_merchant(merchant).select_related("created_by").order_by("-nsa")


def remessa_last(*, merchant: Merchant) -> Remessa | None:
    return Remessa.objects.for_merchant(merchant).order_by("-nsa").first()


def remessa_get(*, merchant: Merchant, remessa_id: int) -> Remessa:
    """One of the merchant's remessas, or Http404 (another merchant's id is 'not found')."""
    return get_for_merchant_or_404(Remessa, merchant, pk=remessa_id)


def retorno_recent(*, merchant: Merchant, limit: int = 20):
    return (
        Retorno.objects.for_merchant(merchant)
        .select_related("uploaded_by")
        .order_by("-created_at", "-id")[:limit]
    )


def retorno_get(*, merchant: Merchant, retorno_id: int) -> Retorno:
    """One of the merchant's retornos, or Http404 (another merchant's id is 'not found')."""
    return get_for_merchant_or_404(Retorno, merchant, pk=retorno_id)


_NOT_FOUND = Q(outcome=BankOccurrence.Outcome.NOT_FOUND)

# The sections of a retorno's result page, in order: key -> condition on its occurrences. A
# title whose boleto was not found goes to "not_found" whatever the bank said of it.
RETORNO_SECTIONS = {
    "confirmed": Q(kind="registered") & ~_NOT_FOUND,
    "paid": Q(kind__in=["paid", "paid_after_write_off"]) & ~_NOT_FOUND,
    "written_off": Q(kind="written_off") & ~_NOT_FOUND,
    "rejected": Q(kind__in=["rejected", "instruction_rejected"]) & ~_NOT_FOUND,
    "not_found": _NOT_FOUND,
    "other": ~Q(
        kind__in=[
            "registered",
            "paid",
            "paid_after_write_off",
            "written_off",
            "rejected",
            "instruction_rejected",
        ]
    )
    & ~_NOT_FOUND,
}


def retorno_section_counts(*, retorno: Retorno) -> dict[str, int]:
    """How many titles of the retorno fall in each RETORNO_SECTIONS section (one query)."""
    return BankOccurrence.objects.filter(retorno=retorno).aggregate(
        **{key: Count("pk", filter=q) for key, q in RETORNO_SECTIONS.items()}
    )


def retorno_section_rows(*, retorno: Retorno, section: str):
    """The occurrences of one section, in file order, with their boleto and schedule."""
    return (
        BankOccurrence.objects.filter(retorno=retorno)
        .filter(RETORNO_SECTIONS[section])
        .select_related("boleto__schedule")
        .order_by("line")
    )


REGISTRATION_CHOICES = [
    (value, label) for value, label in Boleto.Registration.choices if value in REGISTRATION_FILTERS
]
PAYMENT_CHOICES = [
    ("open", _("Em aberto")),
    ("overdue", _("Vencido")),
    ("paid", _("Pago")),
    ("written_off", _("Baixado")),
    ("paid_after_write_off", _("Pago após baixa")),
]


@dataclass(frozen=True)
class BoletoListParams:
    """The Boletos tab's filters as read from its query string (unknown values dropped)."""

    delivery: str
    registration: str
    payment: str
    paid_month: str  # "AAAA-MM" or ""
    paid_month_label: str  # "12/2026" or ""
    query: dict  # keyword arguments of boleto_list_filtered, merchant aside
    page_url: str  # "?" or "?<filters>&", for the page links
    without_month_url: str  # the same filters but the month


def boleto_list_params(params) -> BoletoListParams:
    delivery = params.get("entrega", "")
    if delivery not in Boleto.DeliveryStatus.values:
        delivery = ""
    registration = params.get("registro", "")
    if registration not in REGISTRATION_FILTERS:
        registration = ""
    payment = params.get("pagamento", "")
    if payment not in PAYMENT_FILTERS:
        payment = ""
    paid_month, month = params.get("pago_em", ""), None
    try:
        year, number = paid_month.split("-")
        if len(year) == 4 and len(number) == 2:
            month = date(int(year), int(number), 1)
    except ValueError:
        month = None
    if month is None:
        paid_month = ""
    kept = {"entrega": delivery, "registro": registration, "pagamento": payment}
    without_month = urlencode({k: v for k, v in kept.items() if v})
    kept["pago_em"] = paid_month
    encoded = urlencode({k: v for k, v in kept.items() if v})
    return BoletoListParams(
        delivery=delivery,
        registration=registration,
        payment=payment,
        paid_month=paid_month,
        paid_month_label=f"{month:%m/%Y}" if month else "",
        without_month_url=f"?{without_month}",
        query={
            "today": business_today(),
            "delivery_status": delivery,
            "registration": registration,
            "payment": payment,
            "paid_month": month,
        },
        page_url=f"?{encoded}&" if encoded else "?",
    )
