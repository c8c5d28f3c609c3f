#!/usr/bin/env python3
"""Statistics and queue latency at scale, on PostgreSQL and SQLite.

For each backend: seeds a fresh database with `qifu seed --tickets N --seed 2026` (or uses one
seeded earlier, --existing), starts `qifu serve` on it (2 workers, sweeps off) and measures,
over repeated sequential calls after warm-up calls, the median and p99 latency of every
statistics endpoint and of an official's first queue page (default sort, and overdue=true),
then the server's peak RSS (VmHWM). Python standard library only.

    python3 bench/stats.py                      # 1,000,000 tickets, both backends
    python3 bench/stats.py --tickets 200000 --backends sqlite
    python3 bench/stats.py --skip-build --existing postgres://postgres@127.0.0.1/qifu_1m --runs 10
    python3 bench/stats.py --binary target/debug/qifu --tickets 300 --runs 2 --warmup 1  # smoke
    python3 bench/stats.py --tickets 200000 --backends sqlite --direct  # rollups and tickets

A PostgreSQL database it seeds is created under a unique name on --pg-admin-url's server and
dropped afterwards; an SQLite one lives in a temporary directory. Results: printed, and written
as JSON to bench/results/stats-<timestamp>.json (or --out).
"""

import os
import sys

# Run as a script, Python puts bench/ first on sys.path, so a file there named like a standard
# module would be imported instead of it. Nothing is imported from bench/.
if os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402 (after the sys.path guard above)
import datetime
import json
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE_BIN = os.path.join(ROOT, "target", "release", "qifu")
PASSWORD = "Qifu-Seed-2026"  # the seeder's password for every account it creates
DOMAIN = "seed.qifu.example"

ENDPOINTS = [
    ("admin", "/api/v1/stats/summary"),
    ("admin", "/api/v1/stats/summary?from=2026-10-01&to=2026-10-31"),
    ("admin", "/api/v1/stats/breakdown?by=department"),
    ("admin", "/api/v1/stats/breakdown?by=official"),
    ("admin", "/api/v1/stats/breakdown?by=category"),
    ("admin", "/api/v1/stats/breakdown?by=enterprise"),
    # Bounds off local midnight: answered from the tickets, not the rollups.
    ("admin", "/api/v1/stats/summary?from=2026-09-30T16:00:01Z&to=2026-10-31T16:00:00Z"),
    ("admin", "/api/v1/stats/trend?interval=day"),
    ("admin", "/api/v1/stats/trend?interval=month"),
    ("official", "/api/v1/stats/summary"),
    ("official", "/api/v1/tickets?limit=20"),
    ("official", "/api/v1/tickets?limit=20&overdue=true"),
]

# The same reports bounded one second after a local midnight (Asia/Shanghai, the seeded
# default) before every ticket the seeder files (it spreads them over the year before it
# runs): the same tickets, answered by the direct queries over `tickets` (the reference
# implementation the rollups are tested against) instead of the rollups, for a before/after
# in one run (--direct).
DIRECT_FROM = "from=" + (datetime.datetime.now(datetime.timezone.utc).replace(
    hour=16, minute=0, second=1, microsecond=0) - datetime.timedelta(days=368)
).strftime("%Y-%m-%dT%H:%M:%SZ")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as res:
        return res.status, res.read()


def percentile(values, p):
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (rank - lo) * (ordered[hi] - ordered[lo])


