"""Email typo suggestions, syntax and domain checks (portal/emailcheck.py), the forms' one-time
question and the endpoint of static/portal/emailcheck.js."""

from types import SimpleNamespace

import dns.exception
import dns.resolver
import pytest
from django import forms
from django.core.cache import cache
from django.urls import reverse

from portal import emailcheck
from portal.emailcheck import (
    EMAIL_INVALID,
    EmailCheckFormMixin,
    email_domain_warning,
    email_suggestion,
    email_syntax_error,
    typo_distance,
)
from portal.formfields import PortalFormMixin

SUGGESTED = [
    # (typed domain, suggested domain)
    ("gmial.com", "gmail.com"),
    ("gamil.com", "gmail.com"),
    ("gmai.com", "gmail.com"),
    ("gmaill.com", "gmail.com"),
    ("gnail.com", "gmail.com"),
    ("gmsil.com", "gmail.com"),
    ("gmail.con", "gmail.com"),
    ("gmail.cmo", "gmail.com"),
    ("gmail.co", "gmail.com"),
    ("gmail.cm", "gmail.com"),
    ("gmail.om", "gmail.com"),
    ("gmial.con", "gmail.com"),
    ("gmail.com.br", "gmail.com"),
    ("gmailcom", "gmail.com"),
    ("gmail", "gmail.com"),
    ("GMIAL.COM", "gmail.com"),
    ("hotmal.com", "hotmail.com"),
    ("hotmial.com", "hotmail.com"),
    ("hotmail.co", "hotmail.com"),
    ("hotmail.cmo", "hotmail.com"),
    ("hormail.com", "hotmail.com"),
    ("hotmai.com.br", "hotmail.com.br"),
    ("outlok.com", "outlook.com"),
    ("outlook.con", "outlook.com"),
    ("outlook.com.b", "outlook.com.br"),
    ("outlook.cm.br", "outlook.com.br"),
    ("yahoo.com.b", "yahoo.com.br"),
    ("yahoo.cm.br", "yahoo.com.br"),
    ("yahoo.con.br", "yahoo.com.br"),
    ("yahoo.br", "yahoo.com.br"),
    ("yhaoo.com.br", "yahoo.com.br"),
    ("yaho.com", "yahoo.com"),
    ("live.con", "live.com"),
    ("icloud.con", "icloud.com"),
    ("icoud.com", "icloud.com"),
    ("icloud.com.br", "icloud.com"),
    ("uol.com", "uol.com.br"),
    ("uol.con.br", "uol.com.br"),
    ("uol.com.bt", "uol.com.br"),
    ("bol.com", "bol.com.br"),
    ("bol.com.b", "bol.com.br"),
    ("terra.com", "terra.com.br"),
    ("terra.com.b", "terra.com.br"),
    ("tera.com.br", "terra.com.br"),
    ("ig.com", "ig.com.br"),
    ("ig.con.br", "ig.com.br"),
    ("globo.con", "globo.com"),
    ("globo.com.br", "globo.com"),
    ("msn.con", "msn.com"),
    ("msn.com.br", "msn.com"),
]

NOT_SUGGESTED = [
    # The providers themselves, and real domains one letter away from one of them.
    "gmail.com",
    "hotmail.com",
    "hotmail.com.br",
    "outlook.com",
    "outlook.com.br",
    "yahoo.com",
    "yahoo.com.br",
    "live.com",
    "live.com.br",
    "icloud.com",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
    "ig.com.br",
    "globo.com",
    "msn.com",
    "ymail.com",
    "gmx.com",
    "gmx.net",
    "me.com",
    "mac.com",
    "mail.com",
    "email.com",
    "aol.com",
    "googlemail.com",
    # Corporate and other domains: never questioned.
    "empresa.com.br",
    "corpoemente.com.br",
    "portal.example",
    "hotmart.com",  # two letters from hotmail
    "globe.com",  # o/e: not neighbouring keys
    "love.com",  # live is too short for a letter's change
    "life.com",
    "sol.com.br",  # bol, uol: too short
    "uool.com.br",
    "igg.com.br",
    "serra.com.br",  # s/t: not neighbouring keys
    "gmail.net",
    "gmail.com.com",
    "prefeitura.sp.gov.br",
    "usp.br",
]


