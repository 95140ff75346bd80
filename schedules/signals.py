"""Facts schedules announces to the apps above it, without importing them (imports run one way:
notifications -> schedules -> billing -> portal). Receivers connect in their AppConfig.ready().

- ``boletos_issued``: sent after the transaction that issued boletos commits, with
  ``boleto_ids_by_merchant`` ({merchant id: [boleto ids]}) for the whole batch. schedules.apps
  queues their registration at the bank (billing.registration, one message per batch); billing
  announces them registered, and notifications hands them to delivery then.
- ``schedule_state_changed``: sent by the merchant's reactivation and cancellation with
  ``schedule`` (locked), ``state`` (its new ScheduleStatus) and ``at``. Sent inside the
  transaction, not on commit: notifications answers by acknowledging the schedule's open alerts,
  and that write must commit or roll back with the state change (a rolled-back reactivation
  keeps its banner; a crash between commit and receiver cannot leave a reactivated schedule's
  alert up). A receiver that raises rolls the change back.
"""

from django.db import transaction
from django.dispatch import Signal

boletos_issued = Signal()
schedule_state_changed = Signal()


def boletos_issued_on_commit(boleto_ids_by_merchant: dict[int, list[int]]) -> None:
    """Announce issued boletos once the current transaction commits (immediately outside one).

    robust: the boletos are committed by then; a failing receiver is logged, not raised into
    the caller, and the delivery sweep picks up whatever was not handed off."""
    if not boleto_ids_by_merchant:
        return
    batch = {merchant_id: list(ids) for merchant_id, ids in boleto_ids_by_merchant.items()}
    transaction.on_commit(
        lambda: boletos_issued.send(sender=None, boleto_ids_by_merchant=batch), robust=True
    )
