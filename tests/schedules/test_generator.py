from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Boleto
from schedules import dates
from schedules.generator import installments_issue_due
from schedules.models import ScheduleStatus
from tests.factories import CustomerFactory, MerchantFactory, ScheduleFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)


def make_schedule(**kwargs):
    return ScheduleFactory(**kwargs)


class TestIssuing:
    def test_issues_installment_when_its_issue_date_arrives(self):
        # Due 2026-03-20 (a Friday), lead 10 days -> issued from 2026-03-10 on.
        schedule = make_schedule(first_due_date=date(2026, 3, 20), lead_days=10)

        assert installments_issue_due(today=TODAY - timedelta(days=1)).issued == 0
        run = installments_issue_due(today=TODAY)

        assert run.issued == 1
        boleto = Boleto.objects.get(schedule=schedule)
        assert boleto.sequence == 1
        assert boleto.due_date == date(2026, 3, 20)
        assert boleto.amount == Decimal("150.00")
        assert boleto.status == Boleto.Status.ISSUED
        assert boleto.delivery_status == Boleto.DeliveryStatus.PENDING
        assert boleto.merchant_id == schedule.merchant_id
        schedule.refresh_from_db()
        assert schedule.next_sequence == 2
        assert schedule.next_issue_on == date(2026, 4, 20) - timedelta(days=10)

    def test_running_twice_issues_nothing_twice(self):
        make_schedule(first_due_date=date(2026, 3, 20))
        installments_issue_due(today=TODAY)
        again = installments_issue_due(today=TODAY)
        assert again.issued == 0
        assert Boleto.objects.count() == 1

    def test_catches_up_issuing_each_missed_installment_once(self, caplog):
        # The generator did not run for three months: installments already past due are
        # recorded as skipped, the one still payable is issued.
        schedule = make_schedule(first_due_date=date(2025, 12, 15), lead_days=10)
        with caplog.at_level("INFO", logger="schedules.generator"):
            run = installments_issue_due(today=TODAY)
        skipped_lines = [
            r.getMessage() for r in caplog.records if "installment_skipped" in r.getMessage()
        ]
        assert len(skipped_lines) == 3
        assert skipped_lines[0] == (
            f"event=installment_skipped merchant={schedule.merchant_id} "
            f"schedule_id={schedule.pk} schedule_number={schedule.number} decision=skipped "
            "sequence=1 due=2025-12-15 reason=past_due_when_first_seen"
        )

        rows = list(Boleto.objects.filter(schedule=schedule).order_by("sequence"))
        assert [(b.sequence, b.status) for b in rows] == [
            (1, "skipped"),
            (2, "skipped"),
            (3, "skipped"),
            (4, "issued"),
        ]
        assert [b.due_date for b in rows] == dates.due_dates(date(2025, 12, 15), 1, 4)
        assert all(b.delivery_status == "n/a" for b in rows[:3])
        assert (run.issued, run.skipped) == (1, 3)

    def test_due_today_is_issued_not_skipped(self):
        make_schedule(first_due_date=TODAY)
        installments_issue_due(today=TODAY)
        assert Boleto.objects.get().status == Boleto.Status.ISSUED

    @pytest.mark.parametrize("status", [ScheduleStatus.DEACTIVATED, ScheduleStatus.CANCELLED])
    def test_inactive_schedules_issue_nothing(self, status):
        extra = {"deactivation_cause": "mailbox_full", "deactivated_at": "2026-03-01T10:00Z"}
        if status == ScheduleStatus.CANCELLED:
            extra = {"cancelled_at": "2026-03-01T10:00Z"}
        make_schedule(first_due_date=date(2026, 3, 20), status=status, **extra)
        assert installments_issue_due(today=TODAY).issued == 0
        assert not Boleto.objects.exists()

    def test_month_end_anchor_is_kept_across_installments(self):
        schedule = make_schedule(first_due_date=date(2026, 1, 31), lead_days=5)
        for day in (date(2026, 1, 26), date(2026, 2, 23), date(2026, 3, 26)):
            installments_issue_due(today=day)
        due = list(
            Boleto.objects.filter(schedule=schedule)
            .order_by("sequence")
            .values_list("due_date", flat=True)
        )
        # 31 Jan (Sat) -> 2 Feb; 28 Feb (Sat) -> 2 Mar; 31 Mar stays on the 31st.
        assert due == [date(2026, 2, 2), date(2026, 3, 2), date(2026, 3, 31)]

    def test_snapshot_keeps_the_payer_as_issued(self):
        schedule = make_schedule(first_due_date=date(2026, 3, 20))
        installments_issue_due(today=TODAY)
        customer = schedule.customer
        customer.name = "Nome Alterado"
        customer.save()
        boleto = Boleto.objects.get()
        assert boleto.payer["name"] != "Nome Alterado"
        assert boleto.payer["document"] == customer.document
        assert boleto.beneficiary["cnpj"] == schedule.merchant.cnpj
        assert boleto.beneficiary["bank_code"] == schedule.merchant.bank_code

    def test_restricted_to_one_schedule(self):
        one = make_schedule(first_due_date=date(2026, 3, 20))
        make_schedule(first_due_date=date(2026, 3, 20))
        installments_issue_due(today=TODAY, schedule_id=one.pk, merchant_id=one.merchant_id)
        assert list(Boleto.objects.values_list("schedule_id", flat=True)) == [one.pk]