@pytest.mark.parametrize(("typed", "expected"), SUGGESTED)
def test_suggests_the_provider(typed, expected):
    assert email_suggestion(f"fulano.silva@{typed}") == f"fulano.silva@{expected}"


@pytest.mark.parametrize("domain", NOT_SUGGESTED)
def test_no_suggestion(domain):
    assert email_suggestion(f"fulano@{domain}") is None


@pytest.mark.parametrize(
    "value", ["", "fulano", "@gmial.com", "fulano@", "x" * 400 + "@gmial.com", None, 42]
)
def test_no_suggestion_without_an_address(value):
    assert email_suggestion(value) is None


def test_suggestion_keeps_the_local_part_as_typed():
    assert email_suggestion(" Fulano.De+Tal@Gmial.com ") == "Fulano.De+Tal@gmail.com"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("gmail", "gmail", 0),
        ("gmial", "gmail", 1),  # transposition
        ("gmal", "gmail", 1),  # deletion
        ("gmaill", "gmail", 1),  # insertion
        ("gnail", "gmail", 1),  # n/m are neighbours
        ("email", "gmail", 2),  # e/g are not
        ("hotmart", "hotmail", 4),
    ],
)
def test_typo_distance(a, b, distance):
    assert typo_distance(a, b) == distance


# --- Syntax -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["fulano@gmail.com", "ana.souza+boletos@empresa.com.br", "financeiro@portal.example"],
)
def test_syntax_ok(email):
    assert email_syntax_error(email) is None


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ana",
        "ana@",
        "@gmail.com",
        "ana@@gmail.com",
        "ana..souza@gmail.com",
        "ana souza@gmail.com",
        "ana@gmail",
        "ana@maquina.local",  # reserved names
        "ana@teste.test",
        "ana@-empresa.com.br",
        "ana@gmail..com",
    ],
)
def test_syntax_error_is_one_portuguese_message(email):
    assert email_syntax_error(email) == "Informe um endereço de email válido."
    assert str(EMAIL_INVALID) == "Informe um endereço de email válido."


# --- Domain (DNS) -------------------------------------------------------------------------------


class FakeResolver:
    """Stands in for dnspython's resolver: answers from a table {(name, type): answer}, where an
    answer is a list of MX exchanges / addresses or an exception to raise. Records each query."""

    def __init__(self, table):
        self.table = table
        self.queries = []

    def resolve(self, name, rdtype, lifetime=None):
        assert lifetime is not None and 0 < lifetime <= 2
        self.queries.append((name, rdtype))
        answer = self.table.get((name, rdtype), dns.resolver.NoAnswer())
        if isinstance(answer, Exception):
            raise answer
        return [SimpleNamespace(exchange=value, address=value) for value in answer]


CANARY_OK = {("gmail.com", "MX"): ["gmail-smtp-in.l.google.com."]}


@pytest.fixture
def dns_on(settings):
    settings.EMAIL_MX_CHECK = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def resolver(monkeypatch):
    def _install(table):
        fake = FakeResolver(table)
        monkeypatch.setattr(emailcheck, "_resolver", lambda: fake)
        return fake

    return _install


def test_mx_found_no_warning(dns_on, resolver):
    fake = resolver({("empresa.com.br", "MX"): ["mx.empresa.com.br."]})
    assert email_domain_warning("ana@empresa.com.br") is None
    assert fake.queries == [("empresa.com.br", "MX")]


def test_no_mx_but_an_address_no_warning(dns_on, resolver):
    resolver({("empresa.com.br", "A"): ["203.0.113.7"]})
    assert email_domain_warning("ana@empresa.com.br") is None


def test_no_mx_no_address_warns(dns_on, resolver):
    resolver({**CANARY_OK})
    warning = email_domain_warning("ana@semcorreio.com.br")
    assert warning.startswith("O domínio semcorreio.com.br não recebe e-mails")


def test_nxdomain_warns(dns_on, resolver):
    resolver({**CANARY_OK, ("naoexiste.com.br", "MX"): dns.resolver.NXDOMAIN()})
    assert "naoexiste.com.br" in email_domain_warning("ana@naoexiste.com.br")


