"""Tab counts kept by the database (issue #5).

``schedules_schedulestatuscount`` holds, per merchant and status, how many schedules there are.
Triggers on ``schedules_schedule`` keep it exact in the same transaction as the change:

- INSERT / DELETE: one statement-level trigger each, adding the transition table's rows grouped
  by (merchant, status): a bulk insert costs one upsert per group, not one per row;
- UPDATE: a row-level trigger, only when the status or the merchant actually changes (the
  generator's cursor updates never fire it);
- TRUNCATE: empties the counts.

Counter rows are always locked in (merchant, status) order, so two transactions moving schedules
in opposite directions (a deactivation and a reactivation) wait for each other, never deadlock.
The counts are filled from the existing rows here.

PostgreSQL only: SQLite (laptops, the fast test run) counts with one aggregate instead, because
Django rebuilds SQLite tables on many schema changes and would silently drop triggers there.
Note for later migrations: PostgreSQL refuses to change the type of ``status`` or
``merchant_id`` while the UPDATE trigger names them; drop and recreate it around such a change.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "schedules_schedulestatuscount"

POSTGRESQL = [
    f"""
    CREATE FUNCTION schedules_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} AS c (merchant_id, status, count)
        SELECT merchant_id, status, count(*) FROM new_rows
        GROUP BY merchant_id, status ORDER BY merchant_id, status
        ON CONFLICT (merchant_id, status) DO UPDATE SET count = c.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION schedules_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} AS c (merchant_id, status, count)
        SELECT merchant_id, status, -count(*) FROM old_rows
        GROUP BY merchant_id, status ORDER BY merchant_id, status
        ON CONFLICT (merchant_id, status) DO UPDATE SET count = c.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION schedules_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} AS c (merchant_id, status, count)
        SELECT m, s, d FROM (VALUES (OLD.merchant_id, OLD.status, -1),
                                    (NEW.merchant_id, NEW.status, 1)) AS v (m, s, d)
        ORDER BY m, s
        ON CONFLICT (merchant_id, status) DO UPDATE SET count = c.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION schedules_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM {TABLE};
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER schedules_count_insert AFTER INSERT ON schedules_schedule
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION schedules_count_insert()
    """,
    """
    CREATE TRIGGER schedules_count_delete AFTER DELETE ON schedules_schedule
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION schedules_count_delete()
    """,
    """
    CREATE TRIGGER schedules_count_update AFTER UPDATE OF status, merchant_id
    ON schedules_schedule FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.merchant_id IS DISTINCT FROM NEW.merchant_id)
    EXECUTE FUNCTION schedules_count_update()
    """,
    """
    CREATE TRIGGER schedules_count_truncate AFTER TRUNCATE ON schedules_schedule
    FOR EACH STATEMENT EXECUTE FUNCTION schedules_count_truncate()
    """,
    # Nothing may change schedules between the count below and the triggers taking over.
    "LOCK TABLE schedules_schedule IN SHARE ROW EXCLUSIVE MODE",
    f"""
    INSERT INTO {TABLE} (merchant_id, status, count)
    SELECT merchant_id, status, count(*) FROM schedules_schedule GROUP BY merchant_id, status
    """,
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS schedules_count_insert ON schedules_schedule",
    "DROP TRIGGER IF EXISTS schedules_count_delete ON schedules_schedule",
    "DROP TRIGGER IF EXISTS schedules_count_update ON schedules_schedule",
    "DROP TRIGGER IF EXISTS schedules_count_truncate ON schedules_schedule",
    "DROP FUNCTION IF EXISTS schedules_count_insert()",
    "DROP FUNCTION IF EXISTS schedules_count_delete()",
    "DROP FUNCTION IF EXISTS schedules_count_update()",
    "DROP FUNCTION IF EXISTS schedules_count_truncate()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite counts with one aggregate (schedules.selectors.schedule_counts)
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0003_merchant_next_nosso_numero"),
        ("schedules", "0004_list_indexes_and_customer_search"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScheduleStatusCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("active", "Ativo"),
                            ("deactivated", "Desativado"),
                            ("cancelled", "Cancelado"),
                        ],
                        max_length=12,
                    ),
                ),
                ("count", models.BigIntegerField(default=0)),
                (
                    "merchant",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="portal.merchant",
                    ),
                ),
            ],
            options={
                "verbose_name": "contagem de agendamentos",
                "verbose_name_plural": "contagens de agendamentos",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("merchant", "status"), name="schedule_count_once"
                    )
                ],
            },
        ),
        migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_BACKWARD), elidable=False),
    ]
