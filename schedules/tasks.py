from celery import shared_task
from django.conf import settings

from portal.queue import enqueue_on_commit
from schedules.generator import installments_due_count, installments_issue_due


@shared_task(ignore_result=True)
def issue_due_installments_task(*, fan_out: bool = True) -> dict:
    """Beat job: issue every installment whose issue date has arrived (America/Sao_Paulo).

    When more than one batch is due (the first of the month, a catch-up), it first queues up to
    ``GENERATOR_PARALLELISM - 1`` more runs, so that several worker processes share the work;
    concurrent runs never issue an installment twice (SKIP LOCKED batches, unique key).
    """
    if fan_out:
        batch_size = settings.GENERATOR_BATCH_SIZE
        parallelism = max(1, settings.GENERATOR_PARALLELISM)
        due = installments_due_count(limit=batch_size * parallelism)
        helpers = min(parallelism, -(-due // batch_size)) - 1
        for _ in range(helpers):
            enqueue_on_commit(issue_due_installments_task, fan_out=False)
    run = installments_issue_due()
    return {"issued": run.issued, "skipped": run.skipped, "schedules": run.schedules}


@shared_task(ignore_result=True)
def issue_installments_for_schedule_task(*, schedule_id: int, merchant_id: int) -> dict:
    """Issue at once what a newly created (or reactivated) schedule already has due."""
    run = installments_issue_due(schedule_id=schedule_id, merchant_id=merchant_id)
    return {"issued": run.issued, "skipped": run.skipped}
