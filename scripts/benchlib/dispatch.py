"""The dispatch case: vtc-sync sending jobs to the test registry against
curl sending the same requests, and against itself at concurrency 1."""

import json
import re
import shutil
import statistics
import subprocess
import time

from registry import Registry  # the project's test registry (tests/support)

from .common import Community, fail, note, row


def curl_config(requests, base, path):
    """A curl -K file sending `requests` (the registry's log) again."""
    def q(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    with open(path, "w") as f:
        for i, r in enumerate(requests):
            if i:
                f.write("next\n")
            f.write(f"url = {q(base + r['path'])}\nrequest = {r['method']}\n")
            f.write(f"header = {q('Idempotency-Key: ' + r['idempotency_key'])}\n")
            if r["body"] is not None:
                body = json.dumps(r["body"], separators=(",", ":"), ensure_ascii=False)
                f.write('header = "Content-Type: application/json"\n')
                f.write(f"data-binary = {q(body)}\n")
            f.write("output = /dev/null\n")


def sent_of(err):
    m = re.search(r"(\d+) sent", err)
    return int(m.group(1)) if m else 0


def case_dispatch(root, binary, size, seed, results):
    jobs, serial = size["dispatch_jobs"], size["serial_jobs"]
    with Registry(latency_ms=10) as reg:
        extra = "concurrency = 32\n[sync]\nmax_seconds_per_pass = 3600\n"
        c = Community(root, "dispatch", binary, reg.url, extra)
        note(f"dispatch: generating {jobs:,} joins")
        c.gen_joins(jobs, seed)
        c.run("tick", "-q", "--max-jobs", 1)  # the walk, and one request
        template = c.dir / "template.db"
        shutil.copyfile(c.db, template)

        def vtc_rate(concurrency, limit):
            shutil.copyfile(template, c.db)
            reg.reset()
            _, err, seconds, _ = c.run(
                "tick", "--max-jobs", limit,
                env={"VTC_SYNC_REGISTRY_CONCURRENCY": str(concurrency)})
            sent = sent_of(err)
            if sent != limit:
                fail(f"dispatch sent {sent} of {limit}: {err}")
            return sent / seconds

        vtc_rate(32, jobs - 1)
        kfile = c.dir / "requests.curl"
        curl_config(reg.requests(), reg.url, kfile)
        vtc, ref, one = [], [], []
        for run in range(size["runs"]):
            note(f"dispatch: run {run + 1}/{size['runs']}")
            vtc.append(vtc_rate(32, jobs - 1))
            reg.reset()
            start = time.monotonic()
            subprocess.run(["curl", "-s", "--parallel", "--parallel-max", "32",
                            "--noproxy", "*", "-K", str(kfile)], check=True,
                           stderr=subprocess.DEVNULL)
            ref.append((jobs - 1) / (time.monotonic() - start))
            if sum(1 for r in reg.requests() if r["status"] == 200) != jobs - 1:
                fail("curl's requests did not all succeed")
            one.append(vtc_rate(1, serial))
    v, r, s = statistics.median(vtc), statistics.median(ref), statistics.median(one)
    results.append(row(f"dispatch, {jobs - 1:,} jobs, c=32", f"{v:,.0f} req/s",
                       f"{r:,.0f} req/s", v / r, ">= 0.9x curl", v / r >= 0.9))
    results.append(row(f"dispatch c=32 vs c=1 ({serial:,} jobs)", f"{v:,.0f} req/s",
                       f"{s:,.0f} req/s", v / s, ">= 20x c=1", v / s >= 20))

