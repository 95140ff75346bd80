from django.urls import path

from schedules import views

app_name = "schedules"
urlpatterns = [
    path("", views.ScheduleListView.as_view(), name="list"),
    path("novo/", views.ScheduleCreateView.as_view(), name="create"),
    path("<id:number>/", views.ScheduleDetailView.as_view(), name="detail"),
    path("<id:number>/cancelar/", views.ScheduleCancelView.as_view(), name="cancel"),
]
