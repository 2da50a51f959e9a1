"""Fixtures of the alertmanager/ tests (the shared ones are in the root conftest.py). The process helpers
(alerting_servers.py) live in prometheus/tests, beside the Prometheus tests that use them too."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "prometheus" / "tests"))

import alerting_servers  # noqa: E402
import testkit  # noqa: E402


@pytest.fixture(scope="module")
def work_module(tmp_path_factory):
    return tmp_path_factory.mktemp("alertmanager")


@pytest.fixture(scope="module")
def sink():
    """The pager, chat and dead man's switch: one HTTP sink recording every POST by path."""
    s = testkit.WebhookSink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def alertmanager(work_module, sink, repo):
    """The real Alertmanager with the repository's alertmanager.yml, receivers pointed at the sink
    (sink-config.sh, group_wait 1s)."""
    config = alerting_servers.sink_config(repo, sink.url(""), work_module / "am")
    am = alerting_servers.Alertmanager(work_module, config)
    yield am
    am.stop()
