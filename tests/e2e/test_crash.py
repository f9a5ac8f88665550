"""Crash consistency (docs/design.md, Store and dispatch): hundreds of
passes against a slow registry, SIGKILLed at random moments, with the faked
clock moving on so backoffs and RTBF windows pass; then clean passes until
idle.

After every pass: the database passes integrity_check, no job has two
terminal outcomes, the registry saw no key reused for another request, no
key written twice, and no key sent twice unless a kill left its job in
flight. At the end: the same registry, members, cursor, walk outcomes and
set of ended jobs as an uninterrupted run of the same log.

VTC_SYNC_FAULT_SEED replays a run; VTC_SYNC_LONG_TESTS=1 runs 1000 passes
instead of 200."""

import collections
import sqlite3
import statistics
import subprocess
import sys
import time
import unittest

import faults
import vtcsync
from registry import Registry
from vtcsync import Community

vtcsync.binary()

PASSES = 1000 if faults.long_tests() else 200
STEP = 60  # faked seconds between passes: more than max_backoff_seconds
CONFIG = {
    "registry": {"concurrency": 4},
    "sync": {"max_jobs_per_pass": 12, "max_attempts": 100,
             "max_backoff_seconds": 30, "rtbf_batch_window_hours": 1},
}
LATENCY_MS = 25
KILL_SHARE = 0.85
# Kill moments are drawn from [0, 1.2 x the median length of recent passes
# that ran to the end], so they land across the whole pass on a fast or a
# loaded machine alike (the seed fixes the log and the draws, not the exact
# moments).
FIRST_KILL_DELAY = 0.15


def migrated(c):
    """True once a pass has created the database's schema."""
    if not c.db_path.exists():
        return False
    try:
        return c.db.scalar("PRAGMA user_version") >= 1
    except sqlite3.Error:
        return False


def classify(c, requests_at_kill, seen_before, visible_lines):
    """Where a kill landed, from what the database and the registry show
    afterwards. A kill may count under more than one heading."""
    if not migrated(c):
        return {"before the database was created"}, set()
    where = set()
    if c.db.cursor_line() < visible_lines:
        where.add("before the walk committed")
    in_flight = {j["id"] for j in c.db.jobs() if j["state"] == "in_flight"}
    this_pass = requests_at_kill[seen_before:]
    # Keys are <job id>/<digest>: the jobs whose requests reached the registry.
    received = {vtcsync.key_job(r["idempotency_key"]) for r in this_pass
                if r["idempotency_key"]}
    if in_flight - received:
        where.add("between claim and send")
    if any(r["status"] is None for r in this_pass):
        where.add("during a send (request at the registry)")
    if any(r["status"] is not None and r["idempotency_key"]
           and vtcsync.key_job(r["idempotency_key"]) in in_flight
           for r in this_pass):
        where.add("answered, not yet committed")
    if not where:
        where.add("after its sends were committed" if this_pass else
                  "before any send, with the walk committed or nothing to walk")
    return where, in_flight


