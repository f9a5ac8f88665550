"""End to end: real `vtc-sync tick` passes against the test registry on
127.0.0.1 (vtc-sync(1), MEMBERS AND JOBS and THE REGISTRY). Time is moved
with faketime, never slept."""

import json
import os
import subprocess
import threading
import time
import unittest

import vtcsync
from registry import Registry, record_id
from vtcsync import Community

DID = vtcsync.COMMUNITY_DID
# Before and after Carol's RTBF window (basic vector, 24 h windows).
BEFORE_WINDOW = "@2026-01-01 12:00:00"
AFTER_WINDOW = "@2026-01-02 00:00:01"
LIBFAKETIME = vtcsync.LIBFAKETIME
FAKETIME_ENV = {"FAKETIME_DONT_FAKE_MONOTONIC": "1"}
EX_PROTOCOL = 76
DISPATCH = {"registry": {"concurrency": 4}, "sync": {"max_jobs_per_pass": 5000}}


def at(when):
    """A wrapper running the binary with its wall clock at `when`."""
    return ("faketime", "-f", when)


def expected_records():
    return vtcsync.load_json("basic.registry.json")["records"]


def rid(member):
    return record_id(DID, member)


class DispatchCase(unittest.TestCase):
    def setUp(self):
        self.registry = Registry()
        self.registry.start()
        self.addCleanup(self.registry.__exit__, None, None, None)
        self.communities = []

    def community(self, log="basic.audit.jsonl", extra=None):
        layers = {}
        for layer in (DISPATCH, extra or {}):
            for section, values in layer.items():
                layers.setdefault(section, {}).update(values)
        c = Community(log=log, registry_url=self.registry.url, extra=layers)
        self.addCleanup(c.cleanup)
        return c

    def tick(self, c, when=None, *args, expect=0):
        wrapper = at(when) if when else ()
        code, out, err = c.tick(*args, wrapper=wrapper, env=FAKETIME_ENV)
        self.assertEqual(code, expect, f"tick exited {code}: {err}")
        return err

    def job(self, c, job_id):
        rows = self.rows(c, "SELECT state, attempts FROM jobs WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def rows(self, c, sql, params=()):
        return [tuple(r.values()) for r in c.db.query(sql, params)]


class BasicVector(DispatchCase):
    def test_registry_matches_basic_registry_after_carols_window(self):
        c = self.community()
        # Walk the first 10 lines only: Carol gets published first.
        lines = c.lines()
        c.audit.write_bytes(b"".join(l + b"\n" for l in lines[:10]))
        self.tick(c, BEFORE_WINDOW)
        self.assertIn(rid("did:key:z6MkCarol"), self.registry.records())

        c.copy_log("basic.audit.jsonl")
        self.tick(c, BEFORE_WINDOW)
        # The RTBF delete is held to the end of its window: Carol still there.
        self.assertIn(rid("did:key:z6MkCarol"), self.registry.records())
        held = self.rows(c, "SELECT kind, state FROM jobs")
        self.assertEqual(held, [("delete", "pending")])
        self.assertEqual(self.registry.requests("DELETE"), [])

        self.tick(c, AFTER_WINDOW)
        self.assertEqual(self.registry.records(), expected_records())
        self.assertEqual(c.db.scalar("SELECT count(*) FROM jobs"), 0)

        # A second pass sends nothing.
        before = len(self.registry.requests())
        self.tick(c, AFTER_WINDOW)
        self.assertEqual(len(self.registry.requests()), before)

    def test_bodies_equal_the_vector_and_keys_are_job_ids(self):
        c = self.community()
        self.tick(c, AFTER_WINDOW)
        self.assertEqual(self.registry.records(), expected_records())
        puts = self.registry.requests("PUT")
        live = {j["event_line"]: j for j in vtcsync.load_json("basic.expected.json")["jobs"]}
        ids = set(vtcsync.event_ids(c.audit).values())
        for r in puts:
            # <job id>/<digest>: the job is the event's, no retry round.
            key = vtcsync.assert_key(r["idempotency_key"], round=0)
            self.assertIn(vtcsync.key_job(key), ids)
            self.assertEqual(r["status"], 200)
        # Exactly one request per live job: superseded jobs are never sent.
        self.assertEqual(len(self.registry.requests()), len(live))
        # One key per request, and one job per request: no two jobs share a key.
        keys = [r["idempotency_key"] for r in self.registry.requests()]
        self.assertEqual(len(set(keys)), len(keys))
        self.assertEqual(len({vtcsync.key_job(k) for k in keys}), len(keys))

    def test_delete_answered_404_is_done(self):
        c = self.community()
        self.tick(c, AFTER_WINDOW)
        deletes = self.registry.requests("DELETE")
        self.assertEqual(len(deletes), 1)
        self.assertEqual(deletes[0]["status"], 404)
        self.assertEqual(c.db.scalar("SELECT count(*) FROM jobs"), 0)
        key = vtcsync.assert_key(deletes[0]["idempotency_key"], round=0)
        succeeded = self.rows(c, 
            "SELECT job_id FROM outcomes WHERE kind = 'succeeded' AND job_id = ?",
            (vtcsync.key_job(key),))
        self.assertEqual(len(succeeded), 1)
        # The purged member is forgotten: no table holds her DID.
        self.assertEqual(
            c.db.scalar("SELECT count(*) FROM members WHERE did = 'did:key:z6MkCarol'"), 0)


class Tampering(DispatchCase):
    def test_tampered_entry_stops_the_walk_but_earlier_deletes_go_out(self):
        c = self.community(log=None)
        script = [
            {"type": "MemberAdded", "actor": "did:key:z6MkAdmin", "target": "did:key:z6MkAnn",
             "data": {"role": "member"}},
            {"type": "MemberAdded", "actor": "did:key:z6MkAdmin", "target": "did:key:z6MkBen",
             "data": {"role": "member"}},
            {"type": "MemberRemoved", "actor": "did:key:z6MkAdmin", "target": "did:key:z6MkAnn",
             "data": {"disposition": "purge"}},
            {"type": "MemberAdded", "actor": "did:key:z6MkAdmin", "target": "did:key:z6MkCid",
             "data": {"role": "member"}},
        ]
        path = c.dir / "script.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in script))
        c.gen_audit("--script", path, "-o", c.audit)
        lines = c.lines()
        lines[3] = lines[3].replace(b'"role":"member"', b'"role":"admin"')
        c.audit.write_bytes(b"".join(l + b"\n" for l in lines))

        code, _, err = c.tick(env=FAKETIME_ENV)
        self.assertEqual(code, vtcsync.EX_DATAERR, err)
        self.assertIn("line 4", err)
        self.assertIn("tampered", err)
        sent = self.registry.requests()
        # Ann's delete went out; Ben's publish waits for a complete walk;
        # nothing of line 4 exists.
        self.assertEqual([(r["method"], r["path"].rsplit("/", 1)[1]) for r in sent],
                         [("DELETE", rid("did:key:z6MkAnn"))])
        self.assertEqual(self.rows(c, "SELECT kind, state, attempts FROM jobs"),
                         [("publish", "pending", 0)])
        self.assertNotIn(rid("did:key:z6MkCid"), json.dumps(sent))


class Answers(DispatchCase):
    def test_503_then_success_on_a_later_pass(self):
        c = self.community()
        self.registry.inject(method="PUT", status=503, retry_after="30", times=1)
        err = self.tick(c, "@2026-01-01 12:00:00")
        self.assertIn("503", err)
        pending = self.rows(c, "SELECT id, attempts, due FROM jobs WHERE attempts = 1")
        self.assertEqual(len(pending), 1)
        job_id, _, due = pending[0]
        start = 1767268800 * 10**9  # 2026-01-01T12:00:00Z
        self.assertGreaterEqual(due, start + 30 * 10**9)  # Retry-After honoured
        # Not due yet: a pass a second later does not send it.
        self.tick(c, "@2026-01-01 12:00:01")
        self.assertEqual(self.job(c, job_id), ("pending", 1))
        self.tick(c, "@2026-01-01 12:05:00")
        self.assertIsNone(self.job(c, job_id))
        sent = [(r["method"], r["path"], r["idempotency_key"], r["status"])
                for r in self.registry.requests()
                if vtcsync.key_job(r["idempotency_key"]) == job_id]
        self.assertEqual([s[3] for s in sent], [503, 200])
        # The same request again, with exactly the same key.
        self.assertEqual(sent[0][:3], sent[1][:3])
        vtcsync.assert_key(sent[0][2], job_id=job_id, round=0)
        # No other job's request carried it.
        others = [r["idempotency_key"] for r in self.registry.requests()
                  if vtcsync.key_job(r["idempotency_key"]) != job_id]
        self.assertTrue(others)
        self.assertNotIn(sent[0][2], others)

    def test_400_fails_the_job_with_exit_76(self):
        c = self.community()
        self.registry.inject(method="PUT", status=400, times=1)
        self.tick(c, BEFORE_WINDOW, expect=EX_PROTOCOL)
        failed = self.rows(c, "SELECT id, attempts FROM jobs WHERE state = 'failed'")
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0][1], 1)
        kinds = [k for (k,) in self.rows(c, 
            "SELECT kind FROM outcomes WHERE job_id = ?", (failed[0][0],))]
        self.assertEqual(kinds, ["failed"])
        # A failed job stays put: later passes do not resend it.
        before = len(self.registry.requests())
        self.tick(c, "@2026-01-01 13:00:00")
        self.assertEqual(len(self.registry.requests()), before)
        code, out, _ = c.run("queue", "list", "--state", "failed")
        self.assertEqual(code, 0)
        self.assertIn(failed[0][0], out)

        # Retried by the operator, it goes out with a new key; its history
        # keeps both requests.
        job_id = failed[0][0]
        code, _, err = c.run("queue", "retry", job_id,
                             wrapper=at("@2026-01-01 13:00:30"), env=FAKETIME_ENV)
        self.assertEqual(code, 0, err)
        self.tick(c, "@2026-01-01 13:01:00")
        self.assertIsNone(self.job(c, job_id))
        code, out, _ = c.run("queue", "show", job_id, "--json")
        self.assertEqual(code, 0)
        shown = json.loads(out)
        self.assertIsNone(shown["job"])
        attempts = shown["attempts"]
        self.assertEqual([(a["n"], vtcsync.key_job(a["idempotency_key"]),
                           vtcsync.key_round(a["idempotency_key"]), a["http_status"])
                          for a in attempts],
                         [(1, job_id, 0, 400), (2, job_id, 1, 200)])
        for a in attempts:
            vtcsync.assert_key(a["idempotency_key"])
        # The retry's key is new: never the first round's.
        self.assertNotEqual(attempts[0]["idempotency_key"],
                            attempts[1]["idempotency_key"])
        # The keys the registry received are the ones the history shows.
        self.assertEqual([r["idempotency_key"] for r in self.registry.requests("PUT")
                          if vtcsync.key_job(r["idempotency_key"]) == job_id],
                         [a["idempotency_key"] for a in attempts])
        self.assertEqual([o["kind"] for o in shown["outcomes"]],
                         ["failed", "retried", "succeeded"])

    def test_redirect_is_not_followed_and_fails_the_job(self):
        c = self.community(extra={"registry": {"concurrency": 1}})
        target = self.registry.url + "/admin/v1/records/elsewhere"
        self.registry.inject(method="PUT", status=302, times=1,
                             headers={"Location": target})
        self.tick(c, BEFORE_WINDOW, expect=EX_PROTOCOL)
        paths = [r["path"] for r in self.registry.requests()]
        self.assertNotIn("/admin/v1/records/elsewhere", paths)
        failed = self.rows(c, "SELECT attempts, last_error FROM jobs WHERE state = 'failed'")
        self.assertEqual(failed, [(1, "HTTP 302")])

    def test_401_exits_78_and_spends_no_attempt(self):
        c = self.community()
        self.registry.inject(method="PUT", status=401, times=-1)
        code, _, err = c.tick(wrapper=at(BEFORE_WINDOW), env=FAKETIME_ENV)
        self.assertEqual(code, vtcsync.EX_CONFIG, err)
        self.assertIn("HTTP 401", err)
        rows = self.rows(c, "SELECT state, attempts FROM jobs WHERE kind != 'delete'")
        self.assertTrue(rows)
        self.assertTrue(all(r == ("pending", 0) for r in rows), rows)
        # Dispatch stopped at the first 401: concurrency 1 sends one request.
        self.assertEqual(self.status(c)["registry"]["health"], "degraded")

    def status(self, c):
        return c.status_json()

    def test_stale_publish_is_never_sent_after_the_removal(self):
        c = self.community(log=None, extra={"registry": {"concurrency": 1}})
        add = {"type": "MemberAdded", "actor": "did:key:z6MkAdmin",
               "target": "did:key:z6MkZoe", "data": {"role": "member"}}
        path = c.dir / "s1.jsonl"
        path.write_text(json.dumps(add) + "\n")
        c.gen_audit("--script", path, "-o", c.audit)
        self.registry.inject(method="PUT", status=503, times=1)
        self.tick(c, "@2026-01-01 12:00:00")
        c.append_script([{"type": "MemberRemoved", "actor": "did:key:z6MkAdmin",
                          "target": "did:key:z6MkZoe", "data": {"disposition": "purge"}}])
        self.tick(c, "@2026-01-01 12:00:01")
        self.tick(c, "@2026-01-01 13:00:00")
        methods = [(r["method"], r["status"]) for r in self.registry.requests()]
        self.assertEqual(methods, [("PUT", 503), ("DELETE", 404)])
        self.assertEqual(self.registry.records(), {})
        self.assertEqual(c.db.scalar("SELECT count(*) FROM jobs"), 0)
        superseded = c.db.scalar("SELECT count(*) FROM outcomes WHERE kind = 'superseded'")
        self.assertEqual(superseded, 1)


