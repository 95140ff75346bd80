"""Catching email typos before they bounce (issue 13 item 4).

- ``email_suggestion``: the address the merchant most likely meant when the domain looks like a
  misspelling of a big provider's (``gmial.com`` -> ``gmail.com``, ``uol.com`` ->
  ``uol.com.br``). One implementation: forms call it, and the browser asks for it through
  ``EmailSuggestionView`` (static/portal/emailcheck.js), so the rules live only here.
- ``email_syntax_error``: the syntax check of the maintained ``email-validator`` library, as one
  Portuguese message.
- ``email_domain_warning``: where DNS answers (production), a warning when the domain cannot
  receive mail (no MX and no A/AAAA); cached per domain; silent when DNS is unavailable.
- ``EmailCheckFormMixin``: what a form with an email field gets: the syntax check, the
  suggestion shown once (a second submit of the same address keeps it), and the attributes the
  script needs.

The suggestion rules (see ``email_suggestion``): a domain that is a known valid domain never gets
a suggestion. Otherwise the domain is split into its name (first label) and its suffix (the rest)
and compared with each provider domain of ``SUGGESTED_DOMAINS``:

- the name by a Damerau-Levenshtein distance (insertion, deletion and transposition of adjacent
  letters cost 1; a substitution costs 1 only between neighbouring keys of a keyboard, 2
  otherwise): at most 1 for names of 5 letters or more, 0 for shorter ones (``ig``, ``uol``,
  ``bol``, ``msn``, ``live``: a one-letter change of a short name is usually another real domain,
  ``love.com``, ``sol.com.br``);
- the suffix by the same distance, at most 1 (``.con``, ``.cmo``, ``.co``, ``.cm``, ``.com.b``,
  ``.cm.br``, ``.con.br``), plus two rules: ``.com`` for a provider that only exists under
  ``.com.br`` (``uol.com`` -> ``uol.com.br``) and ``.com.br`` for one that only exists under
  ``.com`` (``gmail.com.br`` -> ``gmail.com``), and ``.br`` for ``.com.br``;
- a domain with no dot at all is compared with the providers' domains without their dots
  (``gmailcom``) and with their names (``gmail``).

The closest provider wins (name and suffix distances added; ties go to the first in the list).
"""

import hashlib
import logging
import time

import dns.exception
import dns.resolver
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.forms.boundfield import BoundField
from django.http import JsonResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from email_validator import EmailNotValidError, validate_email

from portal.tenancy import MerchantRequiredMixin

logger = logging.getLogger(__name__)

# The providers we suggest, most used first (a tie goes to the first).
SUGGESTED_DOMAINS = (
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "yahoo.com.br",
    "yahoo.com",
    "hotmail.com.br",
    "outlook.com.br",
    "live.com",
    "icloud.com",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
    "ig.com.br",
    "globo.com",
    "msn.com",
)

# Real mail domains that look like a provider's misspelling (one letter away from gmail.com,
# msn.com...) or that we are not sure enough about: never a suggestion for them.
OTHER_VALID_DOMAINS = (
    "ymail.com",
    "rocketmail.com",
    "googlemail.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "mail.com",
    "email.com",
    "me.com",
    "mac.com",
    "aol.com",
    "live.com.br",
    "hotmail.fr",
    "hotmail.es",
    "hotmail.it",
    "hotmail.co.uk",
    "outlook.pt",
    "yahoo.es",
    "yahoo.fr",
    "yahoo.co.uk",
    "yahoo.com.ar",
    "yahoo.com.mx",
    "globomail.com",
    "r7.com",
    "oi.com.br",
    "zipmail.com.br",
    "bol.com",  # not an email domain, but a real site: .com.br is suggested by the rule below
    "protonmail.com",
    "proton.me",
    "pm.me",
    "zoho.com",
    "yandex.com",
    "tutanota.com",
    "usp.br",
    "unicamp.br",
)
KNOWN_VALID_DOMAINS = frozenset(SUGGESTED_DOMAINS) | frozenset(OTHER_VALID_DOMAINS)
# bol.com is a real (Dutch) shop, but a Brazilian customer's address there is bol.com.br's typo.
_SUGGEST_EVEN_IF_VALID = frozenset({"bol.com"})

