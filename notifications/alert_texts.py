"""What the merchant is told to do about an alert, in words that fit its cause (the alert
email, the portal's banner). The cause's own explanation for the schedule pages is
schedules.selectors.CAUSE_HINTS."""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from portal.formats import date_br
from portal.templatetags.money import format_brl
from schedules.models import CONSENT_CAUSES, DeactivationCause, needs_consent

__all__ = [
    "CONSENT_CAUSES",
    "alert_action",
    "bank_alert_diagnostic",
    "bank_alert_subject",
    "bank_alert_title",
    "needs_consent",
]

_DEACTIVATED_ACTIONS = {
    DeactivationCause.SPAM_COMPLAINT: _(
        "Combine com o cliente como ele prefere receber os boletos. Se ele concordar em voltar "
        "a recebê-los por e-mail, reative o agendamento mantendo o endereço (ou informe outro)"
    ),
    DeactivationCause.UNSUBSCRIBED: _(
        "Combine com o cliente outro canal para os boletos. Se ele concordar em voltar a "
        "recebê-los por e-mail, reative o agendamento mantendo o endereço (ou informe outro)"
    ),
    DeactivationCause.ESP_SUPPRESSED: _(
        "Se o endereço estiver correto, abra um chamado: o suporte pode retirar o bloqueio no "
        "provedor de e-mail, e então você reativa o agendamento mantendo o e-mail. Se não "
        "estiver, corrija o e-mail e reative o agendamento"
    ),
}
_DEACTIVATED_DEFAULT = _("Corrija o e-mail do cliente e reative o agendamento")
_FAILING_DEFAULT = _("Confira o e-mail do cliente")


# Bank alerts (billing.signals.bank_attention): kind -> (banner headline, email subject, next
# step). Placeholders: %(number)s, the schedule's number.
_BANK_TEXTS = {
    "registration_rejected": (
        _("Boleto do agendamento nº %(number)s rejeitado pelo banco"),
        _("Boleto do agendamento nº %(number)s rejeitado pelo banco"),
        _(
            "Corrija os dados do cliente apontados pelo banco. Este boleto não foi registrado: "
            "ele não pode ser pago e não foi enviado ao cliente"
        ),
    ),
    "paid_after_write_off": (
        _("Pagamento de um boleto baixado (agendamento nº %(number)s)"),
        _("Pagamento recebido de um boleto baixado, agendamento nº %(number)s"),
        _(
            "O banco recebeu o pagamento de um boleto que já tinha sido baixado. Confira o "
            "crédito no extrato e combine com o cliente a devolução ou o uso do valor"
        ),
    ),
    "amount_differs": (
        _("Boleto do agendamento nº %(number)s pago com valor diferente do emitido"),
        _("Boleto do agendamento nº %(number)s pago com valor diferente do emitido"),
        _("Confira o valor recebido e, se faltar algo, combine a diferença com o cliente"),
    ),
    "registration_overdue": (
        _("Boleto do agendamento nº %(number)s ainda sem registro no banco"),
        _("Registro ainda não confirmado: boleto do agendamento nº %(number)s"),
        _(
            "Confira se a remessa foi enviada ao banco e importe o arquivo de retorno do banco "
            "(Gerenciar Boletos › Arquivos). O boleto só é enviado ao cliente depois do registro"
        ),
    ),
}


def bank_alert_title(*, kind: str, schedule_number) -> str:
    return str(_BANK_TEXTS[kind][0]) % {"number": schedule_number}


def bank_alert_subject(*, kind: str, schedule_number) -> str:
    return str(_BANK_TEXTS[kind][1]) % {"number": schedule_number}


def bank_alert_diagnostic(*, kind: str, boleto, detail: dict) -> str:
    """What the bank said, in plain Portuguese, for the banner and the email (one line)."""
    if kind == "registration_rejected":
        reasons = boleto.bank.registration_reasons or detail.get("reasons") or []
        if isinstance(reasons, str):
            return reasons
        texts = [
            str(reason.get("text") or reason.get("code"))
            if isinstance(reason, dict)
            else str(reason)
            for reason in reasons
            if reason
        ]
        return "; ".join(texts) or str(_("o banco não informou o motivo"))
    if kind in ("paid_after_write_off", "amount_differs"):
        bank = boleto.bank
        paid = bank.amount_paid if bank.amount_paid is not None else detail.get("amount_paid")
        paid_on = bank.paid_on or detail.get("paid_on") or detail.get("occurred_on")
        params = {
            "issued": format_brl(boleto.amount),
            "paid": format_brl(Decimal(str(paid))) if paid is not None else "-",
            "on": date_br(paid_on) if hasattr(paid_on, "year") else (paid_on or "-"),
        }
        return str(_("Emitido: %(issued)s; pago: %(paid)s em %(on)s")) % params
    if kind == "registration_overdue":
        return str(
            _("Remessa %(file)s enviada em %(on)s: %(days)s dias úteis sem confirmação do banco")
        ) % {
            "file": detail.get("remessa", "-"),
            "on": _date_text(detail.get("sent_on")),
            "days": detail.get("business_days", "-"),
        }
    return ""


def _date_text(value) -> str:
    try:
        return date_br(date.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value or "-")


def alert_action(*, kind: str, cause: str) -> str:
    """The next step for the merchant (one sentence, no final period)."""
    if kind in _BANK_TEXTS:
        return str(_BANK_TEXTS[kind][2])
    if kind == "deactivated":
        return str(_DEACTIVATED_ACTIONS.get(cause, _DEACTIVATED_DEFAULT))
    return str(_FAILING_DEFAULT)
