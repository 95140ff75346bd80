"""One spreadsheet row -> validated values, or one message per problem field in Portuguese.

The rules are the portal's own, not re-implemented: each cell goes through the field of the form
that types the same value on screen (billing.forms.CustomerForm for the customer,
schedules.forms.ScheduleForm for the schedule) and through that form's ``clean_<field>`` method
(CPF/CNPJ check digits, CEP, UF). What only a spreadsheet needs is added here: typed XLSX cells,
the frequency in words, a first due date in the past, and cells that look like formulas.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

from billing.forms import CustomerForm
from portal.emailcheck import email_suggestion
from portal.forms import UF_CHOICES
from schedules import dates
from schedules.forms import ScheduleForm
from schedules.models import LEAD_DAYS_DEFAULT, Frequency
from schedules.services import validate_first_due_date

# Spreadsheet column -> (form, field) whose rules apply.
CUSTOMER_FIELDS = {
    "nome": "name",
    "cpf_cnpj": "document",
    "email": "email",
    "telefone": "phone",
    "endereco": "address_street",
    "bairro": "address_district",
    "cidade": "address_city",
    "uf": "address_state",
    "cep": "address_zip",
}
SCHEDULE_FIELDS = {
    "valor": "amount",
    "frequencia": "frequency_months",
    "primeiro_vencimento": "first_due_date",
    "antecedencia": "lead_days",
    "descricao": "description",
}
# Free text: a cell starting with one of these is a formula to a spreadsheet program (CSV
# injection) and is refused rather than stored and later exported into someone's Excel.
TEXT_COLUMNS = ("nome", "email", "telefone", "endereco", "bairro", "cidade", "descricao")
FORMULA_STARTS = ("=", "+", "-", "@")
# Columns whose values repeat across rows (validated once per distinct value, see RowValidator).
MEMO_COLUMNS = frozenset(
    {"bairro", "cidade", "uf", "cep", "valor", "frequencia", "primeiro_vencimento", "antecedencia"}
    | {"descricao"}
)
MEMO_SIZE = 50_000
_PHONE = re.compile(r"^\+[\d\s().-]+$")  # "+55 11 98765-4321" is a phone, not a formula
UFS = frozenset(value for value, _label in UF_CHOICES if value)
# How far back a first due date may go (migrating running schedules); older is surely a typo.
FIRST_DUE_MAX_YEARS_BACK = 20

_WORDS = {
    "mensal": 1,
    "mes": 1,
    "bimestral": 2,
    "trimestral": 3,
    "semestral": 6,
    "anual": 12,
    "ano": 12,
    "bienal": 24,
    "bianual": 24,
}
_EVERY = re.compile(r"^(?:a cada |cada )?(\d{1,2}) ?(mes|meses|ano|anos)?$")


def _plain(text: str) -> str:
    """Lower case, no accents, single spaces: 'A cada 2 Meses' -> 'a cada 2 meses'."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(bare.split())


def _frequency_names() -> dict[str, int]:
    names = {_plain(str(label)): value for value, label in Frequency.choices}
    names.update(_WORDS)
    return names


def frequency_from_text(text: str, names: dict[str, int] | None = None) -> int | None:
    """Months, from 1/2/3/6/12/24, the portal's labels or the usual words; None if unknown."""
    plain = _plain(text)
    months = (names or _frequency_names()).get(plain)
    if months is not None:
        return months
    match = _EVERY.match(plain)
    if match:
        number = int(match.group(1))
        months = number * 12 if (match.group(2) or "").startswith("ano") else number
        if months in dates.FREQUENCIES:
            return months
    return None


