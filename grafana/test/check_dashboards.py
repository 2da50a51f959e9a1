#!/usr/bin/env python3
"""Runs every dashboard query, panels and annotations, against a real Prometheus and PostgreSQL
(grafana/test/live/test_live.py, with pytest), and exits 0 when each is valid and returns data:

  python3 grafana/test/check_dashboards.py \\
      --prometheus http://127.0.0.1:9090 \\
      --postgres-url postgresql://opswatch_grafana:PASSWORD@127.0.0.1:5432/app \\
      [--alertmanager http://127.0.0.1:9093] [--time-from now-15m]

Either server may be left out: its cases are skipped. Prints pytest's report (failures as lines
starting with FAILED); exits 0 when nothing failed, 1 when a case failed, 2 on bad arguments."""
import argparse
import os
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prometheus", metavar="URL", help="Prometheus base URL")
    parser.add_argument("--postgres-url", metavar="URL", help="libpq URL of the app database (as opswatch_grafana)")
    parser.add_argument("--alertmanager", metavar="URL", help="Alertmanager base URL")
    parser.add_argument("--time-from", metavar="now-DURATION",
                        help="query the Prometheus panels over this range instead of each dashboard's own")
    args = parser.parse_args(argv)
    if not (args.prometheus or args.postgres_url):
        parser.error("give --prometheus, --postgres-url or both")
    if args.time_from and not re.fullmatch(r"now-\d+[smhdw]", args.time_from):
        parser.error(f"--time-from {args.time_from}: expected now-<number><s|m|h|d|w>")
    os.environ.update({key: value for key, value in {
        "OPSWATCH_LIVE_PROMETHEUS": args.prometheus, "OPSWATCH_LIVE_POSTGRES_URL": args.postgres_url,
        "OPSWATCH_LIVE_ALERTMANAGER": args.alertmanager, "OPSWATCH_LIVE_TIME_FROM": args.time_from}.items() if value})
    sys.path.insert(0, str(REPO / "scripts"))
    import pytest  # Debian's python3-pytest

    os.chdir(REPO)
    return int(pytest.main(["-q", "-rfE", "-p", "no:cacheprovider", "grafana/test/live"]))


if __name__ == "__main__":
    sys.exit(main())
