from django.urls import path

from notifications import views
from notifications.tickets import views as ticket_views

app_name = "notifications"
urlpatterns = [
    path("alertas/<id:alert_id>/ciente/", views.AlertAcknowledgeView.as_view(), name="ack"),
    path("chamados/", ticket_views.TicketListView.as_view(), name="ticket_list"),
    path("chamados/novo/", ticket_views.TicketCreateView.as_view(), name="ticket_create"),
    path("chamados/<id:number>/", ticket_views.TicketDetailView.as_view(), name="ticket_detail"),
]
