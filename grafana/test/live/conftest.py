"""The live cases read the dashboards through grafana/test/dashboards.py."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
