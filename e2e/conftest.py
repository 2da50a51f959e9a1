"""Fixtures of the end-to-end suite: the alert path (e2e/alertpath.py), started once for the module, and
the timeline from the breach to the page in pytest's terminal summary."""
import pytest

import alertpath


@pytest.fixture(scope="module")
def alert_path(module_demo_database, module_webhook_sink, module_health_stub, module_processes, module_work):
    yield alertpath.AlertPath(module_demo_database, module_webhook_sink, module_health_stub, module_processes,
                              module_work)
    # A failed step may leave the shared server stopped; start it again (a no-op when it runs), so that
    # the demo database can be dropped and later suites find it.
    alertpath.pg_throwaway("start")


def pytest_terminal_summary(terminalreporter):
    if not alertpath.TIMELINE:
        return
    terminalreporter.write_sep("-", "e2e timeline (seconds since the breach)")
    start = alertpath.TIMELINE[0][0]
    for at, event in alertpath.TIMELINE:
        terminalreporter.write_line(f"{at - start:7.1f}  {event}")
