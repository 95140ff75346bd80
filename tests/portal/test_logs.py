"""One way to log a decision (portal/logs.py): fixed key order, ``-`` for None, quoting."""

import logging
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal.logs import decision_line, log_decision

logger = logging.getLogger("tests.portal.logs")

# How an operator (or a test) splits a line back into its fields.
_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def parse(line: str) -> dict[str, str]:
    assert re.fullmatch(rf"{_FIELD.pattern}(?: {_FIELD.pattern})*", line), line
    return {
        key: re.sub(r"\\(.)", r"\1", value[1:-1]) if value.startswith('"') else value
        for key, value in _FIELD.findall(line)
    }


def test_event_first_then_the_fixed_keys_in_their_order_then_the_rest_as_given():
    line = decision_line(
        "boleto_sent",
        attempt=2,
        decision="sent",
        boleto=912,
        status="sent",
        schedule_number=7,
        schedule_id=41,
        merchant=3,
    )
    assert line == (
        "event=boleto_sent merchant=3 schedule_id=41 schedule_number=7 boleto=912 decision=sent "
        "attempt=2 status=sent"
    )


def test_fixed_keys_not_given_are_left_out_and_none_is_a_dash():
    assert decision_line("webhook_refused", reason="authentication") == (
        "event=webhook_refused reason=authentication"
    )
    assert decision_line("delivery_decision", merchant=None, boleto=None, esp=None) == (
        "event=delivery_decision merchant=- boleto=- esp=-"
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain", "plain"),
        ("two words", '"two words"'),
        ("", '""'),
        ('say "hi"', r'"say \"hi\""'),
        ("a=b", '"a=b"'),
        ("line\nbreak", r'"line\nbreak"'),
        ("back\\slash", r'"back\\slash"'),
        (0, "0"),
        (Decimal("10.50"), "10.50"),
        (date(2026, 3, 5), "2026-03-05"),
        (datetime(2026, 3, 5, 12, 30, tzinfo=UTC), "2026-03-05T12:30:00+00:00"),
        ([2, 3], "2,3"),
        ((), '""'),
        (["a b", None], '"\\"a b\\",-"'),
    ],
)
def test_values_are_quoted_only_when_needed(value, written):
    assert decision_line("e", detail=value) == f"event=e detail={written}"


def test_a_line_splits_back_into_its_fields():
    fields = {
        "merchant": 3,
        "schedule_id": None,
        "error": 'Nosso número "123" fora da faixa = 9',
        "path": "/webhooks/postmark/",
    }
    assert parse(decision_line("numbering_failed", **fields)) == {
        "event": "numbering_failed",
        "merchant": "3",
        "schedule_id": "-",
        "error": 'Nosso número "123" fora da faixa = 9',
        "path": "/webhooks/postmark/",
    }


def test_logs_one_record_at_the_level_on_behalf_of_the_caller(caplog):
    caplog.set_level(logging.DEBUG, logger=logger.name)
    log_decision(logger, "schedule_parked", level=logging.ERROR, merchant=1, schedule_id=2)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "event=schedule_parked merchant=1 schedule_id=2"
    assert record.funcName == "test_logs_one_record_at_the_level_on_behalf_of_the_caller"
    assert record.pathname == __file__


def test_a_percent_sign_is_not_taken_for_a_format(caplog):
    caplog.set_level(logging.INFO, logger=logger.name)
    log_decision(logger, "e", detail="100%s")
    assert caplog.records[0].getMessage() == "event=e detail=100%s"


def test_exc_info_is_kept(caplog):
    caplog.set_level(logging.INFO, logger=logger.name)
    try:
        raise RuntimeError("broker down")
    except RuntimeError:
        log_decision(logger, "inbox_kick_failed", level=logging.ERROR, exc_info=True)
    (record,) = caplog.records
    assert record.exc_info and record.exc_info[0] is RuntimeError


def test_nothing_is_formatted_below_the_logger_level(caplog):
    class Exploding:
        def __str__(self):
            raise AssertionError("formatted although not logged")

    caplog.set_level(logging.INFO, logger=logger.name)
    log_decision(logger, "webhook_duplicate", level=logging.DEBUG, key=Exploding())
    assert caplog.records == []