_NAME_MIN_FOR_TYPOS = 5  # shorter provider names must match exactly (only the suffix is fixed)
_NAME_MAX_DISTANCE = 1
_SUFFIX_MAX_DISTANCE = 1

# A substitution between neighbouring keys (QWERTY, as Brazilian ABNT2 keyboards are for
# letters) is a typo; between distant keys it is more likely another word.
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjklç", "zxcvbnm")


def _neighbours() -> dict[str, frozenset[str]]:
    positions = {}
    for row, keys in enumerate(_KEYBOARD_ROWS):
        for column, key in enumerate(keys):
            positions[key] = (row, column)
    near: dict[str, set[str]] = {key: set() for key in positions}
    for key, (row, column) in positions.items():
        for other, (other_row, other_column) in positions.items():
            # Same row: the keys either side; rows above/below are offset by about half a key.
            if other != key and abs(other_row - row) <= 1 and abs(other_column - column) <= 1:
                near[key].add(other)
    return {key: frozenset(value) for key, value in near.items()}


_NEAR = _neighbours()


def _substitution_cost(a: str, b: str) -> int:
    if a == b:
        return 0
    return 1 if b in _NEAR.get(a, ()) else 2


def typo_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment: a transposition of two adjacent
    characters costs 1), where substituting a key by a distant one costs 2."""
    if a == b:
        return 0
    rows = len(a) + 1
    columns = len(b) + 1
    d = [[0] * columns for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(columns):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, columns):
            d[i][j] = min(
                d[i - 1][j] + 1,
                d[i][j - 1] + 1,
                d[i - 1][j - 1] + _substitution_cost(a[i - 1], b[j - 1]),
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _split(domain: str) -> tuple[str, str]:
    name, _dot, suffix = domain.partition(".")
    return name, suffix


_NAMES_BY_SUFFIX: dict[str, set[str]] = {}
for _domain in SUGGESTED_DOMAINS:
    _name, _suffix = _split(_domain)
    _NAMES_BY_SUFFIX.setdefault(_suffix, set()).add(_name)


def _suffix_distance(typed: str, target: str, *, name: str) -> int | None:
    """How far the typed suffix is from the provider's, or None when too far."""
    if typed == target:
        return 0
    distance = typo_distance(typed, target)
    if distance <= _SUFFIX_MAX_DISTANCE:
        return distance
    # uol.com -> uol.com.br; gmail.com.br -> gmail.com; yahoo.br -> yahoo.com.br: only when the
    # provider does not exist under the typed suffix.
    if (typed, target) in (("com", "com.br"), ("com.br", "com"), ("br", "com.br")):
        if name not in _NAMES_BY_SUFFIX.get(typed, ()):
            return 1
    return None


def _closest_domain(domain: str) -> str | None:
    if "." not in domain:
        # gmailcom, gmail: the dot forgotten, or the suffix.
        for target in SUGGESTED_DOMAINS:
            if domain in (target.replace(".", ""), _split(target)[0]):
                return target
        return None
    name, suffix = _split(domain)
    best, best_score = None, None
    for target in SUGGESTED_DOMAINS:
        target_name, target_suffix = _split(target)
        limit = _NAME_MAX_DISTANCE if len(target_name) >= _NAME_MIN_FOR_TYPOS else 0
        if abs(len(name) - len(target_name)) > limit:
            continue
        name_distance = typo_distance(name, target_name)
        if name_distance > limit:
            continue
        suffix_distance = _suffix_distance(suffix, target_suffix, name=target_name)
        if suffix_distance is None:
            continue
        score = name_distance + suffix_distance
        if score and (best_score is None or score < best_score):
            best, best_score = target, score
    return best


def email_suggestion(email: str) -> str | None:
    """The address the merchant likely meant (``fulano@gmial.com`` -> ``fulano@gmail.com``), or
    None: a known valid domain, a domain far from every provider's, or no ``@``."""
    if not isinstance(email, str) or len(email) > 320:
        return None
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    domain = domain.lower()
    if domain in KNOWN_VALID_DOMAINS and domain not in _SUGGEST_EVEN_IF_VALID:
        return None
    target = _closest_domain(domain)
    if target is None:
        return None
    return f"{local}@{target}"


# --- Syntax -----------------------------------------------------------------------------------

