"""End to end: dispatch under load and under a misbehaving registry (answer
classes, breaker, health: vtc-sync(1), THE REGISTRY; deadline and signals).

Real `vtc-sync tick` passes against the test registry on 127.0.0.1. The
wall clock is moved with faketime (the monotonic clock stays real, so the
pass deadline and libcurl's timeouts are real); nothing here sleeps to wait
for the binary, it polls with bounded deadlines."""

import calendar
import collections
import email.utils
import json
import signal
import sys
import time
import unittest

import vtcsync
from registry import Registry, record_id
from vtcsync import Community

vtcsync.binary()  # fail at once, clearly, when VTC_SYNC is not set

DID = vtcsync.COMMUNITY_DID
EX_OK = 0
EX_UNAVAILABLE = 69
EX_TEMPFAIL = 75
EX_PROTOCOL = 76
EX_CONFIG = 78
NS = 10**9
FAKETIME_ENV = {"FAKETIME_DONT_FAKE_MONOTONIC": "1"}
# Plenty of room per pass unless a test sets its own limits.
DISPATCH = {"registry": {"concurrency": 1},
            "sync": {"max_jobs_per_pass": 5000, "max_seconds_per_pass": 60}}
T0 = "2026-01-01 12:00:00"
T0_EPOCH = calendar.timegm((2026, 1, 1, 12, 0, 0))


def at(seconds_after_t0):
    """A faketime wrapper: the wall clock starts `seconds_after_t0` s after T0."""
    t = time.gmtime(T0_EPOCH + seconds_after_t0)
    return ("faketime", "-f", time.strftime("@%Y-%m-%d %H:%M:%S", t))


def http_date(seconds_after_t0):
    return email.utils.formatdate(T0_EPOCH + seconds_after_t0, usegmt=True)


def member(i):
    return f"did:key:z6MkMember{i:05d}"


def adds(n, start=0):
    return [{"type": "MemberAdded", "actor": "did:key:z6MkAdmin",
             "target": member(i), "data": {"role": "member"}}
            for i in range(start, start + n)]


def rid(did):
    return record_id(DID, did)


def merge(*layers):
    out = {}
    for layer in layers:
        for section, values in (layer or {}).items():
            out.setdefault(section, {}).update(values)
    return out


class ResilienceCase(unittest.TestCase):
    def setUp(self):
        self.registry = Registry()
        self.registry.start()
        self.addCleanup(self.registry.__exit__, None, None, None)

    def community(self, n_adds=0, extra=None, log=None):
        c = Community(log=log, registry_url=self.registry.url,
                      extra=merge(DISPATCH, extra))
        self.addCleanup(c.cleanup)
        if n_adds:
            script = c.dir / "adds.jsonl"
            script.write_text("".join(json.dumps(e) + "\n" for e in adds(n_adds)))
            c.gen_audit("--script", script, "-o", c.audit)
        return c

    def tick(self, c, *args, when=None, expect=EX_OK, timeout=120):
        wrapper = at(when) if when is not None else ()
        code, _, err = c.run("tick", *args, wrapper=wrapper, env=FAKETIME_ENV,
                             timeout=timeout)
        self.assertEqual(code, expect, f"tick exited {code}: {err}")
        return err

    def jobs(self, c):
        """{job id: (state, attempts, due)}"""
        return {r["id"]: (r["state"], r["attempts"], r["due"])
                for r in c.db.query("SELECT id, state, attempts, due FROM jobs")}

    def states(self, c):
        return collections.Counter((s, a) for s, a, _ in self.jobs(c).values())

    def outcome_count(self, c, kind):
        return c.db.scalar("SELECT count(*) FROM outcomes WHERE kind = ?", (kind,))

    def health(self, c):
        return c.status_json()["registry"]

    def meta_health(self, c):
        return c.db.meta("health")


# -- throughput and concurrency ------------------------------------------------

