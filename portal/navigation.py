"""Which main section (top bar) the current page belongs to, so the bar marks it.

A view may say so itself (``nav_section = "manage"`` on the class); otherwise the URL's namespace
and name decide. Sections: dashboard, manage (Gerenciar Boletos: boletos, agendados, arquivos),
customers, settings, tickets."""

from django.http import HttpRequest

# (namespace, url-name prefix) -> section, first match wins.
_RULES: tuple[tuple[str, str, str], ...] = (
    ("", "dashboard", "dashboard"),
    ("schedules", "", "manage"),
    ("billing", "customer", "customers"),
    ("billing", "collection", "settings"),
    ("billing", "", "manage"),
    ("account", "", "settings"),
    ("notifications", "ticket", "tickets"),
)


def nav_section(request: HttpRequest) -> dict[str, str]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav_section": ""}
    view_class = getattr(match.func, "view_class", None)
    declared = getattr(view_class, "nav_section", "")
    if declared:
        return {"nav_section": declared}
    namespace, name = match.namespace or "", match.url_name or ""
    for rule_namespace, prefix, section in _RULES:
        if namespace == rule_namespace and name.startswith(prefix):
            return {"nav_section": section}
    return {"nav_section": ""}
