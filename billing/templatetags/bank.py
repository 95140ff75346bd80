"""A boleto's bank states as the merchant reads them (Boletos tab, schedule page):
``{% load bank %}`` then ``{% registration_state boleto %}`` and ``{% payment_state boleto %}``
(``detail=True`` adds credit date, fee, interest + fine and discount to a payment)."""

from django import template

from billing.models import Boleto
from portal.timezones import business_today

register = template.Library()


def payment_key(boleto: Boleto, today=None) -> str:
    """ "open", "overdue", "paid", "written_off", "paid_after_write_off", or "" (not payable:
    skipped, or its registration was rejected and it is still open)."""
    if boleto.status != Boleto.Status.ISSUED:
        return ""
    if boleto.payment_status != Boleto.Payment.OPEN:
        return boleto.payment_status
    if boleto.registration_status == Boleto.Registration.REJECTED:
        return ""
    today = today or business_today()
    return "overdue" if boleto.due_date < today else "open"


@register.inclusion_tag("billing/bank_registration_state.html")
def registration_state(boleto: Boleto):
    reasons = [r.get("text") or r.get("code", "") for r in (boleto.registration_reasons or [])]
    return {
        "boleto": boleto,
        "status": boleto.registration_status,
        "reasons": [r for r in reasons if r],
    }


@register.inclusion_tag("billing/bank_payment_state.html")
def payment_state(boleto: Boleto, detail: bool = False):
    return {"boleto": boleto, "key": payment_key(boleto), "detail": detail}
