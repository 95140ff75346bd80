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
    bank = boleto.bank
    if bank.payment_status != Boleto.Payment.OPEN:
        return bank.payment_status
    if bank.registration_status == Boleto.Registration.REJECTED:
        return ""
    today = today or business_today()
    return "overdue" if boleto.due_date < today else "open"


@register.inclusion_tag("billing/bank_registration_state.html")
def registration_state(boleto: Boleto):
    bank = boleto.bank
    reasons = [r.get("text") or r.get("code", "") for r in (bank.registration_reasons or [])]
    return {
        "boleto": boleto,
        "status": bank.registration_status,
        "reasons": [r for r in reasons if r],
    }


@register.inclusion_tag("billing/bank_payment_state.html")
def payment_state(boleto: Boleto, detail: bool = False):
    return {"boleto": boleto, "key": payment_key(boleto), "detail": detail}
