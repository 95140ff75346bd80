"""Text filters for templates (a builtin: no {% load %} needed)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter(name="email_breaks", is_safe=True)
def email_breaks(value) -> SafeString:
    """An email address that a narrow table cell may wrap only before "@" and ".", never in
    the middle of a word: escaped, with <wbr> (an optional line break) at those points."""
    text = escape("" if value is None else str(value))
    return mark_safe(text.replace("@", "<wbr>@").replace(".", "<wbr>."))  # noqa: S308 - escaped above
