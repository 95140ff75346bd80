import threading

import pytest
from django.db import connection, connections

from billing import nosso_numero_allocation
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def test_allocates_ascending_unique_numbers_per_merchant(merchant, other_merchant):
    first = nosso_numero_allocation.allocate({merchant.pk: 3, other_merchant.pk: 2})
    second = nosso_numero_allocation.allocate({merchant.pk: 2})
    mine = first[merchant.pk] + second[merchant.pk]
    assert mine == sorted(mine)
    assert len(set(mine)) == 5
    assert len(first[other_merchant.pk]) == 2
    assert nosso_numero_allocation.allocate({}) == {}


@pytest.mark.postgres
def test_merchant_without_sequence_gets_one_on_first_use(merchant):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SEQUENCE {nosso_numero_allocation.sequence_name(merchant.pk)}")
    assert nosso_numero_allocation.allocate({merchant.pk: 2})[merchant.pk] == [1, 2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_never_repeat_and_never_wait():
    merchant = MerchantFactory()
    results: list[list[int]] = []
    barrier = threading.Barrier(4)
    lock = threading.Lock()

    def worker():
        from django.db import transaction

        try:
            barrier.wait()
            for _ in range(25):
                # Each allocation inside a long-lived open transaction: a row-lock counter
                # would serialise these; a sequence does not.
                with transaction.atomic():
                    values = nosso_numero_allocation.allocate({merchant.pk: 4})[merchant.pk]
                    with lock:
                        results.append(values)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    flat = [v for values in results for v in values]
    assert len(flat) == 4 * 25 * 4
    assert len(set(flat)) == len(flat)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_allocation_does_not_block_behind_an_open_transaction():
    """A generator holding its batch transaction open does not make another one wait."""
    from django.db import transaction

    merchant = MerchantFactory()
    got: list[int] = []
    with transaction.atomic():
        nosso_numero_allocation.allocate({merchant.pk: 1})

        def other():
            try:
                got.extend(nosso_numero_allocation.allocate({merchant.pk: 1})[merchant.pk])
            finally:
                connections.close_all()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "allocation waited for another open transaction"
    assert len(got) == 1
