#!/usr/bin/python3
"""The soak's sampling and analysis (bench/soak.sh starts and stops the processes).

    soak.py free-port
    soak.py run --pid PID --metrics URL --db-url URL --minutes N --samples FILE --out JSON [--commit SHA]
    soak.py report JSON            # the Markdown section of one run, for bench/SOAK.md

`run` waits for the exporter's first complete scrape (every opswatch_source_up 1), then for N minutes:
scrapes /metrics steadily (one keep-alive client, every 250 ms), writes rows into the app's tables as the
app would (every 10 s, a few of them up to 3 minutes late), and every 10 s samples the exporter: RSS
(/proc/PID/status VmRSS), heap after a full GC (`jcmd PID GC.run`, then `GC.heap_info`; metaspace from the same), threads
(/proc/PID/status), open file descriptors (/proc/PID/fd) and its database connections (pg_stat_activity
for its role). Each series gets a least-squares slope after the warm-up, per hour, and a verdict: `leak`
when the slope is above the series' tolerance, else `flat`. Standard library only; psql and jcmd from PATH.
"""
import argparse
import datetime
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

SAMPLE_EVERY = 10.0
SCRAPE_EVERY = 0.25
WRITE_EVERY = 10.0
# Per hour, fitted after the warm-up. Above it, the series is called a leak. RSS may move by a page or a
# malloc arena; a live heap that grows by a MiB an hour, or one thread, connection or descriptor, is a leak.
TOLERANCE_PER_HOUR = {
    "rss_mib": 2.0,
    "heap_after_gc_mib": 0.5,
    "metaspace_mib": 0.5,
    "threads": 0.5,
    "db_connections": 0.5,
    "fds": 0.5,
}
UNITS = {"rss_mib": "MiB", "heap_after_gc_mib": "MiB", "metaspace_mib": "MiB", "threads": "", "db_connections": "", "fds": ""}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(db_url, sql):
    done = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", db_url, "-c", sql],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def proc_status(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    return status


def heap_after_gc(pid):
    """Used heap right after a full collection (serial GC: new + tenured generation) and metaspace in use,
    in MiB, from the JVM's own account."""
    subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, text=True, timeout=60, check=True)
    info = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60, check=True).stdout
    generations = [int(k) for k in re.findall(r"generation\s+total \d+K, used (\d+)K", info)]
    metaspace = re.search(r"Metaspace\s+used (\d+)K", info)
    if not generations or not metaspace:
        raise RuntimeError("no heap figures in GC.heap_info:\n" + info)
    return sum(generations) / 1024, int(metaspace.group(1)) / 1024


class Scraper(threading.Thread):
    """One keep-alive client scraping steadily; counts answers, errors and the slowest scrapes."""

    def __init__(self, url, stop):
        super().__init__(daemon=True)
        self.url = urllib.parse.urlsplit(url)
        self.stop = stop
        self.ok = 0
        self.errors = 0
        self.latencies = []
        self.lock = threading.Lock()

    def run(self):
        conn = None
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=10)
                conn.request("GET", self.url.path)
                response = conn.getresponse()
                response.read()
                with self.lock:
                    if response.status == 200:
                        self.ok += 1
                        self.latencies.append(time.monotonic() - started)
                    else:
                        self.errors += 1
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.errors += 1
                if conn is not None:
                    conn.close()
                conn = None
            self.stop.wait(SCRAPE_EVERY)

    def take(self):
        with self.lock:
            taken = (self.ok, self.errors, self.latencies)
            self.ok, self.errors, self.latencies = 0, 0, []
        return taken


