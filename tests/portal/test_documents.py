import json

import pytest
from django.core.exceptions import ValidationError

from portal.documents import (
    format_document,
    is_valid_cnpj,
    is_valid_cpf,
    normalize_document,
    validate_cpf_or_cnpj,
)
from tests import BOLETO_VECTORS

VECTORS = json.loads(BOLETO_VECTORS.read_text())


@pytest.mark.parametrize("value", ["248.438.034-80", "111.444.777-35"])
def test_valid_cpf(value):
    assert is_valid_cpf(value)
    validate_cpf_or_cnpj(value)


@pytest.mark.parametrize("value", ["24843803470", "09907586561", "11111111111", "1234567890"])
def test_invalid_cpf(value):
    assert not is_valid_cpf(value)
    with pytest.raises(ValidationError):
        validate_cpf_or_cnpj(value)


@pytest.mark.parametrize(
    "value", ["11.222.333/0001-81", "26.637.142/0001-58", "12.ABC.345/01DE-35", "12abc34501de35"]
)
def test_valid_cnpj_including_alphanumeric(value):
    assert is_valid_cnpj(value)
    validate_cpf_or_cnpj(value)


@pytest.mark.parametrize("value", ["74221325000160", "12ABC34501DE45", "00000000000000"])
def test_invalid_cnpj(value):
    assert not is_valid_cnpj(value)
    with pytest.raises(ValidationError) as exc:
        validate_cpf_or_cnpj(value)
    assert "CNPJ inválido" in exc.value.messages[0]


@pytest.mark.parametrize("doc", VECTORS["documents"], ids=lambda d: f"{d['kind']}-{d['value']}")
def test_every_document_in_the_shared_vectors(doc):
    check = is_valid_cpf if doc["kind"] == "cpf" else is_valid_cnpj
    assert check(doc["value"]) is doc["valid"]
    if doc["valid"]:
        validate_cpf_or_cnpj(doc["value"])
    else:
        with pytest.raises(ValidationError):
            validate_cpf_or_cnpj(doc["value"])


def test_normalize_and_format():
    assert normalize_document("12.abc.345/01de-35") == "12ABC34501DE35"
    assert format_document("12ABC34501DE35") == "12.ABC.345/01DE-35"
    assert format_document("24843803480") == "248.438.034-80"


def test_wrong_length_message_is_portuguese():
    with pytest.raises(ValidationError) as exc:
        validate_cpf_or_cnpj("123")
    assert exc.value.messages == ["Informe um CPF (11 dígitos) ou CNPJ (14 caracteres) válido."]
