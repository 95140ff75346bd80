"""Redis stopped while installments are issued and handed off: nothing is lost, nothing is sent
twice. Each test runs its own redis-server (no persistence: a stopped broker loses the messages it
held) and a real Celery worker; the stand-in ESP (esp.py) records every email it accepts."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from billing.models import Boleto
from notifications.delivery import STUCK_PENDING_AFTER, STUCK_QUEUED_AFTER
from notifications.models import OutboundEmail
from notifications.tasks import delivery_sweep_task
from schedules.tasks import issue_due_installments_task
from tests.factories import CustomerFactory, MerchantFactory, ScheduleFactory
from tests.reliability.conftest import (
    blocked_on_lock,
    esp_sends,
    publish,
    task_succeeded,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

GENERATOR = "schedules.tasks.issue_due_installments_task"
SWEEP = "notifications.tasks.delivery_sweep_task"
HAND_OFF = "notifications.tasks.delivery_hand_off_batch_task"
SEND = "notifications.tasks.boleto_send_task"


def due_schedules(merchants) -> list:
    """One schedule per entry, each owing its first installment today (real date: the worker's
    beat task issues for ``timezone.localdate()``)."""
    first_due = timezone.localdate() + timedelta(days=3)
    return [
        ScheduleFactory(
            merchant=merchant, customer=CustomerFactory(merchant=merchant), first_due_date=first_due
        )
        for merchant in merchants
    ]


def test_redis_down_while_issuing_then_back_every_boleto_sent_exactly_once(
    private_redis, processes, lock_session, esp_log
):
    """Property: when the broker dies while a real worker is issuing installments, every
    installment is still committed and stays visibly ``pending``; once Redis is back (empty),
    the worker reconnects by itself and the delivery sweeper hands every stranded boleto off,
    so each one is emailed exactly once by us — none lost, none twice.

    The worker runs the beat's generator task in batches of 2: [m1 m1] [m1 m2] [m2 m2]. The
    test holds merchant 2's row, so the worker waits in the COMMIT of batch 2; meanwhile batch
    1's hand-off message sits on the broker. Then redis-server is killed (no persistence: that
    message is lost with it, as in a broker crash) and the lock released: batches 2 and 3
    commit and their after-commit hand-offs fail to publish (logged, portal/queue.py).
    """
    m1, m2 = MerchantFactory(), MerchantFactory()
    schedules = due_schedules([m1, m1, m1, m2, m2, m2])
    broker = private_redis.url
    worker = processes.worker(broker, GENERATOR_BATCH_SIZE=2, GENERATOR_PARALLELISM=1)

    lock_session.execute(f"SELECT id FROM portal_merchant WHERE id = {m2.pk} FOR UPDATE")
    publish(issue_due_installments_task, broker)  # what beat sends every minute
    wait_for(
        blocked_on_lock(worker.name, "COMMIT"),
        what="the worker's generator waiting in the COMMIT of batch 2",
        processes=[worker],
    )
    assert Boleto.objects.count() == 2
    assert private_redis.client().llen("celery") == 1  # batch 1's hand-off, not yet consumed

    # --- The outage ---------------------------------------------------------------------
    private_redis.kill()
    lock_session.rollback()
    wait_for(
        lambda: task_succeeded(worker, GENERATOR) == 1,
        what="the generator task to finish with the broker down",
        processes=[worker],
    )
    assert worker.output().count(f"could not queue {HAND_OFF}") == 2  # batches 2 and 3
    boletos = Boleto.objects.filter(schedule__in=schedules)
    assert sorted(boletos.values_list("schedule_id", "sequence", "status")) == sorted(
        (s.pk, 1, "issued") for s in schedules
    )
    # Committed, and visibly waiting: "Aguardando envio", never handed off.
    assert set(boletos.values_list("delivery_status", "handed_off_at")) == {("pending", None)}

    # --- Redis returns, empty ---------------------------------------------------------------
    connects = worker.output().count("Connected to redis://")
    private_redis.start()
    wait_for(
        lambda: worker.output().count("Connected to redis://") > connects,
        what="the worker to reconnect to the restarted redis-server",
        processes=[worker],
    )
    assert private_redis.client().llen("celery") == 0  # batch 1's message died with Redis
    assert set(boletos.values_list("delivery_status", flat=True)) == {"pending"}
    assert not esp_log.exists()

    # STUCK_PENDING_AFTER later, beat's sweep runs:
    Boleto.objects.update(issued_at=F("issued_at") - STUCK_PENDING_AFTER - timedelta(minutes=1))
    publish(delivery_sweep_task, broker)
    ids = set(boletos.values_list("pk", flat=True))
    wait_for(
        lambda: boletos.filter(delivery_status="sent").count() == len(ids),
        what="every boleto sent after the sweep",
        processes=[worker],
    )
    # A second sweep finds nothing; once it has run, the queue is drained.
    publish(delivery_sweep_task, broker)
    wait_for(lambda: task_succeeded(worker, SWEEP) == 2, what="two sweeps", processes=[worker])
    assert "'handed_off': 6," in worker.output() and "'handed_off': 0," in worker.output()
    assert private_redis.client().llen("celery") == 0

    assert esp_sends(esp_log) == dict.fromkeys(ids, 1)
    emails = list(OutboundEmail.objects.values_list("boleto_id", "attempt", "send_status"))
    assert sorted(emails) == sorted((pk, 1, "sent") for pk in ids)


def test_send_messages_lost_with_redis_are_requeued_by_the_sweeper_and_sent_exactly_once(
    private_redis, processes, lock_session, esp_log
):
    """Property: boletos already handed off (``queued``) whose send messages died with the
    broker, or could not be published while it was down, are re-queued by the sweeper once
    they have waited STUCK_QUEUED_AFTER, and each is emailed exactly once — none lost, none
    twice.

    One generator batch issues 2 boletos for merchant 1 and 2 for merchant 2; its single
    hand-off message reaches a real worker. The test holds a row of merchant 2, so the hand-off
    stops after queueing merchant 1's two sends on the broker (the solo worker cannot run them
    while it is busy). redis-server is killed (those two messages are lost), the row released:
    merchant 2's boletos are marked queued and their two sends fail to publish (logged).
    """
    m1, m2 = MerchantFactory(), MerchantFactory()
    schedules = due_schedules([m1, m1, m2, m2])
    broker = private_redis.url
    generator = processes.generator(broker, timezone.localdate())
    wait_for(lambda: not generator.alive(), what="the generator run to finish")
    assert generator.popen.returncode == 0, generator.output()
    boletos = Boleto.objects.filter(schedule__in=schedules, status="issued")
    ids = set(boletos.values_list("pk", flat=True))
    assert len(ids) == 4
    assert private_redis.client().llen("celery") == 1  # the batch's hand-off

    held = boletos.filter(merchant=m2).order_by("pk").first()
    lock_session.execute(f"SELECT id FROM billing_boleto WHERE id = {held.pk} FOR UPDATE")
    worker = processes.worker(broker)
    wait_for(
        blocked_on_lock(worker.name, "UPDATE"),
        what="the hand-off waiting to mark merchant 2's boletos queued",
        processes=[worker],
    )
    assert private_redis.client().llen("celery") == 2  # merchant 1's sends, not yet run

    # --- The outage ---------------------------------------------------------------------
    private_redis.kill()
    lock_session.rollback()
    wait_for(
        lambda: task_succeeded(worker, HAND_OFF) == 1,
        what="the hand-off to finish with the broker down",
        processes=[worker],
    )
    assert worker.output().count(f"could not queue {SEND}") == 2  # merchant 2's sends
    assert set(boletos.values_list("delivery_status", flat=True)) == {"queued"}

    connects = worker.output().count("Connected to redis://")
    private_redis.start()
    wait_for(
        lambda: worker.output().count("Connected to redis://") > connects,
        what="the worker to reconnect to the restarted redis-server",
        processes=[worker],
    )
    assert private_redis.client().llen("celery") == 0
    assert set(boletos.values_list("delivery_status", flat=True)) == {"queued"}
    assert not esp_log.exists()

    # STUCK_QUEUED_AFTER later, beat's sweep runs:
    shift = STUCK_QUEUED_AFTER + timedelta(minutes=1)
    Boleto.objects.update(
        issued_at=F("issued_at") - shift,
        handed_off_at=F("handed_off_at") - shift,
        updated_at=F("updated_at") - shift,
    )
    publish(delivery_sweep_task, broker)
    wait_for(
        lambda: boletos.filter(delivery_status="sent").count() == len(ids),
        what="every boleto sent after the sweep",
        processes=[worker],
    )
    publish(delivery_sweep_task, broker)
    wait_for(lambda: task_succeeded(worker, SWEEP) == 2, what="two sweeps", processes=[worker])
    assert "'requeued': 4," in worker.output() and "'requeued': 0," in worker.output()
    assert private_redis.client().llen("celery") == 0

    assert esp_sends(esp_log) == dict.fromkeys(ids, 1)
    emails = list(OutboundEmail.objects.values_list("boleto_id", "attempt", "send_status"))
    assert sorted(emails) == sorted((pk, 1, "sent") for pk in ids)
