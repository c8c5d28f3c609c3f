#!/usr/bin/env python3
"""Queue page latency on a database seeded earlier with `qifu seed`.

Starts `qifu serve` on DATABASE_URL, signs in as one seeded account and calls first queue
pages one after another: by default an official's (`official1-1`) `/tickets?limit=20` and
`/tickets?limit=20&overdue=true`; with --q, the admin's search pages `/tickets?limit=20&q=TERM`
for each TERM; with --console, the web console's pages for an enterprise user
(`enterprise1`), signed in through the console's own form: its `/tickets` list and the page
of its most recent ticket (`/tickets/{id}`); then the official's work queue (`official1-1`):
`/queue` views mine, department, overdue and due soon, the department sorted by deadline, and
the staff page of the newest ticket of the department. Prints, per page, the median, p99 (linear interpolation between the closest
ranks) and the maximum of --runs calls made after --warmup calls. Standard library only.

    python3 bench/queue_page.py sqlite:///tmp/sq1m/q.db
    python3 bench/queue_page.py postgres://postgres@127.0.0.1/qifu_1m --runs 8 --warmup 2 \\
        --q 营业执照 --q sd0012345
    python3 bench/queue_page.py --console sqlite:///tmp/sq1m/q.db
"""

import os
import sys

# Run as a script, Python puts bench/ first on sys.path, so a file there named like a standard
# module would be imported instead of it. Nothing is imported from bench/.
if os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402 (after the sys.path guard above)
import http.cookiejar
import json
import re
import socket
import statistics
import subprocess
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE_BIN = os.path.join(ROOT, "target", "release", "qifu")
PASSWORD = "Qifu-Seed-2026"  # the seeder's password for every account it creates
ACCOUNTS = {"official": "official1-1@seed.qifu.example", "admin": "admin@seed.qifu.example",
            "enterprise": "enterprise1@seed.qifu.example"}
QUEUE_PAGES = ["/api/v1/tickets?limit=20", "/api/v1/tickets?limit=20&overdue=true"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token=None, body=None):
    """GET (or POST `body` as JSON) with a bearer token; or, when `token` is a cookie opener,
    as the browser session it holds."""
    headers = {"Content-Type": "application/json"}
    if isinstance(token, str):
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, headers)
    opener = token if isinstance(token, urllib.request.OpenerDirector) else None
    with (opener.open(request, timeout=60) if opener else
          urllib.request.urlopen(request, timeout=60)) as r:
        return r.read()


def console_session(base, email):
    """A cookie opener signed in through the console's login form (CSRF token included)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/login", timeout=60).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "email": email, "password": PASSWORD}).encode()
    opener.open(urllib.request.Request(base + "/login", form), timeout=60).read()
    return opener


def start_server(binary, database_url):
    port = free_port()
    env = dict(os.environ, QIFU__DATABASE__URL=database_url,
               QIFU__SERVER__BIND=f"127.0.0.1:{port}", QIFU__MAIL__TRANSPORT="log",
               QIFU__LOG__LEVEL="warn", QIFU__JOBS__INTERVAL_SECONDS="86400",
               QIFU__AUTH__JWT_SECRET="bench-queue-secret-0123456789-0123456789-0123")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"qifu serve exited with {server.returncode}")
        try:
            get(base + "/readyz")
            return server, base
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("qifu serve did not become ready within 60 s")


def percentile(ordered, p):
    rank = p * (len(ordered) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (rank - lo) * (ordered[hi] - ordered[lo])


def measure(base, token, path, warmup, runs):
    for _ in range(warmup):
        get(base + path, token)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        get(base + path, token)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url", help="a database seeded with `qifu seed`")
    parser.add_argument("--binary", default=RELEASE_BIN, help="default: target/release/qifu")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--q", action="append", metavar="TERM",
                        help="measure the admin's search page for TERM instead (repeatable)")
    parser.add_argument("--console", action="store_true",
                        help="measure the web console's list and ticket pages instead")
    args = parser.parse_args()
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")

    role = "admin" if args.q else "enterprise" if args.console else "official"
    paths = ([f"/api/v1/tickets?limit=20&q={urllib.parse.quote(term)}" for term in args.q]
             if args.q else QUEUE_PAGES)
    server, base = start_server(os.path.abspath(args.binary), args.database_url)
    try:
        login = get(base + "/api/v1/auth/login",
                    body={"email": ACCOUNTS[role], "password": PASSWORD})
        token = json.loads(login)["access_token"]
        runs = [(role, token, paths)]
        if args.console:
            newest = json.loads(get(base + "/api/v1/tickets?limit=1", token))["items"][0]["id"]
            runs = [(role, console_session(base, ACCOUNTS[role]),
                     ["/tickets", f"/tickets/{newest}"])]
            official = json.loads(get(base + "/api/v1/auth/login", body={
                "email": ACCOUNTS["official"], "password": PASSWORD}))["access_token"]
            theirs = json.loads(get(base + "/api/v1/tickets?limit=1", official))["items"][0]["id"]
            runs.append(("official", console_session(base, ACCOUNTS["official"]), [
                "/queue?view=mine", "/queue?view=department", "/queue?view=overdue",
                "/queue?view=due_soon", "/queue?view=department&sort=due",
                f"/tickets/{theirs}"]))
        for who, session, pages in runs:
            for path in pages:
                t = measure(base, session, path, args.warmup, args.runs)
                print(f"{who} {urllib.parse.unquote(path)}: median {statistics.median(t):.2f} ms, "
                      f"p99 {percentile(t, 0.99):.2f} ms, max {t[-1]:.2f} ms "
                      f"({args.runs} calls after {args.warmup} warm-ups)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
