"""The bank screens: Boletos tab states and filters, the dashboard's payment cards, Gerenciar
Boletos › Arquivos (remessas, retorno upload and result) and Configurações › Cobrança bancária.
Every refusal is a pt-BR message on the page; another merchant's file is a 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing import testbank
from billing.cnab.nosso_numero import file_nosso_numero
from billing.connectors import remessa_account
from billing.models import BankCollection, BankOccurrence, Boleto, Remessa, Retorno
from billing.selectors import boleto_payment_totals
from billing.services import bank_collection_get
from portal.models import MerchantChange
from portal.timezones import business_today
from tests.factories import MembershipFactory, ScheduleFactory, boleto_create

pytestmark = pytest.mark.django_db

LIST = reverse("billing:boleto_list")
FILES = reverse("billing:bank_files")
UPLOAD = reverse("billing:retorno_upload")
GENERATE = reverse("billing:remessa_generate")
COLLECTION = reverse("billing:bank_collection")

_nosso_numero = iter(range(1000, 100000))


def issued(merchant, *, due_date=None, amount="120.00", **fields) -> Boleto:
    """An issued boleto of a new schedule, with FEBRABAN numbers and its payer's snapshot."""
    schedule = ScheduleFactory(merchant=merchant)
    values = {
        "registration_status": Boleto.Registration.REGISTERED,
        "delivery_status": Boleto.DeliveryStatus.DELIVERED,
        **fields,
    }
    return boleto_create(
        merchant=merchant,
        schedule=schedule,
        sequence=1,
        due_date=due_date or business_today() + timedelta(days=10),
        amount=Decimal(amount),
        status=Boleto.Status.ISSUED,
        issued_at=timezone.now(),
        nosso_numero=next(_nosso_numero),
        barcode="3" * 44,
        linha_digitavel="3" * 47,
        payer=schedule.customer.snapshot(),
        beneficiary={},
        **values,
    )


def paid(merchant, *, paid_on, amount_paid="120.00", **fields) -> Boleto:
    return issued(
        merchant,
        payment_status=Boleto.Payment.PAID,
        amount_paid=Decimal(amount_paid),
        paid_on=paid_on,
        **fields,
    )


def payment_retorno(merchant, boleto, *, amount_paid=None, nsa=1) -> bytes:
    """The test bank's retorno (06) paying `boleto`, as the bank would send it."""
    collection = bank_collection_get(merchant=merchant)
    account = remessa_account(merchant=merchant, collection=collection)
    today = business_today()
    payment = testbank.TestBankPayment(
        nosso_numero=file_nosso_numero(
            bank_code=account.bank_code, account=account, sequence=boleto.nosso_numero
        ).strip(),
        our_id=f"PB{boleto.pk}",
        amount=boleto.amount,
        due_date=boleto.due_date,
        amount_paid=amount_paid or boleto.amount,
        paid_on=today,
        credited_on=today + timedelta(days=1),
        fee=Decimal("1.50"),
        interest_fine=Decimal("0.00"),
        discount=Decimal("0.00"),
    )
    return testbank.testbank_payment_retorno(
        account=account, titles=[payment], nsa=nsa, today=today
    )


def upload(client, data: bytes, name="retorno.ret", **extra):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)}, **extra)


def rows_of(response) -> list[int]:
    return [b.pk for b in response.context["page"].object_list]


# --- Boletos tab -----------------------------------------------------------------------------


