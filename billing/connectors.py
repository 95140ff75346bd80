"""How the portal talks to a merchant's bank: one interface, one implementation per channel.

A `BankConnector` declares what it can do (`Capability`) and does the pure part of the work:
write a remessa, read a retorno, recognise our nosso número in a bank file. It never touches the
database: billing.remessas and billing.retornos load and store, the connector translates.

Today every channel is a CNAB file (`CnabFileConnector`, CNAB 240 or 400 per bank) or the
Banco de testes (`TestBankConnector`, generic FEBRABAN CNAB 240, bank 999, answered at once).
Bank REST APIs (BB, Itaú, Efí...) fit as further subclasses with ``layout = "api"`` and the
REGISTER_BY_API / QUERY / WEBHOOK capabilities: they override `register`, `alter`,
`write_off`, `query` and `parse_webhook`, which raise NotImplementedError here.
"""

from __future__ import annotations

from abc import ABC
from datetime import datetime
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing.cnab.nosso_numero import sequence_from_file as cnab_sequence_from_file
from billing.cnab.reading import parse_file
from billing.cnab.records import ParsedFile
from billing.cnab.remessa import RemessaAccount, RemessaTitle, remessa_build
from billing.models import CHANNEL_BANKS, BankCollection, CollectionChannel
from portal.models import Bank, Merchant

TEST_BANK_CODE = "999"
TEST_BANK_NAME = "BANCO DE TESTES"

CHANNEL_BANK_UNSUPPORTED = _(
    "O canal %(channel)s não atende o banco %(bank)s da conta de cobrança (bancos: %(banks)s)."
)


class Capability(StrEnum):
    REGISTER_BY_FILE = "register_by_file"
    REGISTER_BY_API = "register_by_api"
    ALTER = "alter"
    WRITE_OFF = "write_off"
    QUERY = "query"
    WEBHOOK = "webhook"
    # Registration answered at once (the test bank; later the bank APIs).
    INSTANT = "instant"


_FILE_CAPABILITIES = frozenset(
    {Capability.REGISTER_BY_FILE, Capability.ALTER, Capability.WRITE_OFF}
)


class BankConnector(ABC):
    """One bank and channel. Pure: no database, no network for file channels."""

    code: str  # the bank's three digits ("001", "999")
    name: str  # the bank's name as headers carry it
    layout: str  # "cnab240" | "cnab400" | "api"
    capabilities: frozenset[Capability] = frozenset()

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    # -- file channels ---------------------------------------------------------------------------

    def build_remessa(
        self,
        *,
        account: RemessaAccount,
        titles: list[RemessaTitle],
        nsa: int,
        generated_at: datetime,
    ) -> bytes:
        """The remessa file for `titles` (raises billing.cnab.remessa.RemessaError)."""
        raise NotImplementedError(f"{type(self).__name__} does not write remessas")

    def parse_retorno(self, data: bytes) -> ParsedFile:
        """Read a bank file (raises billing.cnab.records.CnabError). Pure: the caller checks
        direction, bank and account against the merchant."""
        return parse_file(data)

    def sequence_from_file(self, *, account: RemessaAccount, raw: str) -> int | None:
        """Our nosso número sequence (Boleto.nosso_numero) from the form the bank's file
        carries, or None when it is not one of ours (never a guess)."""
        return cnab_sequence_from_file(bank_code=self.code, account=account, raw=raw)

    # -- API channels (later) --------------------------------------------------------------------

    def register(self, *, account: RemessaAccount, titles: list[RemessaTitle]):
        raise NotImplementedError(f"{type(self).__name__} does not register by API")

    def alter(self, *, account: RemessaAccount, titles: list[RemessaTitle]):
        raise NotImplementedError(f"{type(self).__name__} does not alter by API")

    def write_off(self, *, account: RemessaAccount, titles: list[RemessaTitle]):
        raise NotImplementedError(f"{type(self).__name__} does not write off by API")

    def query(self, *, account: RemessaAccount, nosso_numero: int):
        raise NotImplementedError(f"{type(self).__name__} does not query by API")

    def parse_webhook(self, *, headers: dict, body: bytes):
        raise NotImplementedError(f"{type(self).__name__} takes no webhooks")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code} {self.layout}>"


class CnabFileConnector(BankConnector):
    """A traditional bank by CNAB file: we write the remessa, the bank answers with a retorno
    (D+0/D+1), so registration is asynchronous."""

    capabilities = _FILE_CAPABILITIES

    def __init__(self, *, code: str, name: str, layout: str) -> None:
        if layout not in ("cnab240", "cnab400"):
            raise ValueError(f"unknown CNAB layout {layout!r}")
        self.code = code
        self.name = name
        self.layout = layout

    def build_remessa(self, *, account, titles, nsa, generated_at) -> bytes:
        return remessa_build(
            layout=self.layout, account=account, titles=titles, nsa=nsa, generated_at=generated_at
        )


class TestBankConnector(CnabFileConnector):
    """The Banco de testes (999): generic FEBRABAN CNAB 240, answered at once by
    billing.testbank (billing.registration drives the round trip)."""

    __test__ = False  # not a pytest class
    capabilities = _FILE_CAPABILITIES | {Capability.INSTANT}

    def __init__(self) -> None:
        super().__init__(code=TEST_BANK_CODE, name=TEST_BANK_NAME, layout="cnab240")


def _bank_name(code: str) -> str:
    label = dict(Bank.choices).get(code, code)
    return str(label).split(" - ", 1)[-1].upper()


def connector_for(*, merchant: Merchant, collection: BankCollection) -> BankConnector:
    """The connector of the merchant's collection channel. A file channel whose layout the
    merchant's bank does not take raises ValidationError (the settings form prevents it)."""
    if collection.channel == CollectionChannel.TEST_BANK:
        return TestBankConnector()
    channel = CollectionChannel(collection.channel)
    banks = CHANNEL_BANKS.get(channel, ())
    if merchant.bank_code not in banks:
        raise ValidationError(
            CHANNEL_BANK_UNSUPPORTED,
            code="channel_bank",
            params={
                "channel": channel.label,
                "bank": merchant.bank_code,
                "banks": ", ".join(banks),
            },
        )
    return CnabFileConnector(
        code=merchant.bank_code, name=_bank_name(merchant.bank_code), layout=channel.value
    )


def remessa_account(*, merchant: Merchant, collection: BankCollection) -> RemessaAccount:
    """The beneficiary as the files' headers carry it: portal.Merchant's account (the one printed
    on the boletos) plus what only the collection channel needs. On the test bank the bank is
    999 and the merchant's agência/conta/convênio travel as they are."""
    if collection.channel == CollectionChannel.TEST_BANK:
        bank_code, bank_name = TEST_BANK_CODE, TEST_BANK_NAME
    else:
        bank_code, bank_name = merchant.bank_code, _bank_name(merchant.bank_code)
    return RemessaAccount(
        bank_code=bank_code,
        bank_name=bank_name,
        company_name=merchant.legal_name,
        document=merchant.cnpj,
        agency=merchant.agency,
        agency_digit=merchant.agency_digit,
        account=merchant.account,
        account_digit=merchant.account_digit,
        wallet=merchant.wallet,
        agreement=merchant.agreement,
        company_code=collection.company_code,
        wallet_variation=collection.wallet_variation,
    )
