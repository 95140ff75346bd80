"""One-time form tokens: a form that creates something is submitted at most once.

The page issues a random token in a hidden field; the service stores it on the row it creates,
under a unique constraint (per merchant). A second submission of the same page (a double click,
a browser retrying the request, the form sent again after "Voltar") finds the row already there
and answers with it instead of creating another one. Concurrent submissions are serialised by the
unique index itself: the second insert waits for the first transaction and then fails, and the
service turns that into ``AlreadySubmitted``.
"""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

FORM_TOKEN_FIELD = "form_token"
FORM_TOKEN_INVALID = _(
    "Este formulário expirou ou veio incompleto. Confira os dados e envie de novo."
)


class AlreadySubmitted(Exception):  # noqa: N818 - a condition, not a failure
    """The form with this token was already submitted: ``instance`` is what it created."""

    def __init__(self, instance):
        super().__init__(f"already submitted: {instance!r}")
        self.instance = instance


class FormTokenField(forms.UUIDField):
    """The hidden token; a fresh one for every page rendered."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("initial", uuid.uuid4)
        kwargs.setdefault(
            "error_messages", {"required": FORM_TOKEN_INVALID, "invalid": FORM_TOKEN_INVALID}
        )
        super().__init__(**kwargs)


class FormTokenMixin:
    """For a form declaring ``form_token = FormTokenField()``: a missing or malformed token (a
    page from before tokens existed, a hand-made request) is said at the top of the form, which
    is rendered again with a new token, so sending it again works."""

    def submitted_token(self) -> uuid.UUID | None:
        """The token sent, before any validation (None if missing or malformed)."""
        try:
            return self.fields[FORM_TOKEN_FIELD].clean(self[FORM_TOKEN_FIELD].data)
        except forms.ValidationError:
            return None

    def clean(self):
        cleaned = super().clean()
        if FORM_TOKEN_FIELD in self.errors:
            del self.errors[FORM_TOKEN_FIELD]
            self.add_error(None, FORM_TOKEN_INVALID)
            data = self.data.copy()
            data[self.add_prefix(FORM_TOKEN_FIELD)] = str(uuid.uuid4())
            self.data = data
        return cleaned
