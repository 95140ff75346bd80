"""Configurações › Cobrança bancária: the owner's edit of the merchant's BankCollection.

One write, `bank_collection_update`: under the collection row's lock it re-checks that the actor
is an owner, validates the whole row against the merchant's bank and the chosen layout (what each
file layout needs: banking.md §2-3, billing/cnab/remessa240.py and remessa400.py), saves only the
edited fields and records a portal.MerchantChange in the same transaction. Nothing is half-saved.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import (
    CHANNEL_BANKS,
    WRITE_OFF_DAYS_MAX,
    BankCollection,
    CollectionChannel,
    Remessa,
)
from portal.models import Membership, Merchant, MerchantChange

#: Fields an owner edits in Configurações › Cobrança bancária.
COLLECTION_FIELDS = (
    "channel",
    "company_code",
    "wallet_variation",
    "next_nsa",
    "write_off_days",
    "registration_alert_days",
)

# The labels of the history of changes (MerchantChange.changes is keyed by them: the account's
# history on Configurações › Dados da conta lists every change with its key as the label).
FIELD_LABELS = {
    "channel": gettext_lazy("Cobrança bancária: canal"),
    "company_code": gettext_lazy("Cobrança bancária: código da empresa / de transmissão"),
    "wallet_variation": gettext_lazy("Cobrança bancária: variação da carteira"),
    "next_nsa": gettext_lazy("Cobrança bancária: próximo NSA"),
    "write_off_days": gettext_lazy("Cobrança bancária: baixa automática (dias)"),
    "registration_alert_days": gettext_lazy("Cobrança bancária: alerta de registro (dias úteis)"),
}

BANK_SHORT_NAMES = {"001": "Banco do Brasil", "033": "Santander", "237": "Bradesco", "341": "Itaú"}
CHANNEL_SHORT_NAMES = {
    CollectionChannel.TEST_BANK: "Banco de testes (999)",
    CollectionChannel.CNAB240: "CNAB 240",
    CollectionChannel.CNAB400: "CNAB 400",
}

NSA_MAX = 999999  # six digits in the CNAB 240 header (158-163)

NOT_OWNER = gettext_lazy("Somente proprietários podem alterar a cobrança bancária da conta.")
CHANNEL_NOT_FOR_BANK = gettext_lazy(
    "%(channel)s não está disponível para o %(bank)s neste portal (disponível para: %(banks)s)."
)
COMPANY_CODE_REQUIRED_BRADESCO = gettext_lazy(
    "Bradesco CNAB 400: informe o código da empresa (até 20 dígitos), fornecido pelo banco."
)
COMPANY_CODE_REQUIRED_SANTANDER = gettext_lazy(
    "Santander CNAB 240: informe o código de transmissão (até 15 dígitos), fornecido pelo banco."
)
COMPANY_CODE_DIGITS = gettext_lazy("Use apenas dígitos (até %(size)s).")
WALLET_VARIATION_REQUIRED = gettext_lazy(
    "Banco do Brasil: informe a variação da carteira com 3 dígitos (ex.: 019)."
)
WALLET_VARIATION_DIGITS = gettext_lazy("A variação da carteira tem 3 dígitos (ex.: 019).")
BB_400_AGREEMENT = gettext_lazy(
    "Banco do Brasil CNAB 400 (CBR643) exige convênio de 7 dígitos. Corrija o convênio em "
    "Configurações › Dados da conta."
)
BB_240_AGREEMENT = gettext_lazy(
    "Banco do Brasil CNAB 240 exige o convênio (até 9 dígitos). Corrija o convênio em "
    "Configurações › Dados da conta."
)
NSA_BELOW_LAST = gettext_lazy(
    "O próximo NSA não pode ser menor que %(min)s: a última remessa gerada teve o NSA %(last)s "
    "e o banco recusa um número repetido ou menor."
)
NSA_RANGE = gettext_lazy("O NSA vai de 1 a 999999.")
WRITE_OFF_RANGE = gettext_lazy("A baixa automática vai de 1 a 120 dias (ou vazio: sem baixa).")
ALERT_DAYS_RANGE = gettext_lazy("O alerta de registro vai de 1 a 10 dias úteis.")


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def bank_collection_min_nsa(*, merchant: Merchant) -> int:
    """The lowest NSA the next remessa may carry: one more than the last generated one."""
    last = Remessa.objects.for_merchant(merchant).aggregate(last=Max("nsa"))["last"]
    return (last or 0) + 1


def bank_collection_errors(*, merchant: Merchant, values: dict) -> dict[str, list[str]]:
    """What is wrong with these collection settings for this merchant's account, by field
    (``{}`` when nothing). ``values`` holds every COLLECTION_FIELDS value."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(str(message))

    channel = values["channel"]
    bank = merchant.bank_code
    bank_name = BANK_SHORT_NAMES.get(bank, bank)
    company_code = (values.get("company_code") or "").strip()
    variation = (values.get("wallet_variation") or "").strip()
    agreement = (merchant.agreement or "").strip()

    if channel not in CollectionChannel.values:
        add("channel", _("Escolha um canal de cobrança válido."))
        return errors
    banks = CHANNEL_BANKS.get(CollectionChannel(channel))
    if banks is not None and bank not in banks:
        add(
            "channel",
            CHANNEL_NOT_FOR_BANK
            % {
                "channel": CHANNEL_SHORT_NAMES[channel],
                "bank": bank_name,
                "banks": ", ".join(BANK_SHORT_NAMES.get(b, b) for b in banks),
            },
        )
        banks = None  # the layout checks below would only repeat it

    if company_code and not _digits(company_code):
        add("company_code", COMPANY_CODE_DIGITS % {"size": 20})
    if variation and (not _digits(variation) or len(variation) != 3):
        add("wallet_variation", WALLET_VARIATION_DIGITS)

    if banks is not None:
        if channel == CollectionChannel.CNAB400 and bank == "237":
            if not company_code:
                add("company_code", COMPANY_CODE_REQUIRED_BRADESCO)
        elif channel == CollectionChannel.CNAB240 and bank == "033":
            if not company_code:
                add("company_code", COMPANY_CODE_REQUIRED_SANTANDER)
            elif len(company_code) > 15:
                add("company_code", COMPANY_CODE_DIGITS % {"size": 15})
        if bank == "001":
            if not variation:
                add("wallet_variation", WALLET_VARIATION_REQUIRED)
            if channel == CollectionChannel.CNAB400 and not (
                len(agreement) == 7 and _digits(agreement)
            ):
                add("__all__", BB_400_AGREEMENT)
            if channel == CollectionChannel.CNAB240 and not (
                agreement and len(agreement) <= 9 and _digits(agreement)
            ):
                add("__all__", BB_240_AGREEMENT)

    next_nsa = values.get("next_nsa")
    if not isinstance(next_nsa, int) or not 1 <= next_nsa <= NSA_MAX:
        add("next_nsa", NSA_RANGE)
    else:
        minimum = bank_collection_min_nsa(merchant=merchant)
        if next_nsa < minimum:
            add("next_nsa", NSA_BELOW_LAST % {"min": minimum, "last": minimum - 1})

    write_off_days = values.get("write_off_days")
    if write_off_days is not None and not 1 <= write_off_days <= WRITE_OFF_DAYS_MAX:
        add("write_off_days", WRITE_OFF_RANGE)
    alert_days = values.get("registration_alert_days")
    if not isinstance(alert_days, int) or not 1 <= alert_days <= 10:
        add("registration_alert_days", ALERT_DAYS_RANGE)
    return errors


