"""What django-axes records for a login attempt (settings: AXES_USERNAME_CALLABLE).

Axes stores the typed username in a 255-character column. Django's login form does not bound
what it passes to ``authenticate()`` (the username field's max_length only reaches the widget),
so a longer username used to fail the INSERT and turn a wrong login into a 500. The recorded
username is cut to the column's length: no user can have such a name (150 characters at most),
so the cut only groups attempts at names that cannot log in anyway, and the attempt is still
counted and locked out like any other.
"""

from axes.conf import settings
from axes.models import AccessAttempt

USERNAME_MAX_LENGTH = AccessAttempt._meta.get_field("username").max_length


def axes_username(request, credentials=None) -> str | None:
    """The username axes records and locks out: the typed one (axes' own lookup), cut to fit."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    if isinstance(username, str):
        username = username[:USERNAME_MAX_LENGTH]
    return username
