"""Billing's Celery tasks: thin wrappers over services (see billing/retornos.py)."""

from celery import shared_task

from billing.retornos import retornos_inbox_collect


@shared_task(ignore_result=True)
def retornos_inbox_collect_task() -> int:
    """Beat, every 5 minutes: import the retornos waiting in settings.BANK_INBOX_DIR."""
    return retornos_inbox_collect()
