"""The merchant's collection account as the banks see it: whether its bank's rules accept it,
and the nosso número sequence every merchant gets when it is created.

portal owns the Merchant row but knows no bank rule: it asks through its
`portal.signals.merchant_account_check` signal, which this module answers, and this module
creates the sequence when portal saves a new merchant. Both receivers are connected in
`billing.apps.BillingConfig.ready`.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from billing.boleto_codes import bank_account
from billing.febraban import BoletoError, Itau
from billing.nosso_numero_allocation import ensure_sequences
from portal.models import Bank

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


def bank_account_errors(*, account: dict) -> dict[str, str]:
    """Why this bank account cannot issue boletos, each message under the Merchant field it is
    about (``{}`` when it can). ``account`` is ``Merchant.account_snapshot()``-shaped. Read-only:
    the settings form calls it to show every error at once; the service calls it again to
    decide."""
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


def bank_account_check_receiver(sender, *, account: dict, **kwargs) -> dict[str, str]:
    """`portal.signals.merchant_account_check` receiver: the bank's verdict on `account`."""
    return bank_account_errors(account=account)


def nosso_numero_sequence_receiver(sender, instance, created: bool, raw: bool, **kwargs) -> None:
    """``post_save`` of Merchant: a new merchant gets its nosso número sequence at once (as
    `Merchant.save` did; fixtures loaded raw are left alone, as before)."""
    if created and not raw:
        ensure_sequences([instance.pk])
