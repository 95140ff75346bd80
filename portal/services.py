"""Writes for the merchant's own account: settings, members and their roles, invitations.

Every write here runs in one transaction that first locks the merchant's row, re-checks that the
acting user is an owner, validates everything, and only then saves and records a MerchantChange:
nothing is half-saved, and two owners acting at once are serialized (which is what keeps "the
merchant always has at least one owner" true).

Settings changes only reach boletos issued afterwards: each issued boleto keeps its own snapshot
of the beneficiário (schedules.generator.beneficiary_snapshot).
"""

import logging
import secrets
import unicodedata
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal.documents import normalize_document
from portal.logos import LogoError, logo_name, logo_normalize
from portal.models import Invitation, Membership, Merchant, MerchantChange
from portal.pix_keys import normalize_pix_key
from portal.queue import enqueue_on_commit
from portal.ratelimit import rate_limit_hit, rate_limit_prune
from portal.signals import merchant_account_errors
from portal.text import header_text

logger = logging.getLogger(__name__)

#: Fields an owner edits in Configurações (everything else on Merchant is internal).
SETTINGS_FIELDS = (
    "alert_email",
    "legal_name",
    "trade_name",
    "cnpj",
    "address_street",
    "address_city",
    "address_state",
    "address_zip",
    "bank_code",
    "agency",
    "agency_digit",
    "account",
    "account_digit",
    "wallet",
    "agreement",
    "pix_key",
    "late_fee_percent",
    "monthly_interest_percent",
)

NOT_OWNER = _("Somente proprietários podem alterar as configurações e os usuários da conta.")
LAST_OWNER = _(
    "A conta precisa de pelo menos um proprietário. Torne outro usuário proprietário antes de "
    "remover ou rebaixar este."
)
ALREADY_MEMBER = _("Este usuário já faz parte da conta.")
MEMBER_GONE = _("Este usuário já não faz parte da conta.")
USER_INACTIVE = _("Este usuário está desativado. Fale com o suporte.")
EMAIL_AMBIGUOUS = _("Há mais de um usuário com este e-mail. Fale com o suporte.")
INVITATION_NOT_PENDING = _("Este convite já não está pendente.")
INVITATION_GONE = _(
    "Este convite não vale mais: já foi usado, foi cancelado, expirou ou foi substituído por "
    "um convite mais recente. Peça um novo convite a um proprietário da conta."
)
INVITATION_OTHER_USER = _(
    "Este convite foi enviado para %(email)s. Saia e entre com o usuário desse e-mail para "
    "aceitá-lo."
)
INVITATION_LOGIN_REQUIRED = _(
    "Este e-mail já tem usuário no portal: entre com ele para aceitar o convite."
)
ROLE_INVALID = _("Escolha um papel válido.")
ACCOUNT_FIELDS = (
    "bank_code",
    "agency",
    "agency_digit",
    "account",
    "account_digit",
    "wallet",
    "agreement",
)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _lock_merchant(merchant_id: int) -> Merchant:
    return Merchant.objects.select_for_update().get(pk=merchant_id)


def _require_owner(*, merchant: Merchant, actor) -> None:
    if not Membership.objects.filter(
        merchant=merchant, user_id=actor.pk, role=Membership.Role.OWNER
    ).exists():
        raise PermissionDenied(NOT_OWNER)


def _owner_count(merchant: Merchant) -> int:
    return Membership.objects.filter(merchant=merchant, role=Membership.Role.OWNER).count()


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _record(
    *, merchant: Merchant, actor, action: str, subject_email: str = "", changes: dict
) -> MerchantChange:
    return MerchantChange.objects.create(
        merchant=merchant,
        actor=actor,
        actor_email=actor.email or actor.get_username(),
        action=action,
        subject_email=subject_email,
        changes=changes,
    )


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def merchant_logo_update(*, merchant: Merchant, actor, data: bytes | None) -> str:
    """Set (``data``: the uploaded bytes) or remove (``None``) the merchant's logo; returns the
    stored name ("" when removed). The upload is re-encoded by portal.logos; a file that is not
    an image raises ValidationError({"logo": [...]}) and changes nothing. Stored files are never
    deleted: boletos issued with a logo keep printing it (their snapshot names the file)."""
    png = None
    if data is not None:
        try:
            png = logo_normalize(data)
        except LogoError as exc:
            raise ValidationError({"logo": [str(exc)]}) from exc
    with transaction.atomic():
        locked = _lock_merchant(merchant.pk)
        _require_owner(merchant=locked, actor=actor)
        before = locked.logo.name or ""
        after = ""
        if png is not None:
            after = logo_name(png, merchant_id=locked.pk)
            if not default_storage.exists(after):
                after = default_storage.save(after, ContentFile(png))
        if before == after:
            return after
        locked.logo.name = after
        locked.save(update_fields=["logo", "updated_at"])
        _record(
            merchant=locked,
            actor=actor,
            action=MerchantChange.Action.SETTINGS_UPDATED,
            changes={"logo": [before or None, after or None]},
        )
    return after


