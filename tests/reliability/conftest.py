"""Real processes for the reliability suite: a private redis-server, Celery workers and generator
runs against the test PostgreSQL database, a second database session that holds locks, and the
stand-in ESP's record of what was sent.

Everything started here is stopped at teardown, by its own process id. The shared Redis on 6379
is never touched: each test gets its own redis-server on a free port.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
WORKER_SETTINGS = "tests.reliability.worker_settings"
# Generous: the machine is shared; these bound a wait, they are never the thing asserted.
TIMEOUT = 90.0


def wait_for(predicate, *, what: str, timeout: float = TIMEOUT, processes=()):
    """Poll ``predicate`` until it is truthy; fail early if a process we rely on has died."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for process in processes:
            if not process.alive():
                pytest.fail(f"{process} exited while waiting for {what}:\n{process.output()}")
        if time.monotonic() > deadline:
            details = "\n".join(f"{p}:\n{p.output()[-3000:]}" for p in processes)
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{details}")
        time.sleep(0.1)


def database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def backend(app_name: str) -> dict | None:
    """The PostgreSQL session of a process started with ``PGAPPNAME=app_name`` (None if gone)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            [app_name],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(("pid", "state", "wait_event_type", "query"), row, strict=True))


def blocked_on_lock(app_name: str, statement: str):
    """A predicate: the process's session waits for a lock while running ``statement``."""

    def predicate():
        session = backend(app_name)
        return (
            session is not None
            and session["wait_event_type"] == "Lock"
            and statement in session["query"]
        )

    return predicate


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A child process whose output goes to a file the test can read while it runs."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name = name
        self.log = log
        self._file = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._file, stderr=subprocess.STDOUT
        )

    def __str__(self) -> str:
        return f"{self.name} (pid {self.popen.pid})"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no after-commit hooks, no goodbye to the database or broker."""
        if self.alive():
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def children(self) -> list[int]:
        """Process ids whose parent is this process (a prefork worker's pool processes)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.popen.pid:
                found.append(int(entry.name))
        return found

    def kill_all(self) -> None:
        """SIGKILL the process and its pool processes at once: a whole worker gone."""
        children = self.children()
        self.kill()
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 30) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._file.close()


class PrivateRedis:
    """A redis-server of our own on a free port, without persistence: stopping it loses every
    message it holds, as a crashed broker does."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.directory = directory
        self.process: Process | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [
            shutil.which("redis-server") or "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            *("--dir", str(self.directory)),
        ]
        self.process = Process(
            f"redis-server :{self.port}", argv, dict(os.environ), self.directory / "redis.log"
        )
        wait_for(self.ping, what=f"redis-server on port {self.port}", processes=[self.process])

    def kill(self) -> None:
        self.process.kill()
        self.process.stop()

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def ping(self) -> bool:
        import redis

        try:
            return self.client().ping()
        except redis.RedisError:
            return False


@pytest.fixture
def private_redis(tmp_path):
    if not shutil.which("redis-server"):
        message = "needs redis-server on PATH (apt-get install redis-server)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.process is not None:
        server.process.kill()
        server.process.stop()


@pytest.fixture
def esp_log(tmp_path) -> Path:
    return tmp_path / "esp.jsonl"


def esp_sends(path: Path) -> Counter:
    """How many emails the stand-in ESP accepted, per boleto id."""
    if not path.exists():
        return Counter()
    lines = path.read_text().splitlines()
    return Counter(json.loads(line)["boleto_id"] for line in lines if line.strip())


@pytest.fixture
def processes(tmp_path, esp_log):
    """Start workers and generator runs; every one is stopped at teardown, and any database
    session a killed one left behind is ended so the test database can be flushed."""
    started: list[Process] = []
    app_names: list[str] = []

    class Launcher:
        def env(self, broker: str, app_name: str, **extra) -> dict:
            app_names.append(app_name)
            return {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS,
                "DATABASE_URL": database_url(),
                "CELERY_BROKER_URL": broker,
                # Anything else that would reach for Redis gets the private server too.
                "REDIS_URL": broker,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "RELIABILITY_ESP_LOG": str(esp_log),
                "PGAPPNAME": app_name,
                # PostgreSQL's default, stated because the crash test relies on it: the session
                # of a killed process only notices when it next talks to its client.
                "PGOPTIONS": "-c client_connection_check_interval=0",
                **{key: str(value) for key, value in extra.items()},
            }

        def worker(self, broker: str, *, pool: str = "solo", **extra) -> Process:
            name = f"reliability-worker-{uuid.uuid4().hex[:8]}"
            argv = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "-l",
                "info",
                "--pool",
                pool,
                "--concurrency",
                "1",
                "--without-mingle",
                "-n",
                f"{name}@%h",
            ]
            process = Process(name, argv, self.env(broker, name, **extra), tmp_path / f"{name}.log")
            started.append(process)
            wait_for(
                lambda: " ready." in process.output(), what=f"{name} ready", processes=[process]
            )
            return process

        def generator(self, broker: str, today, **extra) -> Process:
            name = f"reliability-generator-{uuid.uuid4().hex[:8]}"
            argv = [sys.executable, "-m", "tests.reliability.run_generator", today.isoformat()]
            process = Process(name, argv, self.env(broker, name, **extra), tmp_path / f"{name}.log")
            started.append(process)
            return process

    yield Launcher()

    for process in started:
        process.stop()
    deadline = time.monotonic() + 30
    while any(backend(name) for name in app_names) and time.monotonic() < deadline:
        time.sleep(0.1)
    with connection.cursor() as cursor:
        for name in app_names:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [name],
            )


@pytest.fixture
def lock_session():
    """A second database session, for holding row and sequence locks that block a process."""
    import psycopg

    session = psycopg.connect(database_url())
    yield session
    session.rollback()
    session.close()


def publish(task, broker: str, **kwargs) -> None:
    """Publish a task to a private broker (the test process itself runs tasks eagerly)."""
    from portal.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(broker) as conn:
            task.apply_async(kwargs=kwargs, connection=conn)
    finally:
        app.conf.task_always_eager = eager


def task_succeeded(worker: Process, task_name: str) -> int:
    """How many runs of ``task_name`` the worker has logged as finished successfully."""
    return sum(
        1
        for line in worker.output().splitlines()
        if f"Task {task_name}[" in line and "] succeeded in " in line
    )
