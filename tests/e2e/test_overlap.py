"""Overlapping passes: 50 passes started at once, round after
round, while new entries arrive and, in some rounds, the working pass is
SIGKILLed. One pass works at a time (the registry never has two requests in
flight with concurrency 1), the others exit 75 at once naming the lock,
and no request is sent twice except the repeats of jobs a kill left in
flight, which carry the same Idempotency-Key.

VTC_SYNC_FAULT_SEED replays a run; VTC_SYNC_LONG_TESTS=1 runs 100 rounds
instead of 20."""

import os
import signal
import subprocess
import sys
import time
import unittest

import faults
import vtcsync
from registry import Registry
from vtcsync import EX_OK, EX_TEMPFAIL, Community

vtcsync.binary()

ROUNDS = 100 if faults.long_tests() else 20
PASSES_PER_ROUND = 50
NEW_ENTRIES = 12
LATENCY_MS = 150
# A held lock is answered at once; allow for a loaded machine, and for 50
# sanitized processes starting together on two cores (scripts/test
# --sanitize), where start-up alone took 9 s, and 70 s on a busy
# machine: there the bound is twice what 50 start-ups one after the other
# take.
LOCK_ANSWER_SECONDS = 5.0


def lock_answer_seconds():
    if not os.environ.get("VTC_TEST_SANITIZED"):
        return LOCK_ANSWER_SECONDS
    start_up = min(timed_version() for _ in range(3))
    return max(20.0, 2 * PASSES_PER_ROUND * start_up)


def timed_version():
    started = time.monotonic()
    subprocess.run([vtcsync.binary(), "--version"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - started

CONFIG = {
    "registry": {"concurrency": 1},
    "sync": {"max_jobs_per_pass": 5000, "max_attempts": 100,
             "max_backoff_seconds": 30, "rtbf_batch_window_hours": 0},
}
STEP = 60


def max_overlap(reqs):
    events = sorted([(r["time"], 1) for r in reqs] +
                    [(r["end_time"], -1) for r in reqs if r["end_time"]],
                    key=lambda e: (e[0], e[1]))
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


class Overlaps(unittest.TestCase):
    def test_fifty_passes_at_once(self):
        seed, rng = faults.seeded("overlap")
        self.lock_answer = lock_answer_seconds()
        with Registry(latency_ms=LATENCY_MS) as reg:
            c = Community(log=None, registry_url=reg.url, extra=CONFIG,
                          prefix="vtc-overlap-")
            self.addCleanup(c.cleanup)
            full = c.dir / "full.jsonl"
            c.gen_audit("--entries", ROUNDS * NEW_ENTRIES, "--members",
                        ROUNDS * 4, "--seed", seed % 100000,
                        "--start-time", "2026-01-01T00:00:00Z", "-o", full)
            lines = vtcsync.log_lines(full)
            c.audit.write_bytes(b"")
            try:
                self.rounds(c, reg, rng, lines)
            except AssertionError as e:
                raise AssertionError(f"{e} (VTC_SYNC_FAULT_SEED={seed})") from None

    def rounds(self, c, reg, rng, lines):
        # The keys of jobs a kill left in flight: their requests may repeat.
        repeatable = vtcsync.KeysOfJobs()
        worked = refused = kills = 0
        t = 0
        for n in range(ROUNDS):
            with open(c.audit, "ab") as f:
                chunk = lines[n * NEW_ENTRIES:(n + 1) * NEW_ENTRIES]
                f.write(b"".join(l + b"\n" for l in chunk))
            env = vtcsync.clean_env(faults.clock_env(t))
            procs, started = [], []
            for _ in range(PASSES_PER_ROUND):
                started.append(time.monotonic())
                procs.append(subprocess.Popen(
                    [vtcsync.binary(), *c.args("tick")], env=env,
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE))
            kill_this_round = rng.random() < 0.4
            results = {}
            while len(results) < len(procs):
                for i, p in enumerate(procs):
                    if i in results or p.poll() is None:
                        continue
                    results[i] = (p.returncode, p.stderr.read().decode(),
                                  time.monotonic() - started[i])
                    p.stderr.close()
                running = [p for i, p in enumerate(procs) if i not in results]
                if kill_this_round and len(running) == 1:
                    # The last one running is the one holding the lock.
                    time.sleep(rng.uniform(0, 0.3))
                    if running[0].poll() is None:
                        vtcsync.sigkill(running[0])
                        if running[0].returncode == -signal.SIGKILL:
                            kills += 1
                            repeatable |= {j["id"] for j in c.db.jobs()
                                           if j["state"] == "in_flight"}
                            # The registry still answers the dead pass's
                            # request; that one is not a second pass.
                            vtcsync.poll(lambda: all(
                                r["status"] is not None
                                for r in reg.requests()), timeout=10,
                                what="the killed pass's request to end")
                    kill_this_round = False
                    continue
                time.sleep(0.005)
            codes = [rc for rc, _, _ in results.values()]
            for rc, err, elapsed in results.values():
                if rc == EX_TEMPFAIL:
                    self.assertLess(elapsed, self.lock_answer,
                                    "a held lock exits 75 at once")
                    self.assertIn(".lock", err)
                else:
                    self.assertIn(rc, (EX_OK, -signal.SIGKILL), err)
            self.assertGreaterEqual(codes.count(EX_OK) + codes.count(-signal.SIGKILL),
                                    1, f"round {n}: nobody worked: {codes}")
            worked += codes.count(EX_OK)
            refused += codes.count(EX_TEMPFAIL)
            requests = reg.requests()
            self.assertEqual(max_overlap(requests), 1,
                             f"round {n}: two passes sent at the same time")
            self.assertEqual(faults.request_problems(requests, repeatable), [],
                             f"round {n}")
            self.assertEqual(c.db.integrity(), "ok")
            self.assertEqual(faults.terminal_problems(c.db), [])
            t += STEP

        drained, t = faults.drain(self, c, t)
        requests = reg.requests()
        self.assertEqual(faults.request_problems(requests, repeatable), [])
        for r in requests:
            if r["method"] in ("PUT", "DELETE"):
                vtcsync.assert_key(r["idempotency_key"], round=0)
        want = faults.reference(self, c.audit, t, extra=CONFIG)
        faults.assert_same_as_reference(self, faults.summary(c, reg), want)
        self.assertGreater(refused, ROUNDS * PASSES_PER_ROUND // 2,
                           "the passes did not overlap enough to test the lock")
        sys.stderr.write(
            f"overlap: {ROUNDS} rounds of {PASSES_PER_ROUND} passes: {worked} "
            f"worked, {refused} exited 75, {kills} working passes killed; "
            f"{len(requests)} requests, never two at once; "
            f"{len(want['terminal'])} jobs ended once each, 0 lost, "
            f"0 duplicated\n")


if __name__ == "__main__":
    unittest.main()