class Throughput(ResilienceCase):
    def drain_rate(self, reqs):
        """Jobs per second from the registry's own clock: first request in to
        last answer out."""
        start = min(r["time"] for r in reqs)
        end = max(r["end_time"] for r in reqs)
        return len(reqs) / max(end - start, 1e-6)

    def test_2000_jobs_in_one_pass_each_written_once(self):
        self.registry.set_latency(10)
        # Concurrency 16: the whole queue in one pass.
        c16 = self.community(2000, extra={"registry": {"concurrency": 16}})
        started = time.monotonic()
        self.tick(c16)
        wall16 = time.monotonic() - started
        self.assertEqual(c16.db.scalar("SELECT count(*) FROM jobs"), 0)
        writes = self.registry.writes()
        self.assertEqual(len(writes), 2000)
        self.assertEqual(set(writes), {rid(member(i)) for i in range(2000)})
        self.assertEqual(set(writes.values()), {1}, "a record written twice")
        reqs = self.registry.requests()
        self.assertEqual(len(reqs), 2000, "a job sent more than once")
        self.assertEqual({r["status"] for r in reqs}, {200})
        self.assertEqual(self.outcome_count(c16, "succeeded"), 2000)
        # At most `concurrency` requests were in flight at any moment.
        self.assertLessEqual(max_overlap(reqs), 16)
        rate16 = self.drain_rate(reqs)

        # Concurrency 1 on a smaller queue (same latency): the rate only.
        self.registry.reset()
        c1 = self.community(100)
        started = time.monotonic()
        self.tick(c1)
        wall1 = time.monotonic() - started
        self.assertEqual(c1.db.scalar("SELECT count(*) FROM jobs"), 0)
        reqs1 = self.registry.requests()
        self.assertEqual(len(reqs1), 100)
        self.assertEqual(max_overlap(reqs1), 1)
        rate1 = self.drain_rate(reqs1)
        sys.stderr.write(f"\ndrain rate: c=1 {rate1:.0f} jobs/s, "
                         f"c=16 {rate16:.0f} jobs/s "
                         f"(passes: 100 jobs {wall1:.1f} s, "
                         f"2000 jobs {wall16:.1f} s)\n")
        self.assertGreaterEqual(rate16, 4 * rate1,
                                f"concurrency 16 drains at {rate16:.0f} jobs/s, "
                                f"concurrency 1 at {rate1:.0f} jobs/s")

    def test_a_member_never_has_two_requests_in_flight(self):
        # Many events per member, written across several passes, with
        # transient failures so that retries interleave with new jobs.
        c = self.community(extra={"registry": {"concurrency": 16}})
        full = c.dir / "full.jsonl"
        c.gen_audit("--entries", 600, "--members", 25, "--seed", 11,
                    "--start-time", "2026-01-01T00:00:00Z", "-o", full)
        lines = vtcsync.log_lines(full)
        self.registry.set_latency(15)
        self.registry.inject(method="PUT", status=503, times=15)
        self.registry.inject(method="PUT", drop=True, times=3)
        self.registry.inject(method="DELETE", status=500, times=3)
        # RTBF windows (24 h) ended before these passes: deletes go at once.
        hour = 3600
        chunks = range(100, len(lines) + 100, 100)
        for n, end in enumerate(chunks):
            c.audit.write_bytes(b"".join(l + b"\n" for l in lines[:end]))
            self.tick(c, when=2 * 86400 + n * hour)
        # Drain the retries.
        for n in range(len(chunks), len(chunks) + 10):
            if c.db.scalar("SELECT count(*) FROM jobs") == 0:
                break
            self.tick(c, when=2 * 86400 + n * hour)
        self.assertEqual(c.db.scalar("SELECT count(*) FROM jobs"), 0)

        reqs = self.registry.requests()
        by_path = collections.defaultdict(list)
        for r in reqs:
            self.assertIsNotNone(r["end_time"], f"request never answered: {r}")
            by_path[r["path"]].append((r["time"], r["end_time"], r["seq"]))
        self.assertTrue(any(len(v) > 1 for v in by_path.values()),
                        "the scenario sent only one request per member")
        self.assertGreater(max_overlap(reqs), 1, "nothing ran concurrently")
        for path, spans in by_path.items():
            spans.sort()
            for (s1, e1, q1), (s2, e2, q2) in zip(spans, spans[1:]):
                self.assertLessEqual(
                    e1, s2, f"{path}: requests {q1} and {q2} overlap "
                    f"([{s1:.3f}, {e1:.3f}] and [{s2:.3f}, {e2:.3f}])")
        # And the registry ends up with every member's final state.
        records = self.registry.records()
        for did, status in [(m["did"], m["status"]) for m in c.db.members()]:
            rec = records.get(rid(did))
            self.assertIsNotNone(rec, did)
            self.assertEqual(rec["recognized"], status == "active", did)


