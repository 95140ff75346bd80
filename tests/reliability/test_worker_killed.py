"""A Celery worker killed with SIGKILL in the middle of a send: every boleto is still emailed,
exactly once, by the broker handing the unfinished task out again (acks_late, and a visibility
timeout shortened here to seconds) — not by the delivery sweeper an hour later."""

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Boleto
from notifications.models import OutboundEmail
from notifications.tasks import boleto_send_task
from schedules.generator import installments_issue_due
from tests.factories import CustomerFactory, MerchantFactory, ScheduleFactory
from tests.reliability.conftest import blocked_on_lock, esp_sends, publish, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 5  # seconds; production uses 15 minutes (portal/settings/base.py)


def queued_boletos(monkeypatch, count: int = 6) -> tuple[int, list[int]]:
    """``count`` boletos of one merchant, issued and marked queued (their hand-off is not under
    test: this process would run it eagerly); returns the merchant id and the boleto ids."""
    merchant = MerchantFactory()
    first_due = timezone.localdate() + timedelta(days=3)
    for _ in range(count):
        ScheduleFactory(
            merchant=merchant, customer=CustomerFactory(merchant=merchant), first_due_date=first_due
        )
    monkeypatch.setattr("notifications.delivery.delivery_hand_off_on_commit", lambda batch: None)
    installments_issue_due()
    boletos = Boleto.objects.filter(merchant=merchant, status="issued")
    boletos.update(delivery_status="queued", handed_off_at=timezone.now())
    ids = sorted(boletos.values_list("pk", flat=True))
    assert len(ids) == count
    return merchant.pk, ids


def test_pool_process_killed_mid_send_its_task_runs_again_at_once(
    private_redis, processes, lock_session, esp_log, monkeypatch
):
    """Property: when the pool process running a send dies (kill -9, the out-of-memory killer),
    its worker gives the task back to the broker at once (reject_on_worker_lost) and runs it
    again in a new pool process: every boleto emailed exactly once, with the production
    visibility timeout (15 min) and no sweeper, well within a minute."""
    merchant_id, ids = queued_boletos(monkeypatch)
    lock_session.execute(f"SELECT id FROM billing_boleto WHERE id = {ids[0]} FOR UPDATE")
    broker = private_redis.url
    for boleto_id in ids:
        publish(boleto_send_task, broker, merchant_id=merchant_id, boleto_id=boleto_id)
    worker = processes.worker(broker, pool="prefork")
    wait_for(
        blocked_on_lock(worker.name, 'SELECT "billing_boleto"."id"'),
        what="the pool process's first send waiting for the boleto's row",
        processes=[worker],
    )
    (child,) = worker.children()
    os.kill(child, signal.SIGKILL)
    lock_session.rollback()
    boletos = Boleto.objects.filter(pk__in=ids)
    wait_for(
        lambda: boletos.filter(delivery_status="sent").count() == len(ids),
        what="every boleto sent by the worker's new pool process",
        timeout=60,
        processes=[worker],
    )
    assert "WorkerLostError" in worker.output()
    assert "Task notifications.tasks.delivery_sweep_task[" not in worker.output()
    assert esp_sends(esp_log) == dict.fromkeys(ids, 1)
    emails = sorted(OutboundEmail.objects.values_list("boleto_id", "attempt"))
    assert emails == [(pk, 1) for pk in ids]


def test_worker_killed_mid_send_every_boleto_sent_once_without_the_sweeper(
    private_redis, processes, lock_session, esp_log, monkeypatch
):
    """Property: with a worker killed (kill -9) while it runs a send, the send it was running
    and the messages it had reserved are handed out again by the broker, and every boleto is
    emailed exactly once, with no sweeper run.

    A prefork worker (one pool process, as in production): the parent acknowledges a task
    when its pool process starts it, unless the task is acks_late. The test holds the first
    boleto's row, so the worker's first send waits on it (mid-task, the email not yet sent).
    The worker and its pool process are killed, the row released, and a new worker started: it
    takes the messages still queued at once, and the send the killed worker was running (not
    acknowledged: acks_late) once the visibility timeout has passed."""
    merchant_id, ids = queued_boletos(monkeypatch)
    boletos = Boleto.objects.filter(pk__in=ids)
    held = ids[0]
    lock_session.execute(f"SELECT id FROM billing_boleto WHERE id = {held} FOR UPDATE")
    broker = private_redis.url
    for boleto_id in ids:
        publish(boleto_send_task, broker, merchant_id=merchant_id, boleto_id=boleto_id)

    env = {"CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT, "RELIABILITY_FAST_RESTORE": "true"}
    worker = processes.worker(broker, pool="prefork", **env)
    wait_for(
        # (the statement text is cut at track_activity_query_size: its start identifies it)
        blocked_on_lock(worker.name, 'SELECT "billing_boleto"."id"'),
        what="the worker's first send waiting for the boleto's row",
        processes=[worker],
    )
    assert worker.children()  # the pool process running the send
    worker.kill_all()
    lock_session.rollback()
    assert not esp_log.exists()  # nothing was sent before the kill

    replacement = processes.worker(broker, **env)
    wait_for(
        lambda: boletos.filter(delivery_status="sent").count() == len(ids),
        what="every boleto sent by the replacement worker",
        timeout=60,
        processes=[replacement],
    )
    assert "Task notifications.tasks.delivery_sweep_task[" not in replacement.output()
    assert esp_sends(esp_log) == dict.fromkeys(ids, 1)
    emails = sorted(OutboundEmail.objects.values_list("boleto_id", "attempt"))
    assert emails == [(pk, 1) for pk in ids]
