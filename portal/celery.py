import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def _close_unusable_database_connections(task=None, **kwargs):
    """What Django does at the start of every request, before every task: close a connection
    that is past CONN_MAX_AGE or broke (a database restart), so the task gets a working one.
    Celery's own Django fixup keeps connections across tasks only with CELERY_DB_REUSE_MAX.
    Not for a task run eagerly (tests, ``apply()``): it runs inside its caller's transaction."""
    from django.db import close_old_connections, connections

    if task is not None and task.request.is_eager:
        return
    if any(connection.in_atomic_block for connection in connections.all(initialized_only=True)):
        return
    close_old_connections()
