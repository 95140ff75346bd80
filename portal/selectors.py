"""Reads for the merchant's own account: settings, members, the change history."""

from django.db.models import QuerySet
from django.http import Http404

from portal.models import Invitation, Membership, Merchant, MerchantChange


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


def invitation_pending_list(*, merchant: Merchant) -> QuerySet[Invitation]:
    """The merchant's invitations not accepted yet (expired ones included), with who sent them."""
    return (
        Invitation.objects.for_merchant(merchant)
        .filter(accepted_at__isnull=True)
        .select_related("invited_by")
        .order_by("email", "id")
    )


def invitation_by_token(*, token: str) -> Invitation | None:
    """The invitation a link's token opens (accepted or expired ones too: the page says so)."""
    return (
        Invitation.objects.filter(token_hash=Invitation.hash_token(token))
        .select_related("merchant", "invited_by")
        .first()
    )


def invitation_get(*, merchant: Merchant, invitation_id: int) -> Invitation:
    """A pending invitation of this merchant, or Http404 (another merchant's id too)."""
    if merchant is None:
        raise Http404
    invitation = (
        Invitation.objects.for_merchant(merchant)
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        raise Http404
    return invitation
