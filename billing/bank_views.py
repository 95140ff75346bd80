"""Gerenciar Boletos › Arquivos: the remessas (list, download, "Gerar remessa agora") and the
retornos (upload, result page, download). Thin: parse, look up inside the merchant (another
merchant's id is a 404), call billing.remessas / billing.retornos, render or redirect.

The upload never reads a file over settings.BANK_FILE_MAX_BYTES into memory: a size-limiting
upload handler is installed before the request body is parsed (so before the CSRF check, which
reads the form), and it stops storing the file as soon as the limit is passed."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import TemplateView, View

from billing import selectors
from billing.bank_forms import RetornoUploadForm
from billing.cnab.records import CnabError
from billing.cnab.remessa import RemessaError
from billing.models import CollectionChannel, Remessa, Retorno
from billing.remessas import remessa_generate
from billing.retornos import RETORNO_ALREADY_IMPORTED, retorno_import
from billing.services import bank_collection_get
from portal.formats import datetime_br
from portal.tenancy import MerchantRequiredMixin

REMESSAS_PAGE_SIZE = 25
SECTION_CAP = 100  # titles shown per section of a retorno's result; "Ver todos" pages the rest
SECTION_PAGE_SIZE = 100

FILE_TOO_BIG = gettext_lazy(
    "O arquivo tem mais de %(mb)s MB: não parece um retorno de cobrança. Confira se escolheu o "
    "arquivo certo."
)
NOTHING_TO_SEND = gettext_lazy("Nada a enviar: nenhum boleto aguardando registro.")
TEST_BANK_NO_REMESSA = gettext_lazy(
    "No Banco de testes cada boleto é registrado na hora em que é emitido: não há remessa a "
    "gerar nem a enviar."
)

SECTIONS = [
    ("confirmed", gettext_lazy("Confirmados (registrados)")),
    ("paid", gettext_lazy("Pagos")),
    ("written_off", gettext_lazy("Baixados")),
    ("rejected", gettext_lazy("Rejeitados")),
    ("not_found", gettext_lazy("Não encontrados")),
    ("other", gettext_lazy("Outros (informativos, tarifas, desconhecidos)")),
]
SECTION_HELP = {
    "confirmed": gettext_lazy("O banco confirmou o registro: estes boletos já podem ser pagos."),
    "paid": gettext_lazy("O banco informou o pagamento destes boletos."),
    "written_off": gettext_lazy("O banco baixou estes boletos: não podem mais ser pagos."),
    "rejected": gettext_lazy(
        "O banco recusou estes boletos ou instruções. Corrija o motivo e emita novamente."
    ),
    "not_found": gettext_lazy(
        "Títulos do arquivo que não correspondem a nenhum boleto desta conta. Confira se o "
        "arquivo é desta conta; nada foi alterado por eles."
    ),
    "other": gettext_lazy(
        "Ocorrências que não mudam o registro nem o pagamento: tarifas, avisos do banco e "
        "códigos que o portal não conhece (nunca tratados como pagamento)."
    ),
}


def _max_bytes() -> int:
    return settings.BANK_FILE_MAX_BYTES


def _too_big_message() -> str:
    return str(FILE_TOO_BIG % {"mb": _max_bytes() // (1024 * 1024)})


class _SizeLimitUploadHandler(FileUploadHandler):
    """Stops storing an uploaded file once it passes settings.BANK_FILE_MAX_BYTES: the rest
    of the body is read and discarded, never kept (memory or disk)."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > _max_bytes() + 64 * 1024:
            self.request.bank_file_too_big = True

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > _max_bytes():
            self.request.bank_file_too_big = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def _files_context(request, *, form=None, already=None) -> dict:
    merchant = request.merchant
    collection = bank_collection_get(merchant=merchant)
    page = Paginator(selectors.remessa_list(merchant=merchant), REMESSAS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return {
        "section": "arquivos",
        "collection": collection,
        "is_test_bank": collection.channel == CollectionChannel.TEST_BANK,
        "page": page,
        "page_url": "?",
        "retornos": selectors.retorno_recent(merchant=merchant),
        "form": form or RetornoUploadForm(),
        "already": already,
        "max_mb": _max_bytes() // (1024 * 1024),
    }


class BankFilesView(MerchantRequiredMixin, TemplateView):
    template_name = "billing/bank_files.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_files_context(self.request))
        return context


class RemessaGenerateView(MerchantRequiredMixin, View):
    """ "Gerar remessa agora": everything not yet sent, in one file with the next NSA."""

    def post(self, request):
        collection = bank_collection_get(merchant=request.merchant)
        if collection.channel == CollectionChannel.TEST_BANK:
            messages.info(request, TEST_BANK_NO_REMESSA)
            return redirect("billing:bank_files")
        try:
            remessa = remessa_generate(
                merchant=request.merchant, trigger=Remessa.Trigger.MANUAL, actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("billing:bank_files")
        except RemessaError as exc:
            messages.error(
                request,
                _("A remessa não pôde ser gerada: %(reason)s") % {"reason": exc},
            )
            return redirect("billing:bank_files")
        if remessa is None:
            messages.info(request, NOTHING_TO_SEND)
        else:
            messages.success(
                request,
                _("Remessa %(file)s gerada (NSA %(nsa)s, %(n)s títulos). Baixe e envie ao banco.")
                % {"file": remessa.filename, "nsa": remessa.nsa, "n": remessa.titles},
            )
        return redirect("billing:bank_files")


def _stored_file_response(stored, filename: str) -> HttpResponse:
    try:
        with stored.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


class RemessaDownloadView(MerchantRequiredMixin, View):
    def get(self, request, remessa_id):
        remessa = selectors.remessa_get(merchant=request.merchant, remessa_id=remessa_id)
        return _stored_file_response(remessa.file, remessa.filename)


class RetornoDownloadView(MerchantRequiredMixin, View):
    def get(self, request, retorno_id):
        retorno = selectors.retorno_get(merchant=request.merchant, retorno_id=retorno_id)
        return _stored_file_response(retorno.file, retorno.filename)


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), after the size limit is set
class RetornoUploadView(MerchantRequiredMixin, View):
    """ "Enviar retorno": store, validate, apply (billing.retornos.retorno_import), then the
    result page. Any refusal is one pt-BR message next to the file field, status 200."""

    def post(self, request):
        request.upload_handlers.insert(0, _SizeLimitUploadHandler(request))
        return self._post(request)

    @method_decorator(csrf_protect)
    def _post(self, request):
        form = RetornoUploadForm(request.POST, request.FILES)
        if getattr(request, "bank_file_too_big", False):
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error("file", _too_big_message())
            return self._invalid(request, form)
        if not form.is_valid():
            return self._invalid(request, form)
        upload = form.cleaned_data["file"]
        if upload.size > _max_bytes():
            form.add_error("file", _too_big_message())
            return self._invalid(request, form)
        data = upload.read()
        try:
            retorno = retorno_import(
                merchant=request.merchant,
                data=data,
                filename=(upload.name or "retorno.ret")[-255:],
                source=Retorno.Source.UPLOAD,
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("file", " ".join(exc.messages))
            return self._invalid(request, form)
        except CnabError as exc:
            form.add_error("file", str(exc))
            return self._invalid(request, form)
        if getattr(retorno, "already_imported", False):
            return self._invalid(request, form, already=retorno)
        messages.success(request, _("Retorno %(file)s processado.") % {"file": retorno.filename})
        return redirect("billing:retorno_detail", retorno_id=retorno.pk)

    def _invalid(self, request, form, *, already=None):
        if already is not None:
            form.add_error(
                "file",
                RETORNO_ALREADY_IMPORTED
                % {"date": datetime_br(already.applied_at or already.created_at)},
            )
        return render(
            request, "billing/bank_files.html", _files_context(request, form=form, already=already)
        )


class RetornoDetailView(MerchantRequiredMixin, TemplateView):
    """The result of a retorno in plain Portuguese, one section per outcome. Each section shows
    its first SECTION_CAP titles; ?secao=<key> shows one section, paginated."""

    template_name = "billing/bank_retorno.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        retorno = selectors.retorno_get(
            merchant=self.request.merchant, retorno_id=self.kwargs["retorno_id"]
        )
        counts = selectors.retorno_section_counts(retorno=retorno)
        only = self.request.GET.get("secao", "")
        if only not in selectors.RETORNO_SECTIONS:
            only = ""
        sections = []
        for key, title in SECTIONS:
            if only and key != only:
                continue
            rows = selectors.retorno_section_rows(retorno=retorno, section=key)
            page = None
            if only:
                page = Paginator(rows, SECTION_PAGE_SIZE).get_page(self.request.GET.get("page"))
                rows = page.object_list
            elif counts[key]:
                rows = rows[:SECTION_CAP]
            else:
                rows = []
            sections.append(
                {
                    "key": key,
                    "title": title,
                    "help": SECTION_HELP[key],
                    "count": counts[key],
                    "rows": list(rows),
                    "page": page,
                    "capped": not only and counts[key] > SECTION_CAP,
                }
            )
        context.update(
            section="arquivos",
            retorno=retorno,
            summary=retorno.summary or {},
            counts=counts,
            total=sum(counts.values()),
            sections=sections,
            only=only,
            cap=SECTION_CAP,
            page_url=f"?secao={only}&" if only else "?",
            detail_url=reverse("billing:retorno_detail", args=[retorno.pk]),
        )
        return context