class Crash(DispatchCase):
    def test_kill_during_sends_loses_nothing(self):
        c = self.community(log=None, extra={"registry": {"concurrency": 4}})
        c.gen_audit("--entries", "300", "--members", "80", "--seed", "5",
                    "--start-time", "2026-01-01T00:00:00Z", "-o", c.audit)
        self.registry.set_latency(300)
        # libfaketime preloaded directly: the signal must reach vtc-sync
        # itself, not the faketime wrapper that forks it.
        env = dict(FAKETIME_ENV, FAKETIME="@2026-01-01 12:00:00",
                   LD_PRELOAD=LIBFAKETIME)
        p = subprocess.Popen([vtcsync.binary(), *c.args("tick")],
            env=vtcsync.clean_env(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(r["status"] is None for r in self.registry.requests()):
                break
            if p.poll() is not None:
                self.fail("the pass ended before a request was in flight")
        else:
            self.fail("no request in flight within 60 s")
        vtcsync.sigkill(p)
        self.assertGreater(c.db.scalar("SELECT count(*) FROM jobs WHERE state = 'in_flight'"), 0)
        self.registry.set_latency(0)

        # Passes a day apart until nothing is left: backoffs and RTBF windows pass.
        for day in range(2, 29):
            self.tick(c, f"@2026-02-{day:02d} 12:00:00")
            if c.db.scalar("SELECT count(*) FROM jobs") == 0:
                break
        self.assertEqual(self.rows(c, "SELECT * FROM jobs"), [])
        self.assertEqual(c.db.integrity(), "ok")

        # Every member's final state is in the registry, exactly.
        records = self.registry.records()
        members = self.rows(c, "SELECT did, status FROM members")
        self.assertTrue(members)
        for did, status in members:
            rec = records.get(rid(did))
            self.assertIsNotNone(rec, did)
            self.assertEqual(rec["recognized"], status == "active")
        self.assertEqual(len(records), len(members))
        # A request repeated after the kill carries the same Idempotency-Key,
        # and a key is never used for another record or method.
        by_key = {}
        for r in self.registry.requests():
            vtcsync.assert_key(r["idempotency_key"], round=0)
            by_key.setdefault(r["idempotency_key"], set()).add((r["method"], r["path"]))
        self.assertTrue(all(len(paths) == 1 for paths in by_key.values()), by_key)


class Batches(DispatchCase):
    """Jobs are claimed ahead of free request slots and answers recorded
    several at a time (docs/design.md, Store and dispatch): neither may
    change what a stop or a crash leaves behind."""

    ADMIN = "did:key:z6MkAdmin"

    def log(self, c, entries):
        path = c.dir / "script.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in entries))
        c.gen_audit("--script", path, "-o", c.audit)

    def join(self, name):
        return {"type": "MemberAdded", "actor": self.ADMIN,
                "target": f"did:key:z6Mk{name}", "data": {"role": "member"}}

    def test_jobs_claimed_and_not_sent_go_back_as_they_were(self):
        c = self.community(log=None)
        old = [f"Old{i}" for i in range(8)]
        self.log(c, [self.join(n) for n in old])
        self.tick(c, "@2026-01-01 12:00:00")
        self.assertEqual(len(self.registry.records()), 8)
        # Updates of published members (mirror present) between joins of
        # new ones (mirror absent), all due at once.
        entries = []
        for i, n in enumerate(old):
            entries.append({"type": "RoleChanged", "actor": self.ADMIN,
                            "target": f"did:key:z6Mk{n}",
                            "data": {"previousRole": "member", "newRole": "admin"}})
            entries.append(self.join(f"New{i}"))
        c.append_script(entries, seed=2)
        before = len(self.registry.requests())
        self.registry.inject(method="PUT", status=401, times=-1)
        code, _, err = c.tick(wrapper=at("@2026-01-01 12:00:01"), env=FAKETIME_ENV)
        self.assertEqual(code, vtcsync.EX_CONFIG, err)

        keys = [vtcsync.assert_key(r["idempotency_key"], round=0)
                for r in self.registry.requests()[before:]]
        # Job ids: one request per job before the 401 stopped the pass.
        sent = {vtcsync.key_job(k) for k in keys}
        self.assertEqual(len(sent), len(keys), keys)
        jobs = self.rows(c, "SELECT j.id, j.kind, j.state, j.attempts, m.state AS mirror "
                            "FROM jobs j LEFT JOIN mirror m ON m.member_id = j.member_id")
        self.assertEqual(len(jobs), 16)
        self.assertTrue(sent and len(sent) < 16, sent)
        for job_id, kind, state, attempts, mirror in jobs:
            self.assertEqual((state, attempts), ("pending", 0), job_id)
            if job_id in sent:
                self.assertEqual(mirror, "unknown", job_id)
            else:
                # Never sent: the mirror as it was before the pass.
                self.assertEqual(mirror, "present" if kind == "update" else None,
                                 (job_id, kind))
        ids = [j[0] for j in jobs]
        rows = self.rows(c, f"SELECT job_id, class FROM attempts WHERE job_id IN "
                            f"({','.join('?' * len(ids))})", ids)
        self.assertEqual(sorted(r[0] for r in rows), sorted(sent))
        self.assertTrue(all(r[1] == "auth" for r in rows), rows)

        self.registry.reset()
        self.tick(c, "@2026-01-01 12:00:02")
        self.assertEqual(self.rows(c, "SELECT * FROM jobs"), [])
        self.assertEqual(len(self.registry.records()), 16)

    def test_answer_not_recorded_at_a_kill_is_sent_again_with_its_key(self):
        c = self.community(log=None)
        self.log(c, [self.join(f"M{i}") for i in range(8)])
        # One request answered at once; the others (four at concurrency 4,
        # the first answer freeing a slot) held until after the kill.
        self.registry.inject(method="PUT", status=200, apply=True, times=1)
        self.registry.inject(method="PUT", status=200, apply=True,
                             delay_ms=30000, times=4)
        # A frozen clock, monotonic too: the lone answer waits for a batch
        # that never fills, so the kill lands before it is recorded.
        env = dict(LD_PRELOAD=LIBFAKETIME, FAKETIME="2026-01-01 12:00:00")
        p = subprocess.Popen([vtcsync.binary(), "-v", *c.args("tick")],
                             env=vtcsync.clean_env(env), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
        self.addCleanup(p.stderr.close)
        self.addCleanup(p.kill)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(p.stderr), daemon=True)
        reader.start()
        vtcsync.poll(lambda: any("PUT succeeded" in l for l in lines), 60,
                     what="the first answer")
        done = [r for r in self.registry.requests() if r["status"] == 200]
        self.assertEqual(len(done), 1)
        key = vtcsync.assert_key(done[0]["idempotency_key"], round=0)
        self.assertEqual(self.job(c, vtcsync.key_job(key)), ("in_flight", 1))
        self.assertEqual(c.db.scalar("SELECT count(*) FROM outcomes WHERE "
                                     "kind = 'succeeded'"), 0)
        vtcsync.sigkill(p)

        for day in range(2, 10):
            self.tick(c, f"@2026-01-{day:02d} 12:00:00")
            if c.db.scalar("SELECT count(*) FROM jobs") == 0:
                break
        self.assertEqual(self.rows(c, "SELECT * FROM jobs"), [])
        again = [r for r in self.registry.requests() if r["idempotency_key"] == key]
        self.assertEqual([(r["status"], r["replayed"]) for r in again],
                         [(200, False), (200, True)])
        self.assertEqual(set(self.registry.writes().values()), {1})
        self.assertEqual(len(self.registry.records()), 8)
        succeeded = self.rows(c, "SELECT job_id FROM outcomes WHERE kind = 'succeeded'")
        self.assertEqual(len(succeeded), 8)
        self.assertEqual(len(set(succeeded)), 8)


if __name__ == "__main__":
    unittest.main()
