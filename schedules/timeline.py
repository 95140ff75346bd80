"""A schedule's timeline (the detail page's "Histórico"): one TimelineEntry per event, read from
each source by its own function (history, installments, emails, provider events, alerts), merged
and sorted newest first. Dates go through portal/formats.py (Django's pt-BR formats).

The email, provider-event and alert sources are notifications' (notifications/timeline.py),
registered as ``schedules.extensions.timeline_sources``: schedules cannot import notifications.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import BankOccurrence, Boleto, Customer
from portal.formats import date_br
from portal.templatetags.money import format_brl
from schedules import extensions
from schedules.models import Schedule, ScheduleEvent
from schedules.selectors import cause_label, sequence_list


def _installments(sequences) -> str:
    sequences = list(sequences)
    return ngettext("parcela %(list)s", "parcelas %(list)s", len(sequences)) % {
        "list": sequence_list(sequences)
    }


def _actor_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _customer_field_label(name: str) -> str:
    try:
        return capfirst(Customer._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _customer_changes(changes: dict) -> str:
    """ "E-mail: a@x.com → b@y.com; Telefone: — → (11) 99999-0000", in the form's order."""
    order = {name: i for i, name in enumerate(f.name for f in Customer._meta.fields)}
    parts = []
    for name in sorted(changes, key=lambda n: order.get(n, len(order))):
        before, after = (list(changes[name]) + ["", ""])[:2]
        parts.append(
            _("%(field)s: %(before)s → %(after)s")
            % {
                "field": _customer_field_label(name),
                "before": before or "—",
                "after": after or "—",
            }
        )
    return "; ".join(parts)


def _money(value) -> str:
    try:
        return format_brl(Decimal(value))
    except (ArithmeticError, TypeError, ValueError):
        return str(value)


