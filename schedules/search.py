"""Case- and accent-insensitive search of customers by name or email ("joao" finds "João").

Both sides of the comparison go through one SQL function, ``portal_fold(text)`` (lowercase,
accents removed):

- on PostgreSQL it is ``lower(unaccent(...))`` declared IMMUTABLE (migration
  ``schedules.0004``), so a trigram GIN index on
  ``(merchant_id, portal_fold(name || ' ' || email))`` serves ``LIKE '%needle%'``;
- on SQLite (laptops, the fast test run) the same name is registered on every connection as a
  Python function doing the same folding, so the query is identical on both databases.
"""

import re
import unicodedata

from django.db.models import CharField, F, Func, Value
from django.db.models.functions import Cast

# "123", "#123", "nº 123", "n° 123", "no 123", "N. 123", and "1.234" as pt-BR grouping prints it:
# the number as the alert email shows it.
_NUMBER_QUERY = re.compile(r"^(?:#|n\s*[º°o.]?)?\s*(\d{1,3}(?:\.\d{3})+|\d{1,18})$", re.IGNORECASE)


def schedule_number_in(query: str) -> int | None:
    """The schedule number a search box query names exactly, or None for a text search."""
    match = _NUMBER_QUERY.match(query.strip())
    if not match:
        return None
    digits = match.group(1).replace(".", "")
    return int(digits) if len(digits) <= 18 else None


def fold(value: str | None) -> str | None:
    """Python twin of PostgreSQL's ``lower(unaccent(value))`` for the characters we meet."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class Fold(Func):
    function = "portal_fold"
    output_field = CharField()


class CustomerSearchText(Func):
    """``portal_fold(name || ' ' || email)`` of the customer at ``prefix`` — written exactly as
    the expression index of migration 0004 so that PostgreSQL uses it."""

    template = "portal_fold(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = CharField()

    def __init__(self, prefix: str = ""):
        super().__init__(F(f"{prefix}name"), F(f"{prefix}email"))


def customer_text_matches(queryset, *, query: str, prefix: str = "customer__"):
    """Narrow ``queryset`` to rows whose customer's name or email contains ``query``."""
    needle = Fold(Cast(Value(query.strip()), CharField()))
    return queryset.alias(_customer_text=CustomerSearchText(prefix)).filter(
        _customer_text__contains=needle
    )


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give SQLite the ``portal_fold`` PostgreSQL has."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("portal_fold", 1, fold, deterministic=True)
