from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

import schedules.urls
from notifications import views as notifications_views
from portal import views
from portal.dashboard import DashboardView
from portal.emailcheck import EmailSuggestionView

admin.site.site_header = "Portal de Boletos — Suporte"
admin.site.site_title = "Portal de Boletos"

# The schedule pages: schedules' own, plus "Reenviar boleto", a view of notifications (which owns
# the resend) that schedules cannot import; same URL and name (schedules:boleto_resend).
schedule_urls = [
    *schedules.urls.urlpatterns,
    path(
        "<id:number>/parcelas/<int:sequence>/reenviar/",
        notifications_views.BoletoResendView.as_view(),
        name="boleto_resend",
    ),
]

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("entrar/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("sair/", auth_views.LogoutView.as_view(), name="logout"),
    # Esqueci minha senha (also the "defina sua senha" link of an invitation).
    path("senha/redefinir/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "senha/redefinir/enviado/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "senha/redefinir/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "senha/redefinir/concluido/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The link of an invitation email (the token is the credential; see InvitationView).
    path("convites/<str:token>/", views.InvitationView.as_view(), name="invitation"),
    path("configuracoes/", include("portal.account_urls")),
    path("agendamentos/", include((schedule_urls, "schedules"))),
    # "Você quis dizer ...?" for static/portal/emailcheck.js (portal/emailcheck.py).
    path("email/sugestao", EmailSuggestionView.as_view(), name="email_suggestion"),
    path("", include("billing.urls")),
    path("", include("notifications.urls")),
    path("healthz", views.healthz, name="healthz"),
    # ESP tracking webhooks: /anymail/<esp>/tracking/ (anymail authenticates; inbox stores).
    path("anymail/", include("notifications.webhook_urls")),
    path("admin/", admin.site.urls),
]
