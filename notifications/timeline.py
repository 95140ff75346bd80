"""notifications' lines in a schedule's timeline (the detail page's "Histórico"): the emails sent,
the provider's events about them and the merchant's alerts, one function per source. Registered
in NotificationsConfig.ready() as schedules.extensions.timeline_sources, in this order (ties in
time keep it)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from schedules.models import Schedule
from schedules.selectors import cause_label
from schedules.timeline import TimelineEntry

EMAIL_EVENT_LABELS = {
    "queued": _lazy("na fila do provedor"),
    "sent": _lazy("aceito pelo provedor"),
    "delivered": _lazy("entregue"),
    "deferred": _lazy("entrega adiada"),
    "bounced": _lazy("devolvido"),
    "rejected": _lazy("recusado"),
    "failed": _lazy("falhou"),
    "complained": _lazy("marcado como spam"),
    "unsubscribed": _lazy("descadastro"),
    "opened": _lazy("aberto"),
    "clicked": _lazy("clicado"),
}

# Effects the timeline does not spell out: the event's own title says it all.
_SILENT_EFFECTS = {"recorded", "unmatched"}


def email_entries(schedule: Schedule) -> list[TimelineEntry]:
    """Each email sent with a boleto; a boleto's later emails are resends."""
    entries = []
    emailed: set[int] = set()
    for email in (
        OutboundEmail.objects.filter(schedule=schedule)
        .select_related("boleto")
        .order_by("sent_at", "id")
    ):
        params = {"n": email.boleto.sequence, "to": email.recipient}
        if email.boleto_id in emailed:
            title = _("Boleto da parcela %(n)s reenviado para %(to)s") % params
        else:
            title = _("Boleto da parcela %(n)s enviado para %(to)s") % params
        emailed.add(email.boleto_id)
        entries.append(
            TimelineEntry(
                at=email.sent_at,
                kind="email_sent",
                title=title,
                detail=email.get_send_status_display(),
            )
        )
    return entries


def provider_event_entries(schedule: Schedule) -> list[TimelineEntry]:
    """Every provider event about those emails, with the diagnostic and the cause in plain
    words."""
    entries = []
    for event in EmailEvent.objects.filter(outbound_email__schedule=schedule).select_related(
        "outbound_email__boleto"
    ):
        detail = cause_label(event.cause) if event.cause else ""
        # What the policy did with it, recorded when it decided (never guessed here from the
        # schedule's state now: the bounce that deactivated stays the cause after a
        # reactivation). Informational events and unknown effects add nothing.
        if event.effect and event.effect not in _SILENT_EFFECTS:
            note = event.get_effect_display()
            detail = f"{detail} ({note})" if detail else note
        title = _("Provedor de e-mail: %(type)s (parcela %(n)s)") % {
            "type": EMAIL_EVENT_LABELS.get(event.event_type, event.event_type),
            "n": event.outbound_email.boleto.sequence,
        }
        entries.append(
            TimelineEntry(
                at=event.esp_timestamp or event.received_at,
                kind="email_" + event.event_type,
                title=title,
                detail=detail,
                diagnostic=event.diagnostic,
            )
        )
    return entries


def alert_entries(schedule: Schedule) -> list[TimelineEntry]:
    """Each alert sent to (or recorded for) the merchant, and when it was resolved."""
    entries = []
    for alert in MerchantAlert.objects.filter(schedule=schedule).only(
        "kind", "cause", "created_at", "emailed_at", "acknowledged_at"
    ):
        kind = alert.get_kind_display()
        if alert.emailed_at:
            title = _("Alerta enviado ao lojista por e-mail: %(kind)s") % {"kind": kind}
        else:
            title = _("Alerta ao lojista registrado: %(kind)s") % {"kind": kind}
        entries.append(
            TimelineEntry(
                at=alert.emailed_at or alert.created_at,
                kind="alert",
                title=title,
                detail=cause_label(alert.cause) if alert.cause else "",
            )
        )
        if alert.acknowledged_at:
            entries.append(
                TimelineEntry(
                    at=alert.acknowledged_at,
                    kind="alert_ack",
                    title=_("Alerta marcado como resolvido: %(kind)s") % {"kind": kind},
                )
            )
    return entries


SOURCES = (email_entries, provider_event_entries, alert_entries)
