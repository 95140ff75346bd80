"""Alerts: to the merchant (banner and email, per schedule or boleto) and to operations
(delivery problems on our side, throttled)."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mail_admins, send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from billing.models import Boleto
from notifications import coordination
from notifications.alert_texts import bank_alert_diagnostic, bank_alert_subject
from notifications.models import BANK_KINDS, MerchantAlert
from portal.logs import log_decision
from portal.queue import enqueue_on_commit
from portal.templatetags.money import format_brl
from portal.text import header_text
from schedules.models import DeactivationCause

logger = logging.getLogger(__name__)


def alerts_acknowledge(*, merchant_id: int, now=None, **lookup) -> int:
    """Close the merchant's open alerts matching ``lookup`` (``pk=``, ``schedule_id=``,
    ``boleto_id=``, ``kind=``): they leave the portal's banner. Idempotent: only open alerts are
    touched; returns how many were closed."""
    return MerchantAlert.objects.filter(
        merchant_id=merchant_id, acknowledged_at__isnull=True, **lookup
    ).update(acknowledged_at=now or timezone.now())


def schedule_state_changed_receiver(sender, *, schedule, at, **kwargs) -> int:
    """schedules.signals.schedule_state_changed (inside the merchant's reactivation or
    cancellation): the schedule's open alerts are resolved by what the merchant just did; they
    leave the banner."""
    return alerts_acknowledge(merchant_id=schedule.merchant_id, schedule_id=schedule.pk, now=at)


def bank_attention_receiver(sender, *, merchant_id, boleto_id, kind, detail=None, **kwargs):
    """billing.signals.bank_attention (after commit): a bank fact the merchant must know (a
    registration rejected, money for a written-off boleto, a payment different from the issued
    amount, a registration still unconfirmed) becomes a MerchantAlert: in the banner until
    acknowledged, emailed once. One alert per boleto and kind (a unique constraint), however
    often the fact is announced. Returns the alert, or None when it already existed."""
    kind = str(kind)
    if kind not in BANK_KINDS or boleto_id is None:
        log_decision(
            logger, "bank_attention_ignored", merchant=merchant_id, boleto=boleto_id, kind=kind
        )
        return None
    with transaction.atomic():
        boleto = (
            Boleto.objects.for_merchant(merchant_id)
            .select_related("schedule", "bank")
            .filter(pk=boleto_id)
            .first()
        )
        if boleto is None:
            return None
        if MerchantAlert.objects.filter(boleto_id=boleto.pk, kind=kind).exists():
            return None
        with translation.override("pt-br"):
            diagnostic = bank_alert_diagnostic(kind=kind, boleto=boleto, detail=detail or {})
        alert, created = MerchantAlert.objects.get_or_create(
            boleto_id=boleto.pk,
            kind=kind,
            defaults={
                "merchant_id": merchant_id,
                "schedule": boleto.schedule,
                "schedule_epoch": boleto.schedule.epoch,
                "diagnostic": diagnostic[:500],
            },
        )
        if not created:
            return None
        # In the function: the tasks module imports this one.
        from notifications.tasks import merchant_alert_email_task

        enqueue_on_commit(merchant_alert_email_task, alert_id=alert.pk)
    log_decision(
        logger,
        "bank_attention_alerted",
        level=logging.WARNING,
        merchant=merchant_id,
        schedule_id=boleto.schedule_id,
        schedule_number=boleto.schedule.number,
        boleto=boleto.pk,
        decision="merchant_alerted",
        kind=kind,
    )
    return alert


def bank_alerts_resolve_receiver(sender, *, boleto_ids_by_merchant, **kwargs) -> int:
    """billing.signals.boletos_registered: a boleto the bank now knows no longer needs its
    "rejected" or "still unregistered" alert; it leaves the banner."""
    closed = 0
    for merchant_id, boleto_ids in boleto_ids_by_merchant.items():
        closed += alerts_acknowledge(
            merchant_id=merchant_id,
            boleto_id__in=boleto_ids,
            kind__in=[
                MerchantAlert.Kind.REGISTRATION_REJECTED,
                MerchantAlert.Kind.REGISTRATION_OVERDUE,
            ],
        )
    return closed


def merchant_alert_email(*, alert_id: int) -> bool:
    """Email an alert (deactivation, or a first delivery failure being retried) to the
    merchant's alert address, once."""
    with transaction.atomic():
        alert = (
            MerchantAlert.objects.select_for_update(of=("self",))
            .select_related("merchant", "schedule__customer", "boleto")
            .get(pk=alert_id)
        )
        if alert.emailed_at is not None:
            return False
        schedule, boleto, base = alert.schedule, alert.boleto, settings.PORTAL_BASE_URL
        with translation.override("pt-br"):
            context = {
                "merchant": alert.merchant,
                "schedule": schedule,
                "customer": schedule.customer,
                "boleto": boleto,
                "due_date": date_format(boleto.due_date, "SHORT_DATE_FORMAT") if boleto else "",
                "amount": format_brl(boleto.amount) if boleto else "",
                "cause": DeactivationCause(alert.cause).label if alert.cause else "",
                "diagnostic": alert.diagnostic,
                "schedule_url": base + schedule.get_absolute_url(),
                "pdf_url": base + reverse("billing:boleto_pdf", args=[boleto.pk]) if boleto else "",
            }
            context["warning"] = alert.kind == MerchantAlert.Kind.DELIVERY_FAILING
            context["action"] = alert.action_text
            context["cause_code"] = alert.cause
            context["bank"] = alert.kind if alert.kind in BANK_KINDS else ""
            if context["bank"]:
                context["headline"] = alert.bank_title
                subject = bank_alert_subject(kind=alert.kind, schedule_number=schedule.number)
            elif context["warning"]:
                subject = translation.gettext(
                    "Boleto do agendamento nº %(number)s não entregue: %(cause)s"
                )
            else:
                subject = translation.gettext("Agendamento nº %(number)s desativado: %(cause)s")
            if not context["bank"]:
                subject = subject % {"number": schedule.number, "cause": context["cause"]}
            text = render_to_string("emails/merchant_alert.txt", context)
        message = EmailMultiAlternatives(
            subject=header_text(subject), body=text, to=[alert.merchant.alert_email]
        )
        message.send()
        alert.emailed_at = timezone.now()
        alert.save(update_fields=["emailed_at"])
    return True


