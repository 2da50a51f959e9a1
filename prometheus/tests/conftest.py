"""Fixtures of the prometheus/ tests (the shared ones are in the root conftest.py)."""
import importlib.util
import pathlib
import sys

import pytest

# alerting_servers.py (real Prometheus and Alertmanager processes) lives here; alertmanager/tests uses it too.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def render_rules(repo):
    """prometheus/render_rules.py as a module."""
    spec = importlib.util.spec_from_file_location("render_rules", repo / "prometheus/render_rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def work_module(tmp_path_factory):
    """A working folder shared by a module's processes."""
    return tmp_path_factory.mktemp("alerting")
