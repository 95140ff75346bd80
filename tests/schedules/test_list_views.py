"""Gerenciar Boletos › Agendados: tabs and counts, number jump, search, filters, CSV, ZIP, query
counts, and a second merchant who sees none of it."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Boleto
from billing.services import boleto_filename
from schedules.models import Schedule, ScheduleStatus, ScheduleStatusCount
from tests.factories import CustomerFactory, ScheduleFactory

pytestmark = pytest.mark.django_db

LIST = reverse("schedules:list")
DEACTIVATED = LIST + "?status=deactivated"
EXPORT = reverse("schedules:export")
# 02:30 UTC on 5 March is still 4 March, 23:30, in São Paulo (UTC-3).
LATE_EVENING = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)


def deactivated(merchant, *, cause="invalid_address", at=None, **kwargs):
    return ScheduleFactory(
        merchant=merchant,
        status=ScheduleStatus.DEACTIVATED,
        deactivation_cause=cause,
        deactivated_at=at or timezone.now(),
        **kwargs,
    )


def cancelled(merchant, **kwargs):
    return ScheduleFactory(
        merchant=merchant,
        status=ScheduleStatus.CANCELLED,
        cancelled_at=timezone.now(),
        **kwargs,
    )


def boleto(schedule, sequence=1, *, delivery="undelivered", amount=Decimal("1234.56"), **fields):
    """A boleto row as the generator leaves it (numbers are not what these tests look at)."""
    return Boleto.objects.create(
        **fields,
        merchant=schedule.merchant,
        schedule=schedule,
        sequence=sequence,
        due_date=date(2026, 3, 20) + timedelta(days=30 * (sequence - 1)),
        amount=amount,
        status=Boleto.Status.ISSUED,
        delivery_status=delivery,
        issued_at=timezone.now(),
        barcode="3" * 44,
        linha_digitavel="3" * 47,
    )


def html(response) -> str:
    return response.content.decode()


class TestTabsAndCounts:
    def test_navigation_leads_to_gerenciar_boletos_and_its_two_tabs(self, owner_client):
        page = html(owner_client.get(reverse("dashboard")))
        assert f'href="{reverse("billing:boleto_list")}"' in page
        assert "Gerenciar Boletos" in page

        boletos = html(owner_client.get(reverse("billing:boleto_list")))
        assert f'<a href="{reverse("billing:boleto_list")}" aria-current="page">Boletos</a>' in (
            boletos
        )
        assert f'<a href="{LIST}">Agendados</a>' in boletos

        agendados = html(owner_client.get(LIST))
        assert f'<a href="{LIST}" aria-current="true">Agendados</a>' in agendados

    def test_each_tab_shows_its_count_and_the_current_one_is_marked(
        self, owner_client, merchant, other_merchant
    ):
        ScheduleFactory.create_batch(3, merchant=merchant)
        deactivated(merchant)
        deactivated(merchant)
        cancelled(merchant)
        ScheduleFactory.create_batch(2, merchant=other_merchant)
        deactivated(other_merchant)

        response = owner_client.get(DEACTIVATED)
        assert response.status_code == 200
        assert response.context["counts"] == {
            "active": 3,
            "deactivated": 2,
            "cancelled": 1,
            "finished": 0,
        }
        page = html(response)
        assert (
            f'<a href="{LIST}?status=deactivated" aria-current="page">'
            'Agendamentos Desativados <span class="count">2</span></a>'
        ) in page
        active = f'<a href="{LIST}?status=active">Agendamentos Ativos <span class="count">3</span>'
        assert active in page
        assert 'Cancelados <span class="count">1</span>' in page
        assert response.context["page"].paginator.count == 2

    def test_dashboard_counts_finished_schedules_once_there_are_any(self, owner_client, merchant):
        ScheduleFactory(merchant=merchant)
        page = html(owner_client.get(reverse("dashboard")))
        assert "?status=finished" not in page
        ScheduleFactory.create_batch(
            2,
            merchant=merchant,
            status=ScheduleStatus.FINISHED,
            finished_at=timezone.now(),
            end_count=1,
        )
        page = html(owner_client.get(reverse("dashboard")))
        assert (
            f'<a class="stat muted" href="{LIST}?status=finished"><strong>2</strong> Encerrados</a>'
        ) in page

    def test_counts_fragment_for_htmx_refresh(self, owner_client, merchant):
        deactivated(merchant)
        response = owner_client.get(reverse("schedules:tab_counts") + "?status=deactivated")
        assert response.status_code == 200
        fragment = html(response)
        assert "<html" not in fragment
        assert 'id="schedule-tabs"' in fragment
        assert 'aria-current="page">Agendamentos Desativados <span class="count">1</span>' in (
            fragment
        )

    def test_garbage_parameters_never_break_the_page(self, owner_client, merchant):
        deactivated(merchant)
        for query in (
            "?status=xx&page=zz&q=" + "9" * 40,
            "?status=deactivated&page=999999999999999999999",
            "?status=deactivated&causa=nada&de=ontem&ate=31/02/2026",
            "?status=deactivated&q=" + "x" * 500,
            "?status=deactivated&q=%25%00_",
            "?status=deactivated&page=%0D%0Ax&q=a%0D%0Ab&digitando=1",
        ):
            assert owner_client.get(LIST + query).status_code == 200, query
            htmx = owner_client.get(LIST + query, headers={"HX-Request": "true"})
            assert htmx.status_code == 200, query


@pytest.mark.postgres
class TestCountsKeptByPostgres:
    """The tab counts come from ScheduleStatusCount, which PostgreSQL triggers keep exact."""

    def kept(self, merchant) -> dict[str, int]:
        return dict(
            ScheduleStatusCount.objects.filter(merchant=merchant).values_list("status", "count")
        )

    def counted(self, merchant) -> dict[str, int]:
        rows = Schedule.objects.filter(merchant=merchant).values_list("status", flat=True)
        return {status: list(rows).count(status) for status in set(rows)}

    def test_every_kind_of_write_keeps_the_counts_exact(self, merchant, other_merchant):
        ScheduleFactory.create_batch(3, merchant=merchant)  # INSERT, row by row
        Schedule.objects.bulk_create(  # one multi-row INSERT
            [
                ScheduleFactory.build(merchant=m, customer=CustomerFactory(merchant=m))
                for m in [merchant] * 4 + [other_merchant] * 2
            ]
        )
        mine = list(Schedule.objects.filter(merchant=merchant).order_by("id"))
        Schedule.objects.filter(pk__in=[s.pk for s in mine[:3]]).update(
            status="deactivated", deactivation_cause="mailbox_full", deactivated_at=timezone.now()
        )
        mine[0].refresh_from_db()
        mine[0].status, mine[0].deactivation_cause, mine[0].deactivated_at = "active", "", None
        mine[0].save()  # a full save() that changes the status
        mine[5].save()  # a full save() that does not
        Schedule.objects.filter(pk=mine[6].pk).update(
            status="cancelled", cancelled_at=timezone.now()
        )
        Schedule.objects.filter(pk=mine[4].pk).update(next_sequence=2)  # generator-like update
        Schedule.objects.filter(pk=mine[3].pk).delete()

        assert (
            self.kept(merchant)
            == self.counted(merchant)
            == {
                "active": 3,
                "deactivated": 2,
                "cancelled": 1,
            }
        )
        assert self.kept(other_merchant) == self.counted(other_merchant) == {"active": 2}

    def test_the_page_reads_them(self, owner_client, merchant):
        deactivated(merchant)
        with CaptureQueriesContext(connection) as captured:
            response = owner_client.get(DEACTIVATED)
        assert response.context["counts"] == {
            "active": 0,
            "deactivated": 1,
            "cancelled": 0,
            "finished": 0,
        }
        sql = " ".join(q["sql"] for q in captured.captured_queries)
        assert "schedules_schedulestatuscount" in sql
        assert "COUNT(" not in sql  # no count over the schedules at all on the first page


class TestNumberJump:
    @pytest.mark.parametrize("typed", ["123", "#123", "nº 123", "Nº123", "n° 123", " 123 "])
    def test_number_lands_on_the_schedule(self, owner_client, merchant, typed):
        schedule = deactivated(merchant, number=123)
        response = owner_client.get(LIST, {"status": "deactivated", "q": typed})
        assert response.status_code == 302
        assert response.url == reverse("schedules:detail", kwargs={"number": 123})
        assert response.url == schedule.get_absolute_url()

    def test_htmx_submit_redirects_the_browser(self, owner_client, merchant):
        deactivated(merchant, number=123)
        response = owner_client.get(
            LIST, {"status": "deactivated", "q": "123"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("schedules:detail", kwargs={"number": 123})

    def test_unknown_number_says_so_in_portuguese(self, owner_client, merchant):
        deactivated(merchant, number=5)
        response = owner_client.get(LIST, {"status": "deactivated", "q": "nº 124"})
        assert response.status_code == 200
        assert "Nenhum agendamento desativado com o número 124." in html(response)
        assert list(response.context["page"].object_list) == []
        # What was typed is kept in the box.
        assert 'value="nº 124"' in html(response)

    def test_number_in_another_tab_points_there(self, owner_client, merchant):
        ScheduleFactory(merchant=merchant, number=77)  # active
        response = owner_client.get(LIST, {"status": "deactivated", "q": "77"})
        page = html(response)
        assert "Nenhum agendamento desativado com o número 77." in page
        assert "O agendamento nº 77 está em Agendamentos Ativos." in page
        assert f'href="{reverse("schedules:detail", kwargs={"number": 77})}"' in page

    def test_another_merchants_number_is_not_found(self, owner_client, other_merchant):
        deactivated(other_merchant, number=4242)
        response = owner_client.get(LIST, {"status": "deactivated", "q": "4242"})
        assert response.status_code == 200
        page = html(response)
        assert "Nenhum agendamento desativado com o número 4242." in page
        assert "está em" not in page

    def test_typing_filters_without_jumping(self, owner_client, merchant):
        mine = deactivated(merchant, number=12)
        deactivated(merchant, number=123)
        response = owner_client.get(
            LIST,
            {"status": "deactivated", "q": "12", "digitando": "1"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert list(response.context["page"].object_list) == [mine]
        fragment = html(response)
        assert "<html" not in fragment
        # The tab counts ride along out of band.
        assert 'id="schedule-tabs"' in fragment and 'hx-swap-oob="true"' in fragment
        assert "HX-Request" in response["Vary"]
        # The address bar follows the search, without the typing flag (a reload then jumps).
        assert response["HX-Replace-Url"] == LIST + "?status=deactivated&q=12"


class TestSearch:
    def test_name_is_case_and_accent_insensitive(self, owner_client, merchant, other_merchant):
        joao = deactivated(
            merchant, customer=CustomerFactory(merchant=merchant, name="João Conceição Silva")
        )
        deactivated(merchant, customer=CustomerFactory(merchant=merchant, name="Maria Souza"))
        deactivated(
            other_merchant,
            customer=CustomerFactory(merchant=other_merchant, name="João Conceição Silva"),
        )
        for typed in ("joao", "JOÃO", "conceicao", "ção sil", "Silva"):
            response = owner_client.get(LIST, {"status": "deactivated", "q": typed})
            assert list(response.context["page"].object_list) == [joao], typed

    def test_email_piece(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant, email="financeiro@academia.com.br")
        mine = deactivated(merchant, customer=customer)
        deactivated(merchant)
        response = owner_client.get(LIST, {"status": "deactivated", "q": "@ACADEMIA"})
        assert list(response.context["page"].object_list) == [mine]

    def test_like_wildcards_are_literal(self, owner_client, merchant):
        deactivated(merchant, customer=CustomerFactory(merchant=merchant, name="Ana"))
        for typed in ("%", "_", "a%a"):
            response = owner_client.get(LIST, {"status": "deactivated", "q": typed})
            assert list(response.context["page"].object_list) == [], typed

    def test_search_stays_inside_the_tab(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant, name="Carla Dias")
        ScheduleFactory(merchant=merchant, customer=customer)
        off = deactivated(merchant, customer=customer)
        response = owner_client.get(LIST, {"status": "deactivated", "q": "carla"})
        assert list(response.context["page"].object_list) == [off]
        response = owner_client.get(LIST, {"status": "active", "q": "carla"})
        assert [s.status for s in response.context["page"].object_list] == ["active"]


class TestFilters:
    def test_by_cause(self, owner_client, merchant):
        full = deactivated(merchant, cause="mailbox_full")
        deactivated(merchant, cause="invalid_address")
        response = owner_client.get(DEACTIVATED + "&causa=mailbox_full")
        assert list(response.context["page"].object_list) == [full]
        assert response.context["page"].paginator.count == 1

    def test_by_period_in_sao_paulo_days(self, owner_client, merchant):
        evening = deactivated(merchant, at=LATE_EVENING)  # 04/03/2026 23:30 in São Paulo
        later = deactivated(merchant, at=datetime(2026, 3, 20, 15, 0, tzinfo=UTC))

        def listed(**params):
            response = owner_client.get(LIST, {"status": "deactivated", **params})
            assert response.status_code == 200
            return list(response.context["page"].object_list)

        assert listed(de="04/03/2026", ate="04/03/2026") == [evening]
        assert listed(de="05/03/2026") == [later]
        assert listed(ate="19/03/2026") == [evening]
        assert listed(de="01/03/2026", ate="31/03/2026") == [later, evening]

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"de": "31/02/2026"}, "de", "Informe uma data válida."),
            ({"ate": "ontem"}, "ate", "Informe uma data válida."),
            ({"de": "01/01/1900"}, "de", "Informe uma data entre 01/01/2000 e 31/12/2099."),
            ({"ate": "31/12/9999"}, "ate", "Informe uma data entre 01/01/2000 e 31/12/2099."),
            (
                {"de": "10/03/2026", "ate": "01/03/2026"},
                "ate",
                "A data final deve ser igual ou posterior à data inicial.",
            ),
            ({"causa": "nada"}, "causa", "Faça uma escolha válida."),
        ],
    )
    def test_bad_filters_answer_next_to_the_field_and_keep_what_was_typed(
        self, owner_client, merchant, params, field, message
    ):
        deactivated(merchant)
        response = owner_client.get(LIST, {"status": "deactivated", **params})
        assert response.status_code == 200
        form = response.context["form"]
        assert any(message in error for error in form.errors[field])
        page = html(response)
        assert f'<p class="error" id="id_{field}-error">' in page
        assert f'aria-describedby="id_{field}-error"' in page
        assert f'value="{params[field]}"' in page or params[field] == "nada"


class TestColumnsAndPages:
    def test_row_shows_cause_time_undelivered_boleto_and_actions(self, owner_client, merchant):
        customer = CustomerFactory(merchant=merchant, name="Bruno Alves", email="bruno@x.com.br")
        schedule = deactivated(
            merchant, number=31, customer=customer, cause="mailbox_full", at=LATE_EVENING
        )
        boleto(schedule, 1, delivery="delivered")
        older = boleto(schedule, 2)
        latest = boleto(schedule, 3)
        page = html(owner_client.get(DEACTIVATED))
        assert "Bruno Alves" in page and "bruno<wbr>@x<wbr>.com<wbr>.br" in page
        assert "Caixa postal cheia" in page
        assert "04/03/2026 23:30" in page
        pdf = reverse("billing:boleto_pdf", kwargs={"boleto_id": latest.pk})
        assert f'href="{pdf}?inline=1">Parcela 3 · venc. {latest.due_date:%d/%m/%Y}</a>' in page
        assert f'href="{pdf}">Baixar PDF</a>' in page
        assert f'value="{latest.pk}"' in page and f'value="{older.pk}"' not in page
        reactivate = reverse("schedules:reactivate", kwargs={"number": 31})
        assert f'href="{reactivate}">Corrigir e-mail e reativar</a>' in page
        ticket = reverse("notifications:ticket_create") + "?agendamento=31"
        assert f'href="{ticket}">Abrir chamado</a>' in page

    def test_big_numbers_and_ids_are_printed_without_grouping(self, owner_client, merchant):
        schedule = deactivated(merchant, number=1234)
        # Made with its id (its bank row is made by the database with it, keyed on that id).
        boleto(schedule, id=54321)
        page = html(owner_client.get(DEACTIVATED))
        assert ">nº 1234</a>" in page
        assert 'name="boleto" value="54321"' in page
        assert "?agendamento=1234" in page
        # The alert email may print it the pt-BR way: that lands on it too.
        response = owner_client.get(LIST, {"status": "deactivated", "q": "nº 1.234"})
        assert response.url == schedule.get_absolute_url()

    def test_a_row_without_undelivered_boleto_has_no_checkbox(self, owner_client, merchant):
        schedule = deactivated(merchant, cause="spam_complaint")
        boleto(schedule, 1, delivery="delivered")
        response = owner_client.get(DEACTIVATED)
        assert response.context["page"].object_list[0].undelivered_boletos == []
        assert 'name="boleto"' not in html(response)

    def test_pages_newest_deactivation_first(self, owner_client, merchant):
        start = timezone.now() - timedelta(days=60)
        made = [deactivated(merchant, at=start + timedelta(hours=i)) for i in range(30)]
        newest_first = made[::-1]
        first = owner_client.get(DEACTIVATED)
        assert list(first.context["page"].object_list) == newest_first[:25]
        second = owner_client.get(DEACTIVATED + "&page=2")
        assert list(second.context["page"].object_list) == newest_first[25:]
        assert "Página 2 de 2" in html(second)
        assert 'href="/agendamentos/?status=deactivated&amp;page=1"' in html(second)
        beyond = owner_client.get(DEACTIVATED + "&page=99")
        assert list(beyond.context["page"].object_list) == newest_first[25:]


class TestQueryCounts:
    """A page costs the same number of queries whatever its depth and its rows."""

    def queries(self, client, url) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)

    def test_constant_per_page_in_every_tab(self, owner_client, merchant):
        start = timezone.now() - timedelta(days=90)
        for i in range(60):  # 60 customers, each with its own schedule and boletos
            schedule = deactivated(merchant, at=start + timedelta(hours=i), cause="mailbox_full")
            boleto(schedule, 1, delivery="delivered")
            boleto(schedule, 2)
        ScheduleFactory.create_batch(30, merchant=merchant)
        for _ in range(30):
            cancelled(merchant)

        first = self.queries(owner_client, DEACTIVATED)
        deep = self.queries(owner_client, DEACTIVATED + "&page=3")
        cause = self.queries(owner_client, DEACTIVATED + "&causa=mailbox_full&page=2")
        search = self.queries(owner_client, DEACTIVATED + "&q=cliente")
        assert first == deep <= 10
        # Narrowed lists add their own COUNT (the tab count is not theirs).
        assert cause == search == first + 1
        active, active_deep = (
            self.queries(owner_client, LIST + "?status=active"),
            self.queries(owner_client, LIST + "?status=active&page=2"),
        )
        assert active == active_deep == first - 1  # no undelivered boletos to fetch
        assert self.queries(owner_client, LIST + "?status=cancelled&page=2") == active

    def test_number_jump_costs_one_lookup(self, owner_client, merchant):
        deactivated(merchant, number=9)
        with CaptureQueriesContext(connection) as captured:
            response = owner_client.get(DEACTIVATED + "&q=9")
        assert response.status_code == 302
        assert len(captured) <= 4  # session, user, membership, the lookup


class TestCsv:
    def rows(self, response) -> list[list[str]]:
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents right
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))

    def test_pt_br_csv_of_the_filtered_tab(self, owner_client, merchant, other_merchant):
        customer = CustomerFactory(
            merchant=merchant, name="Júlia Conceição", email="julia@exemplo.com.br"
        )
        schedule = deactivated(
            merchant,
            number=9_000_501,
            customer=customer,
            cause="invalid_address",
            at=LATE_EVENING,
            amount=Decimal("1234.56"),
            first_due_date=date(2026, 4, 10),
        )
        undelivered = boleto(schedule, 2, amount=Decimal("98765.40"))
        deactivated(merchant, cause="mailbox_full")
        deactivated(other_merchant, cause="invalid_address")

        response = owner_client.get(EXPORT + "?status=deactivated&causa=invalid_address")
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        assert "agendamentos-desativados-" in response["Content-Disposition"]
        header, *body = self.rows(response)
        assert header[:3] == ["Número", "Situação", "Cliente"]
        assert "Motivo da desativação" in header and "Desativado em" in header
        assert body == [
            [
                "9000501",
                "Desativado",
                "Júlia Conceição",
                customer.formatted_document,
                "julia@exemplo.com.br",
                "1.234,56",
                "Mensal",
                "10/04/2026",
                "Endereço de e-mail inexistente ou inválido",
                "04/03/2026 23:30",
                "2",
                f"{undelivered.due_date:%d/%m/%Y}",
                "98.765,40",
            ]
        ]

    def test_search_applies_and_formulas_are_defused(self, owner_client, merchant):
        deactivated(merchant, customer=CustomerFactory(merchant=merchant, name="=HYPERLINK(1)"))
        deactivated(merchant, customer=CustomerFactory(merchant=merchant, name="Outro"))
        response = owner_client.get(EXPORT, {"status": "deactivated", "q": "hyperlink"})
        _, *body = self.rows(response)
        assert [row[2] for row in body] == ["'=HYPERLINK(1)"]

    def test_every_row_of_a_big_tab_in_order(self, owner_client, merchant):
        start = timezone.now() - timedelta(days=10)
        made = [deactivated(merchant, at=start + timedelta(minutes=i)) for i in range(60)]
        with CaptureQueriesContext(connection) as captured:
            response = owner_client.get(EXPORT + "?status=deactivated")
            _, *body = self.rows(response)
        assert [int(row[0]) for row in body] == [s.number for s in reversed(made)]
        assert len(captured) <= 8  # chunks of 2,000: one for schedules, one for their boletos

    def test_bad_filter_goes_back_to_the_list_with_its_message(self, owner_client):
        response = owner_client.get(EXPORT + "?status=deactivated&de=32/01/2026", follow=True)
        assert response.redirect_chain[0][0] == LIST + "?status=deactivated&de=32%2F01%2F2026"
        assert "Informe uma data válida." in html(response)


class TestZipOfSelectedRows:
    def test_zip_of_the_undelivered_boletos_selected_on_the_page(
        self, owner_client, merchant, other_merchant
    ):
        from schedules.generator import installments_issue_due

        today = date(2026, 3, 10)
        schedules = [
            ScheduleFactory(merchant=merchant, first_due_date=date(2026, 3, 20)) for _ in range(3)
        ]
        theirs = ScheduleFactory(merchant=other_merchant, first_due_date=date(2026, 3, 20))
        installments_issue_due(today=today)
        Boleto.objects.update(delivery_status="undelivered")
        Schedule.objects.update(
            status="deactivated",
            deactivation_cause="invalid_address",
            deactivated_at=timezone.now(),
        )
        page = html(owner_client.get(DEACTIVATED))
        mine = list(Boleto.objects.filter(schedule__in=schedules[:2]).select_related("schedule"))
        for b in mine:
            assert f'name="boleto" value="{b.pk}"' in page
        assert f'action="{reverse("billing:boleto_zip")}"' in page

        response = owner_client.post(
            reverse("billing:boleto_zip"),
            {"boleto": [b.pk for b in mine], "next": DEACTIVATED},
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert sorted(archive.namelist()) == sorted(boleto_filename(b) for b in mine)
        assert all(archive.read(n).startswith(b"%PDF") for n in archive.namelist())

        # Another merchant's id among mine: the whole request is refused.
        foreign = Boleto.objects.get(schedule=theirs)
        response = owner_client.post(
            reverse("billing:boleto_zip"), {"boleto": [mine[0].pk, foreign.pk]}
        )
        assert response.status_code == 404


class TestSecondMerchant:
    def test_sees_nothing_of_the_first(self, other_client, merchant):
        schedule = deactivated(
            merchant, number=321, customer=CustomerFactory(merchant=merchant, name="Zé Segredo")
        )
        boleto(schedule)
        response = other_client.get(DEACTIVATED)
        assert response.context["counts"] == {
            "active": 0,
            "deactivated": 0,
            "cancelled": 0,
            "finished": 0,
        }
        assert "Zé Segredo" not in html(response)
        assert list(other_client.get(DEACTIVATED + "&q=segredo").context["page"].object_list) == []
        counts = html(other_client.get(reverse("schedules:tab_counts")))
        assert '<span class="count">0</span>' in counts and '<span class="count">1</span>' not in (
            counts
        )
        body = b"".join(other_client.get(EXPORT + "?status=deactivated").streaming_content)
        assert len(body.decode("utf-8-sig").strip().splitlines()) == 1  # the header only
        assert "Segredo" not in body.decode("utf-8-sig")