def sent_jobs(reqs):
    """The ids of the jobs whose requests these are (each request's key
    checked for its form: <job id>/<digest>, no retry round)."""
    return {vtcsync.key_job(vtcsync.assert_key(r["idempotency_key"], round=0))
            for r in reqs}


def max_overlap(reqs):
    """The most requests the registry had in progress at one time."""
    events = []
    for r in reqs:
        events.append((r["time"], 1))
        events.append((r["end_time"], -1))
    # At equal times, count the end first.
    events.sort(key=lambda e: (e[0], e[1]))
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


# -- breaker -------------------------------------------------------------------

class Breaker(ResilienceCase):
    def test_unreachable_registry_trips_and_a_probe_closes_it(self):
        c = self.community(12, extra={"sync": {"breaker_failures": 5}})
        self.registry.inject(drop=True, times=-1)
        self.tick(c, when=0)
        reqs = self.registry.requests()
        self.assertEqual(len(reqs), 5, [r["path"] for r in reqs])
        self.assertTrue(all(r["method"] == "PUT" and r["status"] == "dropped"
                            for r in reqs), reqs)
        tried = sent_jobs(reqs)
        self.assertEqual(len(tried), len(reqs), "a job sent twice")
        jobs = self.jobs(c)
        self.assertEqual(len(jobs), 12)
        for job_id, (state, attempts, _) in jobs.items():
            self.assertEqual(state, "pending", job_id)
            self.assertEqual(attempts, 1 if job_id in tried else 0, job_id)
        h = self.health(c)
        self.assertEqual(h["health"], "degraded")
        self.assertEqual(h["consecutive_failures"], 5)
        mh = self.meta_health(c)
        self.assertEqual(mh["breaker_trips"], 1)
        self.assertGreaterEqual(mh["breaker_open_until"], (T0_EPOCH + 30) * NS)
        self.assertLess(mh["breaker_open_until"], (T0_EPOCH + 35) * NS)

        # 10 s later: the breaker is open, nothing is sent, nothing spent.
        self.tick(c, when=10)
        self.assertEqual(len(self.registry.requests()), 5)
        self.assertEqual(self.jobs(c), jobs)

        # 31 s later, registry still down: one probe, and nothing else.
        err = self.tick(c, when=31)
        reqs = self.registry.requests()
        self.assertEqual(len(reqs), 6, [r["path"] for r in reqs])
        probe = reqs[5]
        self.assertEqual(probe["method"], "GET")
        self.assertIn("/records?", probe["path"])
        self.assertIn("limit=1", probe["path"])
        self.assertIn("authority_id=", probe["path"])
        self.assertEqual(self.jobs(c), jobs, "a failed probe spent attempts")
        mh = self.meta_health(c)
        self.assertEqual(mh["breaker_trips"], 2)
        # Second trip: open for 60 s from the probe.
        self.assertGreaterEqual(mh["breaker_open_until"], (T0_EPOCH + 31 + 60) * NS)
        self.assertLess(mh["breaker_open_until"], (T0_EPOCH + 31 + 65) * NS)
        self.tick(c, when=80)
        self.assertEqual(len(self.registry.requests()), 6)

        # Healthy again: the next pass after the breaker's time probes first,
        # closes the breaker and sends every job.
        self.registry.reset()
        self.tick(c, when=31 + 62)
        reqs = self.registry.requests()
        self.assertGreaterEqual(len(reqs), 13)
        self.assertEqual(reqs[0]["method"], "GET")
        self.assertIn("limit=1", reqs[0]["path"])
        self.assertEqual(reqs[0]["status"], 200)
        self.assertEqual([r["method"] for r in reqs[1:]], ["PUT"] * 12)
        self.assertEqual(self.jobs(c), {})
        self.assertEqual(len(self.registry.records()), 12)
        h = self.health(c)
        self.assertEqual(h["health"], "active")
        self.assertEqual(h["consecutive_failures"], 0)
        mh = self.meta_health(c)
        self.assertIsNone(mh["breaker_open_until"])
        self.assertEqual(mh["breaker_trips"], 0)

    def test_run_of_403_stops_the_pass(self):
        c = self.community(12, extra={"sync": {"breaker_failures": 5}})
        self.registry.inject(method="PUT", status=403, times=-1)
        err = self.tick(c, when=0, expect=EX_PROTOCOL)
        reqs = self.registry.requests()
        self.assertEqual(len(reqs), 5)
        tried = sent_jobs(reqs)
        self.assertEqual(len(tried), len(reqs), "a job sent twice")
        jobs = self.jobs(c)
        self.assertEqual(len(jobs), 12)
        for job_id, (state, attempts, _) in jobs.items():
            if job_id in tried:
                self.assertEqual((state, attempts), ("failed", 1), job_id)
            else:
                self.assertEqual((state, attempts), ("pending", 0), job_id)
        self.assertEqual(self.outcome_count(c, "failed"), 5)
        h = self.health(c)
        self.assertEqual(h["health"], "degraded")
        self.assertEqual(h["last_error"], "rejecting:403")
        self.assertIn("403", err)


