from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = _("Boletos")

    def ready(self) -> None:
        # Imported here: billing.accounts imports models, which are not ready at module level.
        from billing.accounts import bank_account_check_receiver, nosso_numero_sequence_receiver
        from billing.services import bank_collection_receiver
        from portal.models import Merchant
        from portal.signals import merchant_account_check

        merchant_account_check.connect(
            bank_account_check_receiver, dispatch_uid="billing.bank_account_check"
        )
        post_save.connect(
            nosso_numero_sequence_receiver,
            sender=Merchant,
            dispatch_uid="billing.nosso_numero_sequence",
        )
        post_save.connect(
            bank_collection_receiver,
            sender=Merchant,
            dispatch_uid="billing.bank_collection",
        )
