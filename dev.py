#!/usr/bin/env python3
"""One command to run the portal, one to run the tests, on a machine with only Python 3.11.

    python3 dev.py start     # set up (.venv, packages, translations, database, demo data) and run
                             # web + Celery worker + Celery beat; Ctrl-C stops all three
    python3 dev.py test      # set up, then run the test suite (extra arguments go to pytest)
    python3 dev.py setup     # only set up
    python3 dev.py install   # only .venv from the lock and the translations (CI, git hooks)
    python3 dev.py lock      # re-resolve requirements/*.txt from pyproject.toml (pip-tools);
                             # e.g. `python3 dev.py lock --upgrade-package weasyprint`

Packages come from requirements/dev-lock.txt: exact versions with hashes, installed by plain pip
(`--require-hashes`), so every machine runs what CI tested. See README, "Dependencies".

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
REQUIREMENTS = ROOT / "requirements"
#: What .venv installs: the production lock plus the dev tools, pinned with hashes.
LOCK = REQUIREMENTS / "dev-lock.txt"
STAMP = VENV / ".installed-lock-sha256"
#: pip-tools, only for `dev.py lock`, in a venv of its own (it is no dependency of the project).
TOOLS_VENV = ROOT / ".venv-tools"
PIP_TOOLS = "pip-tools==7.6.2"


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
    wanted = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        log(f"installing packages from {LOCK.relative_to(ROOT)} (first run takes a minute)")
        # --require-hashes: every package, dependencies included, must be in the lock with its
        # hashes. --no-deps: the lock is the whole resolution, so pip installs exactly it and
        # resolves nothing (pip 23.2's resolver rejects a locked package that another one asks
        # for with an extra, weasyprint's fonttools[woff], as "not pinned" once the index has
        # a newer release); `pip check` then proves the set is complete and consistent. The
        # venv's own pip is enough (no unpinned `pip install --upgrade pip`).
        run(
            str(PY),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "-r",
            str(LOCK),
        )
        run(str(PY), "-m", "pip", "check")
        STAMP.write_text(wanted)


def lock(argv: list[str]) -> int:
    """Re-resolve the lock files from pyproject.toml with pip-tools.

    argv goes to dev-lock.txt's pip-compile: its existing pins are kept unless asked otherwise
    (`--upgrade-package NAME`, `--upgrade`), so after an edit of pyproject.toml only what the
    edit needs moves. lock.txt (the Docker image's) is then derived from it: resolved afresh
    with dev-lock.txt as constraint, which pins every package it can contain to the same version.
    """
    if sys.version_info[:2] != (3, 11):
        sys.exit("Lock with Python 3.11, the version of the Docker image and CI.")
    compile_ = TOOLS_VENV / "bin" / "pip-compile"
    if not compile_.exists():
        log(f"creating {TOOLS_VENV.name} with {PIP_TOOLS}")
        run(sys.executable, "-m", "venv", str(TOOLS_VENV))
        run(str(TOOLS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", PIP_TOOLS)
    options = [
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",  # pin pip/setuptools too if ever needed: --require-hashes wants all
        "--strip-extras",
        "--no-emit-index-url",  # no machine's mirror or wheel folder in the committed files
        "--no-emit-find-links",
    ]
    env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "python3 dev.py lock"}
    dev_lock, prod_lock = "requirements/dev-lock.txt", "requirements/lock.txt"
    log(f"resolving {dev_lock}")
    dev_args = [*options, *argv, "--extra", "dev", "-o", dev_lock]
    run(str(compile_), *dev_args, "pyproject.toml", env=env)
    log(f"resolving {prod_lock} (constrained by {dev_lock})")
    # Not argv: `--upgrade-package pytest` would add pytest to the production lock.
    dry_run = ["--dry-run"] if "--dry-run" in argv else []
    prod_args = [*options, *dry_run, "--upgrade", "-c", dev_lock, "-o", prod_lock]
    run(str(compile_), *prod_args, "pyproject.toml", env=env)
    return 0


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
    if command == "install":
        ensure_venv()
        compile_translations()
        return 0
    if command == "lock":
        return lock(rest)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
