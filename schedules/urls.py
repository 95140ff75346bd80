from django.urls import path

from schedules import views

app_name = "schedules"
# Also in this namespace, added by portal/urls.py: "boleto_resend" (notifications' view).
urlpatterns = [
    path("", views.ScheduleListView.as_view(), name="list"),
    path("exportar.csv", views.ScheduleExportView.as_view(), name="export"),
    path("contagens/", views.ScheduleTabCountsView.as_view(), name="tab_counts"),
    path("novo/", views.ScheduleCreateView.as_view(), name="create"),
    path("<id:number>/", views.ScheduleDetailView.as_view(), name="detail"),
    path("<id:number>/editar/", views.ScheduleEditView.as_view(), name="edit"),
    path("<id:number>/cancelar/", views.ScheduleCancelView.as_view(), name="cancel"),
    path("<id:number>/reativar/", views.ScheduleReactivateView.as_view(), name="reactivate"),
]
