"""Shared pieces of the fault tests (crashes, overlapping passes, a live
writer): seeded randomness, the faked clock, an uninterrupted reference run
and the invariants every faulted run must keep. Standard library only."""

import calendar
import collections
import os
import random
import sys
import time

import vtcsync
from registry import Registry

# Job outcomes that end a job.
TERMINAL = ("succeeded", "superseded", "skipped", "discarded")
T0 = "2026-01-01 00:00:00"
T0_EPOCH = calendar.timegm((2026, 1, 1, 0, 0, 0))


def long_tests():
    return os.environ.get("VTC_SYNC_LONG_TESTS") == "1"


def seeded(test_name):
    """A random.Random seeded from VTC_SYNC_FAULT_SEED or at random; the seed
    is printed on stderr so a failure can be replayed."""
    text = os.environ.get("VTC_SYNC_FAULT_SEED")
    seed = int(text) if text else random.SystemRandom().randrange(2**31)
    sys.stderr.write(f"\n{test_name}: seed {seed} "
                     f"(replay with VTC_SYNC_FAULT_SEED={seed})\n")
    return seed, random.Random(seed)


def when(seconds_after_t0):
    """faketime's "@YYYY-MM-DD HH:MM:SS", seconds after T0."""
    t = time.gmtime(T0_EPOCH + int(seconds_after_t0))
    return time.strftime("@%Y-%m-%d %H:%M:%S", t)


def clock_env(seconds_after_t0):
    return vtcsync.faketime_env(when(seconds_after_t0))


def terminal_problems(db):
    """Jobs with more than one terminal outcome, and live jobs that already
    have one."""
    problems = []
    counts = collections.Counter(
        o["job_id"] for o in db.outcomes() if o["kind"] in TERMINAL)
    for job_id, n in counts.items():
        if n > 1:
            problems.append(f"job {job_id} has {n} terminal outcomes")
    for job in db.jobs():
        if counts.get(job["id"]):
            problems.append(f"live job {job['id']} already has a terminal outcome")
    return problems


def terminal_jobs(db):
    """{job id: terminal outcome kind}"""
    return {o["job_id"]: o["kind"] for o in db.outcomes()
            if o["kind"] in TERMINAL}


def request_problems(requests, repeatable=None):
    """What the registry's request log must never show: a 422 (one key with
    two bodies), a key used for two records or methods, a key written
    effectively more than once, and -- unless the key is in `repeatable`
    (jobs a kill left in flight) -- a key sent more than once."""
    problems = []
    by_key = collections.defaultdict(list)
    for r in requests:
        if r["method"] in ("PUT", "DELETE"):
            by_key[r["idempotency_key"]].append(r)
        if r["status"] == 422:
            problems.append(f"request {r['seq']} answered 422: {r['path']}")
    for key, reqs in by_key.items():
        if not key:
            problems.append(f"a write without Idempotency-Key: {reqs[0]['path']}")
            continue
        targets = {(r["method"], r["path"]) for r in reqs}
        if len(targets) > 1:
            problems.append(f"key {key} used for {sorted(targets)}")
        effective = [r for r in reqs if not r.get("replayed")
                     and isinstance(r.get("applied_status", r["status"]), int)
                     and 200 <= r.get("applied_status", r["status"]) < 300]
        if len(effective) > 1:
            problems.append(f"key {key} written {len(effective)} times")
        if len(reqs) > 1 and (repeatable is None or key not in repeatable):
            problems.append(f"key {key} sent {len(reqs)} times without a kill")
    return problems


def drain(test, c, start_seconds, step_seconds=3600, max_passes=50,
          allowed=(vtcsync.EX_OK,)):
    """Ticks one faked hour apart until no job is left; returns the number
    of passes and the faked time after the last."""
    t = start_seconds
    for n in range(1, max_passes + 1):
        rc, _, err = c.tick(env=clock_env(t))
        test.assertIn(rc, allowed, f"draining pass {n} exited {rc}: {err}")
        t += step_seconds
        if c.db.scalar("SELECT count(*) FROM jobs") == 0:
            return n, t
    test.fail(f"jobs left after {max_passes} draining passes: {c.db.jobs()}")


def reference(test, log_path, at_seconds, extra=None):
    """The uninterrupted run: a fresh database walks the whole log at once and
    drains against its own registry. Returns (records, members, terminal job
    ids, walk outcomes, cursor line)."""
    with Registry() as reg:
        c = vtcsync.Community(log=str(log_path), registry_url=reg.url,
                              extra=extra, prefix="vtc-ref-")
        try:
            drain(test, c, at_seconds)
            return summary(c, reg)
        finally:
            c.cleanup()


def summary(c, reg):
    """What a run left behind, comparable with reference()."""
    walk_only = [(o["kind"], o["job_id"]) for o in c.db.outcomes()
                 if o["kind"] in ("policy_override", "invalid_event",
                                  "unattributable", "skipped")]
    return {
        "records": reg.records(),
        "members": sorted((tuple(m.values()) for m in c.db.members()), key=repr),
        "terminal": set(terminal_jobs(c.db)),
        "walk_outcomes": sorted(walk_only),
        "cursor_line": c.db.cursor_line(),
    }


def assert_same_as_reference(test, got, want):
    test.assertEqual(got["cursor_line"], want["cursor_line"], "cursor")
    test.assertEqual(got["members"], want["members"], "member state")
    test.assertEqual(got["walk_outcomes"], want["walk_outcomes"],
                     "walk outcomes (an entry skipped or applied twice)")
    missing = want["terminal"] - got["terminal"]
    extra = got["terminal"] - want["terminal"]
    test.assertEqual((missing, extra), (set(), set()),
                     "jobs without / with unexpected terminal outcomes")
    test.assertEqual(set(got["records"]), set(want["records"]),
                     "registry record ids")
    for rid, rec in want["records"].items():
        test.assertEqual(got["records"][rid], rec, f"record {rid}")
