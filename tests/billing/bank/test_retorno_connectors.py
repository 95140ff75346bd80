"""billing.connectors: which connector a merchant's collection channel gets, and the
beneficiary the files' headers carry."""

import pytest
from django.core.exceptions import ValidationError

from billing.connectors import (
    BankConnector,
    Capability,
    CnabFileConnector,
    TestBankConnector,
    connector_for,
    remessa_account,
)
from billing.models import BankCollection
from billing.services import bank_collection_get

pytestmark = pytest.mark.django_db


def test_test_bank_by_default(merchant):
    collection = bank_collection_get(merchant=merchant)
    connector = connector_for(merchant=merchant, collection=collection)
    assert isinstance(connector, TestBankConnector)
    assert connector.capabilities >= {Capability.REGISTER_BY_FILE, Capability.INSTANT}
    account = remessa_account(merchant=merchant, collection=collection)
    assert (account.bank_code, account.document, account.agency, account.account) == (
        "999",
        merchant.cnpj,
        merchant.agency,
        merchant.account,
    )


@pytest.mark.parametrize(
    ("bank", "channel", "layout"),
    [("001", "cnab240", "cnab240"), ("033", "cnab240", "cnab240"), ("237", "cnab400", "cnab400")],
)
def test_file_channels(merchant, bank, channel, layout):
    merchant.bank_code = bank
    collection = bank_collection_get(merchant=merchant)
    collection.channel = channel
    collection.company_code = "4466911"
    connector = connector_for(merchant=merchant, collection=collection)
    assert isinstance(connector, CnabFileConnector)
    assert not isinstance(connector, TestBankConnector)
    assert (connector.code, connector.layout) == (bank, layout)
    assert not connector.can(Capability.INSTANT)
    account = remessa_account(merchant=merchant, collection=collection)
    assert account.bank_code == bank
    assert account.company_code == "4466911"
    assert account.bank_name


def test_a_channel_the_bank_does_not_take(merchant):
    merchant.bank_code = "237"
    collection = BankCollection(merchant=merchant, channel="cnab240")
    with pytest.raises(ValidationError) as info:
        connector_for(merchant=merchant, collection=collection)
    assert "237" in info.value.messages[0]


def test_api_operations_are_declared_not_implemented(merchant):
    connector: BankConnector = TestBankConnector()
    with pytest.raises(NotImplementedError):
        connector.register(account=None, titles=[])
    with pytest.raises(NotImplementedError):
        connector.parse_webhook(headers={}, body=b"")


def test_bank_collection_get_is_one_row_per_merchant(merchant):
    first = bank_collection_get(merchant=merchant)
    BankCollection.objects.filter(pk=first.pk).delete()
    again = bank_collection_get(merchant=merchant)
    assert bank_collection_get(merchant=merchant).pk == again.pk
    assert BankCollection.objects.filter(merchant=merchant).count() == 1
