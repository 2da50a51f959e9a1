"""Fixtures of the prometheus/ tests (the shared ones are in the root conftest.py)."""
import importlib.util

import pytest


@pytest.fixture(scope="session")
def render_rules(repo):
    """prometheus/render_rules.py as a module."""
    spec = importlib.util.spec_from_file_location("render_rules", repo / "prometheus/render_rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
