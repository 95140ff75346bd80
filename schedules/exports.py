"""CSV export of the schedule lists, pt-BR friendly: ``;`` separator, UTF-8 with BOM (Excel opens
it with the accents right), dates dd/mm/aaaa, amounts 1.234,56. Streamed: rows are written as
they are read, a chunk of schedules at a time."""

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from portal.formats import date_br, datetime_br
from schedules.models import DeactivationCause, Frequency, Schedule, ScheduleStatus

BOM = "\ufeff"
# A cell a spreadsheet would read as a formula (OWASP "CSV injection") is prefixed with '.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _money(value: Decimal | None) -> str:
    return "" if value is None else number_format(value, 2, use_l10n=True, force_grouping=True)


def _header(status: str) -> list[str]:
    header = [
        _("Número"),
        _("Situação"),
        _("Cliente"),
        _("CPF/CNPJ"),
        _("E-mail"),
        _("Valor"),
        _("Frequência"),
        _("Primeiro vencimento"),
    ]
    if status == ScheduleStatus.DEACTIVATED:
        header += [
            _("Motivo da desativação"),
            _("Desativado em"),
            _("Boleto não entregue (parcela)"),
            _("Vencimento do boleto não entregue"),
            _("Valor do boleto não entregue"),
        ]
    elif status == ScheduleStatus.CANCELLED:
        header.append(_("Cancelado em"))
    elif status == ScheduleStatus.FINISHED:
        header.append(_("Encerrado em"))
    return header


class _Labels:
    """Choice labels translated once per export (``get_FOO_display`` costs ~20 catalogue lookups
    a row: 15,000 rows took 6 s before this)."""

    def __init__(self):
        self.status = {value: str(label) for value, label in ScheduleStatus.choices}
        self.frequency = {value: str(label) for value, label in Frequency.choices}
        self.cause = {value: str(label) for value, label in DeactivationCause.choices}


def _row(schedule: Schedule, status: str, labels: _Labels) -> list[str]:
    customer = schedule.customer
    row = [
        str(schedule.number),
        labels.status.get(schedule.status, schedule.status),
        _text(customer.name),
        customer.formatted_document,
        _text(customer.email),
        _money(schedule.amount),
        labels.frequency.get(schedule.frequency_months, ""),
        date_br(schedule.first_due_date),
    ]
    if status == ScheduleStatus.DEACTIVATED:
        boletos = getattr(schedule, "undelivered_boletos", None) or [None]
        boleto = boletos[0]
        row += [
            labels.cause.get(schedule.deactivation_cause, ""),
            datetime_br(schedule.deactivated_at),
            str(boleto.sequence) if boleto else "",
            date_br(boleto.due_date) if boleto else "",
            _money(boleto.amount) if boleto else "",
        ]
    elif status == ScheduleStatus.CANCELLED:
        row.append(datetime_br(schedule.cancelled_at))
    elif status == ScheduleStatus.FINISHED:
        row.append(datetime_br(schedule.finished_at))
    return row


class _Echo:
    """csv.writer target that hands each formatted line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def schedule_csv_lines(
    schedules: Iterable[Schedule], *, status: str, language: str
) -> Iterator[str]:
    """The CSV, line by line (the first one starts with the BOM). ``language`` is re-activated
    here because a streamed body is produced after the view has returned."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    with translation.override(language):
        yield BOM + writer.writerow(_header(status))
        labels = _Labels()
        for schedule in schedules:
            yield writer.writerow(_row(schedule, status, labels))
