from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import View

from notifications.alerts import alerts_acknowledge
from notifications.models import MerchantAlert
from portal.tenancy import MerchantRequiredMixin, get_for_merchant_or_404


class AlertAcknowledgeView(MerchantRequiredMixin, View):
    def post(self, request, alert_id):
        alert = get_for_merchant_or_404(MerchantAlert, request.merchant, pk=alert_id)
        alerts_acknowledge(merchant_id=request.merchant.pk, pk=alert.pk)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "dashboard"
        return redirect(back)
