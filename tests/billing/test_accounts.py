"""billing.accounts: the bank rules portal asks about through portal.signals, and the nosso
número sequence a new merchant gets; portal itself imports nothing from billing."""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from billing.accounts import bank_account_errors
from billing.nosso_numero_allocation import sequence_name
from portal.signals import merchant_account_errors
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_a_new_merchant_gets_its_nosso_numero_sequence():
    merchant = MerchantFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [sequence_name(merchant.pk)])
        assert cursor.fetchone()[0] == sequence_name(merchant.pk)
        cursor.execute(f"SELECT nextval('{sequence_name(merchant.pk)}')")
        assert cursor.fetchone()[0] == 1
    merchant.save()  # saving again changes nothing
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval('{sequence_name(merchant.pk)}')")
        assert cursor.fetchone()[0] == 2


def test_portal_asks_billing_for_the_bank_rules(merchant):
    itau = {**merchant.account_snapshot(), "bank_code": "341", "wallet": "198"}
    errors = merchant_account_errors(itau)
    assert errors == bank_account_errors(account=itau)
    assert "layout especial" in errors["wallet"]
    assert merchant_account_errors(merchant.account_snapshot()) == {}


def test_merchant_clean_applies_the_bank_rules(merchant):
    merchant.full_clean()
    merchant.bank_code, merchant.agency, merchant.account, merchant.wallet = "237", "1", "1", "109"
    with pytest.raises(ValidationError) as info:
        merchant.full_clean()
    assert any("Carteira inválido: 109 tem mais de 2 dígitos" in m for m in info.value.messages)


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


# The composition root (urls, settings, celery, the dashboard: see
# tests/portal/test_import_direction.py) and the demo seed command may import any app.
COMPOSITION_ROOT = {"urls.py", "celery.py", "dashboard.py"}


def test_portal_does_not_import_billing():
    offenders = []
    for path in sorted((ROOT / "portal").rglob("*.py")):
        relative = path.relative_to(ROOT / "portal")
        if relative.parts[0] in ("settings", "migrations", "management"):
            continue
        if str(relative) in COMPOSITION_ROOT:
            continue
        imported = _imported_modules(path)
        offenders += [f"{relative}: {m}" for m in imported if m.split(".")[0] == "billing"]
    assert offenders == []
