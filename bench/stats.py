#!/usr/bin/env python3
"""Statistics and queue latency at scale, on PostgreSQL and SQLite.

Builds the release binary, seeds a fresh database per backend with `qifu seed --tickets N`,
starts `qifu serve` on it and measures, over repeated sequential calls, the median and p99
latency of every statistics endpoint and of an official's first queue page (default sort, and
with overdue=true), then the server's peak RSS (VmHWM). Python standard library only.

    python3 bench/stats.py                      # 1,000,000 tickets, both backends
    python3 bench/stats.py --tickets 200000 --backends sqlite
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "qifu")
PASSWORD = "Qifu-Seed-2026"  # src/stats/seed.rs PASSWORD
DOMAIN = "seed.qifu.example"

ENDPOINTS = [
    ("admin", "/api/v1/stats/summary"),
    ("admin", "/api/v1/stats/summary?from=2026-10-01&to=2026-10-31"),
    ("admin", "/api/v1/stats/breakdown?by=department"),
    ("admin", "/api/v1/stats/breakdown?by=official"),
    ("admin", "/api/v1/stats/trend?interval=day"),
    ("admin", "/api/v1/stats/trend?interval=month"),
    ("official", "/api/v1/stats/summary"),
    ("official", "/api/v1/tickets?limit=20"),
    ("official", "/api/v1/tickets?limit=20&overdue=true"),
]


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
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (rank - lo) * (ordered[hi] - ordered[lo])


def run_backend(name, url, args, env_base, seed=True):
    env = dict(env_base, QIFU__DATABASE__URL=url)
    started = time.monotonic()
    if seed:
        subprocess.run([BINARY, "seed", "--tickets", str(args.tickets), "--seed", "2026"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    seed_seconds = time.monotonic() - started
    print(f"[{name}] seeded {args.tickets} tickets in {seed_seconds:.0f} s", flush=True)

    port = free_port()
    env.update(QIFU__SERVER__BIND=f"127.0.0.1:{port}", QIFU__SERVER__WORKERS="2",
               QIFU__JOBS__INTERVAL_SECONDS="86400", QIFU__LOG__LEVEL="warn")
    server = subprocess.Popen([BINARY, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if request(base + "/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        tokens = {}
        for role, email in [("admin", f"admin@{DOMAIN}"), ("official", f"official1-1@{DOMAIN}")]:
            _, body = request(base + "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
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
            hwm = next(l for l in status if l.startswith("VmHWM")).split()[1]
        rss_mib = int(hwm) / 1024
        print(f"[{name}] peak RSS {rss_mib:.1f} MiB", flush=True)
        return {"backend": name, "tickets": args.tickets, "seed_seconds": round(seed_seconds),
                "peak_rss_mib": round(rss_mib, 1), "endpoints": results}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--pg-admin-url", default="postgres://postgres@127.0.0.1/postgres")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--existing-pg", metavar="URL",
                        help="measure a PostgreSQL database seeded earlier instead of seeding one")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results.json"))
    args = parser.parse_args()

    if not args.skip_build:
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="qifu-bench-")
    env = dict(os.environ, QIFU__AUTH__JWT_SECRET="bench-secret-0123456789-0123456789-0123456789",
               QIFU__MAIL__TRANSPORT="log", QIFU__MAIL__FILE_DIR=os.path.join(work, "mail"))
    report = []
    try:
        for backend in args.backends.split(","):
            if backend == "postgres" and args.existing_pg:
                report.append(run_backend("postgres", args.existing_pg, args, env, seed=False))
            elif backend == "postgres":
                base, _ = args.pg_admin_url.rsplit("/", 1)
                db = "qifu_bench"
                for sql in [f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', f'CREATE DATABASE "{db}"']:
                    subprocess.run(["psql", args.pg_admin_url, "-q", "-c", sql], check=True)
                report.append(run_backend("postgres", f"{base}/{db}", args, env))
            elif backend == "sqlite":
                report.append(run_backend("sqlite", f"sqlite://{work}/bench.db", args, env))
            else:
                sys.exit(f"unknown backend {backend}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(args.out, "w") as out:
        json.dump(report, out, indent=2)
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()
