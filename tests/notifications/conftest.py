import pytest


@pytest.fixture(autouse=True)
def _coordination_flags_reset():
    """Per-process throttle flags (notifications/coordination.py without Redis) do not leak
    from one test into the next."""
    from notifications import coordination

    coordination.reset_local()
    yield
    coordination.reset_local()
