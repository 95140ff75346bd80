import logging
import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView, View

from portal import selectors, services
from portal.celery import app
from portal.client_ip import client_ip
from portal.documents import format_document
from portal.forms import (
    MemberInviteForm,
    MemberRoleForm,
    MerchantLogoForm,
    MerchantSettingsForm,
    MerchantSwitchForm,
    PortalPasswordResetForm,
)
from portal.logos import LOGO_MAX_UPLOAD_BYTES
from portal.models import Membership
from portal.pix_keys import pix_key_kind
from portal.tenancy import SESSION_MERCHANT_KEY, MerchantRequiredMixin

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.exception("healthz: database check failed")
        return False


def _broker_ok() -> bool:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return True
    except Exception:
        logger.exception("healthz: broker check failed")
        return False


def healthz(request):
    """Health of the web process and of what it needs: the database and the Celery broker
    (without the broker, issued boletos would wait for the sweeper). 200 when both answer, 503
    naming the one that does not."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "error"}
    body.update({name: "ok" if ok else "error" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


# --- Configurações --------------------------------------------------------------------------


def _is_owner(request) -> bool:
    return request.membership is not None and request.membership.role == Membership.Role.OWNER


def _errors_to_form(form, exc: ValidationError) -> None:
    """A service's ValidationError next to the form's fields (the rest above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def _with_rows(changes):
    """Each change's ``[before, after]`` pairs as (label, before, after) for the history."""
    labels = {name: field.label for name, field in MerchantSettingsForm.base_fields.items()}
    labels["role"] = _("Papel")
    roles = dict(Membership.Role.choices)
    for change in changes:
        change.rows = [
            (
                labels.get(field, field),
                roles.get(before, before) if field == "role" else before,
                roles.get(after, after) if field == "role" else after,
            )
            for field, (before, after) in change.changes.items()
        ]
    return changes


class SettingsView(MerchantRequiredMixin, FormView):
    """Owners edit the merchant's settings; members see them read-only (a POST is a 403)."""

    template_name = "portal/settings.html"
    form_class = MerchantSettingsForm

    def post(self, request, *args, **kwargs):
        if not _is_owner(request):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_account(self):
        if not hasattr(self, "_account"):
            self._account = selectors.merchant_get(merchant_id=self.request.merchant.pk)
        return self._account

    def get_initial(self):
        account = self.get_account()
        initial = {field: getattr(account, field) for field in services.SETTINGS_FIELDS}
        initial["cnpj"] = format_document(account.cnpj)
        if len(account.address_zip) == 8:
            initial["address_zip"] = f"{account.address_zip[:5]}-{account.address_zip[5:]}"
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.get_account()
        context.update(
            account=account,
            account_cnpj=format_document(account.cnpj),
            pix_kind=pix_key_kind(account.pix_key),
            is_owner=_is_owner(self.request),
            logo_form=MerchantLogoForm(),
            user_memberships=list(selectors.user_memberships(user=self.request.user)),
            changes=_with_rows(selectors.merchant_change_list(merchant=self.request.merchant)),
        )
        return context

    def form_valid(self, form):
        try:
            changes = services.merchant_settings_update(
                merchant=self.request.merchant, actor=self.request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
            return self.form_invalid(form)
        if changes:
            messages.success(
                self.request,
                _(
                    "Configurações salvas. Valem para os boletos emitidos a partir de agora; "
                    "os já emitidos não mudam."
                ),
            )
        else:
            messages.info(self.request, _("Nada foi alterado."))
        return redirect("account:settings")


class LogoUpdateView(MerchantRequiredMixin, View):
    """Owners upload or remove the merchant's logo (Configurações › Dados da conta)."""

    def post(self, request):
        if not _is_owner(request):
            raise PermissionDenied
        form = MerchantLogoForm(request.POST, request.FILES)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("account:settings")
        upload = form.cleaned_data.get("logo")
        data = None
        if upload and not form.cleaned_data.get("remove"):
            # Read one byte past the limit at most: a huge upload is refused without loading it.
            data = upload.read(LOGO_MAX_UPLOAD_BYTES + 1)
        try:
            services.merchant_logo_update(merchant=request.merchant, actor=request.user, data=data)
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
            return redirect("account:settings")
        messages.success(
            request, _("Logotipo salvo.") if data is not None else _("Logotipo removido.")
        )
        return redirect("account:settings")


class LogoView(MerchantRequiredMixin, View):
    """The current merchant's logo (the portal header shows it); 404 when it has none."""

    def get(self, request):
        name = request.merchant.logo.name
        if not name or not default_storage.exists(name):
            raise Http404
        response = FileResponse(default_storage.open(name, "rb"), content_type="image/png")
        # The URL carries the stored name (?v=...), which changes with the content.
        response["Cache-Control"] = "private, max-age=86400"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class MerchantSwitchView(MerchantRequiredMixin, View):
    """Work in another merchant the user belongs to (chosen for the rest of the session)."""

    def post(self, request):
        form = MerchantSwitchForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Escolha uma conta."))
            return redirect("account:settings")
        membership = selectors.user_membership_get(
            user=request.user, merchant_id=form.cleaned_data["merchant"]
        )
        request.session[SESSION_MERCHANT_KEY] = membership.merchant_id
        messages.success(
            request, _("Agora você está na conta %(merchant)s.") % {"merchant": membership.merchant}
        )
        return redirect("dashboard")


class UserListView(MerchantRequiredMixin, TemplateView):
    template_name = "portal/users.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        memberships = list(selectors.membership_list(merchant=self.request.merchant))
        context.update(
            memberships=memberships,
            invitations=list(selectors.invitation_pending_list(merchant=self.request.merchant)),
            now=timezone.now(),
            owner_count=sum(1 for m in memberships if m.role == Membership.Role.OWNER),
            is_owner=_is_owner(self.request),
            role_choices=Membership.Role.choices,
        )
        return context


class UserInviteView(MerchantRequiredMixin, FormView):
    owner_only = True
    template_name = "portal/user_invite.html"
    form_class = MemberInviteForm

    def form_valid(self, form):
        try:
            invitation = services.member_invite(
                merchant=self.request.merchant,
                actor=self.request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
            return self.form_invalid(form)
        # The same words whether or not the address has a user in the portal.
        messages.success(
            self.request,
            _(
                "Convite enviado para %(email)s. A pessoa passa a fazer parte da conta quando "
                "aceitar o convite pelo link do e-mail."
            )
            % {"email": invitation.email},
        )
        return redirect("account:users")


class InvitationCancelView(MerchantRequiredMixin, View):
    owner_only = True

    def post(self, request, invitation_id):
        invitation = selectors.invitation_get(
            merchant=request.merchant, invitation_id=invitation_id
        )
        try:
            services.invitation_cancel(
                merchant=request.merchant, actor=request.user, invitation_id=invitation.pk
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("account:users")
        messages.success(
            request, _("Convite para %(email)s cancelado.") % {"email": invitation.email}
        )
        return redirect("account:users")


class InvitationView(TemplateView):
    """The link in an invitation email. Logged in as the invited person: a button accepts.
    Not logged in: an address whose user has a password logs in first (and comes back here);
    otherwise the person chooses a password, which creates their user and accepts."""

    template_name = "portal/invitation.html"

    def dispatch(self, request, *args, **kwargs):
        self.invitation = selectors.invitation_by_token(token=kwargs["token"])
        return super().dispatch(request, *args, **kwargs)

    def _state(self) -> str:
        invitation, user = self.invitation, self.request.user
        if invitation is None or invitation.expires_at <= timezone.now():
            return "gone"
        if invitation.accepted_at is not None:
            if user.is_authenticated and invitation.accepted_by_id == user.pk:
                return "accepted"
            return "gone"
        if user.is_authenticated:
            return "accept" if services.invitation_for_user(invitation, user) else "other_user"
        if services.invitation_has_login(invitation):
            return "login"
        return "set_password"

    def _password_form(self, data=None):
        User = get_user_model()
        email = self.invitation.email
        return SetPasswordForm(User(username=email, email=email), data)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        state = kwargs.get("state") or self._state()
        context.update(invitation=self.invitation, state=state)
        if state == "set_password":
            context.setdefault("form", self._password_form())
        return context

    def post(self, request, token):
        state = self._state()
        try:
            if state == "accept":
                membership = services.invitation_accept(token=token, user=request.user)
            elif state == "set_password":
                form = self._password_form(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(state=state, form=form))
                membership = services.invitation_accept_new_user(
                    token=token, password=form.cleaned_data["new_password1"]
                )
                auth_login(
                    request, membership.user, backend="django.contrib.auth.backends.ModelBackend"
                )
            else:
                return redirect("invitation", token=token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("invitation", token=token)
        request.session[SESSION_MERCHANT_KEY] = membership.merchant_id
        messages.success(
            request,
            _("Convite aceito: agora você faz parte da conta %(merchant)s.")
            % {"merchant": membership.merchant},
        )
        return redirect("dashboard")


class UserRoleView(MerchantRequiredMixin, View):
    owner_only = True

    def post(self, request, membership_id):
        membership = selectors.membership_get(
            merchant=request.merchant, membership_id=membership_id
        )
        form = MemberRoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["role"]))
            return redirect("account:users")
        try:
            membership = services.member_role_change(
                merchant=request.merchant,
                actor=request.user,
                membership_id=membership.pk,
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("account:users")
        messages.success(
            request,
            _("%(email)s agora é %(role)s.")
            % {"email": membership.user.email, "role": membership.get_role_display().lower()},
        )
        return redirect("account:users")


class UserRemoveView(MerchantRequiredMixin, TemplateView):
    """GET asks for confirmation; POST removes."""

    owner_only = True
    template_name = "portal/user_remove.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["membership"] = selectors.membership_get(
            merchant=self.request.merchant, membership_id=self.kwargs["membership_id"]
        )
        return context

    def post(self, request, membership_id):
        membership = selectors.membership_get(
            merchant=request.merchant, membership_id=membership_id
        )
        try:
            services.member_remove(
                merchant=request.merchant, actor=request.user, membership_id=membership.pk
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("account:users")
        messages.success(
            request,
            _("%(email)s não faz mais parte da conta.") % {"email": membership.user.email},
        )
        if membership.user_id == request.user.pk:
            return redirect("dashboard")
        return redirect("account:users")


# --- Esqueci minha senha ----------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page and form (invited users who never chose a password can use it too);
    the email itself is sent by a worker, in pt-BR, with its link on PORTAL_BASE_URL (never the
    Host header): portal.services.password_reset_send."""

    form_class = PortalPasswordResetForm

    def form_valid(self, form):
        # A worker sends the email (portal.services.password_reset_send): this request does the
        # same for every address and answers the same.
        wait = services.password_reset_request(
            email=form.cleaned_data["email"], client_address=client_ip(self.request)
        )
        if wait:
            minutes = math.ceil(wait / 60)
            return render(
                self.request,
                "registration/password_reset_throttled.html",
                {"minutes": minutes},
                status=429,
            )
        return redirect(self.get_success_url())


def login_locked_out(request, response=None, credentials=None):
    """django-axes' lockout answer: a pt-BR page (429) saying for how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)
