#!/usr/bin/env python3
"""Checks the opswatch Grafana dashboards without a Grafana server.

Static mode (the default) reads grafana/dashboards/*.json and the provisioning
files: unique uids and titles, provisioned datasources, targets, layout, the
schema version the pinned Grafana reads, metric names against docs/metrics.md
(and prometheus/rules/ recording rules), units, SQL hygiene and links.

Live mode also runs every query the way Grafana would run it, against a real
Prometheus (instant, plus range for time-series panels) and PostgreSQL (psql),
and requires each to be valid and to return at least one series or row:

  python3 grafana/test/check_dashboards.py \\
      --prometheus http://127.0.0.1:9090 \\
      --postgres-url postgresql://opswatch_reader:PASSWORD@127.0.0.1:5432/app \\
      [--alertmanager http://127.0.0.1:9093] [--time-from now-15m]

Prints one line per check and ends with "dashboards: N passed, M failed";
exits 1 when anything failed, 2 on bad arguments.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dashmodel  # noqa: E402
import live_checks  # noqa: E402
import static_checks  # noqa: E402
from report import Report  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."),
                        help="repository root (default: this file's ../..)")
    parser.add_argument("--prometheus", metavar="URL", help="live mode: Prometheus base URL")
    parser.add_argument("--postgres-url", metavar="URL", help="live mode: libpq URL of the app database, for psql")
    parser.add_argument("--alertmanager", metavar="URL", help="live mode, optional: Alertmanager base URL")
    parser.add_argument("--psql", default="psql", help="psql binary (default: psql on PATH)")
    parser.add_argument("--time-from", metavar="RANGE",
                        help="live mode: query every dashboard as if this range (e.g. now-15m) were picked in the "
                             "time picker; for a Prometheus younger than the dashboards' steps (default: each "
                             "dashboard's own range; a panel's own override, like the incident table's 24h, stays)")
    args = parser.parse_args(argv)

    repo = dashmodel.Repo(args.repo)
    report = Report()
    ctx = static_checks.run(repo, report)
    if args.prometheus or args.postgres_url:
        live_checks.run(ctx, report, args.prometheus, args.postgres_url, args.alertmanager, args.psql,
                        args.time_from)
    print(report.summary())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
