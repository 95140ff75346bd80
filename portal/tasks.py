from anymail.exceptions import AnymailAPIError
from celery import shared_task

from portal.services import invitation_email, password_reset_send


@shared_task(ignore_result=True, autoretry_for=(AnymailAPIError, OSError), retry_backoff=30)
def invitation_email_task(*, invitation_id: int, token: str) -> None:
    invitation_email(invitation_id=invitation_id, token=token)


@shared_task(ignore_result=True)
def password_reset_email_task(*, email: str) -> None:
    """Not retried: Django's reset form logs a failed send instead of raising, and a retry
    would count against the address's hourly limit again."""
    password_reset_send(email=email)
