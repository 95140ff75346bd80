"""Agendados › Importar planilha: download a template, upload a file, see every row's problems,
import the valid rows (schedules.importing)."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from portal.formats import date_br
from portal.tenancy import MerchantRequiredMixin, get_for_merchant_or_404
from schedules.importing import reading, samples, services
from schedules.importing.forms import ImportUploadForm
from schedules.models import ImportBatch, ScheduleStatus

PREVIEW_PAGE_SIZE = 200
# ?mostrar= on the preview: which rows to list.
PREVIEW_FILTERS = {"erros": "error", "duplicados": "duplicate", "validos": "ok"}


def _limits() -> dict:
    return {
        "max_size": reading.format_bytes(settings.IMPORT_MAX_BYTES),
        "max_rows": reading.format_count(settings.IMPORT_MAX_ROWS),
    }


class ImportStartView(MerchantRequiredMixin, View):
    """The template links and the upload form; a valid upload is previewed and stored."""

    template_name = "schedules/import_upload.html"

    def get(self, request):
        return self._render(request, ImportUploadForm())

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["arquivo"]
            try:
                table = reading.read_table(
                    upload.read(),
                    filename=upload.name,
                    max_bytes=settings.IMPORT_MAX_BYTES,
                    max_rows=settings.IMPORT_MAX_ROWS,
                )
            except reading.ImportFileError as exc:
                form.add_error("arquivo", exc.message)
            else:
                preview = services.import_preview(merchant=request.merchant, table=table)
                batch = services.import_batch_create(
                    merchant=request.merchant,
                    preview=preview,
                    original_name=upload.name,
                    actor=request.user,
                )
                return redirect("schedules:import_preview", pk=batch.pk)
        return self._render(request, form, status=400)

    def _render(self, request, form, status=200):
        context = {"form": form, "columns": reading.COLUMNS, **_limits()}
        return render(request, self.template_name, context, status=status)


class ImportSampleView(MerchantRequiredMixin, View):
    """modelo.csv / modelo.xlsx: the header and one example row."""

    def get(self, request, kind):
        today = timezone.localdate()
        if kind == "xlsx":
            body, content_type = samples.template_xlsx(today), samples.XLSX_CONTENT_TYPE
        else:
            body, content_type = samples.template_csv(today), "text/csv; charset=utf-8"
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"modelo-agendamentos.{kind}"
        )
        return response


class ImportPreviewView(MerchantRequiredMixin, View):
    """Every row of a stored upload: OK, erro (each problem per column) or duplicado."""

    template_name = "schedules/import_preview.html"

    def get(self, request, pk):
        batch = get_for_merchant_or_404(ImportBatch, request.merchant, pk=pk)
        shown = request.GET.get("mostrar", "")
        wanted = PREVIEW_FILTERS.get(shown)
        report = batch.report
        if wanted is not None:
            report = [row for row in report if row["status"] == wanted]
        page = Paginator(report, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [
            {
                **row,
                "first_label": services.first_installment_label(row),
                "first_due": row["values"].get("primeiro_vencimento", ""),
            }
            for row in page.object_list
        ]
        context = {
            "batch": batch,
            "page": page,
            "rows": rows,
            "shown": shown if wanted else "",
            "querystring_base": f"mostrar={shown}&" if wanted else "",
            "columns": reading.COLUMNS,
            "imported": batch.status == ImportBatch.Status.IMPORTED,
            "suggestions": sum(1 for row in batch.report if row.get("suggestion")),
            "imported_at": date_br(batch.imported_at) if batch.imported_at else "",
        }
        return render(request, self.template_name, context)


class ImportEmailAcceptView(MerchantRequiredMixin, View):
    """Accept the suggested email of one row (``linha``) or of all rows (``todas``) before
    importing (a typo caught now instead of a bounce a month later)."""

    def post(self, request, pk):
        batch = get_for_merchant_or_404(ImportBatch, request.merchant, pk=pk)
        raw = request.POST.get("linha", "")
        row_number = None if raw == "todas" else (int(raw) if raw.isdigit() else -1)
        changed = services.import_batch_email_accept(batch=batch, row_number=row_number)
        if changed:
            messages.success(
                request,
                ngettext("%(n)s e-mail corrigido.", "%(n)s e-mails corrigidos.", changed)
                % {"n": reading.format_count(changed)},
            )
        else:
            messages.info(request, _("Nenhum e-mail para corrigir."))
        url = reverse("schedules:import_preview", args=[batch.pk])
        return redirect(f"{url}#linha-{raw}" if raw.isdigit() else url)


class ImportConfirmView(MerchantRequiredMixin, View):
    """Import the stored preview's valid rows (once, whatever is sent twice)."""

    def post(self, request, pk):
        batch = get_for_merchant_or_404(ImportBatch, request.merchant, pk=pk)
        result = services.import_batch_confirm(batch=batch, actor=request.user)
        if result.already_imported:
            messages.info(request, _("Esta planilha já foi importada."))
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)s agendamento importado",
                    "%(n)s agendamentos importados",
                    result.created,
                )
                % {"n": reading.format_count(result.created)},
            )
            if result.duplicates:
                messages.warning(
                    request,
                    ngettext(
                        "%(n)s linha não foi importada: já havia sido importada enquanto esta "
                        "página estava aberta.",
                        "%(n)s linhas não foram importadas: já haviam sido importadas enquanto "
                        "esta página estava aberta.",
                        result.duplicates,
                    )
                    % {"n": result.duplicates},
                )
        return redirect(f"{reverse('schedules:list')}?status={ScheduleStatus.ACTIVE}")
