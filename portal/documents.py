"""CPF and CNPJ: normalisation and check digits (alphanumeric CNPJ included), via python-stdnum.

python-stdnum >= 2.2 implements the RFB rule for the alphanumeric CNPJ (each character counts as
its ASCII code - 48); see ../shared/docs/boleto-standard.md §7.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf

CPF_INVALID = _("CPF inválido: confira os dígitos verificadores.")
CNPJ_INVALID = _("CNPJ inválido: confira os dígitos verificadores.")
DOCUMENT_INVALID = _("Informe um CPF (11 dígitos) ou CNPJ (14 caracteres) válido.")

_SEPARATORS = re.compile(r"[\s./-]")


def normalize_document(value: str) -> str:
    """Strip punctuation and upper-case (alphanumeric CNPJ letters are stored in upper case)."""
    return _SEPARATORS.sub("", value or "").upper()


def _is_repeated(value: str) -> bool:
    return len(set(value)) == 1


def is_valid_cpf(value: str) -> bool:
    value = normalize_document(value)
    return (
        len(value) == 11
        and value.isascii()
        and value.isdigit()
        and not _is_repeated(value)
        and (stdnum_cpf.is_valid(value))
    )


def is_valid_cnpj(value: str) -> bool:
    value = normalize_document(value)
    return len(value) == 14 and not _is_repeated(value) and stdnum_cnpj.is_valid(value)


def validate_cnpj(value: str) -> None:
    if not is_valid_cnpj(value):
        raise ValidationError(CNPJ_INVALID, code="invalid_cnpj")


def validate_cpf_or_cnpj(value: str) -> None:
    value = normalize_document(value)
    if len(value) == 11:
        if not is_valid_cpf(value):
            raise ValidationError(CPF_INVALID, code="invalid_cpf")
    elif len(value) == 14:
        if not is_valid_cnpj(value):
            raise ValidationError(CNPJ_INVALID, code="invalid_cnpj")
    else:
        raise ValidationError(DOCUMENT_INVALID, code="invalid_document")


def format_document(value: str) -> str:
    """000.000.000-00 for a CPF, 00.000.000/0000-00 for a CNPJ (letters kept)."""
    value = normalize_document(value)
    if len(value) == 11:
        return f"{value[:3]}.{value[3:6]}.{value[6:9]}-{value[9:]}"
    if len(value) == 14:
        return f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"
    return value
