from anymail.exceptions import AnymailAPIError
from celery import shared_task

from portal.services import member_invite_email, password_reset_send


@shared_task(ignore_result=True, autoretry_for=(AnymailAPIError, OSError), retry_backoff=30)
def member_invite_email_task(*, merchant_id: int, membership_id: int, inviter_id: int) -> None:
    member_invite_email(merchant_id=merchant_id, membership_id=membership_id, inviter_id=inviter_id)


@shared_task(ignore_result=True)
def password_reset_email_task(*, email: str) -> None:
    """Not retried: Django's reset form logs a failed send instead of raising, and a retry
    would count against the address's hourly limit again."""
    password_reset_send(email=email)