@dataclass
class RowResult:
    """A row of the preview. ``status``: "ok", "error" or "duplicate"."""

    number: int
    display: dict[str, str]
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    notes: list[str] = field(default_factory=list)
    cleaned: dict | None = None
    status: str = "ok"
    duplicate_of: str = ""  # the message of a duplicate
    first_installment: tuple[int, date] | None = None  # the first installment to be issued
    # The likely intended address when the typed domain looks like a typo ("gmial.com" ->
    # "gmail.com", portal.emailcheck): the preview offers it with one click (a new customer's
    # row only: an existing customer's email is not taken from the file).
    suggestion: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def cell_text(value, column: str = "") -> str:
    """A cell as the text the merchant sees. XLSX numbers lose their ".0"; a CPF/CNPJ or CEP
    typed as a number gets back the leading zeros Excel dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VERDADEIRO" if value else "FALSO"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        if column == "cpf_cnpj" and value >= 0:
            return text.zfill(11) if len(text) <= 11 else text.zfill(14)
        if column == "cep" and value >= 0:
            return text.zfill(8)
        return text
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y") if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _messages(exc: ValidationError) -> str:
    return " ".join(str(message) for message in exc.messages)


class RowValidator:
    """Validates rows for one merchant on one day. Build once per file: the forms whose fields
    and clean methods are used are made once, not once per row."""

    def __init__(self, *, merchant, today: date):
        self.today = today
        self.customer_form = CustomerForm()
        self.schedule_form = ScheduleForm(merchant=merchant, today=today)
        self.frequency_names = _frequency_names()
        # Every rule is a function of the cell alone (and today): a column with few distinct
        # values (UF, city, frequency, dates, amounts) is validated once per distinct value.
        self.memo: dict[tuple, tuple[object, list[str] | None]] = {}

    # --- helpers ---

    def _field(self, form: forms.BaseForm, name: str, value):
        """The form field's clean, then the form's clean_<name> (as a bound form runs them)."""
        cleaned = form.fields[name].clean(value)
        method = getattr(form, f"clean_{name}", None)
        if method is not None:
            form.cleaned_data = {name: cleaned}
            cleaned = method()
        return cleaned

    # --- the row ---

    def validate(self, number: int, values: dict[str, object]) -> RowResult:
        display = {column: cell_text(value, column)[:200] for column, value in values.items()}
        result = RowResult(number=number, display=display)
        errors = result.errors
        customer: dict = {}
        for column, name in CUSTOMER_FIELDS.items():
            text = cell_text(values.get(column), column)
            try:
                customer[name] = self._memoized(column, text, self._customer_cell, column, name)
            except ValidationError as exc:
                errors.append((column, _messages(exc)))
        schedule: dict = {}
        for column, name in SCHEDULE_FIELDS.items():
            value = values.get(column)
            try:
                schedule[name] = self._memoized(column, value, self._schedule_cell, column, name)
            except ValidationError as exc:
                errors.append((column, _messages(exc)))
        if errors:
            result.status = "error"
        else:
            result.cleaned = {"customer": customer, **schedule}
            result.suggestion = email_suggestion(customer["email"])
        return result

    def _memoized(self, column, value, check, *args):
        if column not in MEMO_COLUMNS:
            return check(value, *args)
        key = (column, value.__class__, value)
        found = self.memo.get(key)
        if found is None:
            try:
                found = (check(value, *args), None)
            except ValidationError as exc:
                found = (None, exc.messages)
            if len(self.memo) < MEMO_SIZE:
                self.memo[key] = found
        cleaned, messages = found
        if messages is not None:
            raise ValidationError(messages)
        return cleaned

    def _customer_cell(self, text: str, column: str, name: str):
        self._check_formula(column, text)
        if column == "email":
            return self._email(text)
        cleaned = self._field(self.customer_form, name, text)
        if column == "uf" and cleaned not in UFS:
            raise ValidationError(
                _("UF inválida: use a sigla de um dos 27 estados (SP, RJ, MG, DF…).")
            )
        return cleaned

    def _schedule_cell(self, value, column: str, name: str):
        self._check_formula(column, cell_text(value, column))
        return getattr(self, f"_{name}")(value)

    def _check_formula(self, column: str, text: str) -> None:
        if column not in TEXT_COLUMNS or not text.startswith(FORMULA_STARTS):
            return
        if column == "telefone" and _PHONE.match(text):
            return
        raise ValidationError(
            _(
                "O texto começa com “%(char)s”, como uma fórmula de planilha: não é aceito. "
                "Remova o “%(char)s” do início."
            )
            % {"char": text[0]}
        )

    def _email(self, text: str) -> str:
        field = self.customer_form.fields["email"]
        if not text:
            raise ValidationError(field.error_messages["required"], code="required")
        try:
            validate_email(text, check_deliverability=False)
            cleaned = field.clean(text)
        except (EmailNotValidError, ValidationError):
            suggestion = email_suggestion(text)
            if suggestion:  # "ana@yahoo.com.b": invalid, and obviously meant yahoo.com.br
                raise ValidationError(
                    _("E-mail inválido: você quis dizer %(suggestion)s?")
                    % {"suggestion": suggestion},
                    code="invalid",
                ) from None
            raise ValidationError(
                _("E-mail inválido: confira o endereço (por exemplo, nome@empresa.com.br)."),
                code="invalid",
            ) from None
        # The field's own clean, not the form's clean_email: a likely typo is not an error of
        # the row but a suggestion the preview offers (RowResult.suggestion), one click away.
        return cleaned

    def _amount(self, value) -> Decimal:
        if isinstance(value, bool):
            value = str(value)
        elif isinstance(value, float):
            # An XLSX number is a binary float: 199.9 is 199.900000000000005684...; take the
            # cents it stands for, and refuse a value with more (0.1 + 0.2 from a formula is
            # 0.30000000000000004: that is 0.30, but 10.005 is not a price).
            cents = round(value * 100)
            if abs(value * 100 - cents) > 1e-6:
                raise ValidationError(
                    self.schedule_form.fields["amount"].error_messages["max_decimal_places"]
                )
            value = Decimal(cents) / 100
        elif isinstance(value, int):
            value = Decimal(value)
        elif value is not None and not isinstance(value, str | Decimal):
            value = cell_text(value)
        return self._field(self.schedule_form, "amount", value)

    def _frequency_months(self, value) -> int:
        text = cell_text(value)
        if not text:
            raise ValidationError(
                self.schedule_form.fields["frequency_months"].error_messages["required"]
            )
        months = frequency_from_text(text, self.frequency_names)
        if months is None:
            raise ValidationError(
                _(
                    "Frequência inválida: use os meses (1, 2, 3, 6, 12 ou 24) ou Mensal, "
                    "Bimestral, Trimestral, Semestral, Anual, Bienal."
                )
            )
        return months

    def _first_due_date(self, value) -> date:
        field = self.schedule_form.fields["first_due_date"]
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif value is None or (isinstance(value, str) and not value.strip()):
            raise ValidationError(field.error_messages["required"])
        else:
            try:
                day = field.to_python(value) if isinstance(value, str) else None
            except ValidationError:
                day = None
            if day is None:
                raise ValidationError(_("Data inválida: use dd/mm/aaaa, por exemplo 10/03/2025."))
        if day >= self.today:
            # The form's rule (at most five years ahead); a date in the past is allowed here.
            validate_first_due_date(day, today=self.today)
        elif day < self.today - relativedelta(years=FIRST_DUE_MAX_YEARS_BACK):
            raise ValidationError(
                _("Data muito antiga: o primeiro vencimento pode ser de até %(years)s anos atrás.")
                % {"years": FIRST_DUE_MAX_YEARS_BACK}
            )
        return day

    def _lead_days(self, value) -> int:
        text = cell_text(value)
        if not text:
            return LEAD_DAYS_DEFAULT
        return self._field(self.schedule_form, "lead_days", text)

    def _description(self, value) -> str:
        return self._field(self.schedule_form, "description", cell_text(value))


def first_installment(
    *, first_due_date: date, frequency_months: int, lead_days: int, today: date
) -> tuple[int, date]:
    """The installment an imported schedule issues first: ``(sequence, issue date)``.

    A first due date today or later: installment 1, as the schedule form would create it (issued
    at once if its issue date has passed). In the past (a running schedule migrated from
    another system): the first installment whose issue date (due date - lead days) is today or
    later; the earlier ones were the other system's, so they are neither issued nor recorded as
    skipped here. Sequence numbers still count from the first due date.
    """
    lead = timedelta(days=lead_days)
    if first_due_date >= today:
        sequence = 1
    else:
        sequence = dates.first_sequence_due_on_or_after(
            first_due_date, frequency_months, today + lead
        )
    return sequence, dates.due_date(first_due_date, frequency_months, sequence) - lead


def to_json(cleaned: dict) -> dict:
    """A validated row as JSON (ImportBatch.rows)."""
    return {
        **cleaned,
        "amount": str(cleaned["amount"]),
        "first_due_date": cleaned["first_due_date"].isoformat(),
    }


def from_json(data: dict) -> dict:
    try:
        return {
            **data,
            "amount": Decimal(data["amount"]),
            "first_due_date": date.fromisoformat(data["first_due_date"]),
        }
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ValueError("malformed import row") from exc
