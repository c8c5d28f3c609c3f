#!/usr/bin/env python3
"""Generates a Python client from the served OpenAPI document with openapi-python-client (the
tool integrators use) and makes authenticated calls with it: sign in, list tickets. Fails when
the document stops being usable by generators (e.g. a non-ASCII title makes the package name
uninstallable, or a schema the generator cannot read)."""

import argparse
import importlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PW = "Client-Passw0rd-2026"


def ensure_generator():
    if not shutil.which("openapi-python-client"):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "openapi-python-client"], check=True)
    return shutil.which("openapi-python-client") or "openapi-python-client"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/debug/qifu")
    a = ap.parse_args()
    generator = ensure_generator()
    binary = os.path.abspath(a.binary)
    work = tempfile.mkdtemp(prefix="qifu-client-")
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    env = dict(os.environ, QIFU__DATABASE__URL=f"sqlite://{work}/client.db",
               QIFU__SERVER__BIND=f"127.0.0.1:{port}", QIFU__MAIL__TRANSPORT="log",
               QIFU__LOG__LEVEL="warn", QIFU__AUTH__JWT_SECRET="client-secret-" + "c" * 40)
    subprocess.run([binary, "create-admin", "--email", "admin@client.test", "--name", "Admin"], cwd=work,
                   env=dict(env, QIFU_ADMIN_PASSWORD=PW), check=True, capture_output=True)
    server = subprocess.Popen([binary, "serve"], cwd=work, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(f"{work}/server.log", "w"))
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if urllib.request.urlopen(root + "/readyz", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        document = f"{work}/openapi.json"
        with urllib.request.urlopen(root + "/api/v1/openapi.json", timeout=10) as r, open(document, "wb") as f:
            f.write(r.read())
        # No --config, no package-name override: the document's title alone must name the project.
        out = f"{work}/generated"
        os.mkdir(out)
        subprocess.run([generator, "generate", "--path", document], check=True, cwd=out,
                       stdout=subprocess.DEVNULL)
        (project,) = os.listdir(out)
        with open(f"{out}/{project}/pyproject.toml", encoding="utf-8") as f:
            name = re.search(r'^name = "([^"]+)"', f.read(), re.M).group(1)
        # PEP 508: what pip accepts as a distribution name.
        assert re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", name), f"uninstallable name {name!r}"
        module = name.replace("-", "_")
        sys.path.insert(0, f"{out}/{project}")
        package = importlib.import_module(module)
        login = importlib.import_module(f"{module}.api.auth.login")
        models = importlib.import_module(f"{module}.models")
        listing = next(importlib.import_module(f"{module}.api.tickets.{m}")
                       for m in ("list_", "list_tickets", "list")
                       if importlib.util.find_spec(f"{module}.api.tickets.{m}"))

        anonymous = package.Client(base_url=root)
        tokens = login.sync(client=anonymous, body=models.LoginRequest(email="admin@client.test", password=PW))
        assert tokens is not None and tokens.access_token, tokens
        signed_in = package.AuthenticatedClient(base_url=root, token=tokens.access_token)
        page = listing.sync(client=signed_in)
        assert page is not None and page.items == [] and page.next_cursor is None, page
        print(f"ok generated client {name}: signed in as {tokens.user.email}, listed {len(page.items)} tickets")
        return 0
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
