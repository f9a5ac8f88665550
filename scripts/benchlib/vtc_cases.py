"""The cases reading from the test VTC (tests/support/vtc_server.py) on
loopback: an idle pass against curl making the same requests, and a first
walk over REST against the same log as a file."""

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import time

from registry import Registry  # the project's test servers (tests/support)
from vtc import (TT_AUTHENTICATE, TT_CHALLENGE, TT_LIST, Vtc, did_key_of_seed,
                 make_id_token, seed_of_pem)

from .common import COMMUNITY_DID, UNREACHABLE, Community, fail, note, row, spawn_timed


def identity(c):
    """A new identity file for vtc-sync in the community's directory; (path, seed, did)."""
    path = c.dir / "id.pem"
    subprocess.run([str(c.binary), "identity", "--generate", str(path)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seed = seed_of_pem(path)
    return path, seed, did_key_of_seed(seed)


def curl_login_config(vtc, path, seed, did, page_token, write_out=None):
    """A curl -K file with the three requests of an idle pass: a challenge
    (its answer unused), authenticate with an id_token for a challenge
    fetched here, and the one-item page with `page_token`; `write_out`
    (curl -w) for each."""
    ch = vtc.challenge(did).json()
    now = int(time.time())
    id_token = make_id_token(seed, did, vtc.vtc_did, ch["challenge"], now, now + 300)
    login = {"type": TT_AUTHENTICATE,
             "payload": {"id_token": id_token, "session_id": ch["sessionId"]}}
    api = vtc.api_url

    def q(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def body(doc):
        return q(json.dumps(doc, separators=(",", ":")))

    out = "output = /dev/null\n" + (f"write-out = {q(write_out)}\n" if write_out else "")

    with open(path, "w") as f:
        f.write(f"url = {q(api + '/auth/challenge')}\nrequest = POST\n"
                f"header = {q('Trust-Task: ' + TT_CHALLENGE)}\n"
                'header = "Content-Type: application/json"\n'
                f"data-binary = {body({'subject': did})}\n{out}next\n")
        f.write(f"url = {q(api + '/auth/')}\nrequest = POST\n"
                f"header = {q('Trust-Task: ' + TT_AUTHENTICATE)}\n"
                'header = "Content-Type: application/json"\n'
                f"data-binary = {body(login)}\n{out}next\n")
        f.write(f"url = {q(api + '/audit?limit=1')}\n"
                f"header = {q('Trust-Task: ' + TT_LIST)}\n"
                f"header = {q('Authorization: Bearer ' + page_token)}\n{out}")


def check_idle_requests(reqs, who):
    """The VTC saw exactly an idle pass's three requests, all answered 200."""
    got = [(r["route"], r["query"], r["status"]) for r in reqs]
    want = [("challenge", "", 200), ("authenticate", "", 200), ("audit", "limit=1", 200)]
    if got != want:
        fail(f"{who} did not make an idle pass's requests: {got}")


def case_vtc_idle(root, binary, size, seed, results):
    c = Community(root, "vtc-idle", binary, UNREACHABLE)
    note(f"vtc-idle: generating {size['vtc_idle_entries']:,} entries")
    c.gen("--entries", size["vtc_idle_entries"], "--members", 100, "--min-gap-ms", 1,
          "--seed", seed)
    id_path, id_seed, id_did = identity(c)
    other_seed = os.urandom(32)
    other_did = did_key_of_seed(other_seed)
    with Registry() as reg, Vtc(c.log, COMMUNITY_DID, acl={id_did: "admin", other_did: "admin"},
                                access_ttl=86400) as vtc:
        c.use_vtc(vtc, id_path, reg.url)
        note("vtc-idle: walking the log and sending its jobs")
        c.run("tick", "-q", "--max-seconds", 3600)
        _, err, _, _ = c.run("tick", "-v")
        if "0 entries read" not in err or "0 sent" not in err:
            fail(f"the VTC idle pass was not idle: {err.strip()}")
        before = c.db.stat().st_mtime_ns
        kfile = c.dir / "idle.curl"
        ours = c.argv("tick", "-q")
        theirs = ["curl", "-s", "--noproxy", "*", "-K", str(kfile)]

        def prepare_curl(write_out=None):
            vtc.reset()
            token = vtc.login(other_seed, other_did)
            curl_login_config(vtc, kfile, id_seed, id_did, token, write_out)
            return len(vtc.requests())

        # One untimed run of each, checked in detail: curl's three
        # transfers share one connection.
        vtc.reset()
        spawn_timed(ours)
        check_idle_requests(vtc.requests(), "vtc-sync")
        seen = prepare_curl("%{http_code} %{num_connects}\\n")
        out = subprocess.run(theirs, check=True, capture_output=True, text=True).stdout.split()
        if out != ["200", "1", "200", "0", "200", "0"]:
            fail(f"curl's idle requests: {out}")
        check_idle_requests(vtc.requests()[seen:], "curl")

        note("vtc-idle: timing")
        times = ([], [])
        for run in range(10 + size["hyper_runs"]):
            vtc.reset()
            t = spawn_timed(ours)
            check_idle_requests(vtc.requests(), "vtc-sync")
            if run >= 10:
                times[0].append(t)
            seen = prepare_curl()
            t = spawn_timed(theirs)
            check_idle_requests(vtc.requests()[seen:], "curl")
            if run >= 10:
                times[1].append(t)
        if c.db.stat().st_mtime_ns != before:
            fail("an idle pass (VTC source) wrote to the database")
    idle, ref = statistics.median(times[0]), statistics.median(times[1])
    results.append(row("idle pass, VTC source", f"{idle * 1e3:.2f} ms", f"{ref * 1e3:.2f} ms",
                       idle / ref, "<= 1.5x curl", idle / ref <= 1.5))


def cpu_run(c, config):
    """vtc-sync tick (a first walk) with `config`; (user seconds, sys seconds
    of its process, wall seconds)."""
    c.fresh_db()
    start = time.monotonic()
    p = subprocess.Popen([str(c.binary), "-c", str(config), "tick", "-q", "--max-seconds",
                          "3600", "--max-jobs", "1"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        fail(f"vtc-sync -c {config} tick failed: {err.strip()}")
    return usage.ru_utime, usage.ru_stime, wall


def case_vtc_walk(root, binary, size, seed, results):
    n = size["vtc_walk_entries"]
    c = Community(root, "vtc-walk", binary, UNREACHABLE)
    note(f"vtc-walk: generating {n:,} entries")
    c.gen("--entries", n, "--members", max(100, n // 10), "--min-gap-ms", 1, "--seed", seed,
          "--rotate-at", n // 2)
    file_config = c.dir / "file.toml"
    shutil.copyfile(c.config, file_config)
    id_path, _, id_did = identity(c)
    with Vtc(c.log, COMMUNITY_DID, acl={id_did: "admin"}, start_timeout=30) as vtc:
        c.use_vtc(vtc, id_path)
        rest_config = c.config

        def checked(config):
            times = cpu_run(c, config)
            line = sqlite3.connect(c.db).execute(
                "SELECT value->>'line' FROM meta WHERE key = 'cursor'").fetchone()[0]
            if line != n:
                fail(f"the walk ({config}) stopped at {line} of {n}")
            return times

        note("vtc-walk: warming the VTC up (its first read of the log)")
        checked(rest_config)
        rest, plain = [], []
        for run in range(size["runs"]):
            note(f"vtc-walk: run {run + 1}/{size['runs']}")
            vtc.reset()
            rest.append(checked(rest_config))
            if len(vtc.requests("audit")) != -(-n // 200):
                fail("the REST walk did not read pages of 200")
            plain.append(checked(file_config))
    cpu_rest = statistics.median(r[0] + r[1] for r in rest)
    cpu_file = statistics.median(r[0] + r[1] for r in plain)
    for name, runs in (("REST", rest), ("file", plain)):
        user, system, wall = (statistics.median(r[i] for r in runs) for i in range(3))
        note(f"vtc-walk: {name}: user {user:.2f} s, sys {system:.2f} s, wall {wall:.2f} s "
             "(medians)")
    results.append(row(f"first walk, {n:,} entries: REST vs file (CPU)",
                       f"{cpu_rest:.2f} s", f"{cpu_file:.2f} s", cpu_rest / cpu_file,
                       "<= 1.5x file", cpu_rest / cpu_file <= 1.5))

