from celery import shared_task

from billing.models import Boleto
from billing.services import boleto_pdf


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def boleto_render_pdf_task(*, merchant_id: int, boleto_id: int) -> None:
    """Render and store an issued boleto's PDF once, in a worker (downloads then reuse it)."""
    boleto = (
        Boleto.objects.for_merchant(merchant_id)
        .select_related("schedule")
        .filter(pk=boleto_id, status=Boleto.Status.ISSUED)
        .first()
    )
    if boleto is not None and not boleto.pdf:
        boleto_pdf(boleto=boleto)