def wait_ready(server, base):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"qifu serve exited with {server.returncode}")
        try:
            if request(base + "/readyz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("qifu serve did not become ready within 60 s")


def run_backend(name, url, args, env_base, seed=True):
    env = dict(env_base, QIFU__DATABASE__URL=url)
    started = time.monotonic()
    if seed:
        subprocess.run([args.binary, "seed", "--tickets", str(args.tickets), "--seed", "2026"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    seed_seconds = time.monotonic() - started
    if seed:
        print(f"[{name}] seeded {args.tickets} tickets in {seed_seconds:.0f} s", flush=True)

    port = free_port()
    env.update(QIFU__SERVER__BIND=f"127.0.0.1:{port}", QIFU__SERVER__WORKERS="2",
               QIFU__JOBS__INTERVAL_SECONDS="86400", QIFU__LOG__LEVEL="warn")
    server = subprocess.Popen([args.binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(server, base)
        tokens = {}
        for role, email in [("admin", f"admin@{DOMAIN}"), ("official", f"official1-1@{DOMAIN}")]:
            _, body = request(base + "/api/v1/auth/login",
                              body={"email": email, "password": PASSWORD})
            tokens[role] = json.loads(body)["access_token"]
        results = []
        for role, path in ENDPOINTS:
            for _ in range(args.warmup):
                request(base + path, tokens[role])
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                status, _ = request(base + path, tokens[role])
                times.append((time.perf_counter() - t) * 1000)
                assert status == 200, (path, status)
            row = {"backend": name, "as": role, "path": path,
                   "median_ms": round(statistics.median(times), 1),
                   "p99_ms": round(percentile(times, 0.99), 1)}
            results.append(row)
            print(f"[{name}] {role:8} {path:60} median {row['median_ms']:8.1f} ms  "
                  f"p99 {row['p99_ms']:8.1f} ms", flush=True)
        with open(f"/proc/{server.pid}/status") as status:
            hwm = next(line for line in status if line.startswith("VmHWM")).split()[1]
        rss_mib = int(hwm) / 1024
        print(f"[{name}] peak RSS {rss_mib:.1f} MiB", flush=True)
        return {"backend": name, "tickets": args.tickets if seed else None,
                "seed_seconds": round(seed_seconds) if seed else None,
                "peak_rss_mib": round(rss_mib, 1), "endpoints": results}
    finally:
        server.terminate()
        server.wait(timeout=30)


def psql(admin_url, sql):
    subprocess.run(["psql", "-X", "-q", admin_url, "-c", sql], check=True, timeout=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--pg-admin-url", default="postgres://postgres@127.0.0.1/postgres",
                        help="where the PostgreSQL database to seed is created")
    parser.add_argument("--skip-build", action="store_true", help="skip cargo build --release")
    parser.add_argument("--binary", help="the qifu binary (implies --skip-build; default: "
                                         "target/release/qifu)")
    parser.add_argument("--existing", metavar="URL",
                        help="measure a database seeded earlier (postgres:// or sqlite://) "
                             "instead of seeding; --backends is ignored")
    parser.add_argument("--out", help="JSON results file (default bench/results/stats-<time>.json)")
    parser.add_argument("--direct", action="store_true",
                        help="also measure each all-time report from the tickets (see DIRECT_FROM)")
    args = parser.parse_args()
    if args.direct:
        ENDPOINTS.extend((role, f"{path}{'&' if '?' in path else '?'}{DIRECT_FROM}")
                         for role, path in list(ENDPOINTS)
                         if "/stats/" in path and "from=" not in path)

    if not (args.skip_build or args.binary):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    args.binary = os.path.abspath(args.binary or RELEASE_BIN)
    started = datetime.datetime.now(datetime.timezone.utc)
    work = tempfile.mkdtemp(prefix="qifu-bench-")
    env = dict(os.environ, QIFU__AUTH__JWT_SECRET="bench-secret-0123456789-0123456789-0123456789",
               QIFU__MAIL__TRANSPORT="log", QIFU__MAIL__FILE_DIR=os.path.join(work, "mail"))
    report = []
    created = None
    try:
        if args.existing:
            backend = "postgres" if args.existing.startswith("postgres") else "sqlite"
            report.append(run_backend(backend, args.existing, args, env, seed=False))
        for backend in [] if args.existing else args.backends.split(","):
            if backend == "postgres":
                created = f"qifu_stats_{os.getpid()}_{int(time.time())}"
                psql(args.pg_admin_url, f'CREATE DATABASE "{created}"')
                url = f"{args.pg_admin_url.rsplit('/', 1)[0]}/{created}"
                report.append(run_backend("postgres", url, args, env))
            elif backend == "sqlite":
                report.append(run_backend("sqlite", f"sqlite://{work}/bench.db", args, env))
            else:
                sys.exit(f"unknown backend {backend}")
    finally:
        if created:
            psql(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
    out = args.out or os.path.join(ROOT, "bench", "results",
                                   f"stats-{started:%Y%m%dT%H%M%SZ}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"results in {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    main()
