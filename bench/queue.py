#!/usr/bin/env python3
"""An official's first queue page, default sort and overdue=true: median and p99 of 30
sequential calls (after 3 warm-ups) against a database seeded with `qifu seed`.

usage: python3 bench/queue.py DATABASE_URL      (uses target/release/qifu; stdlib only)
"""
import json, subprocess, time, urllib.request, statistics, os, sys
db=sys.argv[1]; port="18099"
env=dict(os.environ, QIFU__DATABASE__URL=db, QIFU__SERVER__BIND="127.0.0.1:"+port, QIFU__MAIL__TRANSPORT="log", QIFU__LOG__LEVEL="warn",
         QIFU__AUTH__JWT_SECRET="seed-secret-0123456789-0123456789-0123", QIFU__JOBS__INTERVAL_SECONDS="86400")
p=subprocess.Popen([os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target", "release", "qifu"),"serve"],env=env,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
b="http://127.0.0.1:"+port
try:
    for _ in range(100):
        try:
            urllib.request.urlopen(b+"/readyz",timeout=1); break
        except Exception: time.sleep(0.2)
    req=urllib.request.Request(b+"/api/v1/auth/login",data=json.dumps({"email":"official1-1@seed.qifu.example","password":"Qifu-Seed-2026"}).encode(),headers={"Content-Type":"application/json"})
    tok=json.loads(urllib.request.urlopen(req).read())["access_token"]
    for path in ["/api/v1/tickets?limit=20","/api/v1/tickets?limit=20&overdue=true"]:
        ts=[]
        for i in range(33):
            r=urllib.request.Request(b+path,headers={"Authorization":"Bearer "+tok})
            t=time.perf_counter(); urllib.request.urlopen(r).read(); ts.append((time.perf_counter()-t)*1000)
        ts=sorted(ts[3:])
        print(path, "median %.2f ms  p99 %.2f ms" % (statistics.median(ts), ts[-1]))
finally:
    p.terminate(); p.wait()
