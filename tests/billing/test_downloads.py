import io
import zipfile
from datetime import date

import pytest
from django.urls import reverse

from billing.models import Boleto
from billing.services import boleto_filename
from schedules.generator import installments_issue_due
from tests.factories import ScheduleFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)


def issue(merchant, n=1, **kwargs):
    schedules = [
        ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20), **kwargs)
        for _ in range(n)
    ]
    installments_issue_due(today=TODAY)
    return [Boleto.objects.get(schedule=s, sequence=1) for s in schedules]


def test_issued_boletos_carry_febraban_numbers(merchant):
    (boleto,) = issue(merchant)
    assert boleto.nosso_numero is not None
    assert len(boleto.barcode) == 44 and boleto.barcode.startswith(merchant.bank_code + "9")
    assert len(boleto.linha_digitavel) == 47
    from billing.febraban import parse

    parsed = parse(boleto.linha_digitavel, reference_date=TODAY)
    assert parsed.barcode == boleto.barcode
    assert parsed.due_date == boleto.due_date
    assert parsed.amount == boleto.amount


def test_nosso_numero_never_repeats_within_a_merchant(merchant, other_merchant):
    mine = issue(merchant, n=5)
    theirs = issue(other_merchant, n=3)
    numbers = [b.nosso_numero for b in mine]
    assert len(set(numbers)) == 5
    assert len({b.nosso_numero for b in theirs}) == 3


def test_download_pdf(owner_client, merchant):
    (boleto,) = issue(merchant)
    response = owner_client.get(reverse("billing:boleto_pdf", kwargs={"boleto_id": boleto.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    boleto.refresh_from_db()
    assert boleto.pdf.name  # stored, then reused
    again = owner_client.get(reverse("billing:boleto_pdf", kwargs={"boleto_id": boleto.pk}))
    assert again.content == response.content


def test_pdf_of_another_merchant_is_404(owner_client, other_merchant):
    (theirs,) = issue(other_merchant)
    url = reverse("billing:boleto_pdf", kwargs={"boleto_id": theirs.pk})
    assert owner_client.get(url).status_code == 404


def test_skipped_installment_has_no_pdf(owner_client, merchant):
    ScheduleFactory(merchant=merchant, first_due_date=date(2026, 1, 20))
    installments_issue_due(today=TODAY)
    skipped = Boleto.objects.filter(status="skipped").first()
    url = reverse("billing:boleto_pdf", kwargs={"boleto_id": skipped.pk})
    assert owner_client.get(url).status_code == 404


def test_zip_of_selected_boletos(owner_client, merchant):
    mine = issue(merchant, n=2)
    response = owner_client.post(
        reverse("billing:boleto_zip"), {"boleto": [mine[0].pk, mine[1].pk]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert names == sorted(boleto_filename(b) for b in mine)
    assert all(archive.read(name).startswith(b"%PDF") for name in names)


@pytest.mark.parametrize("intruder", ["theirs", "x", "9" * 30, "999999"])
def test_zip_with_an_id_not_of_this_merchant_is_refused_whole(
    owner_client, merchant, other_merchant, intruder
):
    mine = issue(merchant, n=2)
    (theirs,) = issue(other_merchant)
    value = theirs.pk if intruder == "theirs" else intruder
    response = owner_client.post(
        reverse("billing:boleto_zip"), {"boleto": [mine[0].pk, mine[1].pk, value]}
    )
    assert response.status_code == 404
    assert response["Content-Type"] != "application/zip"


def test_zip_with_nothing_selected_says_so(owner_client):
    response = owner_client.post(reverse("billing:boleto_zip"), {}, follow=True)
    assert response.status_code == 200
    assert "Selecione ao menos um boleto para baixar." in response.content.decode()


def test_boleto_list_is_scoped_and_filters_undelivered(owner_client, merchant, other_merchant):
    mine = issue(merchant, n=2)
    issue(other_merchant)
    Boleto.objects.filter(pk=mine[0].pk).update(delivery_status="undelivered")
    response = owner_client.get(reverse("billing:boleto_list"))
    assert {b.pk for b in response.context["page"].object_list} == {b.pk for b in mine}
    response = owner_client.get(reverse("billing:boleto_list") + "?entrega=undelivered")
    assert [b.pk for b in response.context["page"].object_list] == [mine[0].pk]