def test_null_mx_warns(dns_on, resolver):
    resolver({**CANARY_OK, ("nomail.com.br", "MX"): ["."]})
    assert email_domain_warning("ana@nomail.com.br") is not None


@pytest.mark.parametrize(
    "failure",
    [
        dns.exception.Timeout(),
        dns.resolver.LifetimeTimeout(timeout=2.0, errors=[]),
        dns.resolver.NoNameservers(),
        dns.resolver.NoResolverConfiguration(),
        OSError("network unreachable"),
    ],
)
def test_dns_unavailable_is_silent(dns_on, resolver, failure):
    resolver({("empresa.com.br", "MX"): failure})
    assert email_domain_warning("ana@empresa.com.br") is None


def test_resolver_that_denies_everything_is_silent(dns_on, resolver):
    """As on the development machine: every name is NXDOMAIN, gmail.com's too."""
    resolver(
        {
            ("gmail.com", "MX"): dns.resolver.NXDOMAIN(),
            ("empresa.com.br", "MX"): dns.resolver.NXDOMAIN(),
        }
    )
    assert email_domain_warning("ana@empresa.com.br") is None


def test_no_resolver_at_all_is_silent(dns_on, monkeypatch):
    def broken():
        raise dns.resolver.NoResolverConfiguration("no /etc/resolv.conf")

    monkeypatch.setattr(emailcheck, "_resolver", broken)
    assert email_domain_warning("ana@empresa.com.br") is None


def test_answers_are_cached_per_domain(dns_on, resolver):
    fake = resolver({**CANARY_OK, ("naoexiste.com.br", "MX"): dns.resolver.NXDOMAIN()})
    first = email_domain_warning("ana@naoexiste.com.br")
    asked = len(fake.queries)
    # Another address of the same domain, and the same again: no new query (negative cached).
    assert email_domain_warning("bruno@NAOEXISTE.com.br") == first.replace("ana", "bruno")
    assert email_domain_warning("ana@naoexiste.com.br") == first
    assert len(fake.queries) == asked
    fake.table[("ok.com.br", "MX")] = ["mx.ok.com.br."]
    assert email_domain_warning("ana@ok.com.br") is None
    assert email_domain_warning("ana@ok.com.br") is None
    assert fake.queries.count(("ok.com.br", "MX")) == 1


def test_slow_answers_share_one_budget(dns_on, resolver, monkeypatch):
    """MX answered "none" after the whole budget: no time is left for A/AAAA -> unknown, silent."""
    readings = [100.0, 100.0]  # the deadline, the MX query; then the budget is spent

    def monotonic():
        return readings.pop(0) if readings else 102.5

    monkeypatch.setattr(emailcheck, "time", SimpleNamespace(monotonic=monotonic))
    fake = resolver({})
    assert email_domain_warning("ana@lento.com.br") is None
    assert fake.queries == [("lento.com.br", "MX")]


def test_check_off_asks_nothing(settings, resolver):
    settings.EMAIL_MX_CHECK = False
    fake = resolver({})
    assert email_domain_warning("ana@naoexiste.com.br") is None
    assert fake.queries == []


def test_malformed_address_asks_nothing(dns_on, resolver):
    fake = resolver({})
    assert email_domain_warning("ana@") is None
    assert fake.queries == []


def test_real_resolver_has_a_short_timeout():
    resolver = emailcheck._resolver()
    assert resolver.lifetime <= 2
    assert resolver.timeout <= 2


# --- Forms ------------------------------------------------------------------------------------


class ContactForm(EmailCheckFormMixin, PortalFormMixin, forms.Form):
    email = forms.EmailField(max_length=254)

    def clean_email(self):
        return self.email_check(self.cleaned_data["email"])


def test_form_questions_a_typo_once_then_keeps_it():
    form = ContactForm({"email": "fulano@gmial.com"})
    assert not form.is_valid()
    (message,) = form.errors["email"]
    assert message.startswith("Você quis dizer fulano@gmail.com?")
    # The page sends back what it questioned: the same address again is the merchant's choice.
    hidden = form["email_confirmed"]
    assert hidden.value() == "fulano@gmial.com"
    assert 'value="fulano@gmial.com"' in str(hidden)

    again = ContactForm({"email": "fulano@gmial.com", "email_confirmed": "fulano@gmial.com"})
    assert again.is_valid(), again.errors
    assert again.cleaned_data == {"email": "fulano@gmial.com"}


