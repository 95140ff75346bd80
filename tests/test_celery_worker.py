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


def _start_worker(settings, *, concurrency: int = 1, **extra_env):
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
        **extra_env,
    }
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork"]
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
            str(concurrency),
            *pool,
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return broker, proc


def _stop_worker(proc) -> str:
    proc.terminate()
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    print(output[-4000:])
    return output


@pytest.fixture
def worker_broker(settings):
    broker, proc = _start_worker(settings)
    try:
        yield broker
    finally:
        output = _stop_worker(proc)
    # The worker's own log proves the work ran there, not eagerly in this process.
    assert "issue_due_installments_task" in output


def _publish(task, broker, **kwargs):
    from portal.celery import app

    # Publish for real (the test process itself runs with eager tasks by default).
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(broker) as conn:
            task.apply_async(kwargs=kwargs, connection=conn)
    finally:
        app.conf.task_always_eager = True


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_worker_on_redis_issues_the_installment_and_hands_it_off(worker_broker):
    schedule = ScheduleFactory(first_due_date=timezone.localdate() + timedelta(days=5))
    assert not Boleto.objects.exists()

    _publish(issue_due_installments_task, worker_broker)

    assert wait_for(lambda: Boleto.objects.filter(schedule=schedule).exists())
    boleto = Boleto.objects.get(schedule=schedule)
    assert boleto.status == Boleto.Status.ISSUED
    assert boleto.sequence == 1
    # The worker committed the batch, then published its registration through Redis and ran
    # it (the test bank answers at once), whose confirmation published the hand-off, run too:
    # queued, or already sent (the send follows within a poll interval).
    assert wait_for(
        lambda: Boleto.objects.filter(
            pk=boleto.pk,
            bank__registration_status="registered",
            delivery_status__in=["queued", "sent"],
        ).exists()
    )
    assert Boleto.objects.count() == 1
    # …which queued the PDF rendering, done and stored by the worker too.
    assert wait_for(lambda: Boleto.objects.exclude(pdf="").filter(pk=boleto.pk).exists())
    boleto.refresh_from_db()
    with boleto.pdf.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"


def test_beat_job_fans_out_to_parallel_worker_processes_and_issues_each_installment_once(
    settings,
):
    """More than one batch due: the beat job queues extra generator runs, two worker processes
    run them at once, and every installment is issued exactly once."""
    due = timezone.localdate() + timedelta(days=5)
    schedules = [ScheduleFactory(first_due_date=due) for _ in range(12)]
    broker, proc = _start_worker(
        settings, concurrency=2, GENERATOR_BATCH_SIZE="2", GENERATOR_PARALLELISM="2"
    )
    try:
        _publish(issue_due_installments_task, broker)
        assert wait_for(lambda: Boleto.objects.count() >= len(schedules))
        time.sleep(1)  # let any straggling run finish: it must find nothing more to issue
    finally:
        output = _stop_worker(proc)
    issued = list(Boleto.objects.values_list("schedule_id", "sequence"))
    assert sorted(issued) == sorted((s.pk, 1) for s in schedules)
    # The beat run plus one helper run, each logged by the worker as received.
    assert output.count("schedules.tasks.issue_due_installments_task[") >= 4  # 2 received + 2 done
    assert output.count("Task schedules.tasks.issue_due_installments_task[") >= 2


def test_worker_keeps_its_connection_and_survives_a_database_restart(worker_broker):
    """The worker reuses its database connection across tasks (CELERY_DB_REUSE_MAX); when
    PostgreSQL drops it (a restart, a failover), the next task still runs: the connection is
    health-checked before each task (portal/celery.py) and replaced."""
    first = ScheduleFactory(first_due_date=timezone.localdate() + timedelta(days=5))
    _publish(issue_due_installments_task, worker_broker)
    assert wait_for(lambda: Boleto.objects.filter(schedule=first).exists())

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchall(), "the worker should have kept a connection open"

    second = ScheduleFactory(first_due_date=timezone.localdate() + timedelta(days=5))
    _publish(issue_due_installments_task, worker_broker)
    assert wait_for(lambda: Boleto.objects.filter(schedule=second).exists())
