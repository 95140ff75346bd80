"""A fresh clone runs its tests with nothing beside it (no ``../shared``): the vectors the tests
read live in tests/data/ (PROVENANCE.md names their sources)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests import BOLETO_VECTORS, DATA, WEBHOOKS

ROOT = Path(__file__).resolve().parents[1]
# What a clone does not have: local state, build output, the virtualenv.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "var", "media", "staticfiles", "test-results", "__pycache__", "*.pyc", "*.mo"
)


def test_the_suite_collects_in_a_checkout_with_nothing_beside_it(tmp_path):
    checkout = tmp_path / "fresh" / "portal"
    shutil.copytree(ROOT, checkout, ignore=NOT_IN_A_CLONE)
    assert not (checkout.parent / "shared").exists()
    assert not (tmp_path / "shared").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "error" not in result.stdout.splitlines()[-1].lower(), result.stdout[-3000:]


def test_no_test_reads_outside_the_checkout():
    # Paths built from the test file's location up to (or above) the checkout's parent.
    outside = re.compile(
        r"parents\[[3-9]\]|ROOT\.parent\b|[\"']shared[\"']\s*/|/work/shared|\.\./shared"
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if outside.search(line) and path.name != "test_fresh_clone.py"
    ]
    assert offenders == []


def test_the_vectors_in_tests_data_name_their_sources():
    provenance = (DATA / "PROVENANCE.md").read_text()
    files = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file())
    assert "boleto_vectors.json" in files and "webhooks/EXPECTED.json" in files
    for name in files:
        if name != "PROVENANCE.md":
            assert f"`{name}`" in provenance or f"`{name.split('/')[0]}/`" in provenance, name
    # Each boleto vector keeps the public fixture it comes from.
    vectors = json.loads(BOLETO_VECTORS.read_text())
    assert all(item["source"] for item in vectors["vectors"])
    assert (WEBHOOKS / "INDEX.md").exists()
