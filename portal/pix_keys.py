"""Pix keys (chaves Pix) as the BCB's DICT defines them: CPF, CNPJ, e-mail, phone, random (EVP).

A key is stored the way the DICT holds it, which is also what goes into the BR Code printed on
the boleto: CPF/CNPJ without punctuation, e-mail in lower case, phone as ``+55`` + DDD + number,
random key as a lower-case UUID with hyphens.

Hand-written rather than a dependency: the rules are five short formats (the DICT API's own
patterns), CPF/CNPJ check digits come from python-stdnum through portal.documents, and the PyPI
"pix" packages build payloads but do not validate keys.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from portal.documents import is_valid_cnpj, is_valid_cpf, normalize_document

MAX_LENGTH = 77  # DICT limit (and BR Code field 26-01)

PIX_KEY_INVALID = _(
    "Chave Pix inválida. Use um CPF, um CNPJ, um e-mail, um celular no formato "
    "+55 DDD número ou uma chave aleatória."
)
PIX_CPF_INVALID = _(
    "CPF inválido: confira os dígitos verificadores. Para um celular, use o formato +55 DDD número."
)
PIX_CNPJ_INVALID = _("CNPJ inválido: confira os dígitos verificadores.")
PIX_EMAIL_INVALID = _("E-mail inválido para chave Pix (até 77 caracteres).")
PIX_PHONE_INVALID = _(
    "Celular inválido para chave Pix: use +55, o DDD e os 9 dígitos do número "
    "(ex.: +55 11 91234-5678)."
)

_EVP = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Pix phone keys are mobile numbers: DDD (two digits 1-9; no Brazilian area code has a 0) and
# nine digits starting with 9.
_BR_MOBILE = re.compile(r"^\+55[1-9]{2}9[0-9]{8}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")


def normalize_pix_key(value: str) -> str:
    """The key as the DICT stores it; raises ValidationError (pt-BR) when it is not a key.

    Empty input is returned as ``""`` (the key is optional).
    """
    value = (value or "").strip()
    if not value:
        return ""
    if "@" in value:
        email = value.lower()
        if len(email) > MAX_LENGTH:
            raise ValidationError(PIX_EMAIL_INVALID, code="invalid_pix_email")
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(PIX_EMAIL_INVALID, code="invalid_pix_email") from None
        if not email.isascii():
            raise ValidationError(PIX_EMAIL_INVALID, code="invalid_pix_email")
        return email
    if value.startswith("+"):
        phone = _PHONE_PUNCTUATION.sub("", value)
        if not _BR_MOBILE.match(phone):
            raise ValidationError(PIX_PHONE_INVALID, code="invalid_pix_phone")
        return phone
    if _EVP.match(value.lower()):
        return value.lower()
    document = normalize_document(value)
    if len(document) == 11 and document.isascii() and document.isdigit():
        if not is_valid_cpf(document):
            raise ValidationError(PIX_CPF_INVALID, code="invalid_pix_cpf")
        return document
    if len(document) == 14 and document.isalnum() and document.isascii():
        if not is_valid_cnpj(document):
            raise ValidationError(PIX_CNPJ_INVALID, code="invalid_pix_cnpj")
        return document
    raise ValidationError(PIX_KEY_INVALID, code="invalid_pix_key")


def pix_key_kind(value: str) -> str:
    """A label for a stored (normalized) key: CPF, CNPJ, E-mail, Celular or Chave aleatória."""
    if not value:
        return ""
    if "@" in value:
        return str(_("E-mail"))
    if value.startswith("+"):
        return str(_("Celular"))
    if _EVP.match(value):
        return str(_("Chave aleatória"))
    return "CPF" if len(value) == 11 else "CNPJ"
