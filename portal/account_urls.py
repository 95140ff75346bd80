from django.urls import path

from portal import views

app_name = "account"
urlpatterns = [
    path("", views.SettingsView.as_view(), name="settings"),
    path("conta/", views.MerchantSwitchView.as_view(), name="switch"),
    path("logotipo/", views.LogoUpdateView.as_view(), name="logo_update"),
    path("logotipo.png", views.LogoView.as_view(), name="logo"),
    path("usuarios/", views.UserListView.as_view(), name="users"),
    path("usuarios/convidar/", views.UserInviteView.as_view(), name="user_invite"),
    path("usuarios/<id:membership_id>/papel/", views.UserRoleView.as_view(), name="user_role"),
    path(
        "usuarios/<id:membership_id>/remover/", views.UserRemoveView.as_view(), name="user_remove"
    ),
    path(
        "usuarios/convites/<id:invitation_id>/cancelar/",
        views.InvitationCancelView.as_view(),
        name="invitation_cancel",
    ),
]
