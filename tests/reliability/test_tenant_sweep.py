"""Tenant isolation sweep: every URL pattern of the portal, found by walking the URL resolver
(so a new view is covered the day it is added), requested by a user of merchant B with the ids
of merchant A's objects, and by an anonymous visitor.

- B with A's ids (URL kwargs, query strings, form bodies): 404 — never 200 with A's data,
  never 500, never an answer that differs from the one for an id that does not exist (no
  existence oracle), never a change to A's data. A's identifying strings (customer names and
  emails, schedule numbers as shown, the linha digitável, ticket texts, users' emails, the
  merchant's names) never appear in a response to B.
- Anonymous: every portal URL redirects to the login page (the admin's to the admin login),
  except the public ones listed in PUBLIC.

Every URL kwarg must have values in KWARG_VALUES: a new pattern with a kwarg not listed there
fails ``test_every_url_kwarg_has_values``, so the map is extended with the new view.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from billing.cnab.nosso_numero import file_nosso_numero
from billing.connectors import remessa_account
from billing.models import Boleto, Customer, Remessa, Retorno
from billing.retornos import retorno_import
from billing.services import bank_collection_get, boleto_pdf
from billing.testbank import TestBankPayment, testbank_payment_retorno
from notifications.models import EmailEvent, MerchantAlert, OutboundEmail
from notifications.tickets import services as ticket_services
from notifications.tickets.models import SupportTicket, TicketMessage
from portal import services as portal_services
from portal.documents import format_document
from portal.models import Invitation, Membership, Merchant
from schedules import services as schedule_services
from schedules.generator import installments_issue_due
from schedules.importing.reading import read_table
from schedules.importing.services import import_batch_create, import_preview
from schedules.models import ImportBatch, Schedule, ScheduleEvent, ScheduleStatus
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, ScheduleFactory
from tests.schedules.deactivation import deactivated_by_bounce

pytestmark = pytest.mark.django_db

# --- what the sweep expects ----------------------------------------------------------------------

# Reachable without logging in (qualified URL names). Everything else must send an anonymous
# visitor to a login page.
PUBLIC = {
    "login",
    "logout",  # POST logs out (and redirects to the login page); GET is 405 (Django 5)
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",  # the token in the URL is the credential
    "password_reset_complete",
    "invitation",  # the token in the URL is the credential
    "healthz",
    "admin:login",
}
# Namespaces that are not portal pages: ESP webhooks (basic auth + signatures, tested in
# test_webhook_storms.py). Static files are served by whitenoise, outside the URLconf.
NOT_PORTAL_NAMESPACES = {"anymail"}
ADMIN_NAMESPACE = "admin"
# The admin's logout, for someone who is not staff, redirects to the admin index (which then
# redirects to the admin login): Django's AdminSite.admin_view.
ADMIN_REDIRECTS_TO_INDEX = {"admin:logout"}

# B requesting a URL with A's ids: 404, except a method the view has no handler for, which is
# 405 whatever the id (checked against a made-up id too). Listed so a new one is a decision.
METHOD_NOT_ALLOWED = {
    ("notifications:ack", "GET"),  # acknowledge an alert: POST only
    ("account:user_role", "GET"),  # change a member's role: POST only
    ("account:invitation_cancel", "GET"),  # cancel an invitation: POST only
    ("schedules:detail", "POST"),  # a page
    ("billing:boleto_pdf", "POST"),  # a download
    ("schedules:import_preview", "POST"),  # a page
    ("schedules:import_email_accept", "GET"),  # accept a suggested email: POST only
    ("schedules:import_confirm", "GET"),  # import the valid rows: POST only
    ("billing:remessa_download", "POST"),  # a download
    ("billing:retorno_detail", "POST"),  # a page
    ("billing:retorno_download", "POST"),  # a download
}

# Ids no merchant has: the control request for "same answer as for an id that does not exist".
MISSING_ID = 987_654_321_098


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or "" for an unnamed pattern
    namespace: str  # the outermost namespace ("" for the root URLconf)
    display: str  # the route as written, for messages
    kwargs: tuple[str, ...]
    chain: tuple  # the URLResolver/URLPattern objects from the root to this pattern

    @property
    def key(self) -> str:
        return self.name or self.display


def _pattern_kwargs(pattern) -> tuple[str, ...]:
    if isinstance(pattern.pattern, RoutePattern):
        return tuple(pattern.pattern.converters)
    return tuple(pattern.pattern.regex.groupindex)


def walk_urls() -> list[Route]:
    """Every URL pattern of the project, through includes, with its namespaces."""
    routes = []

    def visit(resolver: URLResolver, chain: tuple, namespaces: tuple):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                names = namespaces + ((entry.namespace,) if entry.namespace else ())
                visit(entry, (*chain, entry), names)
            elif isinstance(entry, URLPattern):
                full = (*chain, entry)
                kwargs = tuple(k for part in full for k in _pattern_kwargs(part))
                display = "".join(str(part.pattern) for part in full)
                name = ":".join((*namespaces, entry.name)) if entry.name else ""
                routes.append(
                    Route(
                        name=name,
                        namespace=namespaces[0] if namespaces else "",
                        display=display,
                        kwargs=kwargs,
                        chain=full,
                    )
                )

    visit(get_resolver(), (), ())
    return routes


_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")
_OPTIONAL_GROUP = re.compile(r"\((?:[^()])*\)\?")


def _fill(pattern, values: dict) -> str:
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RoutePattern):  # path(): <converter:name>
        converters = pattern.pattern.converters
        return _ROUTE_PARAM.sub(
            lambda m: str(converters[m["name"]].to_url(values[m["name"]])), text
        )
    # re_path(): named groups take the value; optional unnamed groups are left out.
    text = _REGEX_GROUP.sub(lambda m: str(values[m["name"]]), text)
    text = _OPTIONAL_GROUP.sub("", text)
    return text.lstrip("^").rstrip("$").replace("\\", "")


def build_url(route: Route, values: dict) -> str:
    """The URL of ``route`` with ``values``; resolving it must land on the same pattern with the
    same kwargs, or the sweep would be testing another view."""
    url = "/" + "".join(_fill(part, values) for part in route.chain)
    match = resolve(url)
    expected = {k: values[k] for k in route.kwargs}
    got = {k: match.kwargs.get(k) for k in route.kwargs}
    same_view = match.func is route.chain[-1].callback
    if not same_view or {k: str(v) for k, v in got.items()} != {
        k: str(v) for k, v in expected.items()
    }:
        pytest.fail(f"built {url!r} for {route.display!r} but it resolves to {match!r}")
    return url


# --- merchant A: one of everything ---------------------------------------------------------------


@dataclass
class TenantA:
    merchant: Merchant
    owner: object
    member: Membership
    owner_membership: Membership
    customer: Customer
    other_customer: Customer
    active: Schedule
    deactivated: Schedule
    cancelled: Schedule
    undelivered: Boleto
    pending: Boleto  # issued, PDF never rendered
    rendered: Boleto  # issued, PDF stored (cancelled schedule)
    alert: MerchantAlert
    ticket: SupportTicket
    invitation: Invitation
    import_batch: ImportBatch
    remessa: Remessa
    retorno: Retorno
    markers: list[str]

    @property
    def schedules(self):
        return [self.active, self.deactivated, self.cancelled]

    @property
    def boletos(self):
        return [self.undelivered, self.pending, self.rendered]


def build_tenant_a(client, capture) -> TenantA:
    merchant = MerchantFactory(
        legal_name="Academia Sigilo Alfa Ltda",
        trade_name="Academia Sigilo Alfa",
        alert_email="alertas.sigilo.alfa@example.com",
    )
    owner_membership = MembershipFactory(
        merchant=merchant,
        role=Membership.Role.OWNER,
        user__username="dona.sigilo.alfa",
        user__email="dona.sigilo.alfa@example.com",
    )
    owner = owner_membership.user
    member = MembershipFactory(
        merchant=merchant,
        role=Membership.Role.MEMBER,
        user__username="membro.sigilo.alfa",
        user__email="membro.sigilo.alfa@example.com",
    )
    customer = CustomerFactory(
        merchant=merchant, name="Zuleica Sigilosa Quintanilha", email="zuleica.sigilosa@example.com"
    )
    other_customer = CustomerFactory(
        merchant=merchant,
        name="Bartolomeu Reservado Pimentel",
        email="bartolomeu.reservado@example.net",
    )
    today = timezone.localdate()

    active = ScheduleFactory(
        merchant=merchant,
        customer=customer,
        number=9_310_001,
        first_due_date=today + timedelta(days=5),
        description="Mensalidade sigilosa Alfa",
    )
    installments_issue_due(today=today, schedule_id=active.pk)
    pending = Boleto.objects.get(schedule=active, sequence=1)

    # Issued, emailed (PDF stored), bounced hard through the real webhook: deactivated, alert.
    deactivated, _outbound = deactivated_by_bounce(
        client, capture, merchant=merchant, customer=other_customer, number=9_310_002
    )
    undelivered = Boleto.objects.get(schedule=deactivated, sequence=1)
    assert undelivered.delivery_status == Boleto.DeliveryStatus.UNDELIVERED
    assert undelivered.pdf

    cancelled = ScheduleFactory(
        merchant=merchant,
        customer=customer,
        number=9_310_003,
        first_due_date=today + timedelta(days=3),
    )
    installments_issue_due(today=today, schedule_id=cancelled.pk)
    rendered = Boleto.objects.get(schedule=cancelled, sequence=1)
    boleto_pdf(boleto=rendered)
    rendered.refresh_from_db()
    assert rendered.pdf
    schedule_services.schedule_cancel(schedule=cancelled, actor=owner)
    cancelled.refresh_from_db()

    ticket = ticket_services.ticket_create(
        merchant=merchant,
        actor=owner,
        subject="Pergunta sigilosa sobre a Zuleica",
        message="Primeira mensagem sigilosa do lojista Alfa",
        schedule=deactivated,
    )
    ticket_services.ticket_reply(
        ticket=ticket, actor=member.user, message="Segunda mensagem sigilosa do lojista Alfa"
    )
    alert = MerchantAlert.objects.get(schedule=deactivated, kind=MerchantAlert.Kind.DEACTIVATED)
    invitation = portal_services.member_invite(
        merchant=merchant, actor=owner, email="convidada.sigilo.alfa@example.com", role="member"
    )

    # Bank files (issue 12) and a spreadsheet import waiting for confirmation (issue 13).
    collection = bank_collection_get(merchant=merchant)
    account = remessa_account(merchant=merchant, collection=collection)
    remessa = Remessa.objects.create(
        merchant=merchant,
        nsa=9_310,
        layout="cnab240",
        bank_code="999",
        file=ContentFile(b"remessa sigilosa alfa", name="REM009310_999.rem"),
        filename="REM009310_999.rem",
        sha256="0" * 64,
        trigger=Remessa.Trigger.MANUAL,
    )
    payment = TestBankPayment(
        nosso_numero=file_nosso_numero(
            bank_code="999", account=account, sequence=pending.nosso_numero
        ),
        our_id=f"PB{pending.pk}",
        amount=pending.amount,
        due_date=pending.due_date,
        amount_paid=pending.amount,
        paid_on=today,
        credited_on=today,
        fee=Decimal("0.00"),
        interest_fine=Decimal("0.00"),
        discount=Decimal("0.00"),
    )
    retorno = retorno_import(
        merchant=merchant,
        data=testbank_payment_retorno(account=account, payments=[payment], nsa=9_310, today=today),
        filename="retorno-sigilo-alfa.ret",
        source=Retorno.Source.COMMAND,
    )
    sheet = (
        "nome;cpf_cnpj;email;telefone;endereco;bairro;cidade;uf;cep;valor;frequencia;"
        "primeiro_vencimento;antecedencia;descricao\n"
        "Hermengarda Planilha Sigilosa;529.982.247-25;hermengarda.sigilosa@example.com;;"
        "Rua Sigilo, 1;;Recife;PE;50000-000;99,90;Mensal;"
        f"{(today + timedelta(days=40)).strftime('%d/%m/%Y')};10;\n"
    ).encode()
    import_batch = import_batch_create(
        merchant=merchant,
        preview=import_preview(
            merchant=merchant,
            table=read_table(sheet, filename="sigilo.csv", max_bytes=10**6, max_rows=100),
        ),
        original_name="planilha-sigilosa-alfa.csv",
        actor=owner,
    )

    markers = [
        "Hermengarda Planilha Sigilosa",
        "planilha-sigilosa-alfa.csv",
        "retorno-sigilo-alfa.ret",
        merchant.legal_name,
        merchant.trade_name,
        merchant.alert_email,
        format_document(merchant.cnpj),
        owner.email,
        member.user.email,
        invitation.email,
        customer.name,
        customer.email,
        format_document(customer.document),
        other_customer.name,
        other_customer.email,
        active.description,
        ticket.subject,
        "Primeira mensagem sigilosa",
        "Segunda mensagem sigilosa",
        *(f"nº {s.number}" for s in (active, deactivated, cancelled)),
    ]
    for value in ("9.310.001", "9.310.002", "9.310.003"):  # should they ever be localized
        markers.append(value)
    return TenantA(
        merchant=merchant,
        owner=owner,
        member=member,
        owner_membership=owner_membership,
        customer=customer,
        other_customer=other_customer,
        active=active,
        deactivated=deactivated,
        cancelled=cancelled,
        undelivered=undelivered,
        pending=pending,
        rendered=rendered,
        alert=alert,
        ticket=ticket,
        invitation=invitation,
        import_batch=import_batch,
        remessa=remessa,
        retorno=retorno,
        markers=markers,
    )


@pytest.fixture
def tenant_a(client, django_capture_on_commit_callbacks) -> TenantA:
    data = build_tenant_a(client, django_capture_on_commit_callbacks)
    client.logout()
    return data


@pytest.fixture
def user_b(db):
    """The owner of merchant B (owner: the role that may do everything in its merchant)."""
    merchant = MerchantFactory(legal_name="Outra Loja Beta Ltda", trade_name="Loja Beta")
    return MembershipFactory(merchant=merchant, role=Membership.Role.OWNER).user


def client_for(user=None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def body_text(response) -> str:
    """The body as text (a streamed one is read once and kept)."""
    if not hasattr(response, "_sweep_text"):
        if getattr(response, "streaming", False):
            raw = b"".join(response.streaming_content)
        else:
            raw = response.content
        response._sweep_text = raw.decode("utf-8", "replace")
    return response._sweep_text


_VOLATILE = [
    re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'),
    re.compile(r'nonce="[^"]*"'),
    re.compile(r'"X-CSRFToken": ?"[^"]*"'),
    re.compile(r'<meta name="csrf-token" content="[^"]*"'),
    re.compile(r'name="form_token" value="[^"]*"'),  # a fresh one-time token per page
]


def normalized(text: str, *replace: str) -> str:
    for pattern in _VOLATILE:
        text = pattern.sub("", text)
    for value in replace:
        if len(str(value)) >= 5:  # an id B typed, echoed in a search box; never a short one
            text = text.replace(str(value), "<ID>")
    return text


def _as_list(value):
    return value if isinstance(value, list | tuple) else [value]


def absent_id(model, like: int) -> str:
    """An id with as many digits as ``like`` that no row of ``model`` has (same page length)."""
    width = len(str(like))
    taken = set(model.objects.values_list("pk", flat=True))
    for candidate in range(10**width - 1, 10 ** (width - 1) - 1, -1):
        if candidate not in taken:
            return str(candidate)
    raise AssertionError(f"no free {width}-digit id for {model.__name__}")


def leaked(text: str, markers) -> list[str]:
    return [marker for marker in markers if marker in text]


# --- values for every URL kwarg ------------------------------------------------------------------


def admin_object_id(route: Route, a: TenantA) -> list[str]:
    """For an admin URL, an object of A of the model the URL is about (or any id)."""
    parts = route.display.split("/")
    try:
        model = apps.get_model(parts[1], parts[2])
    except (LookupError, IndexError, ValueError):
        return [str(a.active.pk)]
    objects = {
        Merchant: a.merchant.pk,
        Membership: a.member.pk,
        Customer: a.customer.pk,
        Boleto: a.undelivered.pk,
        Schedule: a.deactivated.pk,
        SupportTicket: a.ticket.pk,
        MerchantAlert: a.alert.pk,
        EmailEvent: EmailEvent.objects.filter(outbound_email__merchant=a.merchant)
        .values_list("pk", flat=True)
        .first(),
        OutboundEmail: OutboundEmail.objects.filter(merchant=a.merchant)
        .values_list("pk", flat=True)
        .first(),
        apps.get_model("auth", "User"): a.owner.pk,
    }
    return [str(objects.get(model) or a.active.pk)]


# (qualified URL name or namespace, kwarg) -> A's values. The most specific key wins.
def kwarg_values(a: TenantA) -> dict:
    schedule_numbers = [s.number for s in a.schedules]
    return {
        ("schedules", "number"): schedule_numbers,
        # schedules:boleto_resend: the installment of A's schedule (Reenviar boleto).
        ("schedules", "sequence"): [1],
        ("notifications:ticket_detail", "number"): [a.ticket.number],
        ("notifications", "alert_id"): [a.alert.pk],
        ("billing", "boleto_id"): [b.pk for b in a.boletos],
        ("billing", "remessa_id"): [a.remessa.pk],
        ("billing", "customer_id"): [a.customer.pk, a.other_customer.pk],
        ("billing", "retorno_id"): [a.retorno.pk],
        ("schedules", "pk"): [a.import_batch.pk],
        ("account", "membership_id"): [a.owner_membership.pk, a.member.pk],
        ("account", "invitation_id"): [a.invitation.pk],
        # A made-up token: A's real one is only in the email (and only its digest is stored).
        ("invitation", "token"): ["convite-inexistente"],
        ("password_reset_confirm", "uidb64"): [urlsafe_base64_encode(force_bytes(a.owner.pk))],
        # Django's placeholder for a token kept in the session: without A's session, invalid.
        ("password_reset_confirm", "token"): ["set-password"],
        ("admin", "object_id"): admin_object_id,
        ("admin", "id"): [a.owner.pk],  # admin:auth_user_password_change
        ("admin", "content_type_id"): [ContentType.objects.get_for_model(Schedule).pk],
        ("admin", "app_label"): ["schedules"],
        ("admin", "url"): ["nada-aqui/"],
    }


def missing_values() -> dict:
    return {
        ("schedules", "number"): MISSING_ID,
        ("schedules", "sequence"): 1,
        ("notifications:ticket_detail", "number"): MISSING_ID,
        ("notifications", "alert_id"): MISSING_ID,
        ("billing", "boleto_id"): MISSING_ID,
        ("billing", "remessa_id"): MISSING_ID,
        ("billing", "customer_id"): MISSING_ID,
        ("billing", "retorno_id"): MISSING_ID,
        ("schedules", "pk"): MISSING_ID,
        ("account", "membership_id"): MISSING_ID,
        ("account", "invitation_id"): MISSING_ID,
    }


def lookup(table: dict, route: Route, kwarg: str):
    for key in ((route.name, kwarg), (route.namespace, kwarg)):
        if key in table:
            return table[key]
    raise KeyError((route.key, kwarg))


def value_sets(route: Route, a: TenantA) -> list[dict]:
    """Every combination to request: one per value of the first kwarg with values listed (the
    URLs here have one id each; the admin's two-kwarg view_on_site gets one combination)."""
    table = kwarg_values(a)
    per_kwarg = {}
    for kwarg in route.kwargs:
        values = lookup(table, route, kwarg)
        per_kwarg[kwarg] = values(route, a) if callable(values) else values
    count = max(len(v) for v in per_kwarg.values())
    return [{k: v[min(i, len(v) - 1)] for k, v in per_kwarg.items()} for i in range(count)]


def tenant_state(a: TenantA) -> dict:
    """What B's requests must never change (compared before and after the sweep)."""
    merchant = Merchant.objects.filter(pk=a.merchant.pk).values().get()
    merchant.pop("updated_at")
    return {
        "merchant": merchant,
        "schedules": sorted(
            Schedule.objects.for_merchant(a.merchant).values_list(
                "number", "status", "deactivation_cause", "epoch", "customer__email"
            )
        ),
        "events": ScheduleEvent.objects.filter(schedule__merchant=a.merchant).count(),
        "boletos": sorted(
            Boleto.objects.for_merchant(a.merchant).values_list("pk", "status", "delivery_status")
        ),
        "customers": sorted(Customer.objects.for_merchant(a.merchant).values_list("pk", "email")),
        "memberships": sorted(
            Membership.objects.filter(merchant=a.merchant).values_list("pk", "user_id", "role")
        ),
        "alerts": sorted(
            MerchantAlert.objects.filter(merchant=a.merchant).values_list("pk", "acknowledged_at")
        ),
        "tickets": sorted(
            SupportTicket.objects.for_merchant(a.merchant).values_list("number", "status")
        ),
        "messages": TicketMessage.objects.filter(ticket__merchant=a.merchant).count(),
        "outbound": OutboundEmail.objects.filter(merchant=a.merchant).count(),
        "remessas": sorted(Remessa.objects.for_merchant(a.merchant).values_list("pk", "nsa")),
        "retornos": sorted(
            Retorno.objects.for_merchant(a.merchant).values_list("pk", "status", "summary")
        ),
        "imports": sorted(
            ImportBatch.objects.for_merchant(a.merchant).values_list("pk", "status", "rows")
        ),
        "payments": sorted(
            Boleto.objects.for_merchant(a.merchant).values_list(
                "pk",
                "bank__registration_status",
                "bank__payment_status",
                "bank__instruction_status",
            )
        ),
    }


def portal_routes(routes):
    return [r for r in routes if r.namespace not in NOT_PORTAL_NAMESPACES]


# --- the sweep -----------------------------------------------------------------------------------


def test_the_walk_finds_every_portal_area():
    """The walk goes through includes and namespaces (a broken walk would sweep nothing)."""
    names = {route.name for route in walk_urls()}
    for expected in (
        "dashboard",
        "schedules:detail",
        "schedules:reactivate",
        "billing:boleto_pdf",
        "billing:boleto_zip",
        "notifications:ack",
        "notifications:ticket_detail",
        "account:user_remove",
        "admin:index",
        "anymail:postmark_tracking_webhook",
    ):
        assert expected in names


def test_every_url_kwarg_has_values(tenant_a):
    """A new URL with a kwarg the sweep has no value for fails here: extend kwarg_values()."""
    missing, unbuildable = [], []
    for route in portal_routes(walk_urls()):
        if not route.kwargs:
            continue
        try:
            sets = value_sets(route, tenant_a)
        except KeyError as exc:
            missing.append(f"{route.key} ({route.display}): no value for {exc.args[0][1]!r}")
            continue
        for values in sets:
            try:
                build_url(route, values)
            except Exception as exc:  # noqa: BLE001 - report every pattern at once
                unbuildable.append(f"{route.key}: {exc}")
    assert not missing, "URL kwargs without values in kwarg_values():\n" + "\n".join(missing)
    assert not unbuildable, "\n".join(unbuildable)


def test_markers_are_what_a_sees(tenant_a):
    """The strings the sweep looks for in B's responses are really on A's pages (otherwise the
    'never contains' checks below could not fail)."""
    a = tenant_a
    client = client_for(a.owner)
    seen = ""
    pages = [
        reverse("dashboard"),
        reverse("account:settings"),
        reverse("account:users"),
        reverse("billing:customer_list"),
        reverse("notifications:ticket_list"),
        a.ticket.get_absolute_url(),
        *(s.get_absolute_url() for s in a.schedules),
        reverse("schedules:list") + "?status=deactivated",
        reverse("schedules:import_preview", kwargs={"pk": a.import_batch.pk}),
        reverse("billing:bank_files"),
        reverse("billing:retorno_detail", kwargs={"retorno_id": a.retorno.pk}),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        seen += body_text(response)
    unseen = [m for m in tenant_a.markers if m not in seen and not m.startswith("9.310")]
    assert not unseen, f"markers A never sees (fix the markers): {unseen}"


def test_b_gets_404_for_every_url_with_a_ids(tenant_a, user_b):
    a = tenant_a
    before = tenant_state(a)
    problems = []
    requests = 0
    for route in portal_routes(walk_urls()):
        if not route.kwargs or route.name in PUBLIC:
            continue
        for values in value_sets(route, a):
            url = build_url(route, values)
            for method in ("GET", "POST"):
                client = client_for(user_b)
                response = getattr(client, method.lower())(url)
                requests += 1
                status, text = response.status_code, body_text(response)
                where = f"{method} {url} ({route.key})"
                if status >= 500:
                    problems.append(f"{where}: {status}")
                    continue
                if leaked(text, a.markers):
                    problems.append(f"{where}: shows A's {leaked(text, a.markers)}")
                if route.namespace == ADMIN_NAMESPACE:
                    expected = reverse("admin:login")
                    if status != 302 or not response.url.startswith(expected):
                        problems.append(f"{where}: {status}, expected a redirect to {expected}")
                    continue
                if (route.name, method) in METHOD_NOT_ALLOWED:
                    expected_status = 405
                else:
                    expected_status = 404
                if status != expected_status:
                    problems.append(f"{where}: {status}, expected {expected_status}")
                # No oracle: the answer for A's id is the answer for an id nobody has.
                control_values = {
                    k: lookup(missing_values(), route, k) if isinstance(v, int) else v
                    for k, v in values.items()
                }
                control = getattr(client_for(user_b), method.lower())(
                    build_url(route, control_values)
                )
                if control.status_code != status or normalized(
                    body_text(control), *control_values.values()
                ) != normalized(text, *values.values()):
                    problems.append(f"{where}: answers differently from a made-up id")
    assert requests > 40  # the sweep really ran over the portal's id URLs
    assert not problems, "\n".join(problems)
    assert tenant_state(a) == before


def test_b_pages_without_ids_show_nothing_of_a(tenant_a, user_b):
    """Lists, dashboard, settings, forms: B's own pages, GET and an empty POST — none shows A."""
    a = tenant_a
    before = tenant_state(a)
    problems = []
    for route in portal_routes(walk_urls()):
        if route.kwargs or route.namespace == ADMIN_NAMESPACE or route.name in PUBLIC:
            continue  # public pages: test_public_pages_show_nothing_of_a
        url = build_url(route, {})
        for method in ("GET", "POST"):
            response = getattr(client_for(user_b), method.lower())(url)
            where = f"{method} {url} ({route.key})"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
            elif leaked(body_text(response), a.markers):
                problems.append(f"{where}: shows A's {leaked(body_text(response), a.markers)}")
    assert not problems, "\n".join(problems)
    assert tenant_state(a) == before


def test_a_ids_in_query_strings_and_form_bodies(tenant_a, user_b):
    """Ids that travel outside the URL path: search boxes, CSV export filters, the ticket form's
    schedule, the new schedule's customer, the ZIP selection, the account switcher, the
    reactivation form's boletos to resend."""
    a = tenant_a
    before = tenant_state(a)
    problems = []
    number = str(a.deactivated.number)
    missing = str(MISSING_ID)[: len(number)]
    b_schedule = ScheduleFactory(
        merchant=Membership.objects.get(user=user_b).merchant, number=7_000_001
    )

    def check(method, url, data=None, *, expect, same_as=None, values=()):
        client = client_for(user_b)
        response = getattr(client, method)(url, data or {})
        text = body_text(response)
        where = f"{method.upper()} {url} {data or ''}"
        status = response.status_code
        if status >= 500 or status not in expect:
            problems.append(f"{where}: {status}, expected one of {expect}")
        # What B typed is echoed in the search box; anything else of A's is a leak.
        typed = [str(v) for value in (data or {}).values() for v in _as_list(value)]
        markers = [m for m in a.markers if not any(m in t for t in typed)]
        if leaked(text, markers):
            problems.append(f"{where}: shows A's {leaked(text, markers)}")
        if same_as is not None:
            control_url, control_data, control_values = same_as
            control = getattr(client_for(user_b), method)(control_url, control_data or {})
            if control.status_code != status or normalized(
                body_text(control), *control_values
            ) != normalized(text, *values):
                problems.append(f"{where}: answers differently from a made-up id")
        return response

    schedules_list = reverse("schedules:list")
    for status in ("active", "deactivated", "cancelled"):
        for query in (number, f"nº {number}", f"#{number}"):
            check(
                "get",
                schedules_list,
                {"status": status, "q": query},
                expect={200},
                same_as=(
                    schedules_list,
                    {"status": status, "q": query.replace(number, missing)},
                    [missing],
                ),
                values=[number],
            )
        for query in (a.customer.name, a.customer.email, a.other_customer.email, "Sigilo"):
            check("get", schedules_list, {"status": status, "q": query}, expect={200})
            response = check(
                "get",
                reverse("schedules:export"),
                {"status": status, "q": query},
                expect={200},
            )
            lines = [line for line in body_text(response).splitlines() if line.strip()]
            if len(lines) != 1:  # the header only
                problems.append(f"CSV export for B with q={query!r} has rows: {lines[1:]}")
        check(
            "get",
            reverse("schedules:list"),
            {"status": status, "q": number, "digitando": "1"},
            expect={200},
        )
    check(
        "get",
        reverse("schedules:export"),
        {"status": "deactivated", "causa": "invalid_address"},
        expect={200},
    )
    check("get", reverse("schedules:tab_counts"), {"status": "deactivated"}, expect={200})
    check("get", reverse("billing:boleto_list"), {"entrega": "undelivered"}, expect={200})

    # The ticket form: prefilled from a query string, and posted.
    ticket_create = reverse("notifications:ticket_create")
    check(
        "get",
        ticket_create,
        {"agendamento": number},
        expect={200},
        same_as=(ticket_create, {"agendamento": missing}, [missing]),
        values=[number],
    )
    response = check(
        "post",
        ticket_create,
        {"schedule": number, "subject": "Oi", "message": "Sobre este agendamento"},
        expect={200},
        same_as=(
            ticket_create,
            {"schedule": missing, "subject": "Oi", "message": "Sobre este agendamento"},
            [missing],
        ),
        values=[number],
    )
    if response.status_code == 200 and 'class="error"' not in body_text(response):
        problems.append("ticket form with A's schedule number: no error shown")

    # A new schedule for A's customer (from the customer list link, and posted).
    create = reverse("schedules:create")
    nobody = absent_id(Customer, a.customer.pk)
    check(
        "get",
        create,
        {"cliente": str(a.customer.pk)},
        expect={200},
        same_as=(create, {"cliente": nobody}, []),
    )
    form = {
        "customer_mode": "existing",
        "customer": str(a.customer.pk),
        "amount": "100,00",
        "frequency_months": "1",
        "first_due_date": (timezone.localdate() + timedelta(days=20)).isoformat(),
        "lead_days": "10",
        "form_token": str(uuid.uuid4()),
    }
    response = check(
        "post",
        create,
        form,
        expect={200},
        same_as=(create, {**form, "customer": nobody}, []),
    )
    if "Cliente não encontrado" not in body_text(response):
        problems.append("new schedule with A's customer: no 'Cliente não encontrado'")

    # The ZIP of A's boletos, one at a time and all together.
    zip_url = reverse("billing:boleto_zip")
    for boleto in a.boletos:
        check(
            "post",
            zip_url,
            {"boleto": [str(boleto.pk)]},
            expect={404},
            same_as=(zip_url, {"boleto": [str(MISSING_ID)]}, []),
        )
    check("post", zip_url, {"boleto": [str(b.pk) for b in a.boletos]}, expect={404})

    # The account switcher with A's merchant id.
    check(
        "post",
        reverse("account:switch"),
        {"merchant": str(a.merchant.pk)},
        expect={404},
        same_as=(reverse("account:switch"), {"merchant": str(MISSING_ID)}, []),
    )
    after_switch = client_for(user_b)
    after_switch.post(reverse("account:switch"), {"merchant": str(a.merchant.pk)})
    if leaked(body_text(after_switch.get(reverse("dashboard"))), a.markers):
        problems.append("after trying to switch to A, B's dashboard shows A")

    # Reactivating B's own deactivated schedule while asking to resend A's undelivered boleto.
    schedule_services.schedule_deactivate(schedule=b_schedule, cause="invalid_address")
    reactivate = reverse("schedules:reactivate", kwargs={"number": b_schedule.number})
    response = check(
        "post",
        reactivate,
        {"email": "novo.endereco@example.com", "resend": [str(a.undelivered.pk)]},
        expect={200},
    )
    b_schedule.refresh_from_db()
    if b_schedule.status != ScheduleStatus.DEACTIVATED:
        problems.append("B's reactivation with A's boleto id went through")
    if OutboundEmail.objects.filter(boleto=a.undelivered).count() != 1:
        problems.append("A's undelivered boleto was sent again by B's reactivation")

    # The alert acknowledgement with A's alert id and a 'next' pointing at A's schedule.
    check(
        "post",
        reverse("notifications:ack", kwargs={"alert_id": a.alert.pk}),
        {"next": a.deactivated.get_absolute_url()},
        expect={404},
    )

    assert not problems, "\n".join(problems)
    assert tenant_state(a) == before


def test_anonymous_is_sent_to_login_everywhere(tenant_a):
    a = tenant_a
    before = tenant_state(a)
    problems = []
    login, admin_login = reverse("login"), reverse("admin:login")
    for route in portal_routes(walk_urls()):
        if route.name in PUBLIC:
            continue
        for values in value_sets(route, a)[:1] if route.kwargs else [{}]:
            url = build_url(route, values)
            for method in ("GET", "POST"):
                response = getattr(client_for(), method.lower())(url)
                where = f"{method} {url} ({route.key})"
                status = response.status_code
                if route.name in ADMIN_REDIRECTS_TO_INDEX:
                    expected = reverse("admin:index")
                elif route.namespace == ADMIN_NAMESPACE:
                    expected = admin_login
                else:
                    expected = login
                if status != 302 or not response.url.startswith(expected):
                    problems.append(f"{where}: {status}, expected a redirect to {expected}")
                elif leaked(body_text(response), a.markers):
                    problems.append(f"{where}: shows A's {leaked(body_text(response), a.markers)}")
    assert not problems, "\n".join(problems)
    assert tenant_state(a) == before


def test_public_pages_show_nothing_of_a(tenant_a, user_b):
    """The pages that need no login (login, password reset with A's user id in the link,
    healthz) answer without a 500 and without A's data, to anonymous visitors and to B."""
    a = tenant_a
    problems = []
    for route in walk_urls():
        if route.name not in PUBLIC:
            continue
        for values in value_sets(route, a) if route.kwargs else [{}]:
            url = build_url(route, values)
            for user in (None, user_b):
                for method in ("GET", "POST"):
                    response = getattr(client_for(user), method.lower())(url)
                    where = f"{method} {url} as {'B' if user else 'anonymous'}"
                    # healthz answers 503 when the broker is down; nothing else may be 5xx.
                    allowed = 503 if route.name == "healthz" else None
                    if response.status_code >= 500 and response.status_code != allowed:
                        problems.append(f"{where}: {response.status_code}")
                    if leaked(body_text(response), a.markers):
                        problems.append(f"{where}: shows {leaked(body_text(response), a.markers)}")
    # A real reset link of A's owner opened by B's browser is the credential working as
    # designed; a made-up token for A's user is refused.
    uid = urlsafe_base64_encode(force_bytes(a.owner.pk))
    bogus = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": "abc-123"})
    response = client_for(user_b).get(bogus, follow=True)
    if a.owner.email in body_text(response) or response.status_code != 200:
        problems.append(f"reset link with a made-up token: {response.status_code}")
    assert not problems, "\n".join(problems)


# --- caching: nothing a logged-in user gets may be kept by a browser or a shared cache ----------


def cache_directives(response) -> set[str]:
    header = response.headers.get("Cache-Control", "")
    return {part.split("=", 1)[0].strip().lower() for part in header.split(",") if part.strip()}


def test_every_response_to_a_logged_in_user_is_private_no_store(tenant_a):
    """Every URL of the resolver a merchant's user can GET (pages, the PDF, the CSV export, the
    admin's redirects, errors), the ZIP download and a login: ``Cache-Control: private,
    no-store`` — a shared proxy must not keep them, nor the browser's disk (back button after
    logout, a shared computer)."""
    a = tenant_a
    problems, kinds = [], set()

    def check(where: str, response) -> None:
        kinds.add(response.headers.get("Content-Type", "").split(";")[0])
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code}")
        if not {"private", "no-store"} <= cache_directives(response):
            problems.append(f"{where}: Cache-Control {response.headers.get('Cache-Control')!r}")

    for user, role in ((a.owner, "owner"), (a.member.user, "member")):
        client = client_for(user)
        for route in walk_urls():
            if route.namespace in NOT_PORTAL_NAMESPACES:
                continue
            for values in value_sets(route, a) if route.kwargs else [{}]:
                url = build_url(route, values)
                check(f"GET {url} as {role}", client.get(url))
        for status in ("active", "deactivated", "cancelled"):
            url = reverse("schedules:export") + f"?status={status}"
            check(f"GET {url} as {role}", client.get(url))
        zip_post = client.post(reverse("billing:boleto_zip"), {"boleto": [a.rendered.pk]})
        assert zip_post.status_code == 200, zip_post
        check(f"POST zip as {role}", zip_post)
    login = Client(raise_request_exception=False)
    a.owner.set_password("senha-forte-de-teste-1")
    a.owner.save()
    check(
        "POST login",
        login.post(
            reverse("login"), {"username": a.owner.username, "password": "senha-forte-de-teste-1"}
        ),
    )
    check("GET dashboard after login", login.get(reverse("dashboard")))
    assert {"text/html", "application/pdf", "text/csv", "application/zip"} <= kinds, kinds
    assert not problems, "\n".join(problems)