def merchant_settings_update(*, merchant: Merchant, actor, data: dict) -> dict[str, list]:
    """Apply an owner's edit of the merchant's settings; returns ``{field: [before, after]}``.

    ``data`` holds some of SETTINGS_FIELDS. The row is re-read under lock and only the edited
    fields are written, so the counters kept on the same row (schedule number, nosso número)
    are never overwritten with a stale value. Raises ValidationError (a dict keyed by field,
    pt-BR messages) and writes nothing when anything is invalid; PermissionDenied when the
    actor is not an owner.
    """
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not a settings field: {sorted(unknown)}")
    with transaction.atomic():
        locked = _lock_merchant(merchant.pk)
        _require_owner(merchant=locked, actor=actor)
        before = {field: getattr(locked, field) for field in data}
        for field, value in data.items():
            setattr(locked, field, value)

        if "cnpj" in data:
            locked.cnpj = normalize_document(locked.cnpj)  # before the uniqueness check

        errors: dict[str, list] = {}
        if "pix_key" in data:
            try:
                locked.pix_key = normalize_pix_key(locked.pix_key)
            except ValidationError as exc:
                errors["pix_key"] = exc.messages
        try:
            locked.full_clean(exclude=list(errors))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if set(ACCOUNT_FIELDS) & errors.keys():
            # Merchant.clean's message repeats what the field errors already say.
            errors.pop(NON_FIELD_ERRORS, None)
        else:
            problems = merchant_account_errors(locked.account_snapshot())
            if problems:
                errors.pop(NON_FIELD_ERRORS, None)
                for field, message in problems.items():
                    errors.setdefault(field, []).append(message)
        if errors:
            raise ValidationError(errors)

        changes = {
            field: [_as_text(before[field]), _as_text(getattr(locked, field))]
            for field in data
            if before[field] != getattr(locked, field)
        }
        if changes:
            locked.save(update_fields=[*changes, "updated_at"])
            _record(
                merchant=locked,
                actor=actor,
                action=MerchantChange.Action.SETTINGS_UPDATED,
                changes=changes,
            )
    return changes


# --------------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------------


def _user_by_email(email: str):
    User = get_user_model()
    users = list(User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))[:5])
    if not users:
        return None
    if len(users) == 1:
        return users[0]
    by_username = [u for u in users if u.get_username().lower() == email]
    if len(by_username) == 1:
        return by_username[0]
    raise ValidationError({"email": [EMAIL_AMBIGUOUS]})


def _user_create(email: str):
    """A new portal user for an invited email: username = email, no password until they set
    one through the emailed link. Two merchants inviting the same new email at once get the
    same user."""
    User = get_user_model()
    user = User(username=email, email=email)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        return User.objects.get(username=email)
    return user


def _member_with_email(merchant: Merchant, email: str) -> bool:
    return Membership.objects.filter(
        Q(user__email__iexact=email) | Q(user__username__iexact=email), merchant=merchant
    ).exists()


def member_invite(*, merchant: Merchant, actor, email: str, role: str) -> Invitation:
    """Invite ``email`` to the merchant with ``role``: a pending Invitation, and (after commit)
    an email with its link. The same whether or not the address has a user in the portal: no
    user is created or looked at, and nobody joins the merchant before accepting the invitation
    (invitation_accept, invitation_accept_new_user). Inviting the address again renews its
    pending invitation: a new link (the old one stops working), the new role, a new expiry."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from None
    if role not in Membership.Role.values:
        raise ValidationError({"role": [ROLE_INVALID]})
    with transaction.atomic():
        locked = _lock_merchant(merchant.pk)
        _require_owner(merchant=locked, actor=actor)
        # The merchant's own users are listed to its owners anyway: no secret here.
        if _member_with_email(locked, email):
            raise ValidationError({"email": [ALREADY_MEMBER]})
        invitation = Invitation.objects.filter(
            merchant=locked, email=email, accepted_at__isnull=True
        ).first() or Invitation(merchant=locked, email=email)
        token = secrets.token_urlsafe(32)
        invitation.role = role
        invitation.token_hash = Invitation.hash_token(token)
        invitation.invited_by = actor
        invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)
        invitation.save()
        _record(
            merchant=locked,
            actor=actor,
            action=MerchantChange.Action.MEMBER_INVITED,
            subject_email=email,
            changes={"role": [None, role]},
        )
        # In-function: portal.tasks imports this module.
        from portal.tasks import invitation_email_task

        enqueue_on_commit(invitation_email_task, invitation_id=invitation.pk, token=token)
    return invitation


def invitation_cancel(*, merchant: Merchant, actor, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation (its link stops working)."""
    with transaction.atomic():
        locked = _lock_merchant(merchant.pk)
        _require_owner(merchant=locked, actor=actor)
        invitation = Invitation.objects.filter(
            merchant=locked, pk=invitation_id, accepted_at__isnull=True
        ).first()
        if invitation is None:
            raise ValidationError(INVITATION_NOT_PENDING)
        invitation.delete()
        _record(
            merchant=locked,
            actor=actor,
            action=MerchantChange.Action.INVITATION_CANCELLED,
            subject_email=invitation.email,
            changes={"role": [invitation.role, None]},
        )
    return invitation


