"""Applying a retorno to real merchant data: every kind, the precedence of states, the ledger,
idempotency and the facts announced to the apps above billing."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import BankAttention, BankOccurrence, Boleto, BoletoBank, Retorno
from billing.retornos import retorno_apply, retorno_receive
from billing.signals import bank_attention, boletos_registered
from tests.billing.bank.retorno_helpers import (
    boleto_state,
    import_file,
    issue_boletos,
    retorno_file,
    title,
)
from tests.factories import MerchantFactory, bank_of, bank_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """Signals received: [(signal name, kwargs)]."""
    calls = []

    def on_registered(sender, signal, **kwargs):
        calls.append(("registered", kwargs))

    def on_attention(sender, signal, **kwargs):
        calls.append(("attention", kwargs))

    boletos_registered.connect(on_registered, dispatch_uid="test.registered")
    bank_attention.connect(on_attention, dispatch_uid="test.attention")
    yield calls
    boletos_registered.disconnect(dispatch_uid="test.registered")
    bank_attention.disconnect(dispatch_uid="test.attention")


def _refresh(boletos):
    """The boletos' bank rows as stored now, by boleto id."""
    return {s.pk: s for s in BoletoBank.objects.filter(pk__in=[b.pk for b in boletos])}


def test_every_kind_applied(merchant, received, django_capture_on_commit_callbacks):
    b = issue_boletos(merchant, 8)
    bank_set(b[5], instruction="write_off", instruction_status="sent")
    data = retorno_file(
        merchant,
        [
            title(b[0], "02"),
            title(b[1], "03", reasons="4548"),
            title(
                b[2],
                "06",
                amount_paid=Decimal("152.30"),
                amount_credited=Decimal("150.80"),
                fee=Decimal("1.50"),
                interest_fine=Decimal("2.30"),
            ),
            title(b[3], "09"),
            title(b[4], "28", fee=Decimal("3.10")),
            title(b[5], "09"),
            title(b[6], "99"),
            title(b[7], "02"),
            title(b[7], "28", fee=Decimal("1.00")),
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        retorno = import_file(merchant, data)

    assert retorno.status == Retorno.Status.APPLIED
    assert retorno.already_imported is False
    summary = retorno.summary
    assert summary["records"] == 9
    assert summary["registered"] == 2
    assert summary["rejected"] == 1
    assert summary["paid"] == 1
    assert summary["written_off"] == 2
    assert summary["fee"] == 2
    assert summary["unknown"] == 1
    assert summary["not_found"] == summary["duplicates"] == summary["ignored"] == 0
    assert summary["amount_paid"] == "152.30"
    counted = sum(v for k, v in summary.items() if isinstance(v, int) and k != "records")
    assert counted == summary["records"]

    s = _refresh(b)
    assert s[b[0].pk].registration_status == "registered"
    assert s[b[0].pk].registered_at is not None
    assert s[b[0].pk].payment_status == "open"
    assert s[b[1].pk].registration_status == "rejected"
    assert s[b[1].pk].registration_reasons[0]["code"] == "45"
    assert [r["code"] for r in s[b[1].pk].registration_reasons] == ["45", "48"]
    paid = s[b[2].pk]
    assert (paid.payment_status, paid.registration_status) == ("paid", "registered")
    assert paid.amount_paid == Decimal("152.30")
    assert paid.amount_credited == Decimal("150.80")
    assert paid.bank_fee == Decimal("1.50")
    assert paid.interest_fine == Decimal("2.30")
    assert paid.paid_on == date(2026, 3, 18)
    assert paid.credited_on == date(2026, 3, 19)
    assert s[b[3].pk].payment_status == "written_off"
    assert s[b[3].pk].written_off_on == date(2026, 3, 18)
    # 28 is a fee: never a payment.
    assert s[b[4].pk].payment_status == "open"
    assert s[b[4].pk].amount_paid is None
    assert (s[b[5].pk].payment_status, s[b[5].pk].instruction_status) == (
        "written_off",
        "confirmed",
    )
    # An unknown code changes nothing.
    assert s[b[6].pk].registration_status == "pending"
    assert s[b[6].pk].payment_status == "open"

    occurrences = BankOccurrence.objects.filter(retorno=retorno)
    assert occurrences.count() == 9
    assert occurrences.get(boleto=b[4]).fee == Decimal("3.10")
    assert occurrences.get(boleto=b[6]).outcome == "ignored"
    assert occurrences.get(boleto=b[2]).applied_key == f"{b[2].pk}:06:2026-03-18"

    registered = [kw for name, kw in received if name == "registered"]
    # b[2] was paid: nothing to email; b[0] and b[7] are announced once.
    assert registered == [{"boleto_ids_by_merchant": {merchant.pk: [b[0].pk, b[7].pk]}}]
    attentions = [kw for name, kw in received if name == "attention"]
    # A paid amount different from the issued one; a rejection with its reasons.
    kinds = {(a["boleto_id"], a["kind"]) for a in attentions}
    assert kinds == {
        (b[1].pk, BankAttention.REGISTRATION_REJECTED),
        (b[2].pk, BankAttention.AMOUNT_DIFFERS),
    }
    rejection = next(a for a in attentions if a["boleto_id"] == b[1].pk)
    assert "CEP" in rejection["detail"]["reasons"]
    differs = next(a for a in attentions if a["boleto_id"] == b[2].pk)
    assert differs["detail"]["amount"] == "150.00"
    assert differs["detail"]["amount_paid"] == "152.30"
    assert all(a["merchant_id"] == merchant.pk for a in attentions)


def test_same_file_twice_changes_nothing(merchant):
    b = issue_boletos(merchant, 3)
    data = retorno_file(merchant, [title(b[0], "06"), title(b[1], "02"), title(b[2], "09")])
    first = import_file(merchant, data)
    before = boleto_state(x.pk for x in b)
    second = import_file(merchant, data, name="again.ret")
    assert second.pk == first.pk
    assert second.already_imported is True
    assert second.summary["already_imported"] is True
    assert second.summary["paid"] == 1
    assert boleto_state(x.pk for x in b) == before
    assert Retorno.objects.count() == 1
    assert BankOccurrence.objects.count() == 3
    # retorno_apply itself is idempotent too.
    assert retorno_apply(retorno=first)["already_imported"] is True
    assert BankOccurrence.objects.count() == 3


def test_same_fact_in_another_file_is_a_duplicate(merchant):
    b = issue_boletos(merchant, 2)
    import_file(merchant, retorno_file(merchant, [title(b[0], "06")], nsa=1))
    second = import_file(
        merchant, retorno_file(merchant, [title(b[0], "06"), title(b[1], "06")], nsa=2)
    )
    assert second.summary["duplicates"] == 1
    assert second.summary["paid"] == 1
    assert second.summary["amount_paid"] == "150.00"
    outcomes = dict(
        BankOccurrence.objects.filter(retorno=second).values_list("boleto_id", "outcome")
    )
    assert outcomes == {b[0].pk: "duplicate", b[1].pk: "applied"}


def test_same_fact_twice_in_one_file(merchant):
    (b,) = issue_boletos(merchant, 1)
    retorno = import_file(merchant, retorno_file(merchant, [title(b, "06"), title(b, "06")]))
    assert (retorno.summary["paid"], retorno.summary["duplicates"]) == (1, 1)


def test_another_merchants_titles_are_never_applied(merchant, other_merchant):
    mine = issue_boletos(merchant, 2)
    theirs = issue_boletos(other_merchant, 2)
    # Both merchants' sequences start at 1: the same nosso número exists in each.
    assert mine[0].nosso_numero == theirs[0].nosso_numero
    before_theirs = boleto_state(x.pk for x in theirs)
    data = retorno_file(
        merchant,
        [
            title(mine[0], "06"),
            # Our id of another merchant's boleto, with a nosso número we do not have.
            title(theirs[1], "06", nosso_numero="99999"),
        ],
    )
    retorno = import_file(merchant, data)
    assert retorno.summary["paid"] == 1
    assert retorno.summary["not_found"] == 1
    assert boleto_state(x.pk for x in theirs) == before_theirs
    assert bank_of(mine[0]).payment_status == "paid"
    assert not BankOccurrence.objects.filter(boleto__in=theirs).exists()


def test_not_found_and_our_id_fallback(merchant):
    b = issue_boletos(merchant, 2)
    data = retorno_file(
        merchant,
        [
            title(b[0], "02", nosso_numero="77777", our_id=""),  # unknown title
            title(b[1], "06", nosso_numero="88888"),  # found by our id "PB<id>"
        ],
    )
    retorno = import_file(merchant, data)
    assert retorno.summary["not_found"] == 1
    assert retorno.summary["paid"] == 1
    missing = BankOccurrence.objects.get(retorno=retorno, outcome="not_found")
    assert missing.boleto_id is None
    assert missing.nosso_numero == "77777"
    assert bank_of(b[1]).payment_status == "paid"


def test_paid_is_final_a_late_02_does_not_unpay(merchant):
    (b,) = issue_boletos(merchant, 1)
    import_file(merchant, retorno_file(merchant, [title(b, "06")], nsa=1))
    late = import_file(
        merchant,
        retorno_file(
            merchant,
            [title(b, "02", occurred_on=date(2026, 3, 11)), title(b, "03", reasons="48")],
            nsa=2,
        ),
    )
    assert late.summary["ignored"] == 2
    state = bank_of(b)
    assert (state.payment_status, state.registration_status) == ("paid", "registered")
    assert state.amount_paid == Decimal("150.00")


def test_17_after_write_off(merchant, received, django_capture_on_commit_callbacks):
    (b,) = issue_boletos(merchant, 1)
    import_file(merchant, retorno_file(merchant, [title(b, "09")], nsa=1))
    with django_capture_on_commit_callbacks(execute=True):
        retorno = import_file(
            merchant,
            retorno_file(merchant, [title(b, "17", occurred_on=date(2026, 3, 25))], nsa=2),
        )
    assert retorno.summary["paid_after_write_off"] == 1
    state = bank_of(b)
    assert state.payment_status == "paid_after_write_off"
    assert state.paid_on == date(2026, 3, 25)
    assert state.written_off_on == date(2026, 3, 18)
    attentions = [kw for name, kw in received if name == "attention"]
    assert [(a["boleto_id"], a["kind"]) for a in attentions] == [
        (b.pk, BankAttention.PAID_AFTER_WRITE_OFF)
    ]


def test_paid_different_from_nominal_is_recorded_as_is(merchant):
    (b,) = issue_boletos(merchant, 1)
    retorno = import_file(
        merchant,
        retorno_file(
            merchant, [title(b, "06", amount_paid=Decimal("8.10"), discount=Decimal("141.90"))]
        ),
    )
    boleto = Boleto.objects.get(pk=b.pk)
    assert boleto.amount == Decimal("150.00")
    assert boleto.bank.amount_paid == Decimal("8.10")
    assert boleto.bank.discount == Decimal("141.90")
    assert retorno.summary["amount_paid"] == "8.10"


def test_rejected_becomes_registered_only_by_a_later_02(merchant):
    (b,) = issue_boletos(merchant, 1)
    import_file(
        merchant,
        retorno_file(merchant, [title(b, "03", reasons="48", occurred_on=date(2026, 3, 11))]),
    )
    stale = import_file(
        merchant,
        retorno_file(merchant, [title(b, "02", occurred_on=date(2026, 3, 10))], nsa=2),
    )
    assert stale.summary["ignored"] == 1
    assert bank_of(b).registration_status == "rejected"
    later = import_file(
        merchant,
        retorno_file(merchant, [title(b, "02", occurred_on=date(2026, 3, 12))], nsa=3),
    )
    assert later.summary["registered"] == 1
    state = bank_of(b)
    assert state.registration_status == "registered"
    assert state.registration_reasons == []


def test_instruction_rejected_keeps_the_title(merchant):
    b = issue_boletos(merchant, 2)
    BoletoBank.objects.filter(pk__in=[x.pk for x in b]).update(
        instruction="write_off", instruction_status="sent"
    )
    retorno = import_file(
        merchant,
        retorno_file(merchant, [title(b[0], "26", reasons="0A"), title(b[1], "12")]),
    )
    assert retorno.summary["instruction_rejected"] == 1
    assert retorno.summary["instruction_confirmed"] == 1
    rejected = bank_of(b[0])
    assert rejected.instruction_status == "rejected"
    assert rejected.instruction_reasons
    assert rejected.payment_status == "open"
    assert bank_of(b[1]).instruction_status == "confirmed"


def test_an_error_rolls_everything_back_and_can_be_retried(merchant, monkeypatch):
    from billing import retornos

    b = issue_boletos(merchant, 2)
    data = retorno_file(merchant, [title(b[0], "06"), title(b[1], "02")])
    before = boleto_state(x.pk for x in b)

    def boom(self, states, now):
        raise RuntimeError("database went away")

    monkeypatch.setattr(retornos._PlainIO, "update_boletos", boom)
    monkeypatch.setattr(retornos._FastIO, "update_boletos", boom)
    with pytest.raises(RuntimeError):
        import_file(merchant, data)
    retorno = Retorno.objects.get()
    assert retorno.status == Retorno.Status.RECEIVED
    assert not BankOccurrence.objects.exists()
    assert boleto_state(x.pk for x in b) == before

    monkeypatch.undo()
    again = import_file(merchant, data)
    assert again.pk == retorno.pk
    assert again.already_imported is False
    assert again.summary["paid"] == 1
    assert bank_of(b[0]).payment_status == "paid"


def test_receive_then_apply(merchant):
    (b,) = issue_boletos(merchant, 1)
    data = retorno_file(merchant, [title(b, "06")])
    retorno, created = retorno_receive(
        merchant=merchant, data=data, filename="/tmp/x/CB1903.RET", source="upload"
    )
    assert created is True
    assert retorno.filename == "CB1903.RET"
    assert retorno.status == "received"
    assert retorno.file.read() == data
    again, created = retorno_receive(merchant=merchant, data=data, filename="y", source="upload")
    assert (again.pk, created) == (retorno.pk, False)
    summary = retorno_apply(retorno=retorno)
    assert summary["paid"] == 1
    assert summary["file"] == "CB1903.RET"


def test_every_new_merchant_has_a_collection_on_the_test_bank(db):
    merchant = MerchantFactory()
    assert merchant.pk
    from billing.models import BankCollection

    collection = BankCollection.objects.get(merchant=merchant)
    assert collection.channel == "testbank"
