from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.formfields import PortalFormMixin
from schedules.importing.reading import too_big_message


class ImportUploadForm(PortalFormMixin, forms.Form):
    """The spreadsheet to preview: refused here when over IMPORT_MAX_BYTES (its size is known
    before it is read)."""

    arquivo = forms.FileField(
        label=_("Planilha (.csv ou .xlsx)"),
        error_messages={
            "required": _("Escolha o arquivo da planilha."),
            "empty": _("O arquivo está vazio."),
            "invalid": _("Envie o arquivo da planilha pelo formulário."),
            "missing": _("Escolha o arquivo da planilha."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_arquivo(self):
        upload = self.cleaned_data["arquivo"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(too_big_message(settings.IMPORT_MAX_BYTES))
        return upload