def ops_alert(
    *,
    cause: str,
    esp: str = "",
    status: str = "",
    diagnostic: str = "",
    merchant_id=None,
    schedule_number=None,
    boleto_id=None,
    email_event_id=None,
    detail: str = "",
) -> bool:
    """Email operations about a delivery problem on our side (never the merchant's customer),
    at most once per cause per settings.OPS_ALERT_INTERVAL across processes (a Redis flag;
    per process without Redis). Recipients: settings.OPS_ALERT_EMAILS, else Django's ADMINS
    (mail_admins). Returns True when an email went out. A failed send releases the flag and
    raises, so the task's retry can send it."""
    key = f"notifications:ops-alert:{cause}"
    if not coordination.first_in_window(key, settings.OPS_ALERT_INTERVAL):
        log_decision(
            logger,
            "ops_alert_throttled",
            merchant=merchant_id,
            schedule_number=schedule_number,
            boleto=boleto_id,
            decision="log_only",
            cause=cause,
            email_event=email_event_id,
        )
        return False
    label = DeactivationCause(cause).label if cause in DeactivationCause.values else cause
    minutes = settings.OPS_ALERT_INTERVAL // 60
    subject = f"[Portal de Boletos] Falha de envio do nosso lado: {label}"
    lines = [
        "Um envio de boleto falhou por um problema do nosso lado (domínio de envio bloqueado,",
        "autenticação SPF/DKIM/DMARC, conteúdo ou tamanho recusado). Nenhum agendamento foi",
        "desativado por isso; o boleto fica sem confirmação de entrega.",
        "",
        f"Causa: {label} ({cause})",
        f"Provedor: {esp or '-'}",
        f"Código: {status or '-'}",
        f"Resposta do provedor: {diagnostic or '-'}",
        f"Lojista: {merchant_id or '-'}  Agendamento nº {schedule_number or '-'}  "
        f"Boleto {boleto_id or '-'}  Evento {email_event_id or '-'}",
    ]
    if detail:
        lines += ["", detail]
    lines += [
        "",
        f"Outros eventos com esta causa nos próximos {minutes} minutos vão só para o log "
        "(event=sender_side_failure).",
    ]
    body = "\n".join(lines)
    try:
        if settings.OPS_ALERT_EMAILS:
            send_mail(subject, body, settings.SERVER_EMAIL, settings.OPS_ALERT_EMAILS)
        else:
            mail_admins(subject, body)
    except Exception:
        coordination.release(key)
        raise
    log_decision(
        logger,
        "ops_alert_sent",
        level=logging.WARNING,
        merchant=merchant_id,
        schedule_number=schedule_number,
        boleto=boleto_id,
        decision="emailed",
        cause=cause,
        email_event=email_event_id,
        to=",".join(settings.OPS_ALERT_EMAILS) or "ADMINS",
    )
    return True
