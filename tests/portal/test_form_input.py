"""Every form of the portal, field by field (issue 10 items 15 and 24):

- control characters are refused in every text field (one line; a textarea keeps its lines);
- a bad value gets one message, in the field's own terms, never Django's generic "Certifique-se…"
  or "…ponto decimal".
"""

import pytest
from django import forms
from django.core.validators import RegexValidator
from django.utils import translation

from billing.forms import CustomerCreateForm
from notifications.tickets.forms import TicketForm, TicketReplyForm
from portal.forms import (
    MemberInviteForm,
    MemberRoleForm,
    MerchantSettingsForm,
    MerchantSwitchForm,
    PortalPasswordResetForm,
)
from portal.text import CONTROL_CHARACTERS, CONTROL_CHARACTERS_MULTILINE
from schedules.filters import ScheduleListFilterForm
from schedules.forms import NewCustomerForm, ReactivationForm, ScheduleForm
from schedules.models import DeactivationCause
from schedules.services import schedule_deactivate
from tests.factories import ScheduleFactory

pytestmark = pytest.mark.django_db

GENERIC = ("Certifique-se", "ponto decimal", "Ensure this")


@pytest.fixture(autouse=True)
def _pt_br():
    with translation.override("pt-br"):
        yield


@pytest.fixture
def every_form(merchant):
    """name -> a function building that form from data (every form a person fills in)."""
    schedule = ScheduleFactory(merchant=merchant)
    schedule_deactivate(schedule=schedule, cause=DeactivationCause.MAILBOX_FULL)
    schedule.refresh_from_db()
    return {
        "schedule": lambda data: ScheduleForm(data, merchant=merchant),
        "new_customer": lambda data: NewCustomerForm(data, merchant=merchant),
        "customer": lambda data: CustomerCreateForm(data),
        "reactivation": lambda data: ReactivationForm(
            data, schedule=schedule, missed=[], undelivered=[]
        ),
        "ticket": lambda data: TicketForm(data, merchant=merchant),
        "ticket_reply": lambda data: TicketReplyForm(data),
        "settings": lambda data: MerchantSettingsForm(data),
        "invite": lambda data: MemberInviteForm(data),
        "role": lambda data: MemberRoleForm(data),
        "switch": lambda data: MerchantSwitchForm(data),
        "password_reset": lambda data: PortalPasswordResetForm(data),
        "list_filters": lambda data: ScheduleListFilterForm(data, status="deactivated"),
    }


def fields_of(build):
    form = build(None)
    for name, field in form.fields.items():
        if isinstance(field.widget, forms.HiddenInput | forms.PasswordInput):
            continue
        yield form.add_prefix(name), name, field


def validators_of(field):
    for validator in field.validators:
        yield from getattr(validator, "validators", [validator])


def errors_for(build, key, name, value):
    form = build({key: value})
    form.is_valid()
    messages = [str(m) for m in form.errors.get(name, [])]
    for message in (m for errors in form.errors.values() for m in errors):
        assert not any(word in message for word in GENERIC), message
    return messages


FORMS = [
    "schedule",
    "new_customer",
    "customer",
    "reactivation",
    "ticket",
    "ticket_reply",
    "settings",
    "invite",
    "role",
    "switch",
    "password_reset",
    "list_filters",
]


@pytest.mark.parametrize("form_name", FORMS)
def test_control_characters_are_refused_in_every_text_field(every_form, form_name):
    build = every_form[form_name]
    checked = 0
    for key, name, field in fields_of(build):
        if not isinstance(field, forms.CharField):
            continue
        checked += 1
        if isinstance(field.widget, forms.Textarea):
            assert errors_for(build, key, name, "Olá\x1b[31m suporte") == [
                str(CONTROL_CHARACTERS_MULTILINE)
            ], name
            assert errors_for(build, key, name, "Linha 1\r\nLinha 2\tfim") == [], name
            continue
        for value in ("Academia\r\nBcc: alvo@example.com", "Loja\tNova", "Loja\u2028Nova"):
            messages = errors_for(build, key, name, value)
            if isinstance(field, forms.EmailField):
                assert len(messages) == 1, (name, value, messages)  # "e-mail inválido" first
            else:
                assert messages == [str(CONTROL_CHARACTERS)], (name, value, messages)
        # Leading and trailing line breaks are trimmed as any whitespace is (not an error).
        assert str(CONTROL_CHARACTERS) not in errors_for(build, key, name, "\r\nLoja\r\n")
    if form_name not in ("role", "switch"):
        assert checked, f"{form_name}: no text field checked"


