"""Settings for the processes the reliability tests start (Celery workers, generator runs).

The test settings, except that email goes to a stand-in ESP (tests/reliability/esp.py) that
records every message it accepts in a file the test process reads: a send made in a worker
process is counted where the test can see it.
"""

from portal.settings.test import *  # noqa: F401,F403
from portal.settings.test import env

EMAIL_BACKEND = "tests.reliability.esp.RecordingEmailBackend"
RELIABILITY_ESP_LOG = env.str("RELIABILITY_ESP_LOG", default="")

# kombu looks for unacknowledged messages past the visibility timeout every 100 s by default;
# a test that sets a visibility timeout of seconds (CELERY_VISIBILITY_TIMEOUT) scans every second.
if env.bool("RELIABILITY_FAST_RESTORE", default=False):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **globals().get("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
