from django.urls import path

from billing import bank_views, collection_views, views

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
    # Configurações › Cobrança bancária (beside portal's configuracoes/ pages).
    path(
        "configuracoes/cobranca/",
        collection_views.BankCollectionView.as_view(),
        name="bank_collection",
    ),
    # Gerenciar Boletos › Arquivos: remessas and retornos.
    path("arquivos/", bank_views.BankFilesView.as_view(), name="bank_files"),
    path(
        "arquivos/remessas/gerar/",
        bank_views.RemessaGenerateView.as_view(),
        name="remessa_generate",
    ),
    path(
        "arquivos/remessas/<id:remessa_id>/baixar/",
        bank_views.RemessaDownloadView.as_view(),
        name="remessa_download",
    ),
    path(
        "arquivos/retornos/enviar/", bank_views.RetornoUploadView.as_view(), name="retorno_upload"
    ),
    path(
        "arquivos/retornos/<id:retorno_id>/",
        bank_views.RetornoDetailView.as_view(),
        name="retorno_detail",
    ),
    path(
        "arquivos/retornos/<id:retorno_id>/baixar/",
        bank_views.RetornoDownloadView.as_view(),
        name="retorno_download",
    ),
]
