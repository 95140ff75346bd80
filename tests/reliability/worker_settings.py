"""Settings for the processes the reliability tests start (Celery workers, generator runs).

The test settings, except that email goes to a stand-in ESP (tests/reliability/esp.py) that
records every message it accepts in a file the test process reads: a send made in a worker
process is counted where the test can see it.
"""

from portal.settings.test import *  # noqa: F401,F403
from portal.settings.test import env

EMAIL_BACKEND = "tests.reliability.esp.RecordingEmailBackend"
RELIABILITY_ESP_LOG = env.str("RELIABILITY_ESP_LOG", default="")
