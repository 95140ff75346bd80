"""Usuários: owners invite, remove and change the role of the merchant's users; the merchant always
keeps an owner; members can't do any of it; another merchant's ids are 404."""

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import services
from portal.models import Membership, MerchantChange
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
USERS = reverse("account:users")
INVITE = reverse("account:user_invite")
BASE_URL = "https://boletos.example.com"


def role_url(membership):
    return reverse("account:user_role", args=[membership.pk])


def remove_url(membership):
    return reverse("account:user_remove", args=[membership.pk])


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.PORTAL_BASE_URL = BASE_URL


@pytest.fixture
def owner_membership(merchant, owner):
    return Membership.objects.get(merchant=merchant, user=owner)


@pytest.fixture
def member_membership(merchant):
    return MembershipFactory(merchant=merchant, role="member")


@pytest.fixture
def member_client(member_membership):
    return login(member_membership.user)


def link_in(message) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, message.body
    return match.group(0)


class TestList:
    def test_lists_members_with_their_roles(self, owner_client, owner, member_membership):
        response = owner_client.get(USERS)
        assert response.status_code == 200
        body = response.content.decode()
        assert owner.email in body
        assert member_membership.user.email in body
        assert "Proprietário" in body and "Membro" in body
        assert "Convidar usuário" in body
        assert "Único proprietário" in body  # the sole owner has no remove link

    def test_member_sees_the_list_without_actions(self, member_client, owner):
        body = member_client.get(USERS).content.decode()
        assert owner.email in body
        assert "Convidar usuário" not in body
        assert "Remover" not in body

    def test_other_merchants_users_are_not_listed(self, owner_client, other_owner):
        assert other_owner.email not in owner_client.get(USERS).content.decode()

    def test_query_count_does_not_grow_with_the_number_of_members(self, owner_client, merchant):
        def count():
            with CaptureQueriesContext(connection) as queries:
                assert owner_client.get(USERS).status_code == 200
            return len(queries)

        MembershipFactory.create_batch(2, merchant=merchant, role="member")
        few = count()
        MembershipFactory.create_batch(15, merchant=merchant, role="member")
        MembershipFactory.create_batch(3, merchant=merchant, role="owner")
        assert count() == few


def invite(client, capture, email, role="member"):
    with capture(execute=True):
        return client.post(INVITE, {"email": email, "role": role}, follow=True)


def invitation_link(email) -> str:
    (message,) = [m for m in mail.outbox if m.to == [email]]
    return link_in(message).removeprefix(BASE_URL)


def shown_message(response) -> str:
    (message,) = [str(m) for m in response.context["messages"]]
    return message