class TestBatching:
    def test_query_count_does_not_grow_with_the_number_of_schedules(self):
        def queries_for(n: int) -> int:
            merchant = MerchantFactory()
            customer = CustomerFactory(merchant=merchant)
            for _ in range(n):
                make_schedule(
                    merchant=merchant, customer=customer, first_due_date=date(2026, 3, 20)
                )
            with CaptureQueriesContext(connection) as ctx:
                run = installments_issue_due(today=TODAY, batch_size=500)
            assert run.issued == n
            return len(ctx.captured_queries)

        small = queries_for(3)
        Boleto.objects.all().delete()
        large = queries_for(60)
        # No per-row round trips: 20x the rows costs at most the extra INSERT statements that
        # SQLite's bound-parameter limit forces bulk_create to split into (none on PostgreSQL).
        if connection.vendor == "postgresql":
            assert large == small
        else:
            assert large - small <= 2

    def test_batches_cover_every_schedule(self):
        merchant = MerchantFactory()
        customer = CustomerFactory(merchant=merchant)
        for _ in range(23):
            make_schedule(merchant=merchant, customer=customer, first_due_date=date(2026, 3, 20))
        run = installments_issue_due(today=TODAY, batch_size=5)
        assert run.issued == 23
        assert run.batches == 5
        assert Boleto.objects.count() == 23


class TestHandOff:
    def test_issued_boletos_are_handed_to_delivery_after_commit(
        self, django_capture_on_commit_callbacks, monkeypatch
    ):
        # The test bank registers them (due dates not past on its day), then they are emailed.
        monkeypatch.setattr("billing.registration.business_today", lambda: TODAY)
        make_schedule(first_due_date=date(2026, 3, 20))
        make_schedule(first_due_date=date(2025, 12, 20))  # three skipped, then one issued
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            installments_issue_due(today=TODAY)
        # Nothing is queued before the batch commits.
        assert not Boleto.objects.filter(delivery_status="queued").exists()
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:
                callback()
        issued = Boleto.objects.filter(status="issued")
        assert issued.count() == 2
        assert {b.bank.registration_status for b in issued} == {Boleto.Registration.REGISTERED}
        assert all(b.handed_off_at is not None for b in issued)
        # The hand-off queued one send per boleto: emailed with its PDF, rendered and stored once.
        assert {b.delivery_status for b in issued} == {Boleto.DeliveryStatus.SENT}
        assert all(b.pdf.name.endswith(".pdf") for b in issued)
        assert len(mail.outbox) == 2
        assert Boleto.objects.filter(status="skipped").count() == 3
        assert not Boleto.objects.filter(status="skipped").exclude(delivery_status="n/a").exists()


class TestNumbering:
    def test_issued_get_numbers_skipped_do_not(self):
        schedule = make_schedule(first_due_date=date(2026, 1, 20))
        installments_issue_due(today=TODAY)
        skipped = Boleto.objects.filter(schedule=schedule, status="skipped")
        issued = Boleto.objects.get(schedule=schedule, status="issued")
        assert skipped.exists()
        assert all(b.nosso_numero is None and b.barcode == "" for b in skipped)
        assert (
            issued.nosso_numero and len(issued.barcode) == 44 and len(issued.linha_digitavel) == 47
        )

    def test_pix_payload_only_when_the_merchant_has_a_key(self):
        with_key = make_schedule(
            merchant=MerchantFactory(pix_key="financeiro@example.com"),
            first_due_date=date(2026, 3, 20),
        )
        without = make_schedule(first_due_date=date(2026, 3, 20))
        installments_issue_due(today=TODAY)
        from billing.febraban import validate_brcode

        pix = Boleto.objects.get(schedule=with_key).pix_payload
        assert validate_brcode(pix) and "financeiro@example.com" in pix and "5406150.00" in pix
        assert Boleto.objects.get(schedule=without).pix_payload == ""

    def test_a_merchant_with_broken_bank_data_does_not_block_the_batch(self, caplog):
        broken = MerchantFactory()
        # Bank data changed behind the form's back (admin bulk edit, bad import).
        type(broken).objects.filter(pk=broken.pk).update(bank_code="033", agreement="")
        stuck = make_schedule(merchant=broken, first_due_date=date(2026, 3, 20))
        fine = make_schedule(first_due_date=date(2026, 3, 20))
        run = installments_issue_due(today=TODAY)
        assert run.issued == 1
        assert Boleto.objects.filter(schedule=fine).count() == 1
        assert not Boleto.objects.filter(schedule=stuck).exists()
        stuck.refresh_from_db()
        assert stuck.next_sequence == 1  # retried on the next run once the data is fixed
        (failed,) = [r.getMessage() for r in caplog.records if "numbering_failed" in r.message]
        assert failed.startswith(
            f"event=numbering_failed merchant={broken.pk} schedule_id={stuck.pk} "
            "decision=schedule_left_out_of_batch sequence=1 error="
        )


class TestDueCount:
    def test_counts_active_due_schedules_up_to_the_limit(self):
        for _ in range(3):
            make_schedule(first_due_date=date(2026, 3, 20))
        make_schedule(first_due_date=date(2026, 6, 20))  # not yet in its lead window
        make_schedule(
            first_due_date=date(2026, 3, 20),
            status=ScheduleStatus.CANCELLED,
            cancelled_at=timezone.now(),
        )

        from schedules.generator import installments_due_count

        assert installments_due_count(today=TODAY, limit=100) == 3
        assert installments_due_count(today=TODAY, limit=2) == 2
        installments_issue_due(today=TODAY)
        assert installments_due_count(today=TODAY, limit=100) == 0
