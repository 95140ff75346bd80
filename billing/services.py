"""Writes on customers (pagadores) and boleto documents."""

import io
import logging
import zipfile

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from billing.models import BankCollection, Boleto, CollectionChannel, Customer
from billing.signals import customer_updated
from portal.documents import normalize_document
from portal.formtokens import AlreadySubmitted
from portal.models import Merchant

logger = logging.getLogger(__name__)

CUSTOMER_DUPLICATE_DOCUMENT = _("Já existe um cliente com este CPF/CNPJ.")
BOLETO_HAS_NO_PDF = _("Esta parcela não foi emitida e não tem boleto.")


def _customer_refuse_duplicate(*, merchant: Merchant, customer: Customer) -> None:
    """AlreadySubmitted if this form was already sent; a form error if the CPF/CNPJ is taken."""
    customers = Customer.objects.for_merchant(merchant)
    token = customer.form_token
    # The document first: a concurrent submission of this form may commit between the two
    # queries, and is then found by its token (never reported as a duplicate of itself).
    same_document = customers.filter(document=customer.document).first()
    if token is not None and same_document is not None and same_document.form_token == token:
        raise AlreadySubmitted(same_document)
    if token is not None and (sent := customers.filter(form_token=token).first()) is not None:
        raise AlreadySubmitted(sent)
    if same_document is not None:
        raise ValidationError({"document": CUSTOMER_DUPLICATE_DOCUMENT})


def customer_create(*, merchant: Merchant, form_token=None, **fields) -> Customer:
    """Register a customer. ``form_token`` (portal.formtokens) makes a second submission of the
    same form raise AlreadySubmitted with the customer the first one registered."""
    customer = Customer(merchant=merchant, form_token=form_token, **fields)
    customer.document = normalize_document(customer.document)
    customer.full_clean(exclude=["merchant", "form_token"], validate_unique=False)
    _customer_refuse_duplicate(merchant=merchant, customer=customer)
    try:
        # A savepoint: losing the race below leaves the caller's transaction usable.
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # A concurrent request registered the same document (or sent the same form) between
        # the check and the insert: the unique index made this insert wait for it, and its row
        # is committed and visible now.
        _customer_refuse_duplicate(merchant=merchant, customer=customer)
        raise
    return customer


# What a merchant may change in a customer: the CPF/CNPJ identifies it and never changes.
CUSTOMER_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "email",
        "phone",
        "address_street",
        "address_district",
        "address_city",
        "address_state",
        "address_zip",
    }
)


def _as_text(value) -> str:
    return "" if value is None else str(value)


def customer_update(*, customer: Customer, actor, **fields) -> dict[str, list[str]]:
    """Change a customer's data (the fields given; others stay as stored). Returns the changes,
    ``{field: [before, after]}`` as text, empty when nothing changed.

    The row is locked, so two edits at once apply one after the other, each compared with what
    the other saved (none is lost, both are recorded in order). The customer is validated as a
    whole (``full_clean``) before saving; ``billing.signals.customer_updated`` is sent inside the
    transaction, so what its receivers record (schedules' history) commits or rolls back with
    the edit. Boletos already issued keep their own copy of the payer (``Boleto.payer``)."""
    unknown = set(fields) - CUSTOMER_UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"customer_update() cannot change {sorted(unknown)}")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        changes = {}
        for name, value in fields.items():
            before = getattr(locked, name)
            if value != before:
                changes[name] = [_as_text(before), _as_text(value)]
                setattr(locked, name, value)
        if not changes:
            return {}
        locked.full_clean(exclude=["merchant", "form_token"], validate_unique=False)
        locked.save(update_fields=[*changes, "updated_at"])
        customer_updated.send(sender=Customer, customer=locked, actor=actor, changes=changes)
    for name in changes:
        setattr(customer, name, getattr(locked, name))
    return changes


def _pdf_name(boleto: Boleto) -> str:
    return (
        f"boletos/{boleto.merchant_id}/{boleto.schedule.number}-{boleto.sequence}-{boleto.pk}.pdf"
    )


def boleto_pdf(*, boleto: Boleto) -> bytes:
    """The boleto's PDF: rendered once from its issue-time snapshot, stored, then reused.

    Two renders racing for the same boleto produce the same document; the first to record its
    file wins and the other's file is removed.
    """
    if boleto.status != Boleto.Status.ISSUED or not boleto.barcode:
        raise ValidationError(BOLETO_HAS_NO_PDF)
    if boleto.pdf:
        try:
            with boleto.pdf.open("rb") as stored:
                return stored.read()
        except FileNotFoundError:
            logger.warning("stored PDF missing for boleto %s; rendering again", boleto.pk)
    # In-function: loads WeasyPrint (~0.5 s) only in processes that render.
    from billing.pdf import render_boleto_pdf

    content = render_boleto_pdf(boleto)
    name = default_storage.save(_pdf_name(boleto), ContentFile(content))
    # Compare-and-set on the value this call saw ('' or a file that went missing).
    won = Boleto.objects.filter(pk=boleto.pk, pdf=boleto.pdf.name or "").update(pdf=name)
    if won:
        boleto.pdf.name = name
    else:
        default_storage.delete(name)
    return content


BOLETO_ZIP_LIMIT = 500


def boletos_zip(*, boletos) -> bytes:
    """One ZIP with the PDF of each boleto (rendering those not rendered yet)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for boleto in boletos:
            archive.writestr(boleto_filename(boleto), boleto_pdf(boleto=boleto))
    return buffer.getvalue()


def boleto_filename(boleto: Boleto) -> str:
    return f"boleto-agendamento-{boleto.schedule.number}-parcela-{boleto.sequence}.pdf"


def bank_collection_get(*, merchant: Merchant) -> BankCollection:
    """The merchant's collection settings; every merchant has one row (created with the
    merchant, see `bank_collection_receiver`), the Banco de testes by default. Created here if
    missing (merchants older than the bank connector, fixtures loaded raw); race-safe: the
    one-per-merchant constraint decides and get_or_create reads the winner's row."""
    collection, _created = BankCollection.objects.get_or_create(
        merchant=merchant, defaults={"channel": CollectionChannel.TEST_BANK}
    )
    return collection


def bank_collection_receiver(sender, instance, created: bool, raw: bool, **kwargs) -> None:
    """``post_save`` of Merchant (connected in billing.apps): a new merchant gets its
    BankCollection row at once, on the test bank. Fixtures loaded raw carry their own rows."""
    if created and not raw:
        bank_collection_get(merchant=instance)
