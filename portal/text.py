"""Control characters in text typed by people, and text put in email headers.

Names, descriptions and subjects are one line of printable text. A CR or LF in a merchant's trade
name once made every boleto email of that merchant fail (Django refuses a header with a newline:
BadHeaderError), so the forms refuse control characters, and whatever is stored (older rows, the
admin, a direct database write) is flattened to one line when it goes into a header.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Unicode "other, control" (C0, DEL, C1), line and paragraph separators, and the bidirectional
# embedding/override/isolate marks (they reorder what is displayed: "invoice\u202efdp.exe").
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_MULTILINE_ALLOWED = frozenset("\n\r\t")

CONTROL_CHARACTERS = _(
    "Use só texto em uma linha: sem quebras de linha, tabulações ou caracteres de controle."
)
CONTROL_CHARACTERS_MULTILINE = _(
    "O texto tem caracteres de controle (invisíveis); apague-os ou digite o texto de novo."
)


def is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS


@deconstructible
class NoControlCharactersValidator:
    """Refuses control characters; ``multiline`` allows line breaks and tabs (a textarea)."""

    code = "control_characters"

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        allowed = _MULTILINE_ALLOWED if self.multiline else frozenset()
        if any(is_control(char) and char not in allowed for char in str(value)):
            message = CONTROL_CHARACTERS_MULTILINE if self.multiline else CONTROL_CHARACTERS
            raise ValidationError(message, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharactersValidator) and self.multiline == other.multiline


_SPACES = re.compile(r" {2,}")


def header_text(value) -> str:
    """``value`` as one line fit for an email header (Subject, a display name): every control
    character (CR, LF, tab, ...) becomes a space and runs of spaces one space. Printable spaces
    such as the no-break space in "R$ 150,00" stay."""
    text = "".join(" " if is_control(char) else char for char in str(value))
    return _SPACES.sub(" ", text).strip(" ")