# The same words as Django's own EmailField message in pt-BR (the forms showed it before).
EMAIL_INVALID = gettext_lazy("Informe um endereço de email válido.")


def email_syntax_error(email: str) -> str | None:
    """None for a well-formed address, else one Portuguese message (whatever the library's
    reason: a missing @, a bad character, a reserved domain such as .local or .test)."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return str(EMAIL_INVALID)
    return None


# --- Deliverability (DNS) ---------------------------------------------------------------------

DNS_TIMEOUT_SECONDS = 2.0
DOMAIN_CACHE_SECONDS = 24 * 60 * 60
# DNS did not answer: remember it briefly, so a machine without DNS does not wait at every field.
DNS_UNAVAILABLE_CACHE_SECONDS = 5 * 60
_OK, _NO_MAIL, _UNKNOWN = "ok", "no-mail", "unknown"


def _resolver():
    """The system's resolver with a short lifetime. Raises when there is none (no
    /etc/resolv.conf): that is "DNS unavailable" too."""
    resolver = dns.resolver.Resolver()
    resolver.timeout = DNS_TIMEOUT_SECONDS
    resolver.lifetime = DNS_TIMEOUT_SECONDS
    return resolver


def _domain_mail_status(domain: str) -> str:
    """One domain's answer within DNS_TIMEOUT_SECONDS in all (MX, then A and AAAA)."""
    deadline = time.monotonic() + DNS_TIMEOUT_SECONDS

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise dns.exception.Timeout
        return remaining

    try:
        resolver = _resolver()
        try:
            answer = resolver.resolve(domain, "MX", lifetime=left())
        except dns.resolver.NoAnswer:
            answer = None
        if answer is not None:
            # A "null MX" (RFC 7505: one record, preference 0, exchange ".") says the domain
            # accepts no mail at all.
            exchanges = [str(record.exchange) for record in answer]
            return _NO_MAIL if exchanges in ([], ["."]) else _OK
        # No MX: mail goes to the domain's own address (RFC 5321 §5.1), if it has one.
        for rdtype in ("A", "AAAA"):
            try:
                resolver.resolve(domain, rdtype, lifetime=left())
            except dns.resolver.NoAnswer:
                continue
            return _OK
        return _NO_MAIL
    except dns.resolver.NXDOMAIN:
        return _NO_MAIL
    except (dns.exception.DNSException, OSError) as exc:
        # Timeout, no nameservers answering, no resolver configured, network down: unknown.
        logger.info("email domain check for %s skipped: %s", domain, type(exc).__name__)
        return _UNKNOWN


# A domain whose mail servers always resolve. A "no mail" answer counts only if the resolver
# finds this one: some networks (sandboxes, captive portals, as on the development machine)
# answer NXDOMAIN for every name, and that is "DNS unavailable", not "no such domain".
DNS_CANARY_DOMAIN = "gmail.com"


def _dns_trustworthy() -> bool:
    key = "emailcheck:dns-canary"
    known = cache.get(key)
    if known is None:
        known = _domain_mail_status(DNS_CANARY_DOMAIN) == _OK
        cache.set(key, known, DNS_UNAVAILABLE_CACHE_SECONDS)
    return known


def _cache_key(domain: str) -> str:
    return "emailcheck:mx:" + hashlib.sha256(domain.encode()).hexdigest()


