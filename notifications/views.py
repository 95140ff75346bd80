from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import View

from notifications.models import MerchantAlert
from portal.tenancy import MerchantRequiredMixin, get_for_merchant_or_404


class AlertAcknowledgeView(MerchantRequiredMixin, View):
    def post(self, request, alert_id):
        alert = get_for_merchant_or_404(MerchantAlert, request.merchant, pk=alert_id)
        MerchantAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now()
        )
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "dashboard"
        return redirect(back)
