"""A real Celery worker (not eager mode) on the Redis broker runs the generator task, and the
installment appears in PostgreSQL."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import Boleto
from schedules.tasks import issue_due_installments_task
from tests.factories import ScheduleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_broker(settings):
    """A worker process on a private Redis database, against the test database."""
    import redis

    broker = settings.REDIS_URL.rsplit("/", 1)[0] + "/14"
    redis.Redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-l",
            "info",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield broker
    finally:
        proc.terminate()
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        print(output[-4000:])
    # The worker's own log proves the work ran there, not eagerly in this process.
    assert "issue_due_installments_task" in output


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_worker_on_redis_issues_the_installment_and_hands_it_off(worker_broker):
    from portal.celery import app

    schedule = ScheduleFactory(first_due_date=timezone.localdate() + timedelta(days=5))
    assert not Boleto.objects.exists()

    # Publish for real (the test process itself runs with eager tasks by default).
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(worker_broker) as conn:
            issue_due_installments_task.apply_async(connection=conn)
    finally:
        app.conf.task_always_eager = True

    assert wait_for(lambda: Boleto.objects.filter(schedule=schedule).exists())
    boleto = Boleto.objects.get(schedule=schedule)
    assert boleto.status == Boleto.Status.ISSUED
    assert boleto.sequence == 1
    # The worker committed the batch, then published the hand-off through Redis and ran it.
    assert wait_for(lambda: Boleto.objects.filter(pk=boleto.pk, delivery_status="queued").exists())
    assert Boleto.objects.count() == 1
    # …which queued the PDF rendering, done and stored by the worker too.
    assert wait_for(lambda: Boleto.objects.exclude(pdf="").filter(pk=boleto.pk).exists())
    boleto.refresh_from_db()
    with boleto.pdf.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"
