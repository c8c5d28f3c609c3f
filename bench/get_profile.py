#!/usr/bin/env python3
"""Instructions per GET /api/v1/tickets/{id}, counted by callgrind (repeatable on a noisy machine).

    python3 bench/get_profile.py --binary target/release/qifu            # SQLite, 300 GETs
    python3 bench/get_profile.py --binary target/release/qifu --gets 500

Builds bench/load's smoke fixture on a temporary SQLite database with the server running
normally, restarts it under `valgrind --tool=callgrind` with instrumentation off, sends 20
GETs to warm it, switches instrumentation on for `--gets` more, and prints the instructions
per GET and the twenty functions with the most inclusive instructions (callgrind_annotate).
Needs valgrind; the output file stays in the printed temporary directory for a closer look.
"""

import argparse
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/load is a script without a .py suffix; its fixture and server helpers are reused.
if os.path.abspath(sys.path[0]) == HERE:
    del sys.path[0]
_spec = importlib.util.spec_from_loader(
    "load", importlib.machinery.SourceFileLoader("load", os.path.join(HERE, "load")))
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gets", type=int, default=300)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="qifu-get-profile-")
    port = load.free_port()
    env = load.server_env("sqlite://" + os.path.join(work, "qifu.db"), port)
    load.sh([binary, "migrate"], timeout=300, cwd=work, env=env, stdout=subprocess.DEVNULL)
    load.sh([binary, "create-admin", "--email", load.ADMIN_EMAIL, "--name", "Bench Admin"],
            timeout=120, cwd=work, env=dict(env, QIFU_ADMIN_PASSWORD=load.PASSWORD),
            stdout=subprocess.DEVNULL)
    server, base = load.start_server(binary, env, work)
    fixture = load.build_fixture(base, load.SMOKE)
    load.stop_server(server)

    out = os.path.join(work, "callgrind.out")
    log = open(os.path.join(work, "valgrind.log"), "w")
    vg = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                           "--instr-atstart=no", binary, "serve"],
                          cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(base + "/readyz", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server under valgrind did not become ready")
                time.sleep(1)
        url = f"{base}/api/v1/tickets/{fixture['ticket']}"
        headers = {"Authorization": "Bearer " + fixture["users"][0]["token"]}

        def get():
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60).read()

        for _ in range(20):
            get()
        subprocess.run(["callgrind_control", "-i", "on", str(vg.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(args.gets):
            get()
        subprocess.run(["callgrind_control", "-i", "off", str(vg.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        vg.terminate()
        vg.wait(timeout=120)
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    total = next(int(line.split()[0].replace(",", "")) for line in report
                 if line.strip().endswith("PROGRAM TOTALS"))
    print(f"{total / args.gets:,.0f} instructions per GET ({args.gets} GETs, {total:,} in all)")
    rows = [line for line in report if "(" in line and "%)" in line][1:21]
    print("\n".join(row[:160] for row in rows))
    print(f"callgrind output: {out}")


if __name__ == "__main__":
    main()