def _iso_date(value) -> str:
    try:
        return date_br(date.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def _change_line(field: str, before, after) -> str:
    """One change of an edit, in Portuguese ("Valor: R$ 100,00 → R$ 120,00")."""
    if field == "amount":
        label, before, after = _("Valor"), _money(before), _money(after)
    elif field == "due_day":
        label = _("Dia do vencimento")
    elif field == "lead_days":
        label = _("Antecedência")
        before, after = (
            ngettext("%(n)s dia", "%(n)s dias", value) % {"n": value}
            if isinstance(value, int)
            else str(value)
            for value in (before, after)
        )
    elif field == "description":
        label = _("Descrição")
        before, after = (f"“{value}”" if value else _("(vazia)") for value in (before, after))
    elif field == "end_count":
        label = _("Número de parcelas")
        before, after = (_("sem limite") if value is None else value for value in (before, after))
    elif field == "end_date":
        label = _("Último vencimento")
        before, after = (
            _("sem data") if value is None else _iso_date(value) for value in (before, after)
        )
    else:
        label = field
    return _("%(label)s: %(before)s → %(after)s") % {
        "label": label,
        "before": before,
        "after": after,
    }


def _updated_detail(data: dict) -> str:
    changes = data.get("changes") or {}
    lines = [
        _change_line(field, *values)
        for field, values in changes.items()
        if isinstance(values, list | tuple) and len(values) == 2
    ]
    detail = "; ".join(str(line) for line in lines)
    if data.get("effective_sequence"):
        detail += " " + _("a partir da parcela %(n)s") % {"n": data["effective_sequence"]}
    return detail


def _history_detail(event) -> str:
    data = event.data or {}
    kind = event.kind
    if kind == ScheduleEvent.Kind.CUSTOMER_UPDATED:
        return _customer_changes(data.get("changes") or {})
    if kind == ScheduleEvent.Kind.UPDATED:
        return _updated_detail(data)
    if kind == ScheduleEvent.Kind.FINISHED:
        if data.get("last_sequence"):
            return _("última parcela: %(n)s") % {"n": data["last_sequence"]}
        return ""
    if kind == ScheduleEvent.Kind.EMAIL_CHANGED:
        detail = _("de %(old)s para %(new)s") % {
            "old": data.get("from", ""),
            "new": data.get("to", ""),
        }
        if data.get("via_schedule"):
            detail += " " + _("(na reativação do agendamento nº %(n)s)") % {
                "n": data["via_schedule"]
            }
        return detail
    if kind == ScheduleEvent.Kind.INSTALLMENTS_SKIPPED:
        return _installments(data.get("sequences", []))
    if kind == ScheduleEvent.Kind.REACTIVATED:
        parts = []
        if data.get("previous_cause"):
            parts.append(
                _("estava desativado por: %(cause)s")
                % {"cause": cause_label(data["previous_cause"])}
            )
        parts.append(_("e-mail alterado") if data.get("email_changed") else _("e-mail mantido"))
        missed = data.get("missed") or []
        if missed and data.get("missed_choice") == "issue":
            parts.append(_("%(items)s emitidas agora") % {"items": _installments(missed)})
        elif missed:
            parts.append(_("%(items)s não emitidas (puladas)") % {"items": _installments(missed)})
        resent = data.get("resent") or []
        if resent:
            parts.append(_("boleto reenviado: %(items)s") % {"items": _installments(resent)})
        return "; ".join(str(p) for p in parts)
    if kind == ScheduleEvent.Kind.BOLETO_RESENT:
        return _("parcela %(n)s, para %(to)s") % {
            "n": data.get("sequence", ""),
            "to": data.get("email", ""),
        }
    if data.get("cause"):
        return cause_label(data["cause"])
    return ""


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a schedule's history (the detail page's "Histórico")."""

    at: datetime
    # A ScheduleEvent kind, "boleto_<status>", "email_sent", "email_<provider event type>",
    # "bank_<occurrence kind>", "alert" or "alert_ack" (the template's CSS class).
    kind: str
    title: str
    detail: str = ""
    diagnostic: str = ""  # the provider's own words, shown verbatim
    actor: str = ""  # who did it (history entries only)


@dataclass(frozen=True)
class _ReactivationFacts:
    """What the history says about installments decided on reactivation."""

    skipped: frozenset[int]  # sequences the merchant chose to skip
    reissued: dict[int, date]  # sequence -> original due date, issued with a new one


def _reactivation_facts(events) -> _ReactivationFacts:
    skipped: set[int] = set()
    reissued: dict[int, date] = {}
    for event in events:
        data = event.data or {}
        if event.kind == ScheduleEvent.Kind.INSTALLMENTS_SKIPPED:
            skipped.update(data.get("sequences", []))
        elif event.kind == ScheduleEvent.Kind.REACTIVATED:
            for item in data.get("issued_with_new_due_date", []):
                reissued[item["sequence"]] = date.fromisoformat(item["original_due_date"])
    return _ReactivationFacts(skipped=frozenset(skipped), reissued=reissued)


def _history_entries(events) -> list[TimelineEntry]:
    """The schedule's own history, with who did it."""
    return [
        TimelineEntry(
            at=event.created_at,
            kind=event.kind,
            title=event.get_kind_display(),
            detail=_history_detail(event),
            diagnostic=(event.data or {}).get("diagnostic", ""),
            actor=_actor_name(event.actor) or (event.data or {}).get("actor_email", ""),
        )
        for event in events
    ]


def _installment_entries(schedule: Schedule, facts: _ReactivationFacts) -> list[TimelineEntry]:
    """Each installment issued or skipped (by the merchant on reactivation, or for being past
    due when the generator first saw it)."""
    entries = []
    for boleto in Boleto.objects.filter(schedule=schedule).only(
        "sequence", "status", "issued_at", "due_date"
    ):
        n = boleto.sequence
        due = date_br(boleto.due_date)
        detail = _("vencimento %(due)s") % {"due": due}
        if boleto.status == Boleto.Status.ISSUED:
            title = _("Parcela %(n)s emitida") % {"n": n}
            if n in facts.reissued:
                detail = _("vencimento original %(original)s, novo vencimento %(due)s") % {
                    "original": date_br(facts.reissued[n]),
                    "due": due,
                }
        elif n in facts.skipped:
            title = _("Parcela %(n)s não emitida (pulada na reativação)") % {"n": n}
        else:
            title = _("Parcela %(n)s não emitida (vencimento já passou)") % {"n": n}
        entries.append(
            TimelineEntry(
                at=boleto.issued_at, kind="boleto_" + boleto.status, title=title, detail=detail
            )
        )
    return entries


