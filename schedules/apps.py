from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "schedules"
    verbose_name = _("Agendamentos")

    def ready(self):
        # In ready(): the app registry is loaded only now.
        from django.db.backends.signals import connection_created

        from billing.signals import customer_updated
        from schedules.receivers import customer_updated_record
        from schedules.search import register_sqlite_functions
        from schedules.signals import boletos_issued

        connection_created.connect(register_sqlite_functions, dispatch_uid="schedules.portal_fold")
        customer_updated.connect(
            customer_updated_record, dispatch_uid="schedules.customer_updated_record"
        )
        # Issued boletos go to their bank: at once where it answers at once (the test bank); by
        # the next remessa otherwise. notifications emails them once registered.
        boletos_issued.connect(
            _boletos_issued_register, dispatch_uid="schedules.boletos_issued_register"
        )


def _boletos_issued_register(sender, *, boleto_ids_by_merchant, **kwargs) -> None:
    """schedules.signals.boletos_issued (after commit): queue their registration."""
    # Imported here: billing's modules load models, ready only once the registry is.
    from billing.registration import registration_request_on_commit

    registration_request_on_commit(boleto_ids_by_merchant)
