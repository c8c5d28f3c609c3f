#!/usr/bin/env python3
"""Attachment throughput and memory: how close do uploads and downloads come to a plain copy?

Starts `qifu serve` on a fresh SQLite database with a local attachment store (both in a
temporary folder), files one ticket, then with `curl` (the same client on both sides):
  - uploads a --size-mib file (random bytes behind a PDF header) --runs times as multipart to
    `POST /tickets/{id}/attachments`, against a POST of the same file to a minimal Python
    server that writes the body to a file;
  - downloads it --runs times from `GET /attachments/{id}/content`, against `curl` fetching the
    same file from Python's static file server (`http.server`);
  - uploads --clients files of --big-mib at once and samples the server's VmRSS meanwhile
    (and VmHWM, its peak, at the end).
Prints medians, MB/s and the ratios, and the RSS figures. Standard library and curl only.

    python3 bench/attachments.py --binary target/release/qifu
    python3 bench/attachments.py --binary target/debug/qifu --size-mib 1 --runs 1 --clients 2 --big-mib 1
"""

import os
import sys

# Run as a script, Python puts bench/ first on sys.path, so a file there named like a standard
# module would be imported instead of it. Nothing is imported from bench/.
if os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402 (after the sys.path guard above)
import functools
import http.server
import json
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

PASSWORD = "Bench-Attach-2026"
SECRET = "bench-attachments-secret-0123456789-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def curl_seconds(args):
    out = subprocess.run(
        ["curl", "-sS", "-H", "Expect:", "-o", os.devnull, "-w", "%{http_code} %{time_total}", *args],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    if not out[0].startswith("2"):
        raise SystemExit(f"curl {args[-1]} answered {out[0]}")
    return float(out[1])


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Sink(http.server.SimpleHTTPRequestHandler):
    """GET serves the folder; POST writes the body to a file there (the upload baseline)."""

    def do_POST(self):
        left = int(self.headers["Content-Length"])
        with open(os.path.join(self.directory, "posted.bin"), "wb") as out:
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                out.write(chunk)
                left -= len(chunk)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default="target/release/qifu")
    p.add_argument("--size-mib", type=int, default=10)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--big-mib", type=int, default=20)
    a = p.parse_args()
    a.binary = os.path.abspath(a.binary)
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed")

    work = tempfile.mkdtemp(prefix="qifu-bench-attach-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ,
               QIFU__SERVER__BIND=f"127.0.0.1:{port}",
               QIFU__DATABASE__URL=f"sqlite://{work}/qifu.db",
               QIFU__AUTH__JWT_SECRET=SECRET,
               QIFU__MAIL__TRANSPORT="log",
               QIFU__LOG__LEVEL="warn",
               QIFU__LIMITS__REGISTER_PER_HOUR="0",
               QIFU__LIMITS__FILE_PER_MINUTE="0",
               QIFU__ATTACHMENTS__STORE=f"file://{work}/attachments",
               QIFU__ATTACHMENTS__MAX_PER_TICKET="100000",
               QIFU__ATTACHMENTS__MAX_BYTES=str(max(a.big_mib, a.size_mib) << 20),
               QIFU_ADMIN_PASSWORD=PASSWORD)
    server = subprocess.Popen([a.binary, "serve"], env=env, cwd=work)
    static = None
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        subprocess.run([a.binary, "create-admin", "--email", "admin@bench.test", "--name", "Admin"],
                       env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)
        admin = call(base, "POST", "/api/v1/auth/login", {"email": "admin@bench.test", "password": PASSWORD})["access_token"]
        dept = call(base, "POST", "/api/v1/departments", {"name": "商务局"}, admin)["id"]
        cat = call(base, "POST", "/api/v1/categories", {"name": "许可", "department_id": dept, "sla_hours": 48}, admin)["id"]
        call(base, "POST", "/api/v1/auth/register", {
            "enterprise": {"name": "Bench", "credit_code": "91440300708461136T"},
            "user": {"name": "Wang", "email": "wang@bench.test", "password": PASSWORD}})
        token = call(base, "POST", "/api/v1/auth/login", {"email": "wang@bench.test", "password": PASSWORD})["access_token"]
        ticket = call(base, "POST", "/api/v1/tickets", {"title": "Bench", "description": "files", "category_id": cat}, token)["id"]
        auth = ["-H", f"Authorization: Bearer {token}"]
        upload_url = f"{base}/api/v1/tickets/{ticket}/attachments"

        static_dir = os.path.join(work, "static")
        os.makedirs(static_dir)
        path = os.path.join(static_dir, "file.pdf")
        with open(path, "wb") as f:
            f.write(b"%PDF-1.7\n")
            f.write(os.urandom((a.size_mib << 20) - 9))
        static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Sink, directory=static_dir))
        threading.Thread(target=static.serve_forever, daemon=True).start()
        static_url = f"http://127.0.0.1:{static.server_address[1]}"

        ups, up_base, downs, down_base = [], [], [], []
        out = subprocess.run(["curl", "-sS", *auth, "-F", f"file=@{path}", upload_url],
                             check=True, capture_output=True, text=True).stdout
        attachment = json.loads(out)["items"][0]["id"]
        for _ in range(a.runs):
            ups.append(curl_seconds([*auth, "-F", f"file=@{path}", upload_url]))
            up_base.append(curl_seconds(["--data-binary", f"@{path}", f"{static_url}/upload"]))
            downs.append(curl_seconds([*auth, f"{base}/api/v1/attachments/{attachment}/content"]))
            down_base.append(curl_seconds([f"{static_url}/file.pdf"]))
        mb = a.size_mib * 1.048576

        def line(what, qifu, baseline):
            q, b = statistics.median(qifu), statistics.median(baseline)
            print(f"| {what} | {a.size_mib} MiB | {q * 1000:.0f} ms ({mb / q:.0f} MB/s) | "
                  f"{b * 1000:.0f} ms ({mb / b:.0f} MB/s) | {q / b:.2f} |")

        print(f"runs: {a.runs} each, medians; load average {os.getloadavg()[0]:.2f}")
        print("| transfer | file | qifu | baseline | qifu / baseline |")
        print("|---|---|---|---|---|")
        line("upload (multipart POST vs POST to a file-writing Python server)", ups, up_base)
        line("download (GET content vs Python http.server)", downs, down_base)

        big = os.path.join(work, "big.pdf")
        with open(big, "wb") as f:
            f.write(b"%PDF-1.7\n")
            f.write(os.urandom((a.big_mib << 20) - 9))
        before = rss_kib(server.pid)
        peak = before
        procs = [subprocess.Popen(["curl", "-sS", "-o", os.devnull, "-w", "%{http_code}", *auth,
                                   "-F", f"file=@{big}", upload_url], stdout=subprocess.PIPE, text=True)
                 for _ in range(a.clients)]
        while any(pr.poll() is None for pr in procs):
            peak = max(peak, rss_kib(server.pid))
            time.sleep(0.02)
        codes = [pr.stdout.read() for pr in procs]
        if any(c != "201" for c in codes):
            raise SystemExit(f"concurrent uploads answered {codes}")
        hwm = rss_kib(server.pid, "VmHWM")
        print(f"{a.clients} clients uploading {a.big_mib} MiB each at once: server VmRSS "
              f"{before / 1024:.0f} MiB before, {peak / 1024:.0f} MiB sampled peak, VmHWM {hwm / 1024:.0f} MiB "
              f"(the whole run's peak)")
    finally:
        if static:
            static.shutdown()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
