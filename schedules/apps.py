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

        connection_created.connect(register_sqlite_functions, dispatch_uid="schedules.portal_fold")
        customer_updated.connect(
            customer_updated_record, dispatch_uid="schedules.customer_updated_record"
        )