class TestInvite:
    def test_invite_a_new_email_creates_nobody_until_the_link_is_used(
        self, owner_client, owner, merchant, django_capture_on_commit_callbacks
    ):
        response = invite(
            owner_client, django_capture_on_commit_callbacks, " Ana.Lima@Example.COM "
        )
        assert response.redirect_chain[-1][0] == USERS
        assert shown_message(response) == (
            "Convite enviado para ana.lima@example.com. A pessoa passa a fazer parte da conta "
            "quando aceitar o convite pelo link do e-mail."
        )
        assert not User.objects.filter(username="ana.lima@example.com").exists()
        assert Membership.objects.filter(merchant=merchant).count() == 1  # the owner only
        change = MerchantChange.objects.for_merchant(merchant).get()
        assert (change.action, change.actor, change.subject_email) == (
            "member_invited",
            owner,
            "ana.lima@example.com",
        )

        (message,) = mail.outbox
        assert message.to == ["ana.lima@example.com"]
        assert message.subject == f"Convite para a conta {merchant} no Portal de Boletos"
        assert f"{owner.email} convidou você para a conta {merchant}" in message.body
        assert "como Membro" in message.body
        assert "vale por 7 dias" in message.body
        link = link_in(message)
        assert link.startswith(f"{BASE_URL}/convites/")

        # The invitee follows the link, chooses a password: they join and are logged in.
        invitee = Client()
        page = invitee.get(link.removeprefix(BASE_URL))
        body = page.content.decode()
        assert f"Convite para a conta {merchant}" in body
        assert "Seu usuário para entrar será <strong>ana.lima@example.com</strong>" in body
        response = invitee.post(
            link.removeprefix(BASE_URL),
            {"new_password1": "boleto-forte-2026", "new_password2": "outra-coisa"},
        )
        assert "Os dois campos de senha não correspondem." in response.content.decode()
        assert not User.objects.filter(username="ana.lima@example.com").exists()
        response = invitee.post(
            link.removeprefix(BASE_URL),
            {"new_password1": "boleto-forte-2026", "new_password2": "boleto-forte-2026"},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == reverse("dashboard")
        assert response.wsgi_request.merchant == merchant
        assert f"agora você faz parte da conta {merchant}" in shown_message(response)
        user = User.objects.get(username="ana.lima@example.com")
        assert Membership.objects.get(user=user).role == "member"
        assert (
            MerchantChange.objects.for_merchant(merchant)
            .filter(action="invitation_accepted", actor=user)
            .exists()
        )

        # They log in again later with that password; the link works once.
        again = Client()
        response = again.post(
            reverse("login"),
            {"username": "ana.lima@example.com", "password": "boleto-forte-2026"},
        )
        assert response.status_code == 302
        reused = Client().get(link.removeprefix(BASE_URL)).content.decode()
        assert "Convite inválido ou expirado" in reused

    def test_pending_invitation_is_shown(self, owner_client, django_capture_on_commit_callbacks):
        invite(owner_client, django_capture_on_commit_callbacks, "novo@example.com", "owner")
        body = owner_client.get(USERS).content.decode()
        assert "novo@example.com" in body
        assert "Convite pendente" in body

    def test_the_owner_sees_the_same_whether_an_account_exists_or_not(
        self, owner_client, merchant, other_owner, django_capture_on_commit_callbacks
    ):
        UserFactory(username="inativo@example.com", email="inativo@example.com", is_active=False)
        seen = {}
        for email in ("ninguem@example.com", other_owner.email, "inativo@example.com"):
            response = invite(owner_client, django_capture_on_commit_callbacks, email)
            seen[email] = (
                response.status_code,
                tuple(response.redirect_chain),
                shown_message(response).replace(email, "EMAIL"),
            )
        assert len(set(seen.values())) == 1
        # Nobody joined; the list shows the three invitations alike.
        assert list(
            Membership.objects.filter(merchant=merchant).values_list("user", flat=True)
        ) == [Membership.objects.get(merchant=merchant).user_id]
        body = owner_client.get(USERS).content.decode()
        assert body.count("Convite pendente") == 3
        assert not User.objects.filter(email="ninguem@example.com").exists()

    def test_an_existing_user_joins_only_after_accepting_while_logged_in(
        self,
        owner_client,
        merchant,
        other_merchant,
        other_owner,
        django_capture_on_commit_callbacks,
    ):
        password_before = other_owner.password
        invite(owner_client, django_capture_on_commit_callbacks, other_owner.email.upper(), "owner")
        assert not Membership.objects.filter(user=other_owner, merchant=merchant).exists()
        link = invitation_link(other_owner.email)

        # Not logged in: asked to log in; a password posted here changes nothing.
        anonymous = Client()
        body = anonymous.get(link).content.decode()
        assert "já tem usuário no portal" in body
        assert f'href="{reverse("login")}?next={link}"' in body
        anonymous.post(link, {"new_password1": "tomada-2026!", "new_password2": "tomada-2026!"})
        other_owner.refresh_from_db()
        assert other_owner.password == password_before
        assert not Membership.objects.filter(user=other_owner, merchant=merchant).exists()

        # Logged in as that user: a button accepts.
        client = login(other_owner)
        assert client.get(reverse("dashboard")).wsgi_request.merchant == other_merchant
        page = client.get(link).content.decode()
        assert "Aceitar convite" in page
        assert not Membership.objects.filter(user=other_owner, merchant=merchant).exists()
        response = client.post(link, follow=True)
        assert response.wsgi_request.merchant == merchant  # now working in the new merchant
        roles = dict(Membership.objects.filter(user=other_owner).values_list("merchant_id", "role"))
        assert roles == {merchant.pk: "owner", other_merchant.pk: "owner"}
        other_owner.refresh_from_db()
        assert other_owner.password == password_before
        assert "Você já faz parte da conta" in client.get(link).content.decode()
        history = owner_client.get(reverse("account:settings")).content.decode()
        assert f"Convite aceito: {other_owner.email}" in history
        # And can switch back.
        client.post(reverse("account:switch"), {"merchant": other_merchant.pk})
        assert client.get(reverse("dashboard")).wsgi_request.merchant == other_merchant

    def test_someone_else_logged_in_cannot_accept(
        self, owner_client, merchant, other_owner, django_capture_on_commit_callbacks
    ):
        invite(owner_client, django_capture_on_commit_callbacks, "carla@example.com")
        link = invitation_link("carla@example.com")
        client = login(other_owner)
        page = client.get(link).content.decode()
        assert "Este convite foi enviado para <strong>carla@example.com</strong>" in page
        client.post(link)
        assert not Membership.objects.filter(user=other_owner, merchant=merchant).exists()

    def test_inviting_again_renews_the_link(
        self, owner_client, merchant, django_capture_on_commit_callbacks
    ):
        invite(owner_client, django_capture_on_commit_callbacks, "carla@example.com")
        first = invitation_link("carla@example.com")
        mail.outbox.clear()
        invite(owner_client, django_capture_on_commit_callbacks, "carla@example.com", "owner")
        second = invitation_link("carla@example.com")
        assert first != second
        assert "Convite inválido ou expirado" in Client().get(first).content.decode()
        Client().post(second, {"new_password1": "boleto-2026!x", "new_password2": "boleto-2026!x"})
        assert Membership.objects.get(merchant=merchant, user__email="carla@example.com").role == (
            "owner"
        )

    def test_an_expired_or_cancelled_invitation_does_nothing(
        self, owner_client, merchant, django_capture_on_commit_callbacks
    ):
        from datetime import timedelta

        from django.utils import timezone

        from portal.models import Invitation

        invite(owner_client, django_capture_on_commit_callbacks, "velho@example.com")
        invite(owner_client, django_capture_on_commit_callbacks, "errado@example.com")
        Invitation.objects.filter(email="velho@example.com").update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        assert "Convite expirado" in owner_client.get(USERS).content.decode()
        cancelled = Invitation.objects.get(email="errado@example.com")
        response = owner_client.post(
            reverse("account:invitation_cancel", args=[cancelled.pk]), follow=True
        )
        assert shown_message(response) == "Convite para errado@example.com cancelado."
        for email in ("velho@example.com", "errado@example.com"):
            link = invitation_link(email)
            assert "Convite inválido ou expirado" in Client().get(link).content.decode()
            Client().post(
                link, {"new_password1": "boleto-2026!x", "new_password2": "boleto-2026!x"}
            )
        assert Membership.objects.filter(merchant=merchant).count() == 1
        assert not User.objects.filter(email__in=["velho@example.com", "errado@example.com"])

    def test_another_merchants_invitation_cannot_be_cancelled(
        self, owner_client, other_merchant, other_owner, django_capture_on_commit_callbacks
    ):
        from portal.models import Invitation

        invite(login(other_owner), django_capture_on_commit_callbacks, "deles@example.com")
        theirs = Invitation.objects.get(merchant=other_merchant)
        response = owner_client.post(reverse("account:invitation_cancel", args=[theirs.pk]))
        assert response.status_code == 404
        assert Invitation.objects.filter(pk=theirs.pk).exists()

    def test_existing_member_is_refused_and_the_value_kept(self, owner_client, member_membership):
        email = member_membership.user.email
        response = owner_client.post(INVITE, {"email": email, "role": "owner"})
        assert response.status_code == 200
        assert response.context["form"].errors["email"] == ["Este usuário já faz parte da conta."]
        assert f'value="{email}"' in response.content.decode()
        member_membership.refresh_from_db()
        assert member_membership.role == "member"

    @pytest.mark.parametrize(
        ("data", "field", "message"),
        [
            ({"email": "ana@", "role": "member"}, "email", "Informe um endereço de email válido."),
            ({"email": "", "role": "member"}, "email", "Este campo é obrigatório."),
            ({"email": "ana@example.com", "role": "admin"}, "role", "Faça uma escolha válida."),
        ],
    )
    def test_bad_input(self, owner_client, data, field, message):
        response = owner_client.post(INVITE, data)
        assert response.status_code == 200
        assert any(message in e for e in response.context["form"].errors[field])
        assert not User.objects.filter(username="ana@example.com").exists()
        assert not mail.outbox

    def test_an_inactive_user_cannot_join_through_the_link(
        self, owner_client, merchant, django_capture_on_commit_callbacks
    ):
        UserFactory(username="inativo@example.com", email="inativo@example.com", is_active=False)
        invite(owner_client, django_capture_on_commit_callbacks, "inativo@example.com")
        link = invitation_link("inativo@example.com")
        Client().post(link, {"new_password1": "boleto-2026!x", "new_password2": "boleto-2026!x"})
        assert not Membership.objects.filter(user__username="inativo@example.com").exists()

    def test_members_cannot_invite(self, member_client):
        assert member_client.get(INVITE).status_code == 403
        response = member_client.post(INVITE, {"email": "x@example.com", "role": "owner"})
        assert response.status_code == 403
        assert "Acesso negado" in response.content.decode()
        assert not User.objects.filter(email="x@example.com").exists()


class TestRemove:
    def test_owner_removes_a_member_after_confirming(
        self, owner_client, owner, merchant, member_membership
    ):
        page = owner_client.get(remove_url(member_membership))
        assert page.status_code == 200
        assert f"Remover {member_membership.user.email} da conta" in page.content.decode()

        response = owner_client.post(remove_url(member_membership))
        assert response.status_code == 302
        assert not Membership.objects.filter(pk=member_membership.pk).exists()
        assert User.objects.filter(pk=member_membership.user_id).exists()
        change = MerchantChange.objects.for_merchant(merchant).get()
        assert change.action == "member_removed"
        assert change.subject_email == member_membership.user.email

        # The removed user loses access at their next request.
        removed = login(member_membership.user)
        response = removed.get(reverse("dashboard"))
        assert response.status_code == 403
        assert "não está vinculado a nenhuma conta" in response.content.decode()

    def test_the_last_owner_cannot_remove_themselves(
        self, owner_client, owner_membership, merchant
    ):
        response = owner_client.post(remove_url(owner_membership), follow=True)
        assert "A conta precisa de pelo menos um proprietário" in response.content.decode()
        assert Membership.objects.filter(pk=owner_membership.pk).exists()
        assert not MerchantChange.objects.exists()

    def test_an_owner_can_leave_when_another_owner_remains(
        self, owner_client, owner_membership, merchant
    ):
        MembershipFactory(merchant=merchant, role="owner")
        response = owner_client.post(remove_url(owner_membership))
        assert response.status_code == 302
        assert response["Location"] == reverse("dashboard")
        assert not Membership.objects.filter(pk=owner_membership.pk).exists()

    def test_members_cannot_remove(self, member_client, owner_membership):
        assert member_client.get(remove_url(owner_membership)).status_code == 403
        assert member_client.post(remove_url(owner_membership)).status_code == 403
        assert Membership.objects.filter(pk=owner_membership.pk).exists()

    def test_service_keeps_one_owner(self, merchant, owner, owner_membership):
        with pytest.raises(ValidationError) as excinfo:
            services.member_remove(
                merchant=merchant, actor=owner, membership_id=owner_membership.pk
            )
        assert excinfo.value.messages == [str(services.LAST_OWNER)]


class TestRoles:
    def test_owner_promotes_and_demotes(self, owner_client, merchant, member_membership):
        response = owner_client.post(role_url(member_membership), {"role": "owner"}, follow=True)
        member_membership.refresh_from_db()
        assert member_membership.role == "owner"
        assert "agora é proprietário" in response.content.decode()
        change = MerchantChange.objects.for_merchant(merchant).get()
        assert change.changes == {"role": ["member", "owner"]}

        owner_client.post(role_url(member_membership), {"role": "member"})
        member_membership.refresh_from_db()
        assert member_membership.role == "member"

    def test_the_last_owner_stays_owner(self, owner_client, owner_membership):
        response = owner_client.post(role_url(owner_membership), {"role": "member"}, follow=True)
        assert "A conta precisa de pelo menos um proprietário" in response.content.decode()
        owner_membership.refresh_from_db()
        assert owner_membership.role == "owner"

    def test_tampered_role_is_refused(self, owner_client, member_membership):
        response = owner_client.post(role_url(member_membership), {"role": "admin"}, follow=True)
        assert "Faça uma escolha válida" in response.content.decode()
        member_membership.refresh_from_db()
        assert member_membership.role == "member"

    def test_members_cannot_change_roles(self, member_client, member_membership):
        response = member_client.post(role_url(member_membership), {"role": "owner"})
        assert response.status_code == 403
        member_membership.refresh_from_db()
        assert member_membership.role == "member"


class TestOtherMerchant:
    def test_another_merchants_membership_is_404(self, owner_client, other_merchant, other_owner):
        theirs = Membership.objects.get(merchant=other_merchant, user=other_owner)
        victim = MembershipFactory(merchant=other_merchant, role="member")
        assert owner_client.get(remove_url(victim)).status_code == 404
        assert owner_client.post(remove_url(victim)).status_code == 404
        assert owner_client.post(role_url(theirs), {"role": "member"}).status_code == 404
        assert owner_client.post(role_url(victim), {"role": "owner"}).status_code == 404
        assert Membership.objects.filter(pk=victim.pk, role="member").exists()
        theirs.refresh_from_db()
        assert theirs.role == "owner"

    def test_huge_ids_are_404(self, owner_client):
        assert (
            owner_client.post("/configuracoes/usuarios/9999999999999999999/remover/").status_code
            == 404
        )

    def test_service_ignores_another_merchants_membership(
        self, merchant, owner, other_merchant, other_owner
    ):
        theirs = Membership.objects.get(merchant=other_merchant, user=other_owner)
        with pytest.raises(ValidationError):
            services.member_remove(merchant=merchant, actor=owner, membership_id=theirs.pk)
        assert Membership.objects.filter(pk=theirs.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_owners_removing_each_other_at_once_leave_one_owner(merchant):
    first = MembershipFactory(merchant=merchant, role="owner")
    second = MembershipFactory(merchant=merchant, role="owner")
    barrier = threading.Barrier(2)
    outcomes = []

    def remove(actor, target):
        try:
            barrier.wait()
            services.member_remove(merchant=merchant, actor=actor, membership_id=target.pk)
            outcomes.append("removed")
        except Exception as exc:  # recorded for the assert below
            outcomes.append(type(exc).__name__)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=remove, args=(first.user, second)),
        threading.Thread(target=remove, args=(second.user, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # One removal wins; the loser is no longer an owner, so the service refuses them.
    assert sorted(outcomes) == ["PermissionDenied", "removed"]
    assert Membership.objects.filter(merchant=merchant, role="owner").count() == 1
