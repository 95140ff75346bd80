"""One way to log a decision: one ``key=value`` line per fact the portal decided or observed.

    log_decision(logger, "boleto_sent", merchant=3, schedule_id=41, schedule_number=7,
                 boleto=912, attempt=1, status="sent")
    -> event=boleto_sent merchant=3 schedule_id=41 schedule_number=7 boleto=912 attempt=1 ...

- ``event`` comes first, then the fixed keys ``merchant``, ``schedule_id``,
  ``schedule_number``, ``boleto`` and ``decision`` in that order (those the caller passes),
  then the other fields in the order given. A schedule is named by ``schedule_id`` (the primary
  key) and/or ``schedule_number`` (the merchant's "Agendamento nº"), never by a bare
  ``schedule``.
- ``None`` is written ``-``; a value with a space, a quote, an ``=`` or nothing at all is
  written between double quotes (``\\`` and ``"`` escaped, line breaks as ``\\n``), so a line
  always splits back into its fields; dates and datetimes are ISO 8601; a list is its items
  joined by commas (``skipped=2,3``; empty: ``""``).
- Nothing is formatted when the logger does not emit ``level``.
"""

import logging
from datetime import date, datetime

FIXED_KEYS = ("merchant", "schedule_id", "schedule_number", "boleto", "decision")

_NEEDS_QUOTES = frozenset(' \t\r\n"=\\')


def log_value(value: object) -> str:
    """One field's value as written in a decision line."""
    if value is None:
        return "-"
    if isinstance(value, datetime | date):
        text = value.isoformat()
    elif isinstance(value, list | tuple | set | frozenset):
        text = ",".join(log_value(item) for item in value)
    else:
        text = str(value)
    if text and not _NEEDS_QUOTES.intersection(text):
        return text
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")
    )
    return f'"{escaped}"'


def decision_line(event: str, **fields: object) -> str:
    """The text of a decision line (see the module docstring)."""
    parts = [f"event={log_value(event)}"]
    for key in FIXED_KEYS:
        if key in fields:
            parts.append(f"{key}={log_value(fields.pop(key))}")
    parts.extend(f"{key}={log_value(value)}" for key, value in fields.items())
    return " ".join(parts)


def log_decision(
    logger: logging.Logger,
    event: str,
    *,
    level: int = logging.INFO,
    exc_info: bool = False,
    **fields: object,
) -> None:
    """Log one decision line on ``logger`` at ``level`` (``exc_info`` as in ``logging``)."""
    if not logger.isEnabledFor(level):
        return
    # stacklevel: the record names the caller's function and line, not this helper.
    logger.log(level, decision_line(event, **fields), exc_info=exc_info, stacklevel=2)
