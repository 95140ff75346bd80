"""Transitional alias, to delete at merge: billing/pdf.py (owned by another branch while this
one is open) still imports `formatted_nosso_numero` from here. The module's new home is
billing.boleto_codes; once pdf.py imports it from there, remove this file."""

from billing.boleto_codes import formatted_nosso_numero

__all__ = ["formatted_nosso_numero"]
