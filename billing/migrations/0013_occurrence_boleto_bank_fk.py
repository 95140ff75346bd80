import django.db.models.deletion
from django.db import migrations, models

# The ledger's boleto key is checked against the boleto's bank row (billing_boletobank, same id,
# one per boleto) instead of the boleto: at commit of a retorno each check then locks a row the
# retorno has just updated, not a page of the wide boleto table. PostgreSQL only, as 0011:
# SQLite (the demo's database) cannot add a constraint to an existing table; the ORM's PROTECT
# holds on both.
_FORWARD = (
    "ALTER TABLE billing_bankoccurrence ADD CONSTRAINT occurrence_boleto_bank"
    " FOREIGN KEY (boleto_id) REFERENCES billing_boletobank (boleto_id)"
    " DEFERRABLE INITIALLY DEFERRED"
)
_BACKWARD = "ALTER TABLE billing_bankoccurrence DROP CONSTRAINT occurrence_boleto_bank"


def _on_postgresql(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0012_boleto_bank_state")]

    operations = [
        migrations.AlterField(
            model_name="bankoccurrence",
            name="boleto",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="bank_occurrences",
                to="billing.boleto",
                verbose_name="boleto",
            ),
        ),
        migrations.RunPython(_on_postgresql(_FORWARD), _on_postgresql(_BACKWARD)),
    ]
