from django.urls import path

from schedules import import_views, views

app_name = "schedules"
# Also in this namespace, added by portal/urls.py: "boleto_resend" (notifications' view).
urlpatterns = [
    path("", views.ScheduleListView.as_view(), name="list"),
    path("exportar.csv", views.ScheduleExportView.as_view(), name="export"),
    path("contagens/", views.ScheduleTabCountsView.as_view(), name="tab_counts"),
    path("novo/", views.ScheduleCreateView.as_view(), name="create"),
    path("importar/", import_views.ImportStartView.as_view(), name="import"),
    path(
        "importar/modelo.csv",
        import_views.ImportSampleView.as_view(),
        {"kind": "csv"},
        name="import_sample_csv",
    ),
    path(
        "importar/modelo.xlsx",
        import_views.ImportSampleView.as_view(),
        {"kind": "xlsx"},
        name="import_sample_xlsx",
    ),
    path("importar/<id:pk>/", import_views.ImportPreviewView.as_view(), name="import_preview"),
    path(
        "importar/<id:pk>/email/",
        import_views.ImportEmailAcceptView.as_view(),
        name="import_email_accept",
    ),
    path(
        "importar/<id:pk>/confirmar/",
        import_views.ImportConfirmView.as_view(),
        name="import_confirm",
    ),
    path("<id:number>/", views.ScheduleDetailView.as_view(), name="detail"),
    path("<id:number>/editar/", views.ScheduleEditView.as_view(), name="edit"),
    path("<id:number>/cancelar/", views.ScheduleCancelView.as_view(), name="cancel"),
    path("<id:number>/reativar/", views.ScheduleReactivateView.as_view(), name="reactivate"),
]
