"""makemessages that also extracts ``_lazy(...)``: the portal imports gettext_lazy as ``_lazy``
where ``_`` is already gettext (Django's documented way to add xgettext options: override the
command)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]
