"""Fixtures shared by every pytest suite of the repository (scripts/test.sh runs them with Debian's
python3-pytest). Plain helpers live in scripts/testkit.py, so that non-test scripts can use them too."""
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
    db = testkit.Database()
    yield db
    db.drop()


@pytest.fixture
def demo_database(pg_server_url, repo):
    """A new database holding demo/schema.sql and demo/seed.sql, dropped after the test."""
    db = testkit.Database()
    db.load(repo / "demo/schema.sql", repo / "demo/seed.sql")
    yield db
    db.drop()


@pytest.fixture
def health_stub():
    stub = testkit.HealthStub()
    yield stub
    stub.close()


@pytest.fixture
def webhook_sink():
    sink = testkit.WebhookSink()
    yield sink
    sink.close()


@pytest.fixture
def processes(work):
    """Starts processes (`processes.start(name, args, env=None)`) and stops each by its PID afterwards;
    on failure the test's report shows the tail of each log."""
    started = []

    class Starter:
        def start(self, name, args, env=None):
            p = testkit.Process(name, args, work, env)
            started.append(p)
            return p

    yield Starter()
    for p in reversed(started):
        p.stop()