class CrashConsistency(unittest.TestCase):
    def test_random_sigkills(self):
        seed, rng = faults.seeded("crash")
        with Registry(latency_ms=LATENCY_MS) as reg:
            c = Community(log=None, registry_url=reg.url, extra=CONFIG,
                          prefix="vtc-crash-")
            self.addCleanup(c.cleanup)
            full = c.dir / "full.jsonl"
            c.gen_audit("--entries", PASSES * 12, "--members", PASSES // 2,
                        "--seed", seed % 100000, "--start-time",
                        "2026-01-01T00:00:00Z", "-o", full)
            lines = vtcsync.log_lines(full)
            c.audit.write_bytes(b"")
            try:
                self.run_passes(c, reg, rng, lines)
            except AssertionError as e:
                raise AssertionError(f"{e} (VTC_SYNC_FAULT_SEED={seed})") from None

    def run_passes(self, c, reg, rng, lines):
        shown = 0
        kills = collections.Counter()
        # The keys of jobs a kill left in flight: their requests may repeat.
        repeatable = vtcsync.KeysOfJobs()
        ended = killed = held_rtbf = 0
        lengths = collections.deque(maxlen=15)
        t = 0
        for n in range(PASSES):
            if shown < len(lines):
                more = rng.randint(0, 30)
                with open(c.audit, "ab") as f:
                    f.write(b"".join(l + b"\n" for l in lines[shown:shown + more]))
                shown = min(len(lines), shown + more)
            seen_before = len(reg.requests())
            p = subprocess.Popen(
                [vtcsync.binary(), *c.args("tick")],
                env=vtcsync.clean_env(faults.clock_env(t)),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
            kill = rng.random() < KILL_SHARE
            typical = (statistics.median(lengths) if lengths
                       else FIRST_KILL_DELAY)
            delay = rng.uniform(0, 1.2 * typical)
            started = time.monotonic()
            try:
                _, err = p.communicate(timeout=delay if kill else 120)
                lengths.append(time.monotonic() - started)
                ended += 1
                self.assertEqual(p.returncode, 0, f"pass {n}: {err.decode()}")
            except subprocess.TimeoutExpired:
                vtcsync.sigkill(p)
                at_kill = reg.requests()
                p.communicate()
                killed += 1
                where, in_flight = classify(c, at_kill, seen_before, shown)
                repeatable |= in_flight
                for w in where:
                    kills[w] += 1
            if not migrated(c):
                t += STEP
                continue
            held_rtbf = max(held_rtbf, c.db.scalar(
                "SELECT count(*) FROM jobs WHERE rtbf = 1 AND due > ?",
                ((faults.T0_EPOCH + t) * 10**9,)))
            self.assertEqual(c.db.integrity(), "ok", f"after pass {n}")
            self.assertEqual(faults.terminal_problems(c.db), [], f"after pass {n}")
            self.assertEqual(faults.request_problems(reg.requests(), repeatable),
                             [], f"after pass {n}")
            t += STEP

        # The rest of the log, then clean passes until nothing is left.
        with open(c.audit, "ab") as f:
            f.write(b"".join(l + b"\n" for l in lines[shown:]))
        drained, t = faults.drain(self, c, t)
        rc, _, err = c.tick("-q", env=faults.clock_env(t))
        self.assertEqual((rc, err), (0, ""), "the last pass is idle")
        self.assertEqual(c.db.integrity(), "ok")
        self.assertEqual(faults.terminal_problems(c.db), [])
        requests = reg.requests()
        self.assertEqual(faults.request_problems(requests, repeatable), [])
        for r in requests:
            if r["method"] in ("PUT", "DELETE"):
                vtcsync.assert_key(r["idempotency_key"], round=0)
        self.assertEqual([r for r in requests if r["status"] not in (200, 204)
                          and not (r["method"] == "DELETE" and r["status"] == 404)],
                         [], "every request answered with success")

        want = faults.reference(self, c.audit, t, extra=CONFIG)
        faults.assert_same_as_reference(self, faults.summary(c, reg), want)
        repeats = sum(1 for k, v in collections.Counter(
            r["idempotency_key"] for r in requests).items() if v > 1)
        self.assertGreater(killed, PASSES // 2, "too few kills landed")
        self.assertGreater(held_rtbf, 0, "no RTBF delete was ever held")
        sys.stderr.write(
            f"crash: {PASSES} passes, {killed} killed, {ended} ended by "
            f"themselves, {drained} draining passes; {len(lines)} entries, "
            f"{len(want['terminal'])} jobs ended once each, "
            f"{len(requests)} requests, {repeats} keys repeated after a kill, "
            f"up to {held_rtbf} RTBF deletes held at once, "
            f"0 lost, 0 duplicated\n")
        for where, count in sorted(kills.items(), key=lambda kv: -kv[1]):
            sys.stderr.write(f"  kills {where}: {count}\n")


if __name__ == "__main__":
    unittest.main()
