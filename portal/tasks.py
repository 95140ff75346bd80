from anymail.exceptions import AnymailAPIError
from celery import shared_task

from portal.services import member_invite_email


@shared_task(ignore_result=True, autoretry_for=(AnymailAPIError, OSError), retry_backoff=30)
def member_invite_email_task(*, merchant_id: int, membership_id: int, inviter_id: int) -> None:
    member_invite_email(merchant_id=merchant_id, membership_id=membership_id, inviter_id=inviter_id)