def test_boleto_list_shows_and_filters_registration_and_payment(owner_client, merchant):
    today = business_today()
    pending = issued(merchant, registration_status=Boleto.Registration.PENDING)
    rejected = issued(
        merchant,
        registration_status=Boleto.Registration.REJECTED,
        registration_reasons=[{"code": "48", "text": "CEP inválido"}],
        due_date=today - timedelta(days=3),
    )
    open_one = issued(merchant)
    overdue = issued(merchant, due_date=today - timedelta(days=1))
    paid_one = paid(merchant, paid_on=today, amount_paid="118.00")
    written_off = issued(merchant, payment_status=Boleto.Payment.WRITTEN_OFF, written_off_on=today)
    after = issued(
        merchant,
        payment_status=Boleto.Payment.PAID_AFTER_WRITE_OFF,
        amount_paid=Decimal("120.00"),
        paid_on=today,
    )

    page = owner_client.get(LIST).content.decode()
    for text in ("Aguardando registro", "Registrado", "Rejeitado", "CEP inválido", "Em aberto"):
        assert text in page
    for text in ("Vencido", "Pago", "R$\xa0118,00", "Baixado", "Pago após baixa"):
        assert text in page

    def filtered(query):
        return set(rows_of(owner_client.get(LIST + query)))

    assert filtered("?registro=pending") == {pending.pk}
    assert filtered("?registro=rejected") == {rejected.pk}
    assert filtered("?pagamento=overdue") == {overdue.pk}  # a rejected one is not "vencido"
    assert filtered("?pagamento=open") == {pending.pk, open_one.pk}
    assert filtered("?pagamento=paid") == {paid_one.pk, after.pk}
    assert filtered("?pagamento=written_off") == {written_off.pk}
    assert filtered("?pagamento=paid_after_write_off") == {after.pk}
    assert filtered("?pagamento=open&registro=registered") == {open_one.pk}
    assert filtered(f"?pagamento=paid&pago_em={today:%Y-%m}") == {paid_one.pk, after.pk}
    last_year = f"{today.year - 1}-{today:%m}"
    assert filtered(f"?pagamento=paid&pago_em={last_year}") == set()
    # Unknown values are ignored, never a 500; the delivery filter still works with them.
    everything = filtered("")
    assert len(everything) == 7
    for junk in ("?pagamento=x", "?registro=%00", "?pago_em=2026-13", "?pago_em=abcd-ef"):
        assert filtered(junk) == everything
    assert filtered("?entrega=undelivered&pagamento=open") == set()


def test_boleto_list_pages_keep_the_filters(owner_client, merchant):
    for _ in range(51):
        issued(merchant, due_date=business_today() - timedelta(days=2))
    response = owner_client.get(LIST + "?pagamento=overdue&registro=registered")
    body = response.content.decode()
    assert 'href="?registro=registered&amp;pagamento=overdue&amp;page=2"' in body
    assert '<option value="overdue" selected>Vencido</option>' in body


# --- Dashboard -------------------------------------------------------------------------------


def test_dashboard_cards_count_open_overdue_and_paid_this_month(owner_client, merchant):
    today = business_today()
    issued(merchant, amount="100.00")
    issued(merchant, amount="50.00", registration_status=Boleto.Registration.PENDING)
    issued(merchant, amount="30.00", due_date=today - timedelta(days=1))
    issued(
        merchant,
        amount="70.00",
        due_date=today - timedelta(days=1),
        registration_status=Boleto.Registration.REJECTED,
    )
    paid(merchant, paid_on=today, amount_paid="99.90")
    paid(merchant, paid_on=today.replace(day=1) - timedelta(days=1))  # last month
    issued(merchant, payment_status=Boleto.Payment.WRITTEN_OFF)
    paid(MembershipFactory().merchant, paid_on=today)  # another merchant's

    with CaptureQueriesContext(connection) as captured:
        totals = boleto_payment_totals(merchant=merchant, today=today)
    assert len(captured) == 1
    assert (totals["open_count"], totals["open_sum"]) == (2, Decimal("150.00"))
    assert (totals["overdue_count"], totals["overdue_sum"]) == (1, Decimal("30.00"))
    assert (totals["paid_count"], totals["paid_sum"]) == (1, Decimal("99.90"))

    page = owner_client.get(reverse("dashboard")).content.decode()
    assert f'href="{LIST}?pagamento=open"' in page
    assert f'href="{LIST}?pagamento=overdue"' in page
    assert f'href="{LIST}?pagamento=paid&amp;pago_em={today:%Y-%m}"' in page
    assert "Pagos neste mês" in page and "R$\xa099,90" in page


