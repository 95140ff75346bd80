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

        from billing.signals import bank_attention, boletos_registered
        from notifications import timeline
        from notifications.alerts import (
            bank_alerts_resolve_receiver,
            bank_attention_receiver,
            schedule_state_changed_receiver,
        )
        from notifications.delivery import boletos_registered_receiver
        from notifications.inbox import tracking_receiver
        from notifications.selectors import schedule_alert_diagnostic, schedule_email_suspect_event
        from schedules import extensions
        from schedules.signals import schedule_state_changed

        tracking.connect(tracking_receiver, dispatch_uid="notifications.inbox.tracking")
        # A boleto is emailed once its bank knows it: billing announces it registered (at once
        # on the test bank, after the bank's retorno by file; a reactivation's resends, already
        # registered, through the registration request that schedules queues on boletos_issued).
        boletos_registered.connect(
            boletos_registered_receiver, dispatch_uid="notifications.boletos_registered"
        )
        boletos_registered.connect(
            bank_alerts_resolve_receiver, dispatch_uid="notifications.bank_alerts_resolve"
        )
        bank_attention.connect(bank_attention_receiver, dispatch_uid="notifications.bank_attention")
        schedule_state_changed.connect(
            schedule_state_changed_receiver, dispatch_uid="notifications.schedule_state_changed"
        )
        for source in timeline.SOURCES:
            extensions.timeline_sources.register(source, uid=f"notifications.{source.__name__}")
        extensions.deactivation_diagnostics.register(
            schedule_alert_diagnostic, uid="notifications.alert_diagnostic"
        )
        extensions.email_suspects.register(
            schedule_email_suspect_event, uid="notifications.email_suspect"
        )
