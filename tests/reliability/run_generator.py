"""One generator run in its own process: ``python -m tests.reliability.run_generator YYYY-MM-DD``.

The reliability tests start it with DJANGO_SETTINGS_MODULE, DATABASE_URL, CELERY_BROKER_URL and
GENERATOR_BATCH_SIZE in the environment, block it on a database lock and kill it. It prints the
run's counts as one JSON line when it finishes.
"""

import dataclasses
import json
import sys
from datetime import date


def main() -> None:
    import django

    django.setup()
    from schedules.generator import installments_issue_due

    run = installments_issue_due(today=date.fromisoformat(sys.argv[1]))
    print("RUN " + json.dumps(dataclasses.asdict(run)), flush=True)


if __name__ == "__main__":
    main()