# -- Retry-After -----------------------------------------------------------------

class RetryAfter(ResilienceCase):
    def check_429_pause(self, retry_after, pause_seconds):
        c = self.community(4)
        self.registry.inject(method="PUT", status=429, retry_after=retry_after,
                             times=1)
        self.tick(c, when=0)
        reqs = self.registry.requests()
        self.assertEqual([r["status"] for r in reqs], [429],
                         "a 429 pauses the registry at once")
        until = int(c.db.meta("setting.pause_until"))
        self.assertGreaterEqual(until, (T0_EPOCH + pause_seconds) * NS)
        self.assertLess(until, (T0_EPOCH + pause_seconds + 5) * NS)
        job_id = vtcsync.key_job(vtcsync.assert_key(reqs[0]["idempotency_key"], round=0))
        state, attempts, due = self.jobs(c)[job_id]
        self.assertEqual((state, attempts), ("pending", 1))
        self.assertGreaterEqual(due, (T0_EPOCH + pause_seconds) * NS)
        others = [v for k, v in self.jobs(c).items() if k != job_id]
        self.assertEqual([(s, a) for s, a, _ in others], [("pending", 0)] * 3)

        # Before the pause ends: nothing at all is sent, nothing spent.
        before = self.jobs(c)
        self.tick(c, when=pause_seconds // 2)
        self.tick(c, when=pause_seconds - 3)
        self.assertEqual(len(self.registry.requests()), 1)
        self.assertEqual(self.jobs(c), before)

        # After it: everything goes out.
        self.tick(c, when=pause_seconds + 5)
        reqs = self.registry.requests()
        self.assertEqual(len(reqs), 5)
        self.assertEqual([r["status"] for r in reqs[1:]], [200] * 4)
        # The paused request went out again with exactly its key; the four
        # jobs' keys all differ.
        again = [r for r in reqs[1:] if r["idempotency_key"] == reqs[0]["idempotency_key"]]
        self.assertEqual([(r["method"], r["path"]) for r in again],
                         [(reqs[0]["method"], reqs[0]["path"])])
        self.assertEqual(sent_jobs(reqs[1:]), set(before))
        self.assertEqual(self.jobs(c), {})
        self.assertEqual(len(self.registry.records()), 4)

    def test_429_retry_after_seconds_pauses_the_registry(self):
        self.check_429_pause("120", 120)

    def test_429_retry_after_http_date_pauses_the_registry(self):
        self.check_429_pause(http_date(120), 120)

    def test_503_retry_after_sets_the_jobs_next_due_time(self):
        for name, retry_after, wait in (("seconds", "600", 600),
                                        ("http-date", http_date(900), 900)):
            with self.subTest(name):
                self.registry.reset()
                c = self.community(2)
                self.registry.inject(method="PUT", status=503,
                                     retry_after=retry_after, times=1)
                self.tick(c, when=0)
                reqs = self.registry.requests()
                # Not a registry-wide pause: the other job went out.
                self.assertEqual([r["status"] for r in reqs], [503, 200])
                key = vtcsync.assert_key(reqs[0]["idempotency_key"], round=0)
                job_id = vtcsync.key_job(key)
                # The other job's request: another job, another key.
                other = vtcsync.assert_key(reqs[1]["idempotency_key"], round=0)
                self.assertNotEqual(vtcsync.key_job(other), job_id)
                self.assertNotEqual(other, key)
                jobs = self.jobs(c)
                self.assertEqual(list(jobs), [job_id])
                state, attempts, due = jobs[job_id]
                self.assertEqual((state, attempts), ("pending", 1))
                self.assertGreaterEqual(due, (T0_EPOCH + wait) * NS - NS)
                self.assertLess(due, (T0_EPOCH + wait + 5) * NS)
                self.assertIsNone(c.db.meta("setting.pause_until"))
                self.tick(c, when=wait - 5)
                self.assertEqual(len(self.registry.requests()), 2)
                self.tick(c, when=wait + 5)
                reqs = self.registry.requests()
                self.assertEqual(len(reqs), 3)
                # The retry after the 503: the same request, the same key.
                self.assertEqual((reqs[2]["method"], reqs[2]["path"],
                                  reqs[2]["idempotency_key"]),
                                 (reqs[0]["method"], reqs[0]["path"], key))
                self.assertEqual(reqs[2]["status"], 200)
                self.assertEqual(self.jobs(c), {})

    def test_retry_after_is_capped_at_max_backoff(self):
        c = self.community(1, extra={"sync": {"max_backoff_seconds": 300}})
        self.registry.inject(method="PUT", status=503, retry_after="100000",
                             times=1)
        self.tick(c, when=0)
        (state, attempts, due), = self.jobs(c).values()
        self.assertEqual((state, attempts), ("pending", 1))
        self.assertGreaterEqual(due, (T0_EPOCH + 299) * NS)
        self.assertLess(due, (T0_EPOCH + 305) * NS)
        self.tick(c, when=310)
        self.assertEqual(self.jobs(c), {})


# -- deadline and signals ------------------------------------------------------

class DeadlineAndSignals(ResilienceCase):
    def test_stalled_registry_ends_within_deadline_plus_timeout(self):
        c = self.community(6, extra={"registry": {"concurrency": 2,
                                                  "timeout_seconds": 2}})
        self.registry.inject(method="PUT", status=503, delay_ms=30000, times=-1)
        started = time.monotonic()
        code, _, err = c.run("tick", "--max-seconds", "2", wrapper=at(0),
                             env=FAKETIME_ENV, timeout=60)
        elapsed = time.monotonic() - started
        # A deadline is not a failure; left-over work is normal.
        self.assertEqual(code, EX_OK, err)
        self.assertLess(elapsed, 8, f"the pass took {elapsed:.1f} s")
        sent = self.registry.requests()
        self.assertGreaterEqual(len(sent), 1)
        self.assertLessEqual(len(sent), 2 * 2, "requests started after the deadline")
        tried = sent_jobs(sent)
        self.assertEqual(len(tried), len(sent), "a job sent twice")
        jobs = self.jobs(c)
        self.assertEqual(len(jobs), 6)
        for job_id, (state, attempts, _) in jobs.items():
            if job_id in tried:
                # The timed-out attempt counts (or a later recovery counts it).
                self.assertIn(state, ("pending", "in_flight"), job_id)
                self.assertEqual(attempts, 1, job_id)
            else:
                self.assertEqual((state, attempts), ("pending", 0), job_id)

        # Registry back: a later pass sends everything; the stalled jobs'
        # timed-out attempt was counted.
        self.registry.reset()
        self.tick(c, when=3600)
        self.assertEqual(self.jobs(c), {})
        self.assertEqual(len(self.registry.records()), 6)
        for job_id in tried:
            attempts = c.db.scalar(
                "SELECT attempts FROM outcomes WHERE kind = 'succeeded' "
                "AND job_id = ?", (job_id,))
            self.assertEqual(attempts, 2, job_id)

    def test_sigterm_during_slow_dispatch(self):
        total = 80
        c = self.community(total, extra={"registry": {"concurrency": 4}})
        self.registry.set_latency(300)
        p = c.start("tick")
        self.addCleanup(lambda: p.poll() is None and p.kill())
        try:
            vtcsync.poll(lambda: p.poll() is not None or sum(
                1 for r in self.registry.requests() if r["status"] == 200) >= 6,
                timeout=60, what="some answered requests")
            self.assertIsNone(p.poll(), "the pass ended before the signal")
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        err = err.decode()
        self.assertEqual(p.returncode, EX_TEMPFAIL, err)
        self.assertIn("interrupted", err)
        # Every request sent was answered and its answer committed.
        reqs = self.registry.requests()
        self.assertTrue(all(r["status"] == 200 for r in reqs), reqs)
        writes = self.registry.writes()
        succeeded = self.outcome_count(c, "succeeded")
        self.assertEqual(sum(writes.values()), succeeded)
        self.assertEqual(len(reqs), succeeded)
        self.assertLess(succeeded, total, "the signal came too late to matter")
        self.assertEqual(c.db.scalar(
            "SELECT count(*) FROM jobs WHERE state = 'in_flight'"), 0)
        self.assertEqual(self.states(c), {("pending", 0): total - succeeded})

        # Later passes finish the rest, each record written once.
        self.registry.set_latency(0)
        self.tick(c)
        self.assertEqual(self.jobs(c), {})
        writes = self.registry.writes()
        self.assertEqual(len(writes), total)
        self.assertEqual(set(writes.values()), {1})


# -- health ----------------------------------------------------------------------

class Health(ResilienceCase):
    def test_405_stops_dispatch_and_spends_nothing(self):
        # A short deadline bounds the pass should it keep sending.
        c = self.community(3, extra={"sync": {"max_seconds_per_pass": 3}})
        self.registry.inject(method="PUT", status=405, times=-1)
        err = self.tick(c, when=0, expect=EX_UNAVAILABLE)
        self.assertIn("405", err)
        reqs = self.registry.requests()
        sent = collections.Counter((r["method"], r["status"]) for r in reqs)
        # Concurrency 1: the first 405 stops the pass (the registry is
        # `incompatible` until a probe succeeds).
        self.assertEqual(len(reqs), 1,
                         f"requests sent to an incompatible registry in one "
                         f"pass: {dict(sent)}")
        self.assertEqual(self.states(c), {("pending", 0): 3})
        self.assertEqual(self.outcome_count(c, "failed"), 0)
        self.assertEqual(self.health(c)["health"], "incompatible")

    def test_incompatible_probe_then_active(self):
        c = self.community(3)
        self.registry.inject(method="PUT", status=405, times=1)
        # One request only (see test_405_stops_dispatch_and_spends_nothing
        # for a pass left to itself).
        self.tick(c, "--max-jobs", "1", when=0, expect=EX_UNAVAILABLE)
        self.assertEqual(self.registry.requests()[0]["status"], 405)
        self.assertEqual(self.health(c)["health"], "incompatible")
        self.assertEqual(self.outcome_count(c, "failed"), 0)
        self.assertEqual(c.db.scalar(
            "SELECT attempts FROM jobs WHERE id = ?",
            (vtcsync.key_job(vtcsync.assert_key(
                self.registry.requests()[0]["idempotency_key"], round=0)),)), 0)

        # A probe answered 405 too: still incompatible, nothing sent.
        self.registry.reset()
        self.registry.inject(method="GET", status=405, times=1)
        self.tick(c, when=10, expect=EX_UNAVAILABLE)
        reqs = self.registry.requests()
        self.assertEqual([(r["method"], r["status"]) for r in reqs],
                         [("GET", 405)])
        self.assertEqual(self.health(c)["health"], "incompatible")

        # The failed probe opened the breaker (30 s from the probe).
        mh = self.meta_health(c)
        self.assertGreaterEqual(mh["breaker_open_until"], (T0_EPOCH + 10 + 30) * NS)
        self.assertLess(mh["breaker_open_until"], (T0_EPOCH + 10 + 35) * NS)

        # The probe answered 200: active again, and the jobs go out.
        self.registry.reset()
        self.tick(c, when=45)
        reqs = self.registry.requests()
        self.assertEqual(reqs[0]["method"], "GET")
        self.assertIn("limit=1", reqs[0]["path"])
        self.assertEqual(reqs[0]["status"], 200)
        self.assertEqual([(r["method"], r["status"]) for r in reqs[1:]],
                         [("PUT", 200)] * 3)
        self.assertEqual(self.health(c)["health"], "active")
        self.assertEqual(self.jobs(c), {})
        changes = [json.loads(o["detail"]) for o in c.db.outcomes()
                   if o["kind"] == "status_changed"]
        self.assertEqual([(d["from"], d["to"]) for d in changes],
                         [("active", "incompatible"), ("incompatible", "active")])

    def test_incompatible_registry_held_by_the_breaker_still_exits_69(self):
        # vtc-sync(1), EXIT STATUS: 69 while the registry is incompatible.
        c = self.community(3)
        self.registry.inject(method="PUT", status=405, times=1)
        self.tick(c, "--max-jobs", "1", when=0, expect=EX_UNAVAILABLE)
        self.registry.inject(method="GET", status=405, times=1)
        self.tick(c, when=10, expect=EX_UNAVAILABLE)  # the probe: 405
        self.assertEqual(len(self.registry.requests()), 2)
        # The breaker holds sending until T0+40; the registry is still
        # incompatible and work is due.
        err = self.tick(c, when=20, expect=EX_UNAVAILABLE)
        self.assertEqual(len(self.registry.requests()), 2)
        self.assertEqual(self.health(c)["health"], "incompatible")
        self.assertEqual(self.states(c), {("pending", 0): 3})

    def test_degraded_longer_than_degraded_after_exits_69(self):
        c = self.community(8, extra={"sync": {"breaker_failures": 5},
                                     "registry": {"degraded_after_seconds": 60}})
        self.registry.inject(drop=True, times=-1)
        self.tick(c, when=0)
        self.assertEqual(self.health(c)["health"], "degraded")
        # Degraded for 40 s only: not yet the operator's business.
        self.tick(c, when=40)
        # Two minutes on, the registry still failing, work due: 69.
        err = self.tick(c, when=120, expect=EX_UNAVAILABLE)
        self.assertIn("degraded", err)
        self.assertEqual(self.health(c)["health"], "degraded")
        # No job was failed by all this.
        self.assertEqual(self.outcome_count(c, "failed"), 0)
        self.assertEqual(sum(1 for s, _, _ in self.jobs(c).values()
                             if s == "failed"), 0)

        # Back: the next pass after the breaker's time recovers, exit 0.
        self.registry.reset()
        self.tick(c, when=600)
        self.assertEqual(self.health(c)["health"], "active")
        self.assertEqual(self.jobs(c), {})


if __name__ == "__main__":
    unittest.main()
