"""Redis stopped while installments are issued and handed off: nothing is lost, nothing is sent
twice. Each test runs its own redis-server (no persistence: a stopped broker loses the messages it
held) and a real Celery worker; the stand-in ESP (esp.py) records every email it accepts."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from billing.models import Boleto
from billing.registration import LOST_REGISTRATION_AFTER
from billing.tasks import registrations_sweep_task
from notifications.delivery import STUCK_PENDING_AFTER
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
REGISTER = "billing.tasks.registration_request_task"
REGISTRATION_SWEEP = "billing.tasks.registrations_sweep_task"
HAND_OFF = "notifications.tasks.delivery_hand_off_batch_task"


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
    installment is still committed and stays visibly ``pending`` (not registered, not sent);
    once Redis is back (empty), the worker reconnects by itself and the registration sweeper
    takes every stranded boleto to the (test) bank, whose confirmation hands it to delivery,
    so each one is emailed exactly once by us — none lost, none twice.

    The worker runs the beat's generator task in batches of 2: [m1 m1] [m1 m2] [m2 m2]. The
    test holds merchant 2's row, so the worker waits in the COMMIT of batch 2; meanwhile batch
    1's registration message sits on the broker. Then redis-server is killed (no persistence:
    that message is lost with it, as in a broker crash) and the lock released: batches 2 and 3
    commit and their after-commit registration requests fail to publish (portal/queue.py).
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
    assert private_redis.client().llen("celery") == 1  # batch 1's registration, not consumed

    # --- The outage ---------------------------------------------------------------------
    private_redis.kill()
    lock_session.rollback()
    wait_for(
        lambda: task_succeeded(worker, GENERATOR) == 1,
        what="the generator task to finish with the broker down",
        processes=[worker],
    )
    assert worker.output().count(f"could not queue {REGISTER}") == 2  # batches 2 and 3
    boletos = Boleto.objects.filter(schedule__in=schedules)
    assert sorted(boletos.values_list("schedule_id", "sequence", "status")) == sorted(
        (s.pk, 1, "issued") for s in schedules
    )
    # Committed, and visibly waiting: "Aguardando registro", never handed off.
    assert set(
        boletos.values_list("bank__registration_status", "delivery_status", "handed_off_at")
    ) == {("pending", "pending", None)}

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

    # LOST_REGISTRATION_AFTER later, beat's registration sweep runs: the test bank registers
    # them, and its confirmation hands them to delivery.
    Boleto.objects.update(issued_at=F("issued_at") - LOST_REGISTRATION_AFTER - timedelta(minutes=1))
    publish(registrations_sweep_task, broker)
    ids = set(boletos.values_list("pk", flat=True))
    wait_for(
        lambda: boletos.filter(delivery_status="sent").count() == len(ids),
        what="every boleto registered and sent after the registration sweep",
        processes=[worker],
    )
    assert set(boletos.values_list("bank__registration_status", flat=True)) == {"registered"}
    # Sweeping again finds nothing to register nor to hand off; then the queue is drained.
    publish(registrations_sweep_task, broker)
    publish(delivery_sweep_task, broker)
    wait_for(
        lambda: (
            task_succeeded(worker, REGISTRATION_SWEEP) == 2 and task_succeeded(worker, SWEEP) == 1
        ),
        what="two registration sweeps and a delivery sweep",
        processes=[worker],
    )
    assert "'handed_off': 0," in worker.output()
    assert private_redis.client().llen("celery") == 0

    assert esp_sends(esp_log) == dict.fromkeys(ids, 1)
    emails = list(OutboundEmail.objects.values_list("boleto_id", "attempt", "send_status"))
    assert sorted(emails) == sorted((pk, 1, "sent") for pk in ids)


def test_hand_offs_lost_with_redis_are_recovered_by_the_sweeper_and_sent_exactly_once(
    private_redis, processes, lock_session, esp_log
):
    """Property: boletos the bank has registered whose hand-off to delivery died with the
    broker, or could not be published while it was down, stay ``pending`` (registered, not
    sent) until the delivery sweeper hands them off after STUCK_PENDING_AFTER, and each is
    emailed exactly once — none lost, none twice.

    One generator batch issues 2 boletos for merchant 1 and 2 for merchant 2; its single
    registration message reaches a real worker, which takes each merchant through the test
    bank in turn. The test holds the bank row of a boleto of merchant 2, so the worker
    registers merchant 1 (whose hand-off message then waits on the broker: the solo worker is
    busy) and blocks taking merchant 2 to the bank. redis-server is killed (merchant 1's
    hand-off is lost), the row released: merchant 2 registers and its hand-off fails to
    publish (logged).
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
    assert private_redis.client().llen("celery") == 1  # the batch's registration request

    held = boletos.filter(merchant=m2).order_by("pk").first()
    # Its bank row: the registration writes the bank state there (billing_boletobank).
    lock_session.execute(
        f"SELECT boleto_id FROM billing_boletobank WHERE boleto_id = {held.pk} FOR UPDATE"
    )
    worker = processes.worker(broker)
    wait_for(
        lambda: (
            boletos.filter(merchant=m1, bank__registration_status="registered").count() == 2
            and private_redis.client().llen("celery") == 1
        ),
        what="merchant 1 registered, its hand-off waiting on the broker",
        processes=[worker],
    )
    assert not boletos.filter(merchant=m2, bank__registration_status="registered").exists()

    # --- The outage ---------------------------------------------------------------------
    private_redis.kill()
    lock_session.rollback()
    wait_for(
        lambda: task_succeeded(worker, REGISTER) == 1,
        what="the registration to finish with the broker down",
        processes=[worker],
    )
    assert worker.output().count(f"could not queue {HAND_OFF}") == 1  # merchant 2's hand-off
    assert set(boletos.values_list("bank__registration_status", "delivery_status")) == {
        ("registered", "pending")
    }

    connects = worker.output().count("Connected to redis://")
    private_redis.start()
    wait_for(
        lambda: worker.output().count("Connected to redis://") > connects,
        what="the worker to reconnect to the restarted redis-server",
        processes=[worker],
    )
    assert private_redis.client().llen("celery") == 0
    assert not esp_log.exists()

    # STUCK_PENDING_AFTER later, beat's delivery sweep runs:
    Boleto.objects.update(issued_at=F("issued_at") - STUCK_PENDING_AFTER - timedelta(minutes=1))
    publish(delivery_sweep_task, broker)
    wait_for(
        lambda: boletos.filter(delivery_status="sent").count() == len(ids),
        what="every boleto sent after the sweep",
        processes=[worker],
    )
    publish(delivery_sweep_task, broker)
    wait_for(lambda: task_succeeded(worker, SWEEP) == 2, what="two sweeps", processes=[worker])
    assert "'handed_off': 4," in worker.output() and "'handed_off': 0," in worker.output()
    assert private_redis.client().llen("celery") == 0

    assert esp_sends(esp_log) == dict.fromkeys(ids, 1)
    emails = list(OutboundEmail.objects.values_list("boleto_id", "attempt", "send_status"))
    assert sorted(emails) == sorted((pk, 1, "sent") for pk in ids)
