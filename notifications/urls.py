from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("alertas/<id:alert_id>/ciente/", views.AlertAcknowledgeView.as_view(), name="ack"),
    path("chamados/", views.TicketListView.as_view(), name="ticket_list"),
    path("chamados/novo/", views.TicketCreateView.as_view(), name="ticket_create"),
    path("chamados/<id:number>/", views.TicketDetailView.as_view(), name="ticket_detail"),
]
