from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("clientes/", views.CustomerListView.as_view(), name="customer_list"),
    path("clientes/novo/", views.CustomerCreateView.as_view(), name="customer_create"),
]
