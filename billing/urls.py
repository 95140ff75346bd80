from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("clientes/", views.CustomerListView.as_view(), name="customer_list"),
    path("clientes/novo/", views.CustomerCreateView.as_view(), name="customer_create"),
    path(
        "clientes/<id:customer_id>/editar/",
        views.CustomerEditView.as_view(),
        name="customer_edit",
    ),
    path("boletos/", views.BoletoListView.as_view(), name="boleto_list"),
    path("boletos/<id:boleto_id>/pdf/", views.BoletoPdfView.as_view(), name="boleto_pdf"),
    path("boletos/zip/", views.BoletoZipView.as_view(), name="boleto_zip"),
]