class Writer(threading.Thread):
    """Writes session, voice and external-call rows as the app does, now and then a little late."""

    def __init__(self, db_url, stop):
        super().__init__(daemon=True)
        self.db_url = db_url
        self.stop = stop
        self.rows = 0
        self.errors = 0
        self.n = 0

    def run(self):
        while not self.stop.wait(WRITE_EVERY):
            self.n += 1
            late = random.randint(0, 180)
            try:
                psql(self.db_url, f"""
                    INSERT INTO session_metrics (id, "sessionId", "userId", "tokensIn", "tokensOut", "costEur", "createdAt", "updatedAt")
                    SELECT 'soak' || {self.n} || '_' || g, 'soak' || {self.n} || '_' || g, u.id, 900, 300, 0.0024,
                           (now() AT TIME ZONE 'UTC') - interval '{late} seconds' * (g % 2), now() AT TIME ZONE 'UTC'
                    FROM generate_series(1, 3) AS g, (SELECT id FROM "User" LIMIT 1) AS u;
                    INSERT INTO "TelemetryEvent" (id, "eventId", "timestamp", category, action, label, value, metadata, "sessionId")
                    SELECT 'soak' || {self.n} || '_' || g, 'ext_soak' || {self.n} || '_' || g,
                           (now() AT TIME ZONE 'UTC') - interval '{late} seconds' * (g % 2), 'external_api',
                           'chat_completion', (ARRAY['azure_openai', 'google_drive', 'brave_search'])[g % 3 + 1], 500,
                           '{{"success":true}}', 'system'
                    FROM generate_series(1, 12) AS g""")
                self.rows += 15
            except (RuntimeError, subprocess.TimeoutExpired):
                self.errors += 1


