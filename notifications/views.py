from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import View

from billing.models import Boleto
from notifications.alerts import alerts_acknowledge
from notifications.delivery import boleto_resend
from notifications.models import MerchantAlert
from portal.tenancy import MerchantRequiredMixin, get_for_merchant_or_404
from schedules.models import Schedule


class AlertAcknowledgeView(MerchantRequiredMixin, View):
    def post(self, request, alert_id):
        alert = get_for_merchant_or_404(MerchantAlert, request.merchant, pk=alert_id)
        alerts_acknowledge(merchant_id=request.merchant.pk, pk=alert.pk)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "dashboard"
        return redirect(back)


class BoletoResendView(MerchantRequiredMixin, View):
    """Reenviar boleto: a confirmation page (GET), then the resend (POST), for an issued boleto
    of an active schedule of the merchant (another merchant's is a 404). Part of the schedule
    page, routed under /agendamentos/ by portal/urls.py; it lives here, with the resend it
    calls, because schedules cannot import notifications."""

    template_name = "notifications/boleto_resend_confirm.html"

    def _objects(self, request, number, sequence):
        schedule = get_for_merchant_or_404(Schedule, request.merchant, number=number)
        boleto = get_for_merchant_or_404(
            Boleto, request.merchant, schedule=schedule, sequence=sequence
        )
        return schedule, boleto

    def get(self, request, number, sequence):
        schedule, boleto = self._objects(request, number, sequence)
        return render(request, self.template_name, {"schedule": schedule, "boleto": boleto})

    def post(self, request, number, sequence):
        schedule, boleto = self._objects(request, number, sequence)
        try:
            resent = boleto_resend(
                merchant_id=request.merchant.pk,
                schedule_id=schedule.pk,
                boleto_id=boleto.pk,
                actor=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            params = {"n": boleto.sequence, "to": schedule.customer.email}
            if resent:
                messages.success(
                    request, _("Boleto da parcela %(n)s enviado novamente para %(to)s.") % params
                )
            else:
                messages.info(
                    request, _("O reenvio do boleto da parcela %(n)s já foi solicitado.") % params
                )
        return redirect(reverse("schedules:detail", args=[schedule.number]) + "#parcelas")
