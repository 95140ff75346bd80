"""Facts billing announces to the apps above it, without importing them (imports run one way:
notifications -> schedules -> billing -> portal). Receivers connect in their AppConfig.ready().

- ``customer_updated``: sent inside the transaction that saved a merchant's edit of a customer,
  with ``customer`` (saved), ``actor`` (the user, or None) and ``changes`` ({field: [before,
  after]} as text). schedules records it in the history of each of the customer's schedules;
  the record commits or rolls back with the edit.
- ``boletos_registered``: sent after the transaction that recorded the bank's confirmation of
  registrations commits, with ``boleto_ids_by_merchant`` ({merchant id: [boleto ids]}).
  notifications hands them to delivery: a boleto is emailed only once its bank knows it.
- ``bank_attention``: sent after commit when a bank fact needs the merchant (a registration
  rejected, money for a written-off title, a payment different from the issued amount, a
  registration still unconfirmed), with ``merchant_id``, ``boleto_id`` (or None), ``kind`` (a
  ``billing.models.BankAttention`` value) and ``detail`` (a dict of plain values for the
  message). notifications raises the merchant's alert (banner and email).
"""

from django.db import transaction
from django.dispatch import Signal

customer_updated = Signal()
boletos_registered = Signal()
bank_attention = Signal()


def boletos_registered_on_commit(boleto_ids_by_merchant: dict[int, list[int]]) -> None:
    """Announce registered boletos once the current transaction commits (immediately outside
    one). robust: a failing receiver is logged, not raised; the delivery sweep catches up."""
    batch = {merchant_id: list(ids) for merchant_id, ids in boleto_ids_by_merchant.items() if ids}
    if not batch:
        return
    transaction.on_commit(
        lambda: boletos_registered.send(sender=None, boleto_ids_by_merchant=batch), robust=True
    )