@pytest.mark.parametrize("form_name", FORMS)
def test_each_bad_value_gets_one_message_in_the_fields_terms(every_form, form_name):
    build = every_form[form_name]
    for key, name, field in fields_of(build):
        values = ["\x00"]
        if getattr(field, "max_length", None):
            values.append("a" * (field.max_length + 30))
        if isinstance(field, forms.IntegerField | forms.DecimalField):
            values += ["9" * 30, "-1", "1,23456", "999,999", "abc", "1e400"]
        for value in values:
            messages = errors_for(build, key, name, value)
            assert len(messages) <= 1, (form_name, name, value, messages)
        if getattr(field, "max_length", None) and not isinstance(field, forms.EmailField):
            (message,) = errors_for(build, key, name, "1" * (field.max_length + 30))
            # The length, unless the field's own rule refuses the text first ("Um dígito ou
            # letra.", "Use apenas números.").
            own_rule = any(isinstance(v, RegexValidator) for v in validators_of(field))
            assert own_rule or f"Use no máximo {field.max_length} caracter" in message, message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "100.000.000,00", "O valor máximo é R$ 99.999.999,99."),
        ("amount", "99.999.999,999", "O valor máximo é R$ 99.999.999,99."),
        ("amount", "999999999999999", "O valor máximo é R$ 99.999.999,99."),
        ("amount", "0,00", "O valor mínimo é R$ 0,01."),
        ("amount", "-5", "O valor mínimo é R$ 0,01."),
        (
            "amount",
            "1,234",
            "Informe no máximo 2 casas decimais (os centavos), por exemplo 1.234,56.",
        ),
        ("amount", "abc", "Informe o valor em reais, por exemplo 1.234,56."),
        ("lead_days", "0", "Antecedência: de 1 a 60 dias."),
        ("lead_days", "61", "Antecedência: de 1 a 60 dias."),
        ("lead_days", "99999999999999999999", "Antecedência: de 1 a 60 dias."),
        ("lead_days", "dez", "Antecedência: de 1 a 60 dias."),
        ("description", "d" * 201, "Use no máximo 200 caracteres (o texto tem 201)."),
        ("first_due_date", "2026-02-30", "Informe uma data válida."),
    ],
)
def test_new_schedule_messages(every_form, field, value, message):
    assert errors_for(every_form["schedule"], field, field, value) == [message]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("101", "Informe um percentual de 0 a 100, por exemplo 2,00."),
        ("1000,00", "Informe um percentual de 0 a 100, por exemplo 2,00."),
        ("-1", "Informe um percentual de 0 a 100, por exemplo 2,00."),
        ("2,555", "Use no máximo 2 casas decimais, por exemplo 2,50."),
    ],
)
def test_settings_percent_messages(every_form, value, message):
    for field in ("late_fee_percent", "monthly_interest_percent"):
        assert errors_for(every_form["settings"], field, field, value) == [message]


@pytest.mark.parametrize(
    ("model_path", "field"),
    [
        ("portal.Merchant", "trade_name"),
        ("portal.Merchant", "legal_name"),
        ("billing.Customer", "name"),
    ],
)
def test_the_admin_forms_refuse_control_characters_too(rf, model_path, field, merchant):
    """Staff type names in the admin: the same rule as the portal's forms."""
    from django.apps import apps
    from django.contrib import admin

    from tests.factories import UserFactory

    model = apps.get_model(model_path)
    request = rf.get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    form_class = admin.site._registry[model].get_form(request)
    form = form_class({field: "Academia\r\nBcc: alvo@example.com"})
    form.is_valid()
    assert form.errors[field] == [str(CONTROL_CHARACTERS)]
