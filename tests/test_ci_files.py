""".ci/run and .pre-commit-config.yaml: the static checks (ruff, models against migrations) run
before the suite in CI and on each commit, on the locked tools in .venv."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI_RUN = ROOT / ".ci" / "run"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"

CHECKS = (
    ".venv/bin/ruff check .",
    ".venv/bin/ruff format --check .",
    ".venv/bin/python manage.py makemigrations --check --dry-run",
)


def _commands(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_ci_installs_from_the_lock_then_checks_then_tests():
    commands = _commands(CI_RUN)
    order = [commands.index("python3 dev.py install")]
    order += [commands.index(check) for check in CHECKS]
    order.append(next(i for i, c in enumerate(commands) if c.startswith("python3 dev.py test")))
    assert order == sorted(order), order
    assert "set -euo pipefail" in commands  # a failing check stops the run


def test_ci_script_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(CI_RUN)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_pre_commit_config_is_valid():
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(PRE_COMMIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_runs_the_ci_checks_on_the_locked_tools():
    text = PRE_COMMIT.read_text()
    repos = re.findall(r"^\s*-\s*repo:\s*(\S+)", text, re.MULTILINE)
    assert repos == ["local"], repos  # nothing fetched, versions from the lock
    entries = re.findall(r"^\s*entry:\s*(.+?)\s*$", text, re.MULTILINE)
    assert any(e.startswith(".venv/bin/ruff check") for e in entries), entries
    assert any(e.startswith(".venv/bin/ruff format") for e in entries), entries
    assert CHECKS[2] in entries, entries
