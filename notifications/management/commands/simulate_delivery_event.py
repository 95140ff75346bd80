"""Post a real-format ESP tracking webhook about a schedule's last email, to see the delivery
loop (inbox → classification → deactivation → merchant alert) without an ESP.

    python manage.py simulate_delivery_event 3 --event hard-bounce
    python manage.py simulate_delivery_event 3 --event delivered --merchant 11222333000181

The payload is Postmark's documented format, posted through the portal's real
/anymail/postmark/tracking/ endpoint with the configured webhook secret
(notifications/simulation.py).
"""

from django.core.management.base import BaseCommand, CommandError

from notifications.models import OutboundEmail
from notifications.simulation import EVENTS, SimulationError, delivery_event_simulate
from portal.documents import normalize_document


class Command(BaseCommand):
    help = (
        "Simula um evento de entrega (webhook real do provedor) para o último e-mail de um "
        "agendamento."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", type=int, help="número do agendamento")
        parser.add_argument("--event", choices=sorted(EVENTS), default="hard-bounce")
        parser.add_argument("--merchant", help="CNPJ do lojista (quando o número se repete)")

    def handle(self, *args, number, event, merchant, **options):
        emails = OutboundEmail.objects.filter(schedule__number=number).select_related(
            "schedule__merchant"
        )
        if merchant:
            emails = emails.filter(schedule__merchant__cnpj=normalize_document(merchant))
        merchants = set(emails.values_list("schedule__merchant_id", flat=True))
        if not merchants:
            raise CommandError(
                f"Nenhum e-mail enviado para o agendamento nº {number}: aguarde o envio do "
                "boleto (worker em execução) ou confira o número."
            )
        if len(merchants) > 1:
            raise CommandError("Há mais de um lojista com esse número: informe --merchant CNPJ.")
        outbound = emails.order_by("-sent_at", "-id").first()
        try:
            stored_events = delivery_event_simulate(outbound=outbound, event=event)
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        for stored in stored_events:
            self.stdout.write(
                f"evento {stored.event_type} ({stored.action}/{stored.cause or '-'}) → "
                f"{stored.get_outcome_display()}"
            )
        schedule = outbound.schedule
        schedule.refresh_from_db()
        self.stdout.write(
            f"agendamento nº {schedule.number}: {schedule.get_status_display()}"
            + (
                f" — {schedule.get_deactivation_cause_display()}"
                if schedule.deactivation_cause
                else ""
            )
        )
