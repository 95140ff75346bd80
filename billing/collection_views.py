"""Configurações › Cobrança bancária: the merchant's collection channel and what its layout
needs. Owners edit; members see it read-only (a POST is a 403), like Dados da conta."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from billing import bank_settings, selectors
from billing.bank_forms import CHANNEL_CHOICES, BankCollectionForm
from billing.services import bank_collection_get
from portal.models import Membership
from portal.tenancy import MerchantRequiredMixin


def _is_owner(request) -> bool:
    return request.membership is not None and request.membership.role == Membership.Role.OWNER


class BankCollectionView(MerchantRequiredMixin, FormView):
    template_name = "billing/bank_collection.html"
    form_class = BankCollectionForm

    def post(self, request, *args, **kwargs):
        if not _is_owner(request):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_collection(self):
        if not hasattr(self, "_collection"):
            self._collection = bank_collection_get(merchant=self.request.merchant)
        return self._collection

    def get_initial(self):
        collection = self.get_collection()
        return {field: getattr(collection, field) for field in bank_settings.COLLECTION_FIELDS}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        collection = self.get_collection()
        merchant = self.request.merchant
        context.update(
            collection=collection,
            channel_label=dict(CHANNEL_CHOICES).get(collection.channel, collection.channel),
            account=merchant,
            is_owner=_is_owner(self.request),
            min_nsa=bank_settings.bank_collection_min_nsa(merchant=merchant),
            last_remessa=selectors.remessa_last(merchant=merchant),
            tab="collection",
        )
        return context

    def form_valid(self, form):
        try:
            changes = bank_settings.bank_collection_update(
                collection=self.get_collection(), actor=self.request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                for error in exc.messages:
                    form.add_error(None, error)
            return self.form_invalid(form)
        if changes:
            messages.success(self.request, _("Cobrança bancária salva."))
        else:
            messages.info(self.request, _("Nada foi alterado."))
        return redirect("billing:bank_collection")