def invitation_for_user(invitation: Invitation, user) -> bool:
    """Whether ``user`` is the person the invitation was sent to (their email or username is
    the invited address)."""
    invited = invitation.email.casefold()
    return invited in {(user.email or "").casefold(), user.get_username().casefold()}


def invitation_has_login(invitation: Invitation) -> bool:
    """Whether the invited address already has a user with a password (who must log in to
    accept). Only the invitation page asks, for the person holding the link."""
    User = get_user_model()
    return any(
        user.has_usable_password()
        for user in User.objects.filter(
            Q(username__iexact=invitation.email) | Q(email__iexact=invitation.email)
        )[:5]
    )


def _invitation_locked(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update()
        .filter(token_hash=Invitation.hash_token(token), accepted_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        raise ValidationError(INVITATION_GONE)
    return invitation


def _join(invitation: Invitation, user) -> Membership:
    membership, _created = Membership.objects.get_or_create(
        merchant_id=invitation.merchant_id, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    _record(
        merchant=invitation.merchant,
        actor=user,
        action=MerchantChange.Action.INVITATION_ACCEPTED,
        subject_email=invitation.email,
        changes={"role": [None, membership.role]},
    )
    return membership


def invitation_accept(*, token: str, user) -> Membership:
    """A logged-in user accepts an invitation sent to their address: they join the merchant
    with the invited role. Raises ValidationError when the link no longer works or the
    invitation is for someone else."""
    with transaction.atomic():
        invitation = _invitation_locked(token)
        if not invitation_for_user(invitation, user):
            raise ValidationError(INVITATION_OTHER_USER % {"email": invitation.email})
        return _join(invitation, user)


def invitation_accept_new_user(*, token: str, password: str) -> Membership:
    """Someone without a portal password (a new address, or a user invited before who never
    chose one) accepts by choosing a password: the user (username = the address) gets it and
    joins the merchant. Returns the membership (its user, for the view to log in). An address
    whose user has a password must log in and accept instead (ValidationError), so an
    invitation link never changes an existing password."""
    with transaction.atomic():
        invitation = _invitation_locked(token)
        user = _user_by_email(invitation.email)
        if user is None:
            user = _user_create(invitation.email)
        if user.has_usable_password():
            raise ValidationError(INVITATION_LOGIN_REQUIRED)
        if not user.is_active:
            raise ValidationError(USER_INACTIVE)
        user.set_password(password)
        if not user.email:
            user.email = invitation.email
        user.save(update_fields=["password", "email"])
        return _join(invitation, user)


def _membership_locked(merchant: Merchant, membership_id: int) -> Membership:
    membership = (
        Membership.objects.filter(merchant=merchant, pk=membership_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError(MEMBER_GONE)
    return membership


def member_remove(*, merchant: Merchant, actor, membership_id: int) -> Membership:
    """Remove a member. The last owner cannot be removed (not even by themselves)."""
    with transaction.atomic():
        locked = _lock_merchant(merchant.pk)
        _require_owner(merchant=locked, actor=actor)
        membership = _membership_locked(locked, membership_id)
        if membership.role == Membership.Role.OWNER and _owner_count(locked) <= 1:
            raise ValidationError(LAST_OWNER)
        membership.delete()
        _record(
            merchant=locked,
            actor=actor,
            action=MerchantChange.Action.MEMBER_REMOVED,
            subject_email=membership.user.email or membership.user.get_username(),
            changes={"role": [membership.role, None]},
        )
    return membership


def member_role_change(*, merchant: Merchant, actor, membership_id: int, role: str) -> Membership:
    """Make a member an owner or an owner a member; the last owner stays an owner."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": [ROLE_INVALID]})
    with transaction.atomic():
        locked = _lock_merchant(merchant.pk)
        _require_owner(merchant=locked, actor=actor)
        membership = _membership_locked(locked, membership_id)
        if membership.role == role:
            return membership
        if membership.role == Membership.Role.OWNER and _owner_count(locked) <= 1:
            raise ValidationError(LAST_OWNER)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        _record(
            merchant=locked,
            actor=actor,
            action=MerchantChange.Action.ROLE_CHANGED,
            subject_email=membership.user.email or membership.user.get_username(),
            changes={"role": [before, role]},
        )
    return membership


# --------------------------------------------------------------------------------------------
# Emails
# --------------------------------------------------------------------------------------------


def invitation_url(token: str) -> str:
    return settings.PORTAL_BASE_URL + reverse("invitation", kwargs={"token": token})


def invitation_email(*, invitation_id: int, token: str) -> bool:
    """Email an invitation's link; False (nothing sent) when it was accepted, cancelled or
    renewed since (a renewal sends its own link)."""
    invitation = (
        Invitation.objects.filter(pk=invitation_id, accepted_at__isnull=True)
        .select_related("merchant", "invited_by")
        .first()
    )
    if invitation is None or invitation.token_hash != Invitation.hash_token(token):
        return False
    merchant, inviter = invitation.merchant, invitation.invited_by
    with translation.override("pt-br"):
        context = {
            "merchant": merchant,
            "email": invitation.email,
            "role": invitation.get_role_display(),
            "inviter": (inviter.email or inviter.get_username()) if inviter else "",
            "link": invitation_url(token),
            "expires_days": settings.INVITATION_VALID_DAYS,
        }
        subject = translation.gettext("Convite para a conta %(merchant)s no Portal de Boletos")
        subject = subject % {"merchant": merchant}
        body = render_to_string("emails/invitation.txt", context)
    EmailMessage(subject=header_text(subject), body=body, to=[invitation.email]).send()
    return True


# --------------------------------------------------------------------------------------------
# Esqueci minha senha
# --------------------------------------------------------------------------------------------

PASSWORD_RESET_WINDOW = timedelta(hours=1)


def password_reset_request(*, email: str, client_address: str | None) -> int:
    """A "send me a reset link" request from a browser. Counts it against the client's limit
    (settings.PASSWORD_RESET_REQUESTS_PER_CLIENT per hour, whatever the addresses typed) and
    queues the email for a worker: the request does the same work for an address that has a
    user and one that has none. Returns 0 when queued, else the seconds the client must wait
    (nothing queued)."""
    allowed, retry_after = rate_limit_hit(
        scope="password_reset_client",
        key=client_address or "unknown",
        limit=settings.PASSWORD_RESET_REQUESTS_PER_CLIENT,
        window=PASSWORD_RESET_WINDOW,
    )
    if not allowed:
        logger.info("password reset: client over its limit, nothing queued")
        return retry_after
    # In-function: portal.tasks imports this module.
    from portal.tasks import password_reset_email_task

    enqueue_on_commit(password_reset_email_task, email=email)
    return 0


def _email_key(email: str) -> str:
    return unicodedata.normalize("NFKC", email).casefold().strip()


def password_reset_send(*, email: str) -> int:
    """The worker's side: email a reset link to the active users with this address (Django's
    token, link on PORTAL_BASE_URL), at most settings.PASSWORD_RESET_EMAILS_PER_ADDRESS times
    per hour per address, counted under a row lock. Returns how many emails were sent."""
    from portal.forms import PortalPasswordResetForm

    form = PortalPasswordResetForm(data={"email": email})
    if not form.is_valid():
        return 0
    email = form.cleaned_data["email"]
    users = list(form.get_users(email))
    rate_limit_prune(scope="password_reset_email", window=PASSWORD_RESET_WINDOW)
    rate_limit_prune(scope="password_reset_client", window=PASSWORD_RESET_WINDOW)
    if not users:
        return 0
    allowed, _retry = rate_limit_hit(
        scope="password_reset_email",
        key=_email_key(email),
        limit=settings.PASSWORD_RESET_EMAILS_PER_ADDRESS,
        window=PASSWORD_RESET_WINDOW,
    )
    if not allowed:
        logger.info("password reset: address over its hourly limit, no email sent")
        return 0
    base = urlsplit(settings.PORTAL_BASE_URL)
    with translation.override("pt-br"):
        form.save(
            domain_override=base.netloc,
            use_https=base.scheme == "https",
            subject_template_name="registration/password_reset_subject.txt",
            email_template_name="registration/password_reset_email.txt",
            extra_email_context={"portal_base_url": settings.PORTAL_BASE_URL},
        )
    return len(users)