def test_dashboard_recent_boletos_show_delivery_and_payment(owner_client, merchant):
    today = business_today()
    paid(merchant, paid_on=today, amount_paid="99.90")
    issued(merchant, amount="30.00", due_date=today - timedelta(days=1))
    page = owner_client.get(reverse("dashboard")).content.decode()
    recent = page[page.index("Boletos emitidos recentemente") :]
    assert "<th>Entrega</th>" in recent and "<th>Pagamento</th>" in recent
    assert '<span class="bank-state pay-paid">Pago</span>' in recent
    assert '<span class="bank-state pay-overdue">Vencido</span>' in recent


# --- Arquivos: remessas ----------------------------------------------------------------------


def stored_remessa(merchant, nsa=1, data=b"01REMESSA\r\n") -> Remessa:
    remessa = Remessa(
        merchant=merchant,
        nsa=nsa,
        layout="cnab240",
        bank_code="999",
        filename=f"REM{nsa:06d}_999.rem",
        sha256="0" * 64,
        titles=1,
        total_amount=Decimal("120.00"),
        trigger=Remessa.Trigger.TEST_BANK,
    )
    remessa.file.save(remessa.filename, ContentFile(data), save=False)
    remessa.save()
    return remessa


def test_remessa_download_is_the_stored_file(owner_client, merchant):
    data = bytes(range(256)) * 10 + b"\r\n"
    remessa = stored_remessa(merchant, nsa=7, data=data)
    page = owner_client.get(FILES).content.decode()
    assert "REM000007_999.rem" in page
    response = owner_client.get(reverse("billing:remessa_download", args=[remessa.pk]))
    assert response.status_code == 200
    assert response.content == data
    assert response["Content-Disposition"] == 'attachment; filename="REM000007_999.rem"'


def test_another_merchants_files_are_404(other_client, merchant):
    remessa = stored_remessa(merchant)
    boleto = issued(merchant)
    mine = Client()
    mine.force_login(MembershipFactory(merchant=merchant).user)
    response = upload(mine, payment_retorno(merchant, boleto))
    retorno = Retorno.objects.get(merchant=merchant)
    assert response.status_code == 302
    for url in (
        reverse("billing:remessa_download", args=[remessa.pk]),
        reverse("billing:retorno_detail", args=[retorno.pk]),
        reverse("billing:retorno_download", args=[retorno.pk]),
        reverse("billing:retorno_detail", args=[999999999999999999]),
        "/arquivos/retornos/9999999999999999999999/",
    ):
        assert other_client.get(url).status_code == 404, url
    assert other_client.get(FILES).context["retornos"].count() == 0


def test_generate_is_not_offered_on_the_test_bank(owner_client, merchant):
    issued(merchant, registration_status=Boleto.Registration.PENDING)
    page = owner_client.get(FILES).content.decode()
    assert "Gerar remessa agora" not in page
    assert "Banco de testes (999)" in page
    response = owner_client.post(GENERATE, follow=True)
    assert "registrado na hora" in response.content.decode()
    assert not Remessa.objects.filter(merchant=merchant).exists()


def test_generate_on_a_file_channel(owner_client, merchant):
    BankCollection.objects.filter(merchant=merchant).update(channel="cnab400")  # Itaú
    page = owner_client.get(FILES).content.decode()
    assert "Gerar remessa agora" in page
    response = owner_client.post(GENERATE, follow=True)
    assert "Nada a enviar: nenhum boleto aguardando registro" in response.content.decode()

    boleto = issued(merchant, registration_status=Boleto.Registration.PENDING)
    response = owner_client.post(GENERATE, follow=True)
    remessa = Remessa.objects.get(merchant=merchant)
    assert remessa.trigger == Remessa.Trigger.MANUAL and remessa.nsa == 1
    body = response.content.decode()
    assert remessa.filename in body and "Gerada pelo lojista" in body
    boleto.refresh_from_db()
    assert boleto.bank.registration_remessa_id == remessa.pk
    download = owner_client.get(reverse("billing:remessa_download", args=[remessa.pk]))
    with remessa.file.open("rb") as handle:
        assert download.content == handle.read()