def _reasons_text(reasons) -> str:
    return "; ".join(r.get("text") or r.get("code", "") for r in reasons or [] if r)


def _bank_title(occurrence) -> str:
    kind = occurrence.kind
    if kind == "registered":
        return _("Registro confirmado pelo banco")
    if kind == "rejected":
        return _("Registro rejeitado: %(reasons)s") % {
            "reasons": _reasons_text(occurrence.reasons) or _("motivo não informado")
        }
    if kind in ("paid", "paid_after_write_off"):
        values = {
            "amount": format_brl(occurrence.amount_paid),
            "on": date_br(occurrence.occurred_on),
            "credit": date_br(occurrence.credited_on),
        }
        if kind == "paid":
            if occurrence.credited_on:
                return _("Pago %(amount)s em %(on)s (crédito em %(credit)s)") % values
            return _("Pago %(amount)s em %(on)s") % values
        if occurrence.credited_on:
            return _("Pago após baixa: %(amount)s em %(on)s (crédito em %(credit)s)") % values
        return _("Pago após baixa: %(amount)s em %(on)s") % values
    if kind == "written_off":
        return _("Baixado")
    if kind == "instruction_confirmed":
        return _("Instrução confirmada pelo banco")
    if kind == "instruction_rejected":
        return _("Instrução rejeitada pelo banco: %(reasons)s") % {
            "reasons": _reasons_text(occurrence.reasons) or _("motivo não informado")
        }
    if kind == "fee":
        return _("Tarifa bancária de %(fee)s") % {"fee": format_brl(occurrence.fee)}
    if kind == "info":
        return _("Ocorrência %(code)s do banco (informativa)") % {"code": occurrence.occurrence}
    return _("Ocorrência %(code)s do banco (código não catalogado)") % {
        "code": occurrence.occurrence
    }


def _bank_entries(schedule: Schedule) -> list[TimelineEntry]:
    """What the bank's retornos said about the schedule's installments (billing's ledger of
    bank facts): registration confirmed or rejected, paid, written off, instructions, fees. A
    fact a later file repeats (outcome "duplicate") is listed once."""
    occurrences = (
        BankOccurrence.objects.filter(merchant_id=schedule.merchant_id, boleto__schedule=schedule)
        .exclude(outcome=BankOccurrence.Outcome.DUPLICATE)
        .select_related("boleto", "retorno")
        .only(
            "created_at",
            "kind",
            "occurrence",
            "reasons",
            "amount_paid",
            "fee",
            "occurred_on",
            "credited_on",
            "boleto__sequence",
            "retorno__filename",
        )
    )
    return [
        TimelineEntry(
            at=occurrence.created_at,
            kind="bank_" + occurrence.kind,
            title=_bank_title(occurrence),
            detail=_("parcela %(n)s · retorno %(file)s")
            % {"n": occurrence.boleto.sequence, "file": occurrence.retorno.filename},
        )
        for occurrence in occurrences
    ]


def schedule_timeline(*, schedule: Schedule) -> list[TimelineEntry]:
    """Every event of a schedule, newest first: its history, its installments, its emails, the
    provider's events about them and the merchant's alerts, one function per source.

    A fixed number of queries (one per source) whatever the length of the history."""
    events = list(ScheduleEvent.objects.filter(schedule=schedule).select_related("actor"))
    entries = [
        *_history_entries(events),
        *_installment_entries(schedule, _reactivation_facts(events)),
        *_bank_entries(schedule),
    ]
    for source in extensions.timeline_sources.results(schedule):
        entries.extend(source)
    entries.sort(key=attrgetter("at"), reverse=True)  # stable: ties keep the order above
    return entries
