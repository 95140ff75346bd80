"""Forms of the bank screens: Configurações › Cobrança bancária and Gerenciar Boletos › Arquivos.

Syntax here (pt-BR, values kept on error); the rules that depend on the merchant's bank and on
the files already generated live in billing.bank_settings.bank_collection_update."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from billing.models import WRITE_OFF_DAYS_MAX, CollectionChannel
from portal.formfields import PortalFormMixin

digits_only = RegexValidator(r"^[0-9]*$", _("Use apenas números."), code="digits")

# The channels as the merchant reads them: which banks each one serves.
CHANNEL_CHOICES = [
    (CollectionChannel.TEST_BANK.value, _("Banco de testes (999)")),
    (CollectionChannel.CNAB240.value, _("CNAB 240 (Banco do Brasil, Santander)")),
    (CollectionChannel.CNAB400.value, _("CNAB 400 (Itaú, Bradesco, Banco do Brasil CBR643)")),
]


class BankCollectionForm(PortalFormMixin, forms.Form):
    channel = forms.ChoiceField(
        label=_("Canal de cobrança"),
        choices=CHANNEL_CHOICES,
        widget=forms.RadioSelect,
        help_text=_(
            "Como os boletos são registrados no banco e como o portal sabe o que foi pago. "
            "No Banco de testes o registro é imediato; por arquivo, você envia a remessa ao "
            "banco e traz o retorno."
        ),
    )
    company_code = forms.CharField(
        label=_("Código da empresa / de transmissão"),
        max_length=20,
        required=False,
        validators=[digits_only],
        help_text=_(
            "Bradesco (CNAB 400): código da empresa, até 20 dígitos. Santander (CNAB 240): "
            "código de transmissão, até 15 dígitos. Fornecido pelo banco."
        ),
    )
    wallet_variation = forms.CharField(
        label=_("Variação da carteira"),
        max_length=3,
        required=False,
        validators=[digits_only],
        help_text=_("Banco do Brasil: 3 dígitos (ex.: 019)."),
    )
    next_nsa = forms.IntegerField(
        label=_("Próximo NSA"),
        min_value=1,
        max_value=999999,
        help_text=_(
            "Número sequencial do próximo arquivo de remessa. Só mude se o banco pedir: ele "
            "recusa um número repetido."
        ),
    )
    write_off_days = forms.IntegerField(
        label=_("Baixa automática (dias após o vencimento)"),
        min_value=1,
        max_value=WRITE_OFF_DAYS_MAX,
        required=False,
        help_text=_("De 1 a 120 dias. Vazio: o banco não baixa sozinho."),
    )
    registration_alert_days = forms.IntegerField(
        label=_("Alertar registro pendente após (dias úteis)"),
        min_value=1,
        max_value=10,
        help_text=_("Avisamos quando um boleto continua sem registro depois da remessa."),
    )


class RetornoUploadForm(PortalFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Arquivo de retorno"),
        help_text=_("O arquivo .ret (CNAB 240 ou 400) baixado do site ou da VAN do seu banco."),
        error_messages={
            "required": _("Escolha o arquivo de retorno."),
            "empty": _("O arquivo enviado está vazio."),
            "invalid": _("Envie um arquivo."),
        },
    )
