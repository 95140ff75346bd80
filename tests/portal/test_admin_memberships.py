"""Staff editing memberships in the admin keep the portal's rule: a merchant always has an
owner."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from portal.models import Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = get_user_model().objects.create_superuser("suporte", "suporte@example.com", "x")
    client.force_login(staff)
    return client


def _change(client, membership, role):
    return client.post(
        reverse("admin:portal_membership_change", args=[membership.pk]),
        {"user": membership.user_id, "merchant": membership.merchant_id, "role": role},
    )


def test_the_last_owner_cannot_be_demoted_or_deleted(staff_client, merchant):
    only_owner = MembershipFactory(merchant=merchant, role="owner")
    response = _change(staff_client, only_owner, "member")
    assert response.status_code == 200
    assert "pelo menos um proprietário" in response.content.decode()
    only_owner.refresh_from_db()
    assert only_owner.role == "owner"

    delete_url = reverse("admin:portal_membership_delete", args=[only_owner.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Membership.objects.filter(pk=only_owner.pk).exists()


def test_an_owner_with_another_owner_can_be_demoted(staff_client, merchant):
    first = MembershipFactory(merchant=merchant, role="owner")
    MembershipFactory(merchant=merchant, role="owner")
    response = _change(staff_client, first, "member")
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.role == "member"
