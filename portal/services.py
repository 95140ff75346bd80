"""Writes for the merchant's own account: settings, members and their roles, invitations.

Every write here runs in one transaction that first locks the merchant's row, re-checks that the
acting user is an owner, validates everything, and only then saves and records a MerchantChange:
nothing is half-saved, and two owners acting at once are serialized (which is what keeps "the
merchant always has at least one owner" true).

Settings changes only reach boletos issued afterwards: each issued boleto keeps its own snapshot
of the beneficiário (schedules.generator.beneficiary_snapshot).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from portal.documents import normalize_document
from portal.models import Bank, Membership, Merchant, MerchantChange
from portal.pix_keys import normalize_pix_key
from portal.queue import enqueue_on_commit
from portal.text import header_text

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
ROLE_INVALID = _("Escolha um papel válido.")
AGREEMENT_REQUIRED = _("Informe o convênio (código do beneficiário): este banco exige.")
ITAU_DIGIT_MISMATCH = _(
    "O dígito não confere com a agência e a conta: para o Itaú, o dígito da conta é %(digit)s."
)
BANK_RULE = _("%(error)s (regras do banco %(bank)s)")

# BoletoError messages start with the name of the field they are about (billing/febraban).
_BANK_ERROR_FIELDS = (
    ("dígito da agência", "agency_digit"),
    ("dígito da conta", "account_digit"),
    ("código do banco", "bank_code"),
    ("código do beneficiário", "agreement"),
    ("convênio", "agreement"),
    ("nosso número", "agreement"),
    ("agência", "agency"),
    ("conta", "account"),
    ("carteira", "wallet"),
    ("banco", "bank_code"),
)
_BANKS_NEEDING_AGREEMENT = {"001", "033"}
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


def bank_account_errors(*, account: dict) -> dict[str, str]:
    """Why this bank account cannot issue boletos, each message under the field it is about
    (``{}`` when it can). ``account`` is ``Merchant.account_snapshot()``-shaped. Read-only: the
    settings form calls it to show every error at once; the service calls it again to decide."""
    from billing.febraban import BoletoError, Itau
    from billing.numbers import bank_account

    bank_code = account.get("bank_code", "")
    if bank_code in _BANKS_NEEDING_AGREEMENT and not account.get("agreement"):
        return {"agreement": str(AGREEMENT_REQUIRED)}
    try:
        bank, parsed = bank_account(account)
        bank.campo_livre(parsed, 1)
    except BoletoError as exc:
        message = str(exc)
        lowered = message.lower()
        field = next(
            (name for prefix, name in _BANK_ERROR_FIELDS if lowered.startswith(prefix)),
            NON_FIELD_ERRORS,
        )
        label = dict(Bank.choices).get(bank_code, bank_code)
        return {field: str(BANK_RULE) % {"error": message, "bank": label}}
    if isinstance(bank, Itau) and parsed.account_digit:
        expected = Itau.account_dac(parsed.agency, parsed.account)
        if parsed.account_digit != expected:
            return {"account_digit": str(ITAU_DIGIT_MISMATCH) % {"digit": expected}}
    return {}


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


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
            problems = bank_account_errors(account=locked.account_snapshot())
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


def member_invite(*, merchant: Merchant, actor, email: str, role: str) -> Membership:
    """Give ``email`` access to the merchant with ``role``, creating the user when the email is
    new, and email them (after commit): a "defina sua senha" link when they have no password
    yet, a notice otherwise. A user may belong to several merchants (portal.tenancy picks the
    one chosen in the session, else the first)."""
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
        user = _user_by_email(email)
        if user is None:
            user = _user_create(email)
        if not user.is_active:
            raise ValidationError({"email": [USER_INACTIVE]})
        if not user.email:
            user.email = email
            user.save(update_fields=["email"])
        if Membership.objects.filter(merchant=locked, user=user).exists():
            raise ValidationError({"email": [ALREADY_MEMBER]})
        membership = Membership.objects.create(merchant=locked, user=user, role=role)
        _record(
            merchant=locked,
            actor=actor,
            action=MerchantChange.Action.MEMBER_INVITED,
            subject_email=user.email or user.get_username(),
            changes={"role": [None, role]},
        )
        from portal.tasks import member_invite_email_task

        enqueue_on_commit(
            member_invite_email_task,
            merchant_id=locked.pk,
            membership_id=membership.pk,
            inviter_id=actor.pk,
        )
    return membership


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


def password_set_url(user) -> str:
    """Absolute link to choose a password (Django's reset token: single use, expires after
    PASSWORD_RESET_TIMEOUT)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PORTAL_BASE_URL + path


def member_invite_email(*, merchant_id: int, membership_id: int, inviter_id: int | None) -> bool:
    """Email an invited member; False when the membership no longer exists."""
    membership = (
        Membership.objects.filter(merchant_id=merchant_id, pk=membership_id)
        .select_related("user", "merchant")
        .first()
    )
    if membership is None:
        return False
    user, merchant = membership.user, membership.merchant
    inviter = get_user_model().objects.filter(pk=inviter_id).first() if inviter_id else None
    needs_password = not user.has_usable_password()
    with translation.override("pt-br"):
        context = {
            "merchant": merchant,
            "user": user,
            "username": user.get_username(),
            "role": membership.get_role_display(),
            "inviter": (inviter.email or inviter.get_username()) if inviter else "",
            "link": password_set_url(user)
            if needs_password
            else settings.PORTAL_BASE_URL + reverse("login"),
            "expires_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        if needs_password:
            subject = translation.gettext("Convite para a conta %(merchant)s no Portal de Boletos")
            body = render_to_string("emails/invite_new_user.txt", context)
        else:
            subject = translation.gettext("Você agora tem acesso à conta %(merchant)s")
            body = render_to_string("emails/invite_existing_user.txt", context)
        subject = subject % {"merchant": merchant}
    EmailMessage(subject=header_text(subject), body=body, to=[user.email]).send()
    return True
