"""Fixtures shared by every pytest suite of the repository (scripts/test.sh runs them with Debian's
python3-pytest). Plain helpers live in scripts/testkit.py, so that non-test scripts can use them too.

A fixture that sets something up exists per test (`demo_database`) and, for an expensive setup that the
tests of one module share (an exporter over the demo data, a whole alert path), per module
(`module_demo_database`), from one body."""
import pytest

import testkit


@pytest.fixture(scope="session")
def repo():
    return testkit.REPO


@pytest.fixture
def free_port():
    """A function returning a free loopback port each time it is called."""
    return testkit.free_port


@pytest.fixture
def work(tmp_path):
    """A private working folder for processes and their logs."""
    return tmp_path


@pytest.fixture(scope="module")
def module_work(tmp_path_factory, request):
    """`work`, shared by the tests of one module."""
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="session")
def pg_server_url():
    """The throwaway PostgreSQL server's URL (superuser, trust auth, loopback)."""
    try:
        return testkit.server_url()
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture
def fresh_database(pg_server_url):
    """A new, empty database, dropped after the test."""
    with testkit.Database() as db:
        yield db


def per_test_and_per_module(body):
    """Registers one fixture body twice: NAME, set up for each test, and module_NAME, set up once for the
    tests of a module that share an expensive setup (an exporter over the demo data, the alert path)."""
    name = body.__name__
    return pytest.fixture(body, name=name), pytest.fixture(body, name="module_" + name, scope="module")


def demo_database(pg_server_url):
    """A new database holding demo/schema.sql and demo/seed.sql, dropped afterwards."""
    with testkit.demo_database() as db:
        yield db


def health_stub():
    """The app's /api/health stand-in (`.health_url`; set `.status` to "degraded" or "unhealthy")."""
    with testkit.HealthStub() as stub:
        yield stub


def webhook_sink():
    """Records every POST body by path (`.url(path)`, `.bodies(path)`): pager, chat, heartbeat."""
    with testkit.WebhookSink() as sink:
        yield sink


demo_database, module_demo_database = per_test_and_per_module(demo_database)
health_stub, module_health_stub = per_test_and_per_module(health_stub)
webhook_sink, module_webhook_sink = per_test_and_per_module(webhook_sink)


@pytest.fixture
def processes(work):
    """Starts processes (`processes.start(name, args, env=None, cwd=None)`) and stops each by its PID
    afterwards; on failure the test's report shows the tail of each log."""
    with testkit.Processes(work) as started:
        yield started


@pytest.fixture(scope="module")
def module_processes(module_work):
    """`processes`, shared by the tests of one module (stopped after its last test)."""
    with testkit.Processes(module_work) as started:
        yield started


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries the last lines of every process log its fixtures started."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, testkit.Processes):
            for name, tail in value.tails():
                report.sections.append((f"{name} log (last lines)", tail))
