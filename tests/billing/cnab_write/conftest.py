from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from billing.cnab.remessa import RemessaAccount, RemessaTitle

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "cnab" / "remessa"


def make_account(bank_code: str, **changes) -> RemessaAccount:
    values = {
        "bank_code": bank_code,
        "bank_name": "",
        "company_name": "Academia Movimento Ltda",
        "document": "11222333000181",
        "agency": "1234",
        "agency_digit": "3",
        "account": "12345",
        "account_digit": "5",
        "wallet": {"001": "17", "033": "101", "237": "09", "341": "109"}.get(bank_code, "1"),
        "agreement": "1234567",
        "company_code": {"033": "000100001234567", "237": "4321"}.get(bank_code, ""),
        "wallet_variation": "019" if bank_code == "001" else "",
    }
    values.update(changes)
    return RemessaAccount(**values)


def make_title(**changes) -> RemessaTitle:
    values = {
        "movement": "01",
        "nosso_numero": 123,
        "our_id": "PB42",
        "seu_numero": "7-3",
        "issue_date": date(2026, 1, 5),
        "due_date": date(2026, 2, 10),
        "amount": Decimal("199.90"),
        "payer_document": "529.982.247-25",
        "payer_name": "José da Conceição Ávila",
        "payer_street": "Rua São João, 12",
        "payer_district": "Centro",
        "payer_city": "São Paulo",
        "payer_state": "SP",
        "payer_zip": "01310-100",
        "late_fee_percent": Decimal("2"),
        "monthly_interest_percent": Decimal("1"),
        "write_off_days": 30,
    }
    values.update(changes)
    return RemessaTitle(**values)


GENERATED_AT = datetime(2026, 1, 5, 10, 11, 12)


def lines_of(data: bytes) -> list[str]:
    text = data.decode("ascii")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    return text[:-2].split("\r\n")


def field(line: str, start: int, end: int) -> str:
    """1-based inclusive positions, as the layouts state them."""
    return line[start - 1 : end]


@pytest.fixture
def sample_lines():
    def read(name: str) -> list[str]:
        return (SAMPLES / name).read_bytes().decode("latin-1").splitlines()

    return read
