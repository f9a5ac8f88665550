"""The cases on the idle case's database (built once, shared): the idle
pass with and without the metrics textfile, queue list, status, records
show and queue show, and the database's size."""

import re
import sqlite3
import time
import uuid

from .common import (counted, db_bytes, due_query, fail, interleaved, jobs_community, note,
                     ratio_row, row)

_shared = {}


def idle_community(root, binary, size, seed):
    """The idle case's community: size['idle_jobs'] jobs waiting a day,
    nothing new in the log. Built on first use, then shared; no case may
    write its database (the idle case checks it was not written)."""
    if "idle" not in _shared:
        c = jobs_community(root, "idle", binary, size["idle_jobs"], seed)
        _, err, _, _ = c.run("tick", "-v")
        if "0 entries read" not in err or "0 sent" not in err:
            fail(f"the idle pass was not idle: {err.strip()}")
        _shared["idle"] = c
    return _shared["idle"]


def sqlite_due(c):
    """R: sqlite3 running the pass's due-jobs query on the same database."""
    return ["sqlite3", str(c.db), due_query(time.time_ns())]


def unwritten(c, before, what):
    if c.db.stat().st_mtime_ns != before:
        fail(f"{what} wrote to the database")


def prom_samples(text, name):
    """{label value or '': sample value} of metric `name` in a textfile."""
    out = {}
    for m in re.finditer(rf"^{name}(?:{{[a-z_]+=\"([^\"]*)\"}})? (\S+)$", text, re.M):
        out[m.group(1) or ""] = m.group(2)
    return out


def case_idle(root, binary, size, seed, results):
    c = idle_community(root, binary, size, seed)
    textfile = c.dir / "vtc-sync.prom"
    metrics = c.variant("metrics.toml", f'[metrics]\ntextfile = "{textfile}"\n')
    before = c.db.stat().st_mtime_ns
    note("idle: timing")
    cmds = [c.argv("tick"), c.argv("tick", config=metrics), sqlite_due(c),
            c.argv("queue", "list")]
    (idle, idle_metrics, ref, qlist), k = interleaved(cmds, size["hyper_runs"])
    unwritten(c, before, "an idle pass")
    if not textfile.exists():
        fail(f"the idle pass with metrics wrote no {textfile}")
    jobs = prom_samples(textfile.read_text(), "vtc_sync_jobs")
    if set(jobs) != {"pending", "in_flight", "failed"}:
        fail(f"the textfile's vtc_sync_jobs samples: {jobs}")
    if jobs["pending"] != str(c.jobs):
        fail(f"the textfile says {jobs['pending']} jobs pending, not {c.jobs}")
    n, runs = f"{c.jobs:,}", size["hyper_runs"]
    results.append(ratio_row(counted(f"idle pass, {n} future jobs", k, runs), idle, ref, 1.5,
                             "sqlite3"))
    results.append(ratio_row(counted(f"idle pass, {n} future jobs, metrics textfile", k, runs),
                             idle_metrics, ref, 1.5, "sqlite3"))
    results.append(row(counted("queue list, first page", k, runs), f"{qlist * 1e3:.1f} ms",
                       "", None, "<= 50 ms", qlist <= 0.050))
    per_job = db_bytes(c.db) / c.jobs
    results.append(row(f"db bytes per live job ({n})", f"{per_job:.0f} B", "", None,
                       "<= 400 B", per_job <= 400))


def case_status(root, binary, size, seed, results):
    c = idle_community(root, binary, size, seed)
    before = c.db.stat().st_mtime_ns
    note("status: timing")
    cmds = [c.argv("status"), c.argv("status", "--json"), sqlite_due(c)]
    (status, status_json, ref), k = interleaved(cmds, size["hyper_runs"])
    unwritten(c, before, "status")
    n, runs = f"{c.jobs:,}", size["hyper_runs"]
    results.append(ratio_row(counted(f"status, {n} jobs", k, runs), status, ref, 3,
                             "sqlite3"))
    results.append(ratio_row(counted(f"status --json, {n} jobs", k, runs), status_json, ref,
                             3, "sqlite3"))


def last_member(c):
    """The DID and the (pending) job id of the member added last: the job
    queue show scans for reads the whole table before finding it."""
    con = sqlite3.connect(c.db)
    did, job = con.execute("SELECT m.did, j.id FROM members m JOIN jobs j ON "
                           "j.member_id = m.id WHERE j.state = 'pending' "
                           "ORDER BY m.id DESC LIMIT 1").fetchone()
    con.close()
    return did, str(uuid.UUID(bytes=job))


def case_show(root, binary, size, seed, results):
    c = idle_community(root, binary, size, seed)
    did, job = last_member(c)
    for args in (("records", "show", did), ("queue", "show", job)):
        code, err, _, _ = c.run(*args)
        if code != 0:
            fail(f"vtc-sync {' '.join(args)}: {err.strip()}")
    before = c.db.stat().st_mtime_ns
    note("show: timing")
    cmds = [c.argv("records", "show", did), c.argv("queue", "show", job), sqlite_due(c)]
    (records, queue, ref), k = interleaved(cmds, size["hyper_runs"])
    unwritten(c, before, "records show or queue show")
    n, runs = f"{c.jobs:,}", size["hyper_runs"]
    results.append(ratio_row(counted(f"records show DID, {n} members", k, runs), records,
                             ref, 3, "sqlite3"))
    results.append(ratio_row(counted(f"queue show JOB_ID (pending), {n} jobs", k, runs),
                             queue, ref, 3, "sqlite3"))
