"""Test-only urlconf: anymail's real webhook views, nothing else (tests/notifications)."""

from django.urls import include, path

urlpatterns = [
    path("anymail/", include("anymail.urls")),
]
