"""Extension points of the schedule pages: what apps above schedules (which schedules cannot
import; imports run notifications -> schedules -> billing -> portal) add to them. Providers
register in their AppConfig.ready(); schedules calls them in registration order.

- ``timeline_sources``: ``provider(schedule) -> list[TimelineEntry]``, more lines for the
  detail page's "Histórico" (notifications: emails, provider events, alerts);
- ``deactivation_diagnostics``: ``provider(schedule) -> str``, the provider's words about a
  deactivation when the history did not record them (notifications: the alert's diagnostic);
- ``email_suspects``: ``provider(schedule) -> object | None``, why the customer's current
  address is suspect (notifications: the provider event that said so).
"""

from collections.abc import Callable


class ExtensionPoint:
    def __init__(self, name: str):
        self.name = name
        self._providers: dict[str, Callable] = {}

    def register(self, provider: Callable, *, uid: str) -> None:
        """Add a provider; registering the same uid again replaces it (ready() may run twice)."""
        self._providers[uid] = provider

    def results(self, *args, **kwargs) -> list:
        return [provider(*args, **kwargs) for provider in self._providers.values()]

    def first(self, *args, **kwargs):
        """The first provider's answer that is not empty, or None."""
        for provider in self._providers.values():
            answer = provider(*args, **kwargs)
            if answer:
                return answer
        return None


timeline_sources = ExtensionPoint("timeline_sources")
deactivation_diagnostics = ExtensionPoint("deactivation_diagnostics")
email_suspects = ExtensionPoint("email_suspects")
