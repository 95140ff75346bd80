"""Questions portal asks of the apps above it, without importing them (imports run one way:
notifications -> schedules -> billing -> portal).

`merchant_account_check` is sent with ``account`` (``Merchant.account_snapshot()``); each receiver
returns ``{field: message}`` for what its rules refuse (``{}`` when nothing). billing answers
with the bank's rules (billing.accounts, connected in BillingConfig.ready).
"""

from django.dispatch import Signal

merchant_account_check = Signal()


def merchant_account_errors(account: dict) -> dict[str, str]:
    """Every receiver's errors for this account, the first message per field."""
    errors: dict[str, str] = {}
    for _receiver, response in merchant_account_check.send(sender=None, account=account):
        for field, message in (response or {}).items():
            errors.setdefault(field, message)
    return errors