# --- Arquivos: retornos ----------------------------------------------------------------------


def test_upload_applies_the_retorno_and_shows_the_result(owner_client, merchant):
    boleto = issued(merchant, amount="12.00")
    response = upload(owner_client, payment_retorno(merchant, boleto), name="CB0612.ret")
    retorno = Retorno.objects.get(merchant=merchant)
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:retorno_detail", args=[retorno.pk])
    page = owner_client.get(response["Location"]).content.decode()
    assert "Retorno CB0612.ret" in page
    assert "Pagos" in page and "R$\xa012,00" in page
    assert boleto.schedule.get_absolute_url() in page
    boleto.refresh_from_db()
    assert boleto.bank.payment_status == Boleto.Payment.PAID

    # The same file again: nothing applied twice, a message with a link to the result.
    again = upload(owner_client, payment_retorno(merchant, boleto), name="outro-nome.ret")
    body = again.content.decode()
    assert again.status_code == 200
    assert "Este arquivo já foi processado em" in body
    assert reverse("billing:retorno_detail", args=[retorno.pk]) in body
    assert Retorno.objects.filter(merchant=merchant).count() == 1

    # The schedule page shows the payment and the timeline says it.
    page = owner_client.get(boleto.schedule.get_absolute_url()).content.decode()
    assert "Pago" in page and "R$\xa012,00" in page
    assert "Tarifa: R$\xa01,50" in page
    assert "Pago R$\xa012,00 em" in page


def test_result_page_sections_not_found_and_caps(owner_client, merchant):
    boleto = issued(merchant)
    upload(owner_client, payment_retorno(merchant, boleto))
    retorno = Retorno.objects.get(merchant=merchant)
    BankOccurrence.objects.bulk_create(
        BankOccurrence(
            merchant=merchant,
            retorno=retorno,
            line=1000 + i,
            nosso_numero=f"9{i:08d}",
            occurrence="06",
            kind="paid",
            amount=Decimal("5.00"),
            amount_paid=Decimal("5.00"),
            outcome=BankOccurrence.Outcome.NOT_FOUND,
        )
        for i in range(105)
    )
    url = reverse("billing:retorno_detail", args=[retorno.pk])
    response = owner_client.get(url)
    sections = {s["key"]: s for s in response.context["sections"]}
    assert sections["paid"]["count"] == 1
    assert sections["not_found"]["count"] == 105
    assert len(sections["not_found"]["rows"]) == 100
    body = response.content.decode()
    assert "Mostrando 100 de 105." in body and "900000104" not in body
    full = owner_client.get(url + "?secao=not_found&page=2")
    (only,) = full.context["sections"]
    assert [row.nosso_numero for row in only["rows"]] == [f"9{i:08d}" for i in range(100, 105)]
    assert owner_client.get(url + "?secao=%00&page=x").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("ÿþ0".encode("utf-16"), "UTF-16"),
        (b"", "Escolha o arquivo de retorno."),
        (b"isto nao e um retorno\r\n", "Não foi possível ler o retorno"),
    ],
)
def test_upload_refusals_are_messages_on_the_page(owner_client, merchant, data, message):
    if data:
        response = upload(owner_client, data)
    else:
        response = owner_client.post(UPLOAD, {})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Retorno.objects.filter(merchant=merchant).exists()


