"""Reads for the merchant's own account: settings, members, the change history."""

from django.db.models import QuerySet
from django.http import Http404

from portal.models import Membership, Merchant, MerchantChange


def merchant_get(*, merchant_id: int) -> Merchant:
    """A fresh copy of the merchant (forms and services never touch ``request.merchant``)."""
    return Merchant.objects.get(pk=merchant_id)


def membership_list(*, merchant: Merchant) -> QuerySet[Membership]:
    """Members of the merchant with their users (one query whatever the number of members)."""
    return (
        Membership.objects.filter(merchant=merchant)
        .select_related("user")
        .order_by("user__email", "user__username", "id")
    )


def membership_get(*, merchant: Merchant, membership_id: int) -> Membership:
    """A membership of this merchant, or Http404 (another merchant's id is 'not found')."""
    if merchant is None:
        raise Http404
    membership = (
        Membership.objects.filter(merchant=merchant, pk=membership_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def membership_owner_count(*, merchant: Merchant) -> int:
    return Membership.objects.filter(merchant=merchant, role=Membership.Role.OWNER).count()


def user_memberships(*, user) -> QuerySet[Membership]:
    """Every merchant a user belongs to (for switching between accounts)."""
    return (
        Membership.objects.filter(user=user)
        .select_related("merchant")
        .order_by("merchant__trade_name", "merchant__legal_name", "id")
    )


def user_membership_get(*, user, merchant_id: int) -> Membership:
    """The user's membership in a merchant, or Http404 when the user does not belong to it."""
    membership = (
        Membership.objects.filter(user=user, merchant_id=merchant_id)
        .select_related("merchant")
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def merchant_change_list(*, merchant: Merchant, limit: int = 20) -> list[MerchantChange]:
    """The most recent changes to the merchant's settings and users (newest first)."""
    return list(
        MerchantChange.objects.for_merchant(merchant).order_by("-created_at", "-id")[:limit]
    )
