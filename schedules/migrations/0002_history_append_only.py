"""On PostgreSQL, the schedule history refuses UPDATE and DELETE at the database level."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION schedules_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'schedules_scheduleevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER schedules_event_append_only
    BEFORE UPDATE OR DELETE ON schedules_scheduleevent
    FOR EACH ROW EXECUTE FUNCTION schedules_event_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS schedules_event_append_only ON schedules_scheduleevent;
DROP FUNCTION IF EXISTS schedules_event_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("schedules", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
