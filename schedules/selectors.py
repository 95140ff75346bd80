"""Reads on schedules, always inside one merchant."""

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from billing.models import Boleto
from portal.models import Merchant
from schedules import dates
from schedules.models import Schedule, ScheduleStatus


def schedule_counts(*, merchant: Merchant) -> dict[str, int]:
    counts = Schedule.objects.for_merchant(merchant).aggregate(
        active=Count("id", filter=Q(status=ScheduleStatus.ACTIVE)),
        deactivated=Count("id", filter=Q(status=ScheduleStatus.DEACTIVATED)),
        cancelled=Count("id", filter=Q(status=ScheduleStatus.CANCELLED)),
    )
    return counts


def schedule_list(*, merchant: Merchant, status: str | None = None, query: str = ""):
    queryset = Schedule.objects.for_merchant(merchant).select_related("customer")
    if status:
        queryset = queryset.filter(status=status)
    query = query.strip()
    if query:
        if query.lstrip("#").isdigit() and len(query.lstrip("#")) <= 18:
            queryset = queryset.filter(number=int(query.lstrip("#")))
        else:
            queryset = queryset.filter(
                Q(customer__name__icontains=query) | Q(customer__email__icontains=query)
            )
    return queryset.order_by("-id")


def schedule_upcoming_due_dates(*, schedule: Schedule, count: int = 6):
    if schedule.status == ScheduleStatus.CANCELLED:
        return []
    return dates.due_dates(
        schedule.first_due_date, schedule.frequency_months, count, start=schedule.next_sequence
    )


def boleto_recent(*, merchant: Merchant, limit: int = 10):
    return (
        Boleto.objects.for_merchant(merchant)
        .select_related("schedule")
        .order_by("-issued_at", "-id")[:limit]
    )


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


def schedule_timeline(*, schedule: Schedule) -> list[dict]:
    """Every event of a schedule, newest first: its history, each boleto issued, each email sent
    and every provider event about those emails (with the diagnostic and the cause)."""
    from notifications.models import EmailEvent, OutboundEmail
    from schedules.models import DeactivationCause, ScheduleEvent

    entries = []
    for event in ScheduleEvent.objects.filter(schedule=schedule).select_related("actor"):
        detail = ""
        if event.data.get("cause"):
            detail = DeactivationCause(event.data["cause"]).label
        entries.append(
            {
                "at": event.created_at,
                "title": event.get_kind_display(),
                "detail": detail,
                "diagnostic": event.data.get("diagnostic", ""),
                "actor": event.actor.get_username() if event.actor else "",
            }
        )
    for boleto in Boleto.objects.filter(schedule=schedule).only(
        "sequence", "status", "issued_at", "due_date"
    ):
        entries.append(
            {
                "at": boleto.issued_at,
                "title": _("Parcela %(n)s emitida") % {"n": boleto.sequence}
                if boleto.status == Boleto.Status.ISSUED
                else _("Parcela %(n)s não emitida (vencimento já passou)") % {"n": boleto.sequence},
                "detail": "",
                "diagnostic": "",
                "actor": "",
            }
        )
    for email in OutboundEmail.objects.filter(schedule=schedule).select_related("boleto"):
        entries.append(
            {
                "at": email.sent_at,
                "title": _("Boleto da parcela %(n)s enviado para %(to)s")
                % {"n": email.boleto.sequence, "to": email.recipient},
                "detail": email.get_send_status_display(),
                "diagnostic": "",
                "actor": "",
            }
        )
    for event in EmailEvent.objects.filter(outbound_email__schedule=schedule).select_related(
        "outbound_email__boleto"
    ):
        entries.append(
            {
                "at": event.esp_timestamp or event.received_at,
                "title": _("Provedor de e-mail: %(type)s (parcela %(n)s)")
                % {
                    "type": EMAIL_EVENT_LABELS.get(event.event_type, event.event_type),
                    "n": event.outbound_email.boleto.sequence,
                },
                "detail": DeactivationCause(event.cause).label if event.cause else "",
                "diagnostic": event.diagnostic,
                "actor": "",
            }
        )
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return entries