def test_a_remessa_uploaded_as_a_retorno_is_refused(owner_client, merchant):
    BankCollection.objects.filter(merchant=merchant).update(channel="cnab400")
    issued(merchant, registration_status=Boleto.Registration.PENDING)
    owner_client.post(GENERATE)
    remessa = Remessa.objects.get(merchant=merchant)
    with remessa.file.open("rb") as handle:
        response = upload(owner_client, handle.read(), name=remessa.filename)
    assert response.status_code == 200
    assert "Este arquivo é uma remessa" in response.content.decode()
    assert not Retorno.objects.filter(merchant=merchant).exists()


def test_an_upload_over_the_limit_is_refused_before_being_stored(owner_client, settings):
    settings.BANK_FILE_MAX_BYTES = 1024 * 1024
    response = upload(owner_client, b"0" * (2 * 1024 * 1024))
    assert response.status_code == 200
    assert "O arquivo tem mais de 1 MB" in response.content.decode()
    assert not Retorno.objects.exists()


def test_a_50_mb_upload_is_a_message_not_a_500(owner_client):
    response = upload(owner_client, (b"9" * 239 + b"\r\n") * (50 * 1024 * 1024 // 241))
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not Retorno.objects.exists()


def test_upload_without_csrf_token_is_refused(owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert upload(strict, b"x").status_code == 403


# --- Configurações › Cobrança bancária -------------------------------------------------------


def form_data(**overrides):
    return {
        "channel": "testbank",
        "company_code": "",
        "wallet_variation": "",
        "next_nsa": "1",
        "write_off_days": "",
        "registration_alert_days": "2",
        **overrides,
    }


def errors_of(response) -> dict:
    assert response.status_code == 200
    return response.context["form"].errors


def test_settings_tab_shows_the_account_read_only(owner_client, merchant):
    page = owner_client.get(COLLECTION).content.decode()
    assert '<a href="/configuracoes/cobranca/" aria-current="page">Cobrança bancária</a>' in page
    assert "341 - Itaú Unibanco" in page and "0057" in page
    assert 'href="/configuracoes/"' in page
    assert "Banco de testes (999)" in page


def test_settings_channel_must_fit_the_bank(owner_client, merchant):
    merchant.bank_code, merchant.agreement = "033", "1234567"
    merchant.save()
    errors = errors_of(owner_client.post(COLLECTION, form_data(channel="cnab400")))
    assert errors["channel"] == [
        "CNAB 400 não está disponível para o Santander neste portal (disponível para: "
        "Banco do Brasil, Bradesco, Itaú)."
    ]
    errors = errors_of(owner_client.post(COLLECTION, form_data(channel="cnab240")))
    assert "código de transmissão" in errors["company_code"][0]
    response = owner_client.post(
        COLLECTION, form_data(channel="cnab240", company_code="123456789012345")
    )
    assert response.status_code == 302
    collection = BankCollection.objects.get(merchant=merchant)
    assert (collection.channel, collection.company_code) == ("cnab240", "123456789012345")
    change = MerchantChange.objects.get(merchant=merchant)
    assert change.changes["Cobrança bancária: canal"] == [
        "Banco de testes (999)",
        "CNAB 240 (arquivo)",
    ]


def test_settings_layout_fields(owner_client, merchant):
    merchant.bank_code = "237"
    merchant.save()
    errors = errors_of(owner_client.post(COLLECTION, form_data(channel="cnab400")))
    assert "código da empresa" in errors["company_code"][0]
    errors = errors_of(
        owner_client.post(COLLECTION, form_data(channel="cnab400", company_code="12a"))
    )
    assert errors["company_code"] == ["Use apenas números."]

    merchant.bank_code, merchant.agreement = "001", "1234567"
    merchant.save()
    errors = errors_of(owner_client.post(COLLECTION, form_data(channel="cnab240")))
    assert "variação da carteira" in errors["wallet_variation"][0]
    errors = errors_of(
        owner_client.post(COLLECTION, form_data(channel="cnab240", wallet_variation="19"))
    )
    assert errors["wallet_variation"] == ["A variação da carteira tem 3 dígitos (ex.: 019)."]
    ok = owner_client.post(COLLECTION, form_data(channel="cnab400", wallet_variation="019"))
    assert ok.status_code == 302


def test_settings_numbers(owner_client, merchant):
    stored_remessa(merchant, nsa=41)
    errors = errors_of(owner_client.post(COLLECTION, form_data(next_nsa="41")))
    assert errors["next_nsa"][0].startswith("O próximo NSA não pode ser menor que 42")
    errors = errors_of(
        owner_client.post(COLLECTION, form_data(next_nsa="42", write_off_days="121"))
    )
    assert list(errors) == ["write_off_days"]
    for junk in ("-1", "1e3", "9" * 40, "\x00", "١٢"):
        response = owner_client.post(COLLECTION, form_data(next_nsa=junk, write_off_days=junk))
        assert response.status_code == 200, junk
    assert owner_client.post(COLLECTION, form_data(channel="sicredi")).status_code == 200
    # The bank counts "dias para baixa" from 1: 0 is refused here rather than by the bank.
    errors = errors_of(owner_client.post(COLLECTION, form_data(next_nsa="42", write_off_days="0")))
    assert list(errors) == ["write_off_days"]
    response = owner_client.post(COLLECTION, form_data(next_nsa="42", write_off_days="1"))
    assert response.status_code == 302
    collection = BankCollection.objects.get(merchant=merchant)
    assert (collection.next_nsa, collection.write_off_days) == (42, 1)


def test_settings_members_read_only(client, merchant):
    member = MembershipFactory(merchant=merchant, role="member").user
    client.force_login(member)
    page = client.get(COLLECTION).content.decode()
    assert "Somente proprietários" in page and '<form method="post" novalidate>' not in page
    assert client.post(COLLECTION, form_data(channel="cnab400")).status_code == 403
    assert BankCollection.objects.get(merchant=merchant).channel == "testbank"


def test_schedule_timeline_tells_the_bank_facts(owner_client, merchant):
    from schedules.timeline import schedule_timeline

    boleto = issued(
        merchant,
        registration_status=Boleto.Registration.REJECTED,
        registration_reasons=[{"code": "48", "text": "CEP inválido"}],
    )
    retorno = Retorno.objects.create(
        merchant=merchant,
        sha256="1" * 64,
        file="bank/retornos/x.ret",
        filename="CB0101.ret",
        size=1,
        layout="cnab240",
        bank_code="999",
        source=Retorno.Source.UPLOAD,
    )
    facts = [
        ("03", "rejected", {"reasons": [{"code": "48", "text": "CEP inválido"}]}),
        ("09", "written_off", {}),
        ("06", "paid", {"amount_paid": Decimal("12.00"), "credited_on": business_today()}),
        ("06", "paid", {"outcome": BankOccurrence.Outcome.DUPLICATE}),
    ]
    for line, (code, kind, extra) in enumerate(facts, start=1):
        BankOccurrence.objects.create(
            merchant=merchant,
            retorno=retorno,
            line=line,
            boleto=boleto,
            nosso_numero=str(boleto.nosso_numero),
            occurrence=code,
            kind=kind,
            occurred_on=business_today(),
            **{"outcome": BankOccurrence.Outcome.APPLIED, **extra},
        )
    titles = [e.title for e in schedule_timeline(schedule=boleto.schedule)]
    assert "Registro rejeitado: CEP inválido" in titles
    assert "Baixado" in titles
    today = business_today().strftime("%d/%m/%Y")
    assert titles.count(f"Pago R$\xa012,00 em {today} (crédito em {today})") == 1  # not the dup
    page = owner_client.get(boleto.schedule.get_absolute_url()).content.decode()
    assert "parcela 1 · retorno CB0101.ret" in page
    assert "Rejeitado" in page and "CEP inválido" in page
