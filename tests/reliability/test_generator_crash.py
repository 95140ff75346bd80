"""The generator killed in the middle of a batch, then restarted: every due installment is issued
exactly once, and every issued boleto reaches the customer exactly once.

Two generators at once are proven elsewhere: tests/schedules/test_generator_concurrency.py (two
threads on PostgreSQL) and tests/test_celery_worker.py (two real worker processes).
"""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import F
from django.utils import timezone

from billing.models import Boleto
from billing.registration import LOST_REGISTRATION_AFTER
from billing.tasks import registrations_sweep_task
from notifications.delivery import STUCK_PENDING_AFTER
from notifications.models import OutboundEmail
from notifications.tasks import delivery_sweep_task
from schedules import dates
from schedules.generator import installments_issue_due
from schedules.models import Schedule
from tests.factories import CustomerFactory, MerchantFactory, ScheduleFactory
from tests.reliability.conftest import (
    backend,
    blocked_on_lock,
    esp_sends,
    publish,
    task_succeeded,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# The real date: the worker takes each issued boleto to the test bank, which (like a bank)
# refuses a due date already past on the day it registers.
TODAY = timezone.localdate()
ON_TIME = TODAY + timedelta(days=10)  # due inside the lead window: one installment issued
# Three monthly installments already past due (skipped), the 4th issued.
CATCH_UP = ON_TIME - relativedelta(months=3)
LATER = TODAY + relativedelta(months=3)  # nothing due yet
BATCH_SIZE = 3


def expected_installments(schedule: Schedule) -> dict[int, str]:
    """What the generator owes a schedule on TODAY: {sequence: status}, from the due dates."""
    owed, sequence = {}, 1
    while True:
        due = dates.due_date(schedule.first_due_date, schedule.frequency_months, sequence)
        if due - timedelta(days=schedule.lead_days) > TODAY:
            return owed
        owed[sequence] = "issued" if due >= TODAY else "skipped"
        sequence += 1


def issued_rows() -> list[tuple[int, int, str]]:
    return sorted(Boleto.objects.values_list("schedule_id", "sequence", "status"))


def rows_for(schedules) -> list[tuple[int, int, str]]:
    return sorted(
        (schedule.pk, sequence, status)
        for schedule in schedules
        for sequence, status in expected_installments(schedule).items()
    )


def cursor_of(schedule: Schedule) -> int:
    return Schedule.objects.values_list("next_sequence", flat=True).get(pk=schedule.pk)


def test_generator_killed_mid_batch_then_restarted_issues_and_sends_everything_exactly_once(
    private_redis, processes, lock_session, esp_log
):
    """Property: a generator process SIGKILLed inside a batch, at two different points, then
    run again, leaves every due installment issued exactly once — no gap, no duplicate
    (schedule, sequence), every cursor just past the last installment issued — and every issued
    boleto is emailed exactly once after the hand-off messages, a real worker and the sweeper
    have run.

    Batches of 3 schedules, ordered by id: [a1 a2 a3] [a4 b1 b2] [b3 c1 c2] [c3]. The test holds
    database locks from a second session so that a process blocks at a known point:

    1. Rolled back: run 1 blocks in batch 2 while allocating merchant B's nosso números (the
       test holds B's sequence). It is killed; its transaction dies with it. Batch 1 stays.
    2. Committed by a dead process: run 2 blocks in the COMMIT of [b3 c1 c2] (the deferred
       foreign-key check waits on merchant C's row, which the test holds). It is killed, the
       lock is released, and PostgreSQL completes the commit of a client that no longer exists:
       the boletos are in, their after-commit hand-off never ran. Only the sweeper finds them.
    3. Run 3 completes the rest.
    """
    merchant_a, merchant_b, merchant_c = (MerchantFactory() for _ in range(3))

    def schedules_of(merchant, first_dues):
        customer = CustomerFactory(merchant=merchant)
        return [
            ScheduleFactory(merchant=merchant, customer=customer, first_due_date=first_due)
            for first_due in first_dues
        ]

    a1, a2, a3, a4 = schedules_of(merchant_a, [CATCH_UP, ON_TIME, ON_TIME, ON_TIME])
    b1, b2, b3 = schedules_of(merchant_b, [ON_TIME, CATCH_UP, ON_TIME])
    c1, c2, c3 = schedules_of(merchant_c, [ON_TIME, ON_TIME, CATCH_UP])
    (not_due,) = schedules_of(merchant_a, [LATER])
    due = [a1, a2, a3, a4, b1, b2, b3, c1, c2, c3]
    broker = private_redis.url

    # --- Crash 1: killed inside batch 2, before anything of it was written --------------------
    lock_session.execute(f"ALTER SEQUENCE billing_nosso_numero_{merchant_b.pk} INCREMENT BY 1")
    run1 = processes.generator(broker, TODAY, GENERATOR_BATCH_SIZE=BATCH_SIZE)
    wait_for(
        blocked_on_lock(run1.name, "nextval"),
        what="run 1 blocked in batch 2 on merchant B's nosso número sequence",
        processes=[run1],
    )
    run1.kill()
    lock_session.rollback()
    wait_for(lambda: backend(run1.name) is None, what="run 1's database session to end")

    assert issued_rows() == rows_for([a1, a2, a3])  # batch 1 committed, batch 2 rolled back
    assert [cursor_of(s) for s in (a1, a2, a3)] == [5, 2, 2]
    assert [cursor_of(s) for s in (a4, b1, b2, b3, c1, c2, c3)] == [1] * 7
    # Batch 1's hand-off message is waiting on the broker (no worker is running yet).
    assert private_redis.client().llen("celery") == 1

    # --- Crash 2: killed while its COMMIT waits; the commit then completes without it ---------
    lock_session.execute(f"SELECT id FROM portal_merchant WHERE id = {merchant_c.pk} FOR UPDATE")
    run2 = processes.generator(broker, TODAY, GENERATOR_BATCH_SIZE=BATCH_SIZE)
    wait_for(
        blocked_on_lock(run2.name, "COMMIT"),
        what="run 2 blocked in the COMMIT of [b3 c1 c2] on merchant C's row",
        processes=[run2],
    )
    run2.kill()
    lock_session.rollback()
    wait_for(lambda: backend(run2.name) is None, what="run 2's database session to end")

    assert issued_rows() == rows_for([a1, a2, a3, a4, b1, b2, b3, c1, c2])
    orphans = Boleto.objects.filter(schedule__in=[b3, c1, c2], status="issued")
    assert orphans.count() == 3
    assert set(orphans.values_list("delivery_status", "handed_off_at")) == {("pending", None)}
    assert cursor_of(c3) == 1
    assert private_redis.client().llen("celery") == 2  # batches 1 and 2; never [b3 c1 c2]

    # --- Run 3: the rest, then nothing is left --------------------------------------------
    run3 = processes.generator(broker, TODAY, GENERATOR_BATCH_SIZE=BATCH_SIZE)
    wait_for(lambda: not run3.alive(), what="run 3 to finish")
    assert run3.popen.returncode == 0, run3.output()
    assert 'RUN {"issued": 1, "skipped": 3, "schedules": 1, "batches": 1}' in run3.output()

    assert issued_rows() == rows_for(due)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT merchant_id, nosso_numero FROM billing_boleto "
            "WHERE nosso_numero IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d"
        )
        assert cursor.fetchone()[0] == 0
    for schedule in due:
        schedule.refresh_from_db()
        assert schedule.next_sequence == max(expected_installments(schedule)) + 1
        assert schedule.next_issue_on > TODAY
    assert cursor_of(not_due) == 1 and not Boleto.objects.filter(schedule=not_due).exists()
    again = installments_issue_due(today=TODAY)
    assert (again.issued, again.skipped) == (0, 0)

    # --- Delivery: the queued registrations, then the sweepers for the orphaned batch ------
    issued = set(Boleto.objects.filter(status="issued").values_list("pk", flat=True))
    assert len(issued) == 10
    worker = processes.worker(broker)
    # Each queued request takes its merchants through the test bank (all they have pending),
    # whose confirmation hands the registered boletos to delivery.
    wait_for(
        lambda: task_succeeded(worker, "billing.tasks.registration_request_task") == 3,
        what="the three queued registration requests (batches 1 and 2, run 3)",
        processes=[worker],
    )
    registered = Boleto.objects.filter(pk__in=issued, bank__registration_status="registered")
    wait_for(
        lambda: registered.filter(delivery_status="sent").count() == registered.count() >= 7,
        what="the worker to send every boleto the queued requests registered",
        processes=[worker],
    )
    # Later (the sweepers leave fresh boletos to their own messages), beat's sweeps run: the
    # registration sweep takes what no request registered, delivery what was never handed off.
    stale = max(LOST_REGISTRATION_AFTER, STUCK_PENDING_AFTER) + timedelta(minutes=1)
    Boleto.objects.update(issued_at=F("issued_at") - stale)
    publish(registrations_sweep_task, broker)
    publish(delivery_sweep_task, broker)  # what beat sends every 5 minutes
    wait_for(
        lambda: Boleto.objects.filter(pk__in=issued, delivery_status="sent").count() == len(issued),
        what="every issued boleto sent",
        processes=[worker],
    )
    # Once more: they find nothing to do, and once they have run the queue has been drained.
    publish(registrations_sweep_task, broker)
    publish(delivery_sweep_task, broker)
    sweep = "notifications.tasks.delivery_sweep_task"
    wait_for(lambda: task_succeeded(worker, sweep) == 2, what="two sweeps", processes=[worker])
    assert "'handed_off': 0," in worker.output()
    assert set(
        Boleto.objects.filter(pk__in=issued).values_list("bank__registration_status", flat=True)
    ) == {"registered"}
    assert private_redis.client().llen("celery") == 0

    # Every issued boleto reached the ESP exactly once; skipped installments never did.
    assert esp_sends(esp_log) == dict.fromkeys(issued, 1)
    emails = list(OutboundEmail.objects.values_list("boleto_id", "attempt", "send_status"))
    assert sorted(emails) == sorted((pk, 1, "sent") for pk in issued)
