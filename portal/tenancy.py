"""Tenant scoping: the request's merchant is resolved once, and every outside id goes through it.

- ``CurrentMerchantMiddleware`` sets ``request.merchant`` once from the user's membership;
  the merchant never comes from a URL, a query string or a form field.
- ``MerchantScopedMixin`` is the base of every portal view that touches tenant data. Its
  queryset starts from ``Model.objects.for_merchant(request.merchant)``; subclasses may only
  narrow it through ``scope_queryset`` (overriding ``get_queryset`` fails at class creation), so
  an id of another merchant is simply not found and answers 404.
- ``get_for_merchant_or_404`` is the function-view equivalent.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404

from portal.models import Membership

SESSION_MERCHANT_KEY = "merchant_id"


def resolve_membership(request) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("merchant").order_by("id")
    chosen = request.session.get(SESSION_MERCHANT_KEY)
    if chosen is not None:
        for membership in memberships:
            if membership.merchant_id == chosen:
                return membership
    return memberships.first()


class CurrentMerchantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # One query for a logged-in user, none for anonymous requests (webhooks, login page).
        request.membership = resolve_membership(request)
        request.merchant = request.membership.merchant if request.membership else None
        return self.get_response(request)


def merchant_context(request):
    merchant = getattr(request, "merchant", None)
    return {"merchant": merchant}


def get_for_merchant_or_404(model, merchant, **lookup):
    """Look an outside id up inside the merchant; another merchant's object is 'not found'."""
    if merchant is None:
        raise Http404
    try:
        return model.objects.for_merchant(merchant).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


class MerchantRequiredMixin(LoginRequiredMixin):
    """Logged in, and a member of a merchant. Staff without a membership use the admin."""

    owner_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.merchant:
            raise PermissionDenied
        if self.owner_only and request.membership.role != Membership.Role.OWNER:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class MerchantScopedMixin(MerchantRequiredMixin):
    model = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); override scope_queryset() instead so "
                "the merchant filter cannot be lost."
            )

    def get_queryset(self):
        return self.scope_queryset(self.model.objects.for_merchant(self.request.merchant))

    def scope_queryset(self, queryset):
        return queryset
