from celery import shared_task

from schedules.generator import installments_issue_due


@shared_task(ignore_result=True)
def issue_due_installments_task() -> dict:
    """Beat job: issue every installment whose issue date has arrived (America/Sao_Paulo)."""
    run = installments_issue_due()
    return {"issued": run.issued, "skipped": run.skipped, "schedules": run.schedules}


@shared_task(ignore_result=True)
def issue_installments_for_schedule_task(*, schedule_id: int, merchant_id: int) -> dict:
    """Issue at once what a newly created (or reactivated) schedule already has due."""
    run = installments_issue_due(schedule_id=schedule_id, merchant_id=merchant_id)
    return {"issued": run.issued, "skipped": run.skipped}
