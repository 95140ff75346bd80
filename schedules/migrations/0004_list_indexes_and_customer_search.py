"""Indexes of the schedule lists (issue #5).

- Two partial indexes for Agendamentos Desativados (newest deactivation first, by cause).
- PostgreSQL only: ``portal_fold(text)`` = ``lower(unaccent(text))`` declared IMMUTABLE (the
  two-argument ``unaccent`` with an explicit dictionary is safe to index), and a trigram GIN index
  on ``(merchant_id, portal_fold(name || ' ' || email))`` of billing_customer, which serves the
  lists' search by customer name or email inside one merchant (schedules/search.py builds the
  very same expression). pg_trgm, unaccent and btree_gin are trusted extensions (PostgreSQL 13+):
  the database owner may create them. SQLite gets ``portal_fold`` from Python on each connection.
"""

from django.db import migrations, models

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    """
    CREATE OR REPLACE FUNCTION portal_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$
    """,
    """
    CREATE INDEX IF NOT EXISTS customer_search_trgm ON billing_customer
    USING gin (merchant_id, portal_fold(name || ' ' || email) gin_trgm_ops)
    """,
]
BACKWARD = [
    "DROP INDEX IF EXISTS customer_search_trgm",
    "DROP FUNCTION IF EXISTS portal_fold(text)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0004_alter_boleto_merchant_alter_boleto_schedule_and_more"),
        ("schedules", "0003_alter_schedule_created_by_alter_schedule_merchant"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="schedule",
            index=models.Index(
                condition=models.Q(("status", "deactivated")),
                fields=["merchant", "-deactivated_at", "-id"],
                name="schedule_deactivated_list",
            ),
        ),
        migrations.AddIndex(
            model_name="schedule",
            index=models.Index(
                condition=models.Q(("status", "deactivated")),
                fields=["merchant", "deactivation_cause", "-deactivated_at", "-id"],
                name="schedule_deactivated_cause",
            ),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
