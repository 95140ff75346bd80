from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = _("Notificações")

    def ready(self):
        from anymail.signals import tracking

        from notifications.inbox import tracking_receiver

        tracking.connect(tracking_receiver, dispatch_uid="notifications.inbox.tracking")
