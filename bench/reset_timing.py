#!/usr/bin/env python3
"""Does `POST /auth/password-reset` take longer for a registered email than for an unknown one?

Starts `qifu serve` on a fresh database (SQLite in a temporary folder, or --database-url),
registers --samples enterprise users, then asks for a reset of each registered address and of
as many unknown ones, interleaved in random order, one request at a time. Every request comes
"from" its own client address (X-Forwarded-For, trusted for this run) and every address is
asked once, so no quota is spent and each registered address gets the full work of a mail.
Prints the median and p90 of each kind, their ratio, and the separation: the probability that
a random registered-address sample is slower than a random unknown one (0.5 means the timing
tells nothing; 1.0 means every sample tells). Standard library only.

    python3 bench/reset_timing.py --binary target/release/qifu --samples 200
    python3 bench/reset_timing.py --database-url postgres://postgres@127.0.0.1/qifu_reset
"""

import os
import sys

# Run as a script, Python puts bench/ first on sys.path, so a file there named like a standard
# module would be imported instead of it. Nothing is imported from bench/.
if os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402 (after the sys.path guard above)
import json
import random
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "Bench-Reset-2026"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base, path, body, client):
    req = urllib.request.Request(
        base + path, json.dumps(body).encode(),
        {"Content-Type": "application/json", "X-Forwarded-For": client})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status


def credit_code(n):
    """The n-th valid unified social credit code (GB 32100-2015 check character)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [3 ** i % 31 for i in range(17)]
    body = "91440300" + f"{n:09d}"
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights))
    return body + alphabet[(31 - total % 31) % 31]


def percentile(values, q):
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def separation(slow, fast):
    wins = sum((a > b) + 0.5 * (a == b) for a in slow for b in fast)
    return wins / (len(slow) * len(fast))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "qifu"))
    p.add_argument("--database-url", help="default: SQLite in a temporary folder")
    p.add_argument("--samples", type=int, default=100, help="requests of each kind")
    args = p.parse_args()

    work = tempfile.mkdtemp()
    url = args.database_url or f"sqlite://{work}/reset.db"
    port = free_port()
    env = dict(os.environ, QIFU__DATABASE__URL=url, QIFU__SERVER__BIND=f"127.0.0.1:{port}",
               QIFU__MAIL__TRANSPORT="log", QIFU__LOG__LEVEL="warn",
               QIFU__SERVER__TRUST_FORWARDED_FOR="true", QIFU__LIMITS__REGISTER_PER_HOUR="0",
               QIFU__AUTH__JWT_SECRET="bench-reset-secret-0123456789-0123456789-0123")
    server = subprocess.Popen([args.binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        known = []
        for i in range(args.samples):
            email = f"user{i}@reset.bench.example"
            post(base, "/api/v1/auth/register", {
                "enterprise": {"name": f"Bench {i}", "credit_code": credit_code(i)},
                "user": {"name": f"User {i}", "email": email, "password": PASSWORD},
            }, "192.0.2.1")
            known.append(email)
        unknown = [f"nobody{i}@reset.bench.example" for i in range(args.samples)]
        order = [(True, e) for e in known] + [(False, e) for e in unknown]
        random.Random(2026).shuffle(order)
        times = {True: [], False: []}
        for n, (registered, email) in enumerate(order):
            client = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
            start = time.perf_counter()
            status = post(base, "/api/v1/auth/password-reset", {"email": email}, client)
            times[registered].append((time.perf_counter() - start) * 1000)
            assert status == 202, status
    finally:
        server.terminate()
        server.wait()

    k, u = times[True], times[False]
    print(f"database: {url.split('://')[0]}, {args.samples} samples of each kind")
    print(f"registered email: median {statistics.median(k):.2f} ms, p90 {percentile(k, 0.9):.2f} ms")
    print(f"unknown email:    median {statistics.median(u):.2f} ms, p90 {percentile(u, 0.9):.2f} ms")
    print(f"median ratio registered/unknown: {statistics.median(k) / statistics.median(u):.2f}")
    print(f"separation (P[registered slower]): {separation(k, u):.2f}")


if __name__ == "__main__":
    main()
