from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("alertas/<id:alert_id>/ciente/", views.AlertAcknowledgeView.as_view(), name="ack"),
]
