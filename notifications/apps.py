from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = _("Notificações")

    def ready(self):
        # Imported here: models and the modules that use them load only once the app registry
        # is ready, which ready() is the first moment of.
        from anymail.signals import tracking

        from notifications.alerts import schedule_state_changed_receiver
        from notifications.delivery import boletos_issued_receiver
        from notifications.inbox import tracking_receiver
        from schedules.signals import boletos_issued, schedule_state_changed

        tracking.connect(tracking_receiver, dispatch_uid="notifications.inbox.tracking")
        boletos_issued.connect(boletos_issued_receiver, dispatch_uid="notifications.boletos_issued")
        schedule_state_changed.connect(
            schedule_state_changed_receiver, dispatch_uid="notifications.schedule_state_changed"
        )
