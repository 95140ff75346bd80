"""Two workers at once on PostgreSQL: the same retorno (two uploads, the inbox and an upload)
is stored once and applied once; two different files carrying the same fact apply it once."""

import threading

import pytest
from django.db import connections

from billing.models import BankOccurrence, Boleto, Retorno
from tests.billing.bank.retorno_helpers import import_file, issue_boletos, retorno_file, title
from tests.factories import MerchantFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _at_once(merchant, payloads):
    barrier = threading.Barrier(len(payloads))
    results, errors = [], []

    def worker(data):
        try:
            barrier.wait()
            results.append(import_file(merchant, data))
        except Exception as exc:  # pragma: no cover - surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(data,)) for data in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    return results


def test_same_file_twice_at_once_is_applied_once():
    merchant = MerchantFactory()
    b = issue_boletos(merchant, 40)
    data = retorno_file(merchant, [title(x, "06") for x in b[:30]] + [title(b[30], "02")])

    results = _at_once(merchant, [data, data])

    assert len(results) == 2
    assert {r.pk for r in results} == {Retorno.objects.get().pk}
    assert sorted(r.already_imported for r in results) == [False, True]
    assert all(r.summary["paid"] == 30 for r in results)
    assert BankOccurrence.objects.count() == 31
    assert Boleto.objects.filter(bank__payment_status="paid").count() == 30
    assert Boleto.objects.filter(bank__registration_status="registered").count() == 31


def test_two_files_with_the_same_fact_at_once_apply_it_once():
    merchant = MerchantFactory()
    b = issue_boletos(merchant, 20)
    one = retorno_file(merchant, [title(x, "06") for x in b], nsa=1)
    two = retorno_file(merchant, [title(x, "06") for x in b], nsa=2)
    assert one != two

    results = _at_once(merchant, [one, two])

    assert Retorno.objects.count() == 2
    assert sorted(r.summary["paid"] for r in results) == [0, 20]
    assert sorted(r.summary["duplicates"] for r in results) == [0, 20]
    assert BankOccurrence.objects.filter(outcome="applied").count() == 20
    assert Boleto.objects.filter(bank__payment_status="paid").count() == 20