def _as_text(field: str, value) -> str | None:
    if value is None or value == "":
        return None
    if field == "channel":
        return str(CollectionChannel(value).label)
    return str(value)


def bank_collection_update(*, collection: BankCollection, actor, **fields) -> dict[str, list]:
    """Apply an owner's edit of the merchant's collection settings; returns
    ``{field: [before, after]}`` (text) of what changed, ``{}`` when nothing did.

    Runs under the BankCollection row's lock (the lock remessa_generate takes to allocate an
    NSA, so "next NSA >= last remessa's + 1" is checked against the committed files). Raises
    ValidationError (a dict keyed by field, pt-BR) and writes nothing when anything is invalid;
    PermissionDenied when the actor is not an owner of the merchant."""
    unknown = set(fields) - set(COLLECTION_FIELDS)
    if unknown:
        raise TypeError(f"not a collection field: {sorted(unknown)}")
    with transaction.atomic():
        locked = (
            BankCollection.objects.select_for_update()
            .select_related("merchant")
            .get(pk=collection.pk)
        )
        merchant = locked.merchant
        if not Membership.objects.filter(
            merchant=merchant, user_id=actor.pk, role=Membership.Role.OWNER
        ).exists():
            raise PermissionDenied(NOT_OWNER)
        for text_field in ("company_code", "wallet_variation"):
            if text_field in fields:
                fields[text_field] = (fields[text_field] or "").strip()
        values = {field: getattr(locked, field) for field in COLLECTION_FIELDS} | fields
        errors = bank_collection_errors(merchant=merchant, values=values)
        if errors:
            raise ValidationError(errors)
        before = {field: getattr(locked, field) for field in fields}
        for field, value in fields.items():
            setattr(locked, field, value)
        locked.full_clean()
        changed = [field for field in fields if before[field] != getattr(locked, field)]
        changes = {
            field: [_as_text(field, before[field]), _as_text(field, getattr(locked, field))]
            for field in changed
        }
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
            MerchantChange.objects.create(
                merchant=merchant,
                actor=actor,
                actor_email=actor.email or actor.get_username(),
                action=MerchantChange.Action.SETTINGS_UPDATED,
                changes={str(FIELD_LABELS[f]): pair for f, pair in changes.items()},
            )
        collection.refresh_from_db()
    return changes