def test_form_questions_a_different_typo_again():
    form = ContactForm({"email": "fulano@hotmal.com", "email_confirmed": "fulano@gmial.com"})
    assert not form.is_valid()
    assert "fulano@hotmail.com" in form.errors["email"][0]


def test_form_accepts_the_suggestion():
    form = ContactForm({"email": "fulano@gmail.com", "email_confirmed": "fulano@gmial.com"})
    assert form.is_valid()


def test_form_syntax_error_message():
    form = ContactForm({"email": "ana@maquina.local"})
    assert not form.is_valid()
    assert form.errors["email"] == ["Informe um endereço de email válido."]


@pytest.mark.parametrize("garbage", ["\x00\x01", "x" * 5000, "<script>", "ção"])
def test_form_confirmation_field_never_errors(garbage):
    form = ContactForm({"email": "ana@empresa.com.br", "email_confirmed": garbage})
    assert form.is_valid(), form.errors


def test_field_carries_the_endpoint():
    form = ContactForm()
    assert f'data-email-check="{reverse("email_suggestion")}"' in str(form["email"])


# --- Endpoint -----------------------------------------------------------------------------------


def test_endpoint_suggests(owner_client):
    response = owner_client.get(reverse("email_suggestion"), {"email": "fulano@gmial.com"})
    assert response.status_code == 200
    assert response.json() == {
        "suggestion": "fulano@gmail.com",
        "message": "Você quis dizer fulano@gmail.com?",
        "use": "Usar fulano@gmail.com",
        "warning": None,
    }


@pytest.mark.parametrize("email", ["", "fulano@empresa.com.br", "nada", "x" * 10_000, "\x00@"])
def test_endpoint_nothing_to_say(owner_client, email):
    response = owner_client.get(reverse("email_suggestion"), {"email": email})
    assert response.status_code == 200
    assert response.json()["suggestion"] is None


def test_endpoint_warns_about_the_domain(owner_client, dns_on, resolver):
    resolver({**CANARY_OK, ("naoexiste.com.br", "MX"): dns.resolver.NXDOMAIN()})
    response = owner_client.get(reverse("email_suggestion"), {"email": "ana@naoexiste.com.br"})
    assert "não recebe e-mails" in response.json()["warning"]


def test_endpoint_needs_login(client):
    response = client.get(reverse("email_suggestion"), {"email": "fulano@gmial.com"})
    assert response.status_code == 302
    assert "suggestion" not in response.content.decode()


class EditForm(ContactForm):
    def __init__(self, *args, stored, **kwargs):
        super().__init__(*args, **kwargs)
        self.email_stored_value = stored


def test_stored_address_kept_as_is_is_not_questioned():
    assert EditForm({"email": "fulano@gmial.com"}, stored="Fulano@gmial.com").is_valid()
    changed = EditForm({"email": "fulano@hotmal.com"}, stored="fulano@gmial.com")
    assert not changed.is_valid()
    assert "fulano@hotmail.com" in changed.errors["email"][0]


@pytest.mark.django_db
def test_reactivation_form_questions_a_new_typo_once(merchant):
    from schedules.forms import ReactivationForm
    from tests.factories import CustomerFactory, ScheduleFactory

    customer = CustomerFactory(merchant=merchant, email="joana@gmial.com")
    schedule = ScheduleFactory(merchant=merchant, customer=customer)

    def form(**data):
        return ReactivationForm(data, schedule=schedule, missed=[], undelivered=[])

    typo = form(email="joana@gmail.con")
    assert not typo.is_valid()
    assert typo.errors["email"][0].startswith("Você quis dizer joana@gmail.com?")
    assert 'value="joana@gmail.con"' in str(typo["email_confirmed"])
    assert form(email="joana@gmail.con", email_confirmed="joana@gmail.con").is_valid()
    assert form(email="joana@gmail.com").is_valid()
    # The stored address, kept: the service's own rules decide (must change, or confirm keeping).
    kept = form(email="joana@gmial.com")
    assert kept.is_valid()
    assert "email_confirmed" not in kept.cleaned_data
