"""Support ticket tasks. Their registered names are those they had in notifications/tasks.py,
so queued messages and the beat schedule still resolve."""

from anymail.exceptions import AnymailAPIError
from celery import shared_task

from notifications.tickets.services import ticket_message_notify, ticket_notify_sweep


@shared_task(
    name="notifications.tasks.ticket_message_notify_task",
    ignore_result=True,
    autoretry_for=(AnymailAPIError, OSError),
    retry_backoff=30,
)
def ticket_message_notify_task(*, merchant_id: int, message_id: int) -> None:
    ticket_message_notify(merchant_id=merchant_id, message_id=message_id)


@shared_task(name="notifications.tasks.ticket_notify_sweep_task", ignore_result=True)
def ticket_notify_sweep_task() -> int:
    return ticket_notify_sweep()
