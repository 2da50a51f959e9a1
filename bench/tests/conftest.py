"""bench/'s own modules (bench.py, benchkit.py) are not on the shared pythonpath (scripts/)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