def wait_until_up(url, pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            raise SystemExit(f"the exporter (pid {pid}) exited before its first complete scrape")
        try:
            parts = urllib.parse.urlsplit(url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            conn.request("GET", parts.path)
            body = conn.getresponse().read().decode()
            conn.close()
            ups = re.findall(r'^opswatch_source_up\{source="[^"]+"\} (\S+)', body, re.M)
            if ups and all(float(v) == 1 for v in ups):
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise SystemExit(f"no complete scrape within {timeout} s")


def fit(points):
    """Least-squares slope (per second) and its standard error over (t, value) points."""
    n = len(points)
    if n < 3:
        return 0.0, float("inf")
    ts = [p[0] for p in points]
    vs = [p[1] for p in points]
    mt, mv = statistics.fmean(ts), statistics.fmean(vs)
    sxx = sum((t - mt) ** 2 for t in ts)
    if sxx == 0:
        return 0.0, float("inf")
    slope = sum((t - mt) * (v - mv) for t, v in zip(ts, vs)) / sxx
    residual = sum((v - (mv + slope * (t - mt))) ** 2 for t, v in zip(ts, vs))
    return slope, (residual / (n - 2) / sxx) ** 0.5


MIN_FITTED_SECONDS = 600


def verdict(points, per_hour, tolerance):
    """flat or leak by the fitted slope; under 10 minutes of steady samples a slope says nothing yet."""
    if len(points) < 3 or points[-1][0] - points[0][0] < MIN_FITTED_SECONDS:
        return "too short"
    return "flat" if per_hour <= tolerance else "leak"


def analyse(samples, minutes):
    warmup = max(120.0, 0.1 * minutes * 60)
    steady = [s for s in samples if s["t"] >= warmup]
    series = {}
    for name, tolerance in TOLERANCE_PER_HOUR.items():
        points = [(s["t"], s[name]) for s in steady if s.get(name) is not None]
        values = [v for _, v in points]
        slope, stderr = fit(points)
        per_hour = slope * 3600
        series[name] = {
            "unit": UNITS[name],
            "samples": len(points),
            "first": values[0] if values else None,
            "last": values[-1] if values else None,
            "min": min(values) if values else None,
            "max": max(values) if values else None,
            "slope_per_hour": round(per_hour, 4),
            "slope_stderr_per_hour": round(stderr * 3600, 4) if stderr != float("inf") else None,
            "tolerance_per_hour": tolerance,
            "verdict": verdict(points, per_hour, tolerance),
        }
    return {"warmup_seconds": warmup, "series": series}


def run(args):
    pid = args.pid
    wait_until_up(args.metrics, pid, 300)
    stop = threading.Event()
    scraper = Scraper(args.metrics, stop)
    writer = Writer(args.db_url, stop)
    scraper.start()
    writer.start()
    started = time.monotonic()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    samples = []
    scrapes_ok = scrape_errors = 0
    all_latencies = []
    died = None
    with open(args.samples, "w") as out:
        next_at = started
        while time.monotonic() - started < args.minutes * 60:
            next_at += SAMPLE_EVERY
            time.sleep(max(0.0, next_at - time.monotonic()))
            if not os.path.exists(f"/proc/{pid}"):
                died = round(time.monotonic() - started, 1)
                break
            status = proc_status(pid)
            heap, metaspace = heap_after_gc(pid)
            ok, errors, latencies = scraper.take()
            scrapes_ok += ok
            scrape_errors += errors
            all_latencies += latencies
            sample = {
                "t": round(time.monotonic() - started, 1),
                "rss_mib": int(status["VmRSS"].split()[0]) / 1024,
                "threads": int(status["Threads"]),
                "fds": len(os.listdir(f"/proc/{pid}/fd")),
                "db_connections": int(psql(args.db_url,
                                           f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{args.role}'")),
                "heap_after_gc_mib": heap,
                "metaspace_mib": metaspace,
                "scrapes": ok,
                "scrape_errors": errors,
                "load": os.getloadavg()[0],
            }
            samples.append(sample)
            out.write(json.dumps(sample) + "\n")
            out.flush()
    stop.set()
    all_latencies.sort()
    duration = round(time.monotonic() - started, 1)
    result = {
        "started": started_at.isoformat(timespec="seconds"),
        "minutes_planned": args.minutes,
        "seconds_run": duration,
        "exporter_died_at_seconds": died,
        "commit": args.commit,
        "setup": args.setup,
        "scrapes": scrapes_ok,
        "scrape_errors": scrape_errors,
        "scrape_p50_ms": round(1000 * all_latencies[len(all_latencies) // 2], 2) if all_latencies else None,
        "scrape_p99_ms": round(1000 * all_latencies[int(len(all_latencies) * 0.99)], 2) if all_latencies else None,
        "rows_written": writer.rows,
        "write_errors": writer.errors,
        "load_average": {"min": min(s["load"] for s in samples), "max": max(s["load"] for s in samples),
                         "mean": round(statistics.fmean(s["load"] for s in samples), 2)} if samples else None,
        **analyse(samples, args.minutes),
        "samples": samples,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(report(result))
    verdicts = [s["verdict"] for s in result["series"].values()]
    return 0 if died is None and all(v == "flat" for v in verdicts) and scrape_errors == 0 else 1


def report(result):
    lines = [
        f"### Soak of {result['started']} ({result['seconds_run'] / 60:.0f} min, build {result.get('commit') or '?'})",
        "",
        f"{result['setup']}",
        "",
        f"Scrapes: {result['scrapes']} answered, {result['scrape_errors']} failed (p50 {result['scrape_p50_ms']} ms, "
        f"p99 {result['scrape_p99_ms']} ms); rows written meanwhile: {result['rows_written']} "
        f"({result['write_errors']} failed writes); load average {result['load_average']['min']:.2f}-"
        f"{result['load_average']['max']:.2f} (mean {result['load_average']['mean']}); "
        + ("the exporter ran to the end." if result["exporter_died_at_seconds"] is None
           else f"**the exporter exited after {result['exporter_died_at_seconds']} s**."),
        "",
        f"Fitted after a warm-up of {result['warmup_seconds']:.0f} s, one sample every {SAMPLE_EVERY:.0f} s:",
        "",
        "| series | first | last | min | max | slope per hour (± s.e.) | tolerance per hour | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in result["series"].items():
        unit = f" {s['unit']}" if s["unit"] else ""

        def v(x):
            return "n/a" if x is None else (f"{x:.1f}" if isinstance(x, float) else str(x))

        stderr = "" if s["slope_stderr_per_hour"] is None else f" ± {s['slope_stderr_per_hour']:.3f}"
        lines.append(f"| {name} | {v(s['first'])}{unit} | {v(s['last'])}{unit} | {v(s['min'])} | {v(s['max'])} | "
                     f"{s['slope_per_hour']:+.3f}{stderr} | {s['tolerance_per_hour']} | **{s['verdict']}** |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("free-port")
    r = sub.add_parser("run")
    r.add_argument("--pid", type=int, required=True)
    r.add_argument("--metrics", required=True)
    r.add_argument("--db-url", required=True, help="a superuser URL of the app database (writes rows, reads pg_stat_activity)")
    r.add_argument("--role", default="opswatch_reader")
    r.add_argument("--minutes", type=float, required=True)
    r.add_argument("--samples", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--commit", default="")
    r.add_argument("--setup", default="")
    p = sub.add_parser("report")
    p.add_argument("json")
    args = parser.parse_args()
    if args.command == "free-port":
        print(free_port())
        return 0
    if args.command == "report":
        with open(args.json) as f:
            print(report(json.load(f)))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
