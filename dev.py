#!/usr/bin/env python3
"""One command to run the portal, one to run the tests, on a machine with only Python 3.11.

    python3 dev.py start     # set up (.venv, packages, translations, database, demo data) and run
                             # web + Celery worker + Celery beat; Ctrl-C stops all three
    python3 dev.py test      # set up, then run the test suite (extra arguments go to pytest)
    python3 dev.py setup     # only set up

Embedded defaults: SQLite (var/portal.sqlite3), kombu's filesystem broker (var/broker), email
written to files (var/mail). DATABASE_URL and REDIS_URL (or CELERY_BROKER_URL) switch to
PostgreSQL and Redis.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
STAMP = VENV / ".installed-pyproject-sha256"


def log(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*args: str, **kwargs) -> None:
    subprocess.run(args, cwd=ROOT, check=True, **kwargs)


def ensure_venv() -> None:
    if sys.version_info[:2] < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 is
        sys.exit("Python 3.11 or newer is required.")
    if not PY.exists():
        log("creating .venv")
        run(sys.executable, "-m", "venv", str(VENV))
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        log("installing packages (first run takes a minute)")
        run(str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(str(PY), "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(wanted)


def compile_translations() -> None:
    """Compile locale/*/LC_MESSAGES/*.po with Babel (no GNU gettext needed)."""
    code = (
        "import pathlib\n"
        "from babel.messages.pofile import read_po\n"
        "from babel.messages.mofile import write_mo\n"
        "for po in pathlib.Path('locale').glob('*/LC_MESSAGES/*.po'):\n"
        "    mo = po.with_suffix('.mo')\n"
        "    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:\n"
        "        continue\n"
        "    with po.open('rb') as f:\n"
        "        catalog = read_po(f)\n"
        "    with mo.open('wb') as f:\n"
        "        write_mo(f, catalog)\n"
    )
    run(str(PY), "-c", code)


def manage(*args: str, env=None) -> None:
    run(str(PY), "manage.py", *args, env=env)


def setup(env) -> None:
    ensure_venv()
    compile_translations()
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("seed_demo", env=env)


def start(argv: list[str]) -> int:
    port = argv[0] if argv else os.environ.get("PORT", "8000")
    env = {
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",  # links in alert emails
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
    }
    setup(env)
    celery = str(VENV / "bin" / "celery")
    var = ROOT / "var"
    processes = {
        "web": [str(PY), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        "worker": [
            celery,
            "-A",
            "portal",
            "worker",
            "-l",
            "info",
            "--concurrency",
            "1",
            "-n",
            "worker@%h",
        ],
        "beat": [
            celery,
            "-A",
            "portal",
            "beat",
            "-l",
            "info",
            "-s",
            str(var / "celerybeat-schedule"),
        ],
    }
    children = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in processes.items()}
    time.sleep(2)
    from_demo = "demo / demo-boletos-2026 (outra / outra-boletos-2026 is a second merchant)"
    log(f"portal running at http://127.0.0.1:{port}/  login: {from_demo}")
    log(f"emails are written to {var / 'mail'}; staff admin at /admin/ (createsuperuser)")
    log("Ctrl-C stops web, worker and beat")

    def stop(*_):
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in children.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        while True:
            for name, proc in children.items():
                if proc.poll() is not None:
                    log(f"{name} exited with status {proc.returncode}; stopping")
                    stop()
                    return proc.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        stop()
    return 0


def test(argv: list[str]) -> int:
    ensure_venv()
    compile_translations()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    return subprocess.run([str(PY), "-m", "pytest", *argv], cwd=ROOT, env=env).returncode


def main() -> int:
    command, *rest = sys.argv[1:] or ["start"]
    if command == "start":
        return start(rest)
    if command == "test":
        return test(rest)
    if command == "setup":
        setup({**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.dev"})
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
