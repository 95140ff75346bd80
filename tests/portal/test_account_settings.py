"""Configurações: owners edit the merchant's alert email, beneficiário, bank account, Pix key and
late charges; members only read them; every change is recorded; bad input keeps what was typed.

(tests/portal/test_settings.py is about Django's settings modules.)
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from billing.models import Boleto
from portal import services
from portal.models import Merchant, MerchantChange
from portal.pix_keys import (
    PIX_CNPJ_INVALID,
    PIX_CPF_INVALID,
    PIX_EMAIL_INVALID,
    PIX_KEY_INVALID,
    PIX_PHONE_INVALID,
)
from schedules.generator import installments_issue_due
from tests.factories import MembershipFactory, ScheduleFactory, make_cnpj

pytestmark = pytest.mark.django_db

URL = reverse("account:settings")
NEW_CNPJ = make_cnpj(77_000_001)


def valid_data(**overrides) -> dict:
    data = {
        "alert_email": "financeiro@academia.example.com",
        "legal_name": "Academia Nova Forma Ltda",
        "trade_name": "Nova Forma",
        "cnpj": f"{NEW_CNPJ[:2]}.{NEW_CNPJ[2:5]}.{NEW_CNPJ[5:8]}/{NEW_CNPJ[8:12]}-{NEW_CNPJ[12:]}",
        "address_street": "Av. Paulista, 1578",
        "address_city": "São Paulo",
        "address_state": "SP",
        "address_zip": "01310-200",
        "bank_code": "341",
        "agency": "0057",
        "agency_digit": "",
        "account": "12345",
        "account_digit": "7",
        "wallet": "109",
        "agreement": "",
        "pix_key": "+55 (11) 98765-4321",
        "late_fee_percent": "2,00",
        "monthly_interest_percent": "1,50",
    }
    data.update(overrides)
    return data


@pytest.fixture
def member(merchant):
    return MembershipFactory(merchant=merchant, role="member").user


@pytest.fixture
def member_client(member):
    client = Client()
    client.force_login(member)
    return client


def field_errors(response, field):
    return response.context["form"].errors.get(field, [])


class TestOwnerEdits:
    def test_form_shows_the_current_values(self, owner_client, merchant):
        response = owner_client.get(URL)
        assert response.status_code == 200
        form = response.context["form"]
        assert form.initial["alert_email"] == merchant.alert_email
        assert form.initial["address_zip"] == "01304-001"
        body = response.content.decode()
        assert "Salvar configurações" in body
        assert merchant.legal_name in body

    def test_saves_everything_normalised_and_records_who_and_what(self, owner_client, merchant):
        old_email = merchant.alert_email
        response = owner_client.post(URL, valid_data())
        assert response.status_code == 302
        merchant.refresh_from_db()
        assert merchant.alert_email == "financeiro@academia.example.com"
        assert merchant.legal_name == "Academia Nova Forma Ltda"
        assert merchant.cnpj == NEW_CNPJ
        assert merchant.address_zip == "01310200"
        assert merchant.pix_key == "+5511987654321"
        assert merchant.late_fee_percent == Decimal("2.00")
        assert merchant.monthly_interest_percent == Decimal("1.50")

        change = MerchantChange.objects.for_merchant(merchant).get()
        owner = response.wsgi_request.user
        assert change.actor == owner
        assert change.actor_email == owner.email
        assert change.action == MerchantChange.Action.SETTINGS_UPDATED
        assert change.changes["alert_email"] == [old_email, "financeiro@academia.example.com"]
        assert change.changes["monthly_interest_percent"] == ["0.00", "1.50"]
        assert "account" not in change.changes  # unchanged fields are not recorded

        page = owner_client.get(URL).content.decode()
        assert "Histórico de alterações" in page
        assert "Configurações alteradas" in page
        assert "Juros ao mês (%)" in page

    def test_success_message_says_only_new_boletos_change(self, owner_client):
        response = owner_client.post(URL, valid_data(), follow=True)
        assert "Valem para os boletos emitidos a partir de agora" in response.content.decode()

    def test_saving_the_same_values_records_nothing(self, owner_client, merchant):
        owner_client.post(URL, valid_data())
        response = owner_client.post(URL, valid_data(), follow=True)
        assert "Nada foi alterado." in response.content.decode()
        assert MerchantChange.objects.for_merchant(merchant).count() == 1

    def test_counters_on_the_merchant_row_are_never_overwritten(self, merchant, owner):
        stale = Merchant.objects.get(pk=merchant.pk)
        # Meanwhile, schedules were numbered under the row's lock.
        Merchant.objects.filter(pk=merchant.pk).update(next_schedule_number=500)
        services.merchant_settings_update(
            merchant=stale, actor=owner, data={"legal_name": "Outro Nome Ltda"}
        )
        merchant.refresh_from_db()
        assert merchant.legal_name == "Outro Nome Ltda"
        assert merchant.next_schedule_number == 500

    def test_issued_boletos_keep_their_snapshot_new_ones_use_the_new_data(self, merchant, owner):
        schedule = ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20))
        installments_issue_due(today=date(2026, 3, 10), schedule_id=schedule.pk)
        first = Boleto.objects.get(schedule=schedule, sequence=1)
        old_name = merchant.legal_name

        services.merchant_settings_update(
            merchant=merchant,
            actor=owner,
            data={"legal_name": "Razão Nova Ltda", "pix_key": "financeiro@example.com"},
        )
        installments_issue_due(today=date(2026, 4, 10), schedule_id=schedule.pk)

        first.refresh_from_db()
        second = Boleto.objects.get(schedule=schedule, sequence=2)
        assert first.beneficiary["legal_name"] == old_name
        assert first.beneficiary["pix_key"] == ""
        assert second.beneficiary["legal_name"] == "Razão Nova Ltda"
        assert second.beneficiary["pix_key"] == "financeiro@example.com"


class TestMembersOnlyRead:
    def test_member_sees_the_settings_read_only(self, member_client, merchant):
        response = member_client.get(URL)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Somente proprietários da conta podem alterar estes dados." in body
        assert merchant.alert_email in body
        assert "Salvar configurações" not in body
        assert '<form method="post" novalidate>' not in body

    def test_member_post_is_refused_with_a_portuguese_page(self, member_client, merchant):
        before = Merchant.objects.get(pk=merchant.pk)
        response = member_client.post(URL, valid_data())
        assert response.status_code == 403
        assert "Acesso negado" in response.content.decode()
        merchant.refresh_from_db()
        assert merchant.legal_name == before.legal_name
        assert not MerchantChange.objects.exists()

    def test_the_service_refuses_a_member_too(self, merchant, member):
        with pytest.raises(PermissionDenied):
            services.merchant_settings_update(
                merchant=merchant, actor=member, data={"legal_name": "X"}
            )

    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_nav_links_to_settings_for_every_member(self, member_client):
        body = member_client.get(reverse("dashboard")).content.decode()
        assert f'href="{URL}"' in body


class TestBadInput:
    def assert_refused(self, response, merchant, field, message):
        assert response.status_code == 200
        errors = field_errors(response, field)
        assert any(message in str(e) for e in errors), errors
        merchant_now = Merchant.objects.get(pk=merchant.pk)
        assert merchant_now.legal_name == merchant.legal_name  # nothing half-saved
        assert merchant_now.alert_email == merchant.alert_email
        assert not MerchantChange.objects.exists()

    def test_bad_cnpj_keeps_what_was_typed(self, owner_client, merchant):
        response = owner_client.post(URL, valid_data(cnpj="11.222.333/0001-00"))
        self.assert_refused(response, merchant, "cnpj", "CNPJ inválido")
        body = response.content.decode()
        assert 'value="11.222.333/0001-00"' in body
        assert 'value="Academia Nova Forma Ltda"' in body
        assert 'id="id_cnpj-error"' in body  # the message sits next to its field

    def test_cnpj_of_another_merchant_is_refused(self, owner_client, merchant, other_merchant):
        response = owner_client.post(URL, valid_data(cnpj=other_merchant.cnpj))
        self.assert_refused(response, merchant, "cnpj", "já existe")

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"agency": "00a7"}, "agency", "Use apenas números."),
            ({"account": "123456"}, "account", "mais de 5 dígitos"),
            ({"wallet": "198"}, "wallet", "layout especial"),
            ({"account_digit": "3"}, "account_digit", "o dígito da conta é 7"),
            ({"account_digit": "37"}, "account_digit", "Um dígito ou letra."),
            ({"bank_code": "001", "agreement": ""}, "agreement", "Informe o convênio"),
            (
                {"bank_code": "001", "agreement": "12345", "wallet": "17"},
                "agreement",
                "4, 6, 7 ou 8",
            ),
            (
                {"bank_code": "033", "agreement": "12345678", "wallet": "101"},
                "agreement",
                "mais de 7",
            ),
            ({"bank_code": "237", "wallet": "109"}, "wallet", "mais de 2 dígitos"),
            ({"bank_code": "104"}, "bank_code", "Faça uma escolha válida"),
            ({"address_zip": "0131"}, "address_zip", "CEP deve ter 8 dígitos."),
            ({"address_state": "XX"}, "address_state", "Faça uma escolha válida"),
            ({"alert_email": "financeiro@"}, "alert_email", "endereço de email válido"),
            ({"legal_name": ""}, "legal_name", "Este campo é obrigatório."),
            ({"late_fee_percent": "-1"}, "late_fee_percent", "percentual de 0 a 100"),
            ({"monthly_interest_percent": "abc"}, "monthly_interest_percent", "percentual de 0 a"),
        ],
    )
    def test_bad_bank_and_other_data(self, owner_client, merchant, overrides, field, message):
        response = owner_client.post(URL, valid_data(**overrides))
        self.assert_refused(response, merchant, field, message)
        for value in overrides.values():
            if value and field not in ("bank_code", "address_state"):
                assert f'value="{value}"' in response.content.decode()

    def test_every_error_shows_at_once(self, owner_client, merchant):
        response = owner_client.post(
            URL, valid_data(cnpj="11.222.333/0001-00", pix_key="+55 11 3456-7890", wallet="198")
        )
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"cnpj", "pix_key", "wallet"}
        assert not MerchantChange.objects.exists()

    def test_valid_accounts_of_each_bank(self, owner_client, merchant):
        for overrides in (
            {"bank_code": "001", "agreement": "1234567", "wallet": "17", "account_digit": ""},
            {"bank_code": "033", "agreement": "1234567", "wallet": "101", "account_digit": ""},
            {"bank_code": "237", "agency": "1234", "account": "0012345", "wallet": "09"},
        ):
            response = owner_client.post(URL, valid_data(**overrides))
            assert response.status_code == 302, response.context["form"].errors
            merchant.refresh_from_db()
            assert merchant.bank_code == overrides["bank_code"]

    @pytest.mark.parametrize(
        ("typed", "message"),
        [
            ("123.456.789-00", PIX_CPF_INVALID),
            ("11.222.333/0001-00", PIX_CNPJ_INVALID),
            ("financeiro@", PIX_EMAIL_INVALID),
            ("ação@exemplo.com.br", PIX_EMAIL_INVALID),
            ("+55 11 3456-7890", PIX_PHONE_INVALID),  # a landline is not a Pix key
            ("+1 415 555 0100", PIX_PHONE_INVALID),
            ("123e4567-e89b-12d3-a456-42661417400", PIX_KEY_INVALID),
            ("minha chave", PIX_KEY_INVALID),
        ],
    )
    def test_bad_pix_key(self, owner_client, merchant, typed, message):
        response = owner_client.post(URL, valid_data(pix_key=typed))
        self.assert_refused(response, merchant, "pix_key", str(message))
        assert f'value="{typed}"' in response.content.decode()

    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("529.982.247-25", "52998224725"),
            ("11.222.333/0001-81", "11222333000181"),
            ("12.ABC.345/01DE-35", "12ABC34501DE35"),
            ("Financeiro@Academia.COM.br", "financeiro@academia.com.br"),
            ("+55 21 99876-5432", "+5521998765432"),
            ("123E4567-E89B-12D3-A456-426614174000", "123e4567-e89b-12d3-a456-426614174000"),
            ("", ""),
        ],
    )
    def test_pix_keys_are_stored_as_the_dict_holds_them(
        self, owner_client, merchant, typed, stored
    ):
        assert owner_client.post(URL, valid_data(pix_key=typed)).status_code == 302
        merchant.refresh_from_db()
        assert merchant.pix_key == stored

    def test_service_refuses_bad_pix_key_and_writes_nothing(self, merchant, owner):
        with pytest.raises(Exception) as excinfo:
            services.merchant_settings_update(
                merchant=merchant, actor=owner, data={"legal_name": "Y Ltda", "pix_key": "x y"}
            )
        assert excinfo.value.message_dict["pix_key"] == [str(PIX_KEY_INVALID)]
        merchant.refresh_from_db()
        assert merchant.legal_name != "Y Ltda"


class TestSeveralMerchants:
    def test_other_merchant_sees_only_its_own_settings(self, merchant, other_merchant, other_owner):
        client = Client()
        client.force_login(other_owner)
        body = client.get(URL).content.decode()
        assert other_merchant.alert_email in body
        assert merchant.alert_email not in body
        client.post(URL, valid_data())
        merchant.refresh_from_db()
        other_merchant.refresh_from_db()
        assert other_merchant.legal_name == "Academia Nova Forma Ltda"
        assert merchant.legal_name != "Academia Nova Forma Ltda"

    def test_a_user_in_two_merchants_switches_between_them(
        self, owner_client, owner, merchant, other_merchant
    ):
        MembershipFactory(user=owner, merchant=other_merchant, role="member")
        body = owner_client.get(URL).content.decode()
        assert "Suas contas" in body
        response = owner_client.post(reverse("account:switch"), {"merchant": other_merchant.pk})
        assert response.status_code == 302
        response = owner_client.get(URL)
        assert response.context["account"] == other_merchant
        assert response.context["is_owner"] is False  # a member there
        assert owner_client.post(URL, valid_data()).status_code == 403

    def test_switching_to_a_merchant_the_user_does_not_belong_to_is_404(
        self, owner_client, other_merchant
    ):
        response = owner_client.post(reverse("account:switch"), {"merchant": other_merchant.pk})
        assert response.status_code == 404
        assert owner_client.post(reverse("account:switch"), {"merchant": "x"}).status_code == 302
