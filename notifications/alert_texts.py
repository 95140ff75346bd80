"""What the merchant is told to do about an alert, in words that fit its cause (the alert
email, the portal's banner). The cause's own explanation for the schedule pages is
schedules.selectors.CAUSE_HINTS."""

from django.utils.translation import gettext_lazy as _

from schedules.models import CONSENT_CAUSES, DeactivationCause, needs_consent

__all__ = ["CONSENT_CAUSES", "alert_action", "needs_consent"]

_DEACTIVATED_ACTIONS = {
    DeactivationCause.SPAM_COMPLAINT: _(
        "Combine com o cliente como ele prefere receber os boletos. Se ele concordar em voltar "
        "a recebê-los por e-mail, reative o agendamento mantendo o endereço (ou informe outro)"
    ),
    DeactivationCause.UNSUBSCRIBED: _(
        "Combine com o cliente outro canal para os boletos. Se ele concordar em voltar a "
        "recebê-los por e-mail, reative o agendamento mantendo o endereço (ou informe outro)"
    ),
    DeactivationCause.ESP_SUPPRESSED: _(
        "Se o endereço estiver correto, abra um chamado: o suporte pode retirar o bloqueio no "
        "provedor de e-mail, e então você reativa o agendamento mantendo o e-mail. Se não "
        "estiver, corrija o e-mail e reative o agendamento"
    ),
}
_DEACTIVATED_DEFAULT = _("Corrija o e-mail do cliente e reative o agendamento")
_FAILING_DEFAULT = _("Confira o e-mail do cliente")


def alert_action(*, kind: str, cause: str) -> str:
    """The next step for the merchant (one sentence, no final period)."""
    if kind == "deactivated":
        return str(_DEACTIVATED_ACTIONS.get(cause, _DEACTIVATED_DEFAULT))
    return str(_FAILING_DEFAULT)
