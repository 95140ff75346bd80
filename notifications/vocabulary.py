"""The delivery vocabulary shared by the classifier, the models and the policy.

``DeliveryAction``: what the classifier says the portal should do with one ESP event
(notifications/classifier). ``EmailState``: how far one sent email got, monotonic: an event
only moves it up (email-delivery.md §5.2; notifications/policy.py).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryAction(models.TextChoices):
    # The receiving server accepted the message.
    DELIVER = "deliver", _("entregue")
    # Informational (queued, sent, deferred while the ESP retries, opened, ...): stored only.
    RECORD = "record", _("apenas registrar")
    # A final transient failure (the ESP stopped retrying): we retry, then deactivate.
    SOFT = "soft", _("falha temporária")
    # Permanent: the schedule is deactivated.
    HARD = "hard", _("falha permanente")
    # A problem on our side: operations are alerted, the customer's schedule is untouched.
    SENDER = "sender", _("problema do nosso lado")


class EmailState(models.IntegerChoices):
    SENT = 0, _("enviado")
    DEFERRED = 1, _("adiado pelo provedor")
    DELIVERED = 2, _("entregue")
    SOFT = 3, _("falha temporária")
    HARD = 4, _("falha permanente")
    COMPLAINT = 5, _("reclamação ou descadastro")