def email_domain_warning(email: str) -> str | None:
    """A warning when the address's domain cannot receive email (no MX record and no A/AAAA
    fallback, or it does not exist). None when it can, when the address is not well formed
    (its own message says so), when the check is off (EMAIL_MX_CHECK) or when DNS is
    unavailable. At most DNS_TIMEOUT_SECONDS; each domain's answer is cached for a day."""
    if not getattr(settings, "EMAIL_MX_CHECK", False):
        return None
    try:
        domain = validate_email(email, check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return None
    key = _cache_key(domain)
    status = cache.get(key)
    if status is None:
        status = _domain_mail_status(domain)
        if status == _NO_MAIL and domain != DNS_CANARY_DOMAIN and not _dns_trustworthy():
            status = _UNKNOWN
        timeout = DNS_UNAVAILABLE_CACHE_SECONDS if status == _UNKNOWN else DOMAIN_CACHE_SECONDS
        cache.set(key, status, timeout)
    if status != _NO_MAIL:
        return None
    return _(
        "O domínio %(domain)s não recebe e-mails (não encontramos o servidor de e-mail dele). "
        "Confira o endereço com o cliente."
    ) % {"domain": domain}


# --- Forms ------------------------------------------------------------------------------------

EMAIL_TYPO = gettext_lazy(
    "Você quis dizer %(suggestion)s? Se o endereço digitado está certo, envie de novo para "
    "confirmar."
)
EMAIL_TYPO_CODE = "email_typo"


class _ConfirmedBoundField(BoundField):
    """The hidden "confirmed" field carries the address the form has just questioned (so the
    next submit of the same address keeps it), else what was posted (a confirmation survives a
    re-display for another field's error)."""

    def value(self):
        form = self.form
        flagged = getattr(form, "_email_typo_flagged", None)
        if flagged and form._errors is not None:
            errors = form._errors.get(form.email_field_name)
            if errors and any(e.code == EMAIL_TYPO_CODE for e in errors.as_data()):
                return flagged
        return super().value()


class EmailConfirmedField(forms.CharField):
    """Never an error of its own: anything posted is just "not this address"."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        return str(value or "")[:320]

    def validate(self, value):
        pass

    def run_validators(self, value):
        pass

    def get_bound_field(self, form, field_name):
        return _ConfirmedBoundField(form, self, field_name)


class EmailCheckFormMixin:
    """For a form with an email field (``email_field_name``): the address is checked with
    email-validator, and a domain that looks like a typo is questioned once ("Você quis dizer
    fulano@gmail.com?"): the same address submitted again is kept, so a real domain is never
    blocked. The field gets ``data-email-check`` (the suggestion endpoint) for
    static/portal/emailcheck.js, which shows the suggestion as soon as the field loses focus.

    Call ``self.email_check(value)`` from ``clean_<email field>``."""

    email_field_name = "email"
    email_confirm_field_name = "email_confirmed"
    # The address already stored (an edit form): kept as it is, it is not questioned again (the
    # script still shows its hint): the merchant did not type it now.
    email_stored_value: str | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.email_confirm_field_name] = EmailConfirmedField()
        widget = self.fields[self.email_field_name].widget
        widget.attrs.setdefault("data-email-check", reverse_lazy("email_suggestion"))
        widget.attrs.setdefault("autocomplete", "off")
        self._email_typo_flagged = None

    def email_check(self, value: str) -> str:
        stored = self.email_stored_value
        if stored is not None and value.strip().lower() == stored.strip().lower():
            return value
        if message := email_syntax_error(value):
            raise forms.ValidationError(message, code="invalid")
        suggestion = email_suggestion(value)
        # The hidden field is cleaned after this one (added last): read what was posted.
        name = self.email_confirm_field_name
        confirmed = self.fields[name].to_python(self.data.get(self.add_prefix(name)))
        if suggestion and confirmed != value:
            self._email_typo_flagged = value
            raise forms.ValidationError(
                EMAIL_TYPO, code=EMAIL_TYPO_CODE, params={"suggestion": suggestion}
            )
        return value

    def clean(self):
        cleaned = super().clean()
        # Not data of the form's object: callers pass cleaned_data on to services.
        cleaned.pop(self.email_confirm_field_name, None)
        return cleaned


# --- The endpoint of static/portal/emailcheck.js ---------------------------------------------


class EmailSuggestionView(MerchantRequiredMixin, View):
    """``GET /email/sugestao?email=...`` -> ``{"suggestion": ..., "message": ..., "use": ...,
    "warning": ...}`` (each null when there is nothing to say). Logged-in merchants only; it
    reads no tenant data."""

    def get(self, request):
        email = request.GET.get("email", "")[:320].strip()
        body = {"suggestion": None, "message": None, "use": None, "warning": None}
        suggestion = email_suggestion(email)
        if suggestion:
            body.update(
                suggestion=suggestion,
                message=_("Você quis dizer %(suggestion)s?") % {"suggestion": suggestion},
                use=_("Usar %(suggestion)s") % {"suggestion": suggestion},
            )
        elif email and email_syntax_error(email) is None:
            body["warning"] = email_domain_warning(email)
        return JsonResponse(body)
