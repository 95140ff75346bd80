"""What the merchant is told to do about an alert, in words that fit its cause (the alert
email, the portal's banner). The cause's own explanation for the schedule pages is
schedules.selectors.CAUSE_HINTS."""

from django.utils.translation import gettext_lazy as _

from schedules.models import DeactivationCause

_DEACTIVATED_ACTIONS = {
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
