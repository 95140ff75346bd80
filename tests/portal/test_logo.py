"""The merchant's logo (issue 13 item 6): uploaded in Configurações, checked and re-encoded,
shown in the portal header, embedded in boleto emails and printed on the recibo do pagador."""

import io
from datetime import date

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from billing.models import Boleto
from billing.pdf import render_boleto_pdf
from notifications.sending import boleto_send
from portal import services
from portal.logos import LOGO_BOX, LogoError, logo_normalize
from portal.models import MerchantChange
from schedules.generator import installments_issue_due
from tests.factories import MembershipFactory, ScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str = "PNG", size=(1200, 300), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (11, 92, 173) if mode == "RGB" else 1).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_images_are_reencoded_as_small_pngs(fmt):
    png = logo_normalize(image_bytes(fmt))
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as stored:
        assert stored.format == "PNG"
        assert stored.width <= LOGO_BOX[0] and stored.height <= LOGO_BOX[1]
        assert stored.width / stored.height == pytest.approx(4, rel=0.02)  # aspect kept


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Escolha um arquivo"),
        (b"GIF89a not really an image at all", "não é uma imagem válida"),
        (b"%PDF-1.7\n" + b"0" * 500, "não é uma imagem válida"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "não é"),
        (image_bytes("PNG")[:60], "não é uma imagem válida"),  # truncated
        (image_bytes("TIFF", size=(20, 20)), "Formato de imagem não aceito"),
        (b"\x89PNG" + b"\0" * (2 * 1024 * 1024 + 10), "no máximo 2 MB"),
        (image_bytes("PNG", size=(6000, 6000), mode="1"), "grande demais"),
    ],
)
def test_what_is_not_a_usable_image_is_refused_in_portuguese(data, message):
    with pytest.raises(LogoError, match=message):
        logo_normalize(data)


def test_owner_uploads_sees_it_in_the_header_and_the_change_is_recorded(owner_client, merchant):
    upload = io.BytesIO(image_bytes("JPEG"))
    upload.name = "logo.jpg"
    response = owner_client.post(reverse("account:logo_update"), {"logo": upload})
    assert response.status_code == 302
    merchant.refresh_from_db()
    assert merchant.logo.name.startswith(f"logos/{merchant.pk}-")
    change = MerchantChange.objects.for_merchant(merchant).get()
    assert change.changes == {"logo": [None, merchant.logo.name]}

    page = owner_client.get(reverse("dashboard")).content.decode()
    assert 'class="brand-logo"' in page and reverse("account:logo") in page
    logo = owner_client.get(reverse("account:logo"))
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content).startswith(b"\x89PNG")

    owner_client.post(reverse("account:logo_update"), {"remove": "on"})
    merchant.refresh_from_db()
    assert merchant.logo.name == ""
    assert owner_client.get(reverse("account:logo")).status_code == 404


def test_a_file_that_is_not_an_image_gets_a_message_not_a_500(owner_client, merchant):
    upload = io.BytesIO(b"MZ\x90\x00 this is an executable pretending")
    upload.name = "logo.png"
    response = owner_client.post(reverse("account:logo_update"), {"logo": upload}, follow=True)
    assert response.status_code == 200
    assert "não é uma imagem válida" in response.content.decode()
    merchant.refresh_from_db()
    assert merchant.logo.name == ""
    assert not MerchantChange.objects.for_merchant(merchant).exists()


def test_members_cannot_change_the_logo(client, merchant):
    member = UserFactory()
    MembershipFactory(user=member, merchant=merchant, role="member")
    client.force_login(member)
    upload = io.BytesIO(image_bytes())
    upload.name = "logo.png"
    assert client.post(reverse("account:logo_update"), {"logo": upload}).status_code == 403


def _issued_boleto(merchant) -> Boleto:
    schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
    installments_issue_due(today=date(2026, 3, 10))
    return Boleto.objects.get(schedule=schedule)


def _images_on_first_page(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages[0].images)


@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend")
def test_boletos_issued_after_an_upload_carry_the_logo_in_pdf_and_email(owner, merchant):
    before = _issued_boleto(merchant)
    services.merchant_logo_update(merchant=merchant, actor=owner, data=image_bytes())
    merchant.refresh_from_db()
    after = _issued_boleto(merchant)

    assert before.beneficiary["logo"] == ""
    assert after.beneficiary["logo"] == merchant.logo.name
    # The recibo do pagador prints it: one image more than the same boleto without a logo.
    assert _images_on_first_page(render_boleto_pdf(after)) == (
        _images_on_first_page(render_boleto_pdf(before)) + 1
    )

    Boleto.objects.filter(pk=after.pk).update(delivery_status="queued")
    boleto_send(merchant_id=after.merchant_id, boleto_id=after.pk)
    message = mail.outbox[-1]
    html = message.alternatives[0][0]
    inline = [a for a in message.attachments if not isinstance(a, tuple)]
    assert len(inline) == 1 and inline[0].get_content_type() == "image/png"
    cid = inline[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert "O boleto em PDF está anexado" in message.body  # the text part is kept

    # A later logo change does not touch boletos already issued (their snapshot names the file).
    first_logo = merchant.logo.name
    services.merchant_logo_update(merchant=merchant, actor=owner, data=image_bytes(size=(900, 300)))
    merchant.refresh_from_db()
    after.refresh_from_db()
    assert merchant.logo.name != first_logo
    assert after.beneficiary["logo"] == first_logo
