from django.apps import AppConfig
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

from portal.converters import IdConverter


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("Lojistas")

    def ready(self):
        # Here, not in portal/urls.py: every app's urls.py uses <id:...>, and the root URLconf
        # imports schedules.urls itself (to add notifications' resend view to its namespace).
        register_converter(IdConverter, "id")
