"""End to end: the registry policy (vtc-sync.toml(5), [policy]), its sources
(file, OPA), publish_on_join, policy errors, RTBF batching, redacted entries
and forgetting a purged member's DID. Real `vtc-sync` passes against the
test registry; the wall clock is set with faketime, never slept."""

import http.server
import json
import os
import socket
import threading
import unittest

import vtcsync
from registry import Registry, record_id
from vtcsync import Community

DID = vtcsync.COMMUNITY_DID
ADMIN = "did:key:z6MkAdminExample"
EX_CONFIG = vtcsync.EX_CONFIG
FAKETIME_ENV = {"FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC"}
AFTER_CAROL = "@2026-01-02 00:00:01"  # basic vector: after Carol's window
DISPATCH = {"registry": {"concurrency": 1}, "sync": {"max_jobs_per_pass": 5000}}


def rid(member):
    return record_id(DID, member)


def add(target, role="member", actor=ADMIN, ts=None):
    return entry("MemberAdded", actor, target, {"role": role}, ts)


def role(target, new, prev="member"):
    return entry("RoleChanged", ADMIN, target,
                 {"previousRole": prev, "newRole": new}, None)


def remove(target, disposition, actor=ADMIN, ts=None):
    return entry("MemberRemoved", actor, target,
                 {"disposition": disposition, "priorRole": "member"}, ts)


def entry(kind, actor, target, data, ts):
    e = {"type": kind, "actor": actor, "target": target, "data": data}
    if ts:
        e["ts"] = ts
    return e


def record(member, status, active_from, role=None, active_to=None):
    """The registry body of a member's record (vtc-sync(1), THE REGISTRY)."""
    context = {"status": status, "activeFrom": active_from}
    if role is not None:
        context["role"] = role
    if active_to is not None:
        context["activeTo"] = active_to
    return {"entity_id": member, "authority_id": DID, "action": "recognise",
            "resource": "trust-graph", "record_type": "recognition",
            "recognized": status == "active", "context": context}


def basic_records(**context_changes):
    """basic.registry.json's records, with some members' context changed
    ({did: {key: value or None to drop}})."""
    records = vtcsync.load_json("basic.registry.json")["records"]
    for member, changes in context_changes.items():
        ctx = records[rid(member)]["context"]
        for k, v in changes.items():
            if v is None:
                ctx.pop(k, None)
            else:
                ctx[k] = v
    return records


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StubOpa:
    """An OPA data API on 127.0.0.1 answering every POST with .status and
    .body (a dict is sent as JSON); .requests holds (path, content type, body)."""

    def __init__(self, status=200, body=None):
        self.status, self.body, self.requests = status, body or {}, []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                stub.requests.append((self.path, self.headers.get("Content-Type"),
                                      self.rfile.read(n)))
                body = stub.body if isinstance(stub.body, bytes) else \
                    json.dumps(stub.body).encode()
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = (f"http://127.0.0.1:{self.server.server_address[1]}"
                    "/v1/data/vtc/registry")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status, body):
        self.status, self.body = status, body

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class PolicyCase(unittest.TestCase):
    def setUp(self):
        self.registry = self.start_registry()
        self.stderr = []  # every pass's stderr, for the privacy checks
        self.minute = 0

    def start_registry(self):
        reg = Registry()
        reg.start()
        self.addCleanup(reg.__exit__, None, None, None)
        return reg

    def opa(self, policy):
        stub = StubOpa(body={"result": policy})
        self.addCleanup(stub.close)
        return stub

    def community(self, entries=None, log=None, policy=None, opa=None,
                  window=None, registry=None):
        """A community on the test registry. entries: a gen-audit script
        written to c.full (reveal lines with self.reveal); policy: a policy
        file's document (dict) or text; opa: a StubOpa."""
        extra = json.loads(json.dumps(DISPATCH))
        if window is not None:
            extra["sync"]["rtbf_batch_window_hours"] = window
        c = Community(log=log, registry_url=(registry or self.registry).url,
                      extra=extra)
        self.addCleanup(c.cleanup)
        c.policy_path = c.dir / "policy.json"
        if policy is not None:
            self.write_policy(c, policy)
            c.extra["policy"] = {"file": str(c.policy_path)}
        if opa is not None:
            c.extra["policy"] = {"opa_url": opa.url}
        c.write_config()
        if entries is not None:
            c.full = c.dir / "full.jsonl"
            script = c.dir / "script.jsonl"
            script.write_text("".join(json.dumps(e) + "\n" for e in entries))
            c.gen_audit("--script", script, "-o", c.full, "--seed", 7)
            c.ids = vtcsync.event_ids(c.full)
        return c

    @staticmethod
    def write_policy(c, policy):
        text = policy if isinstance(policy, str) else json.dumps(policy)
        c.policy_path.write_text(text)

    @staticmethod
    def reveal(c, n):
        """The community's log becomes the first n lines of c.full."""
        lines = vtcsync.log_lines(c.full)[:n]
        c.audit.write_bytes(b"".join(l + b"\n" for l in lines))

    def clock(self, when):
        if when is None:
            # A minute later on every pass: jobs made "now" by one pass are
            # due in the next.
            self.minute += 1
            when = f"@2026-01-03 12:{self.minute:02d}:00"
        return ("faketime", "-f", when)

    def run_cmd(self, c, *args, when=None, expect=0):
        code, out, err = c.run(*args, wrapper=self.clock(when), env=FAKETIME_ENV)
        self.assertEqual(code, expect, f"{' '.join(args)} exited {code}: {err}")
        return out, err

    def tick(self, c, *args, when=None, expect=0):
        """One pass (-v: debug logs too); returns the requests it sent as
        sorted (method, record id) pairs."""
        before = len(self.registry.requests())
        _, err = self.run_cmd(c, "-v", "tick", *args, when=when, expect=expect)
        self.stderr.append(err)
        return sorted((r["method"], r["path"].rsplit("/", 1)[1])
                      for r in self.registry.requests()[before:])

    @staticmethod
    def db_bytes(c):
        """Every byte of the state database's files."""
        out = b""
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = str(c.db_path) + suffix
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out += f.read()
        return out

    def outcomes(self, c, kind):
        return [(o["job_id"], json.loads(o["detail"]) if o["detail"] else {})
                for o in c.db.outcomes() if o["kind"] == kind]

    def overrides(self, c):
        return sorted((job, d["reason"], d["requested"], d["would_be"],
                       d["effective"]) for job, d in self.outcomes(c, "policy_override"))

    def jobs(self, c):
        return [(j["id"], j["kind"], j["state"], j["attempts"]) for j in c.db.jobs()]

    def control_records(self, full, policy):
        """Registry records after one pass over `full` with `policy` on a
        fresh registry and state: a run that never met an error."""
        reg = self.start_registry()
        c = self.community(policy=policy, registry=reg)
        c.copy_log(full)
        code, _, err = c.tick(wrapper=self.clock(None), env=FAKETIME_ENV)
        self.assertEqual(code, 0, err)
        return reg.records()


class Sources(PolicyCase):
    """The file and OPA give the same effective dispositions (basic vector)."""

    CASES = [
        # A floor of historical: Alice's tombstone keeps her history; Carol's
        # own purge stands (rtbf).
        ({"min_disposition": "historical"},
         {"did:key:z6MkAlice": {"activeTo": "2026-01-01T00:00:02.250Z"}},
         [(9, "floor", "tombstone", "historical", "historical"),
          (11, "rtbf", "purge", "historical", "purge")]),
        # Tombstone not offered: the default (historical here) applies.
        ({"departure_options": ["purge", "historical"],
          "default_departure": "historical"},
         {"did:key:z6MkAlice": {"activeTo": "2026-01-01T00:00:02.250Z"}},
         [(9, "not_offered", "tombstone", "historical", "historical")]),
        # Historical not offered: Dave gets the default tombstone.
        ({"departure_options": ["tombstone", "purge"]},
         {"did:web:dave.example": {"activeTo": None}},
         [(10, "not_offered", "historical", "tombstone", "tombstone")]),
    ]

    def run_source(self, source, policy):
        stub = self.opa(policy) if source == "opa" else None
        c = self.community(log="basic.audit.jsonl", opa=stub,
                           policy=policy if source == "file" else None)
        self.tick(c, when=AFTER_CAROL)
        if stub:
            self.assertEqual(len(stub.requests), 1)  # read once per pass
            path, ctype, body = stub.requests[0]
            self.assertEqual(path, "/v1/data/vtc/registry")
            self.assertEqual(ctype, "application/json")
            self.assertEqual(json.loads(body), {"input": {}})
            # Nothing new, nothing due: the policy is not needed, not asked.
            self.assertEqual(self.tick(c, when=AFTER_CAROL), [])
            self.assertEqual(len(stub.requests), 1)
        ids = vtcsync.event_ids(c.audit)
        return c, ids

    def test_file_and_opa_give_the_same_dispositions(self):
        for policy, changes, overrides in self.CASES:
            for source in ("file", "opa"):
                with self.subTest(policy=policy, source=source):
                    c, ids = self.run_source(source, policy)
                    self.assertEqual(self.registry.records(), basic_records(**changes))
                    self.assertEqual(self.overrides(c), sorted(
                        (ids[line], *rest) for line, *rest in overrides))
                    self.assertEqual(self.jobs(c), [])
                self.registry.reset()

    def test_no_policy_records_no_override(self):
        c = self.community(log="basic.audit.jsonl")
        self.tick(c, when=AFTER_CAROL)
        self.assertEqual(self.registry.records(), basic_records())
        self.assertEqual(self.overrides(c), [])


PAT, REX, DAN = "did:key:z6MkPat", "did:key:z6MkRex", "did:key:z6MkDan"
ANN, NEV = "did:key:z6MkAnn", "did:key:z6MkNev"
SKIP_LOG = [add(PAT), add(REX), add(DAN),               # 1-3: published
            add(ANN), role(PAT, "moderator"),           # 4-5: never sent
            add(NEV), remove(NEV, "tombstone"),         # 6-7: never published
            remove(REX, "historical"),                  # 8: was published
            remove(DAN, "purge")]                       # 9: delete


class PublishOnJoin(PolicyCase):
    def skipped_community(self):
        """SKIP_LOG: lines 1-3 under publish_on_join true, 4-9 under false."""
        c = self.community(SKIP_LOG, policy={})
        self.reveal(c, 3)
        self.assertEqual(self.tick(c), sorted(("PUT", rid(m)) for m in (PAT, REX, DAN)))
        self.write_policy(c, {"publish_on_join": False})
        self.reveal(c, 9)
        sent = self.tick(c)
        # Only Rex's departure (he was published) and Dan's delete go out.
        self.assertEqual(sent, sorted([("PUT", rid(REX)), ("DELETE", rid(DAN))]))
        return c

    def test_false_sends_no_active_record(self):
        c = self.skipped_community()
        ts = {i: json.loads(l)["timestamp"]
              for i, l in enumerate(vtcsync.log_lines(c.full), 1)}
        self.assertEqual(self.registry.records(), {
            # Pat keeps the record sent before the change (role member).
            rid(PAT): record(PAT, "active", ts[1], role="member"),
            rid(REX): record(REX, "departed", ts[2], active_to=ts[8]),
        })
        skipped = sorted(j for j, d in self.outcomes(c, "skipped")
                         if d.get("reason") == "publish_on_join")
        # Ann's join, Pat's role change, Nev's removal (never published).
        self.assertEqual(skipped, sorted([c.ids[4], c.ids[5], c.ids[7]]))
        self.assertEqual(self.jobs(c), [])
        # No request was ever made for Ann or Nev.
        paths = json.dumps(self.registry.requests())
        self.assertNotIn(rid(ANN), paths)
        self.assertNotIn(rid(NEV), paths)
        # An idle pass sends nothing and reconciles nothing.
        self.assertEqual(self.tick(c), [])

    def test_flip_to_true_publishes_the_skipped_on_the_next_pass(self):
        c = self.skipped_community()
        self.write_policy(c, {"publish_on_join": True})
        before = (vtcsync.file_state(c.db_path)[""][0], c.db.counts())
        out, _ = self.run_cmd(c, "reconcile", "--dry-run")
        listed = sorted(tuple(l.split()[:2]) for l in out.splitlines()
                        if l.startswith("reconcile:"))
        # reconcile:<hash>, a fresh id per reconcile: the DID never shows.
        self.assertEqual(sorted(k for _, k in listed), ["depart", "publish", "update"])
        for job_id, _ in listed:
            self.assertRegex(job_id, r"^reconcile:[0-9a-f]{32}$")
        self.assertEqual((vtcsync.file_state(c.db_path)[""][0], c.db.counts()), before)
        self.assertEqual(self.jobs(c), [])
        # No new entries: the edited file alone makes the pass reconcile.
        sent = self.tick(c)
        self.assertEqual(sent, sorted(("PUT", rid(m)) for m in (ANN, PAT, NEV)))
        keys = {r["idempotency_key"] for r in self.registry.requests()[-3:]}
        self.assertEqual(len(keys), 3)
        for key in keys:
            # reconcile:<hash>/<digest>: a reconcile job's key.
            vtcsync.assert_key(key, round=0)
            self.assertRegex(vtcsync.key_job(key), r"^reconcile:[0-9a-f]{32}$")
        # Three jobs, one per member: no two share a key.
        self.assertEqual(len({vtcsync.key_job(k) for k in keys}), 3)
        self.assertEqual(self.jobs(c), [])
        # As if publish_on_join had been true all along.
        self.assertEqual(self.registry.records(), self.control_records(c.full, {}))
        self.assertEqual(self.tick(c), [])

    def test_second_reconcile_of_a_member_is_a_new_write(self):
        # Each reconcile is a different write: it must not reuse the
        # Idempotency-Key of an earlier one (the registry would replay the
        # old answer, or refuse a different body with 422).
        c = self.community([add(ANN), role(ANN, "moderator")],
                           policy={"publish_on_join": False})
        for n, flag in ((1, False), (1, True), (1, False), (2, False), (2, True)):
            self.reveal(c, n)
            self.write_policy(c, {"publish_on_join": flag})
            self.tick(c)
        self.assertEqual(self.jobs(c), [])
        ctx = self.registry.records()[rid(ANN)]["context"]
        self.assertEqual((ctx["status"], ctx["role"]), ("active", "moderator"))
        self.assertEqual([r["status"] for r in self.registry.requests("PUT")], [200, 200])

    def test_false_still_sends_a_departure_whose_publish_is_unconfirmed(self):
        # A 503 leaves the mirror "unknown": the registry may hold the record,
        # so only "absent" counts as never received.
        uma = "did:key:z6MkUma"
        c = self.community([add(uma), remove(uma, "tombstone")], policy={})
        self.reveal(c, 1)
        self.registry.inject(method="PUT", status=503, times=1)
        self.assertEqual(self.tick(c), [("PUT", rid(uma))])
        self.assertEqual(self.jobs(c), [(c.ids[1], "publish", "pending", 1)])
        self.write_policy(c, {"publish_on_join": False})
        self.reveal(c, 2)
        self.assertEqual(self.tick(c), [("PUT", rid(uma))])
        ts = json.loads(vtcsync.log_lines(c.full)[0])["timestamp"]
        self.assertEqual(self.registry.records(),
                         {rid(uma): record(uma, "departed", ts)})
        self.assertEqual(self.outcomes(c, "skipped"), [])


GOOD = {"departure_options": ["purge", "historical"],
        "default_departure": "historical"}
BOB, CID, DEE, EVE = ("did:key:z6MkBob", "did:key:z6MkCid", "did:key:z6MkDee",
                      "did:key:z6MkEve")
BROKEN_LOG = [add(ANN), add(EVE),                       # 1-2: phase 0
              add(BOB), add(CID), remove(ANN, "purge"),  # 3-6: phase 1
              remove(EVE, "tombstone"),
              add(DEE), remove(BOB, "tombstone")]       # 7-8: during the error


class BrokenPolicy(PolicyCase):
    """A policy that cannot be read: walk skipped, deletes only, exit 78;
    after the fix the registry is what an error-free run gives."""

    def scenario(self, source, break_it, fix_it, opa_asked=True):
        stub = self.opa(GOOD) if source == "opa" else None
        c = self.community(BROKEN_LOG, opa=stub,
                           policy=GOOD if source == "file" else None)
        self.reveal(c, 2)
        self.assertEqual(self.tick(c), sorted(("PUT", rid(m)) for m in (ANN, EVE)))
        # Bob's publish goes; Cid's publish, Ann's delete and Eve's departure
        # stay queued.
        self.reveal(c, 6)
        self.assertEqual(self.tick(c, "--max-jobs", "1"), [("PUT", rid(BOB))])
        waiting = sorted([(c.ids[4], "publish", "pending", 0),
                          (c.ids[6], "depart", "pending", 0)])
        self.assertEqual(sorted(self.jobs(c)),
                         sorted(waiting + [(c.ids[5], "delete", "pending", 0)]))

        break_it(c, stub)
        self.reveal(c, 8)
        asked = len(stub.requests) if stub else 0
        sent = self.tick(c, expect=EX_CONFIG)
        self.assertIn("policy", self.stderr[-1])
        self.assertEqual(sent, [("DELETE", rid(ANN))])  # the due delete goes
        self.assertEqual(c.db.cursor_line(), 6)           # the walk did not run
        self.assertEqual(sorted(self.jobs(c)), waiting)  # no attempt spent
        if stub:
            self.assertEqual(len(stub.requests) - asked, int(opa_asked))
        # Still broken: nothing moves, nothing is dropped.
        self.assertEqual(self.tick(c, expect=EX_CONFIG), [])
        self.assertEqual(sorted(self.jobs(c)), waiting)

        fix_it(c, stub)
        self.assertEqual(self.tick(c), sorted(
            ("PUT", rid(m)) for m in (BOB, CID, DEE, EVE)))
        self.assertEqual(c.db.cursor_line(), 8)
        self.assertEqual(self.jobs(c), [])
        # Tombstone is not offered: historical, with activeTo.
        for m in (BOB, EVE):
            self.assertIn("activeTo", self.registry.records()[rid(m)]["context"])
        self.assertEqual(self.registry.records(), self.control_records(c.full, GOOD))

    def file_case(self, text):
        self.scenario("file", lambda c, _: self.write_policy(c, text),
                      lambda c, _: self.write_policy(c, GOOD))

    def opa_case(self, status, body):
        self.scenario("opa", lambda _, s: s.answer(status, body),
                      lambda _, s: s.answer(200, {"result": GOOD}))

    def test_file_bad_json(self):
        self.file_case(json.dumps(GOOD)[:-1])

    def test_file_unknown_key(self):
        self.file_case(json.dumps(dict(GOOD, publish_on_joins=True)))

    def test_file_missing(self):
        self.scenario("file", lambda c, _: c.policy_path.unlink(),
                      lambda c, _: self.write_policy(c, GOOD))

    def test_opa_500(self):
        self.opa_case(500, {"code": "internal_error"})

    def test_opa_without_result(self):
        self.opa_case(200, {})

    def test_opa_invalid_result(self):
        self.opa_case(200, {"result": dict(GOOD, publish_on_join="yes")})

    def test_opa_unreachable(self):
        closed = f"http://127.0.0.1:{free_port()}/v1/data/vtc/registry"
        self.scenario(
            "opa", lambda c, _: c.write_config(policy={"opa_url": closed}),
            lambda c, s: c.write_config(policy={"opa_url": s.url}),
            opa_asked=False)


FAY, GUS, HAL = "did:key:z6MkFay", "did:key:z6MkGus", "did:key:z6MkHal"
RTBF_LOG = [add(FAY, ts="2026-01-01T05:00:00Z"),
            remove(FAY, "purge", actor=FAY, ts="2026-01-01T06:00:00Z"),
            add(FAY, role="issuer", ts="2026-01-01T07:00:00Z")]


class Rtbf(PolicyCase):
    def purged_fay(self, window):
        c = self.community(RTBF_LOG, window=window)
        self.reveal(c, 1)
        self.assertEqual(self.tick(c, when="@2026-01-01 05:30:00"), [("PUT", rid(FAY))])
        self.reveal(c, 2)
        return c

    def test_self_purge_waits_for_the_window_end(self):
        c = self.purged_fay(24)
        self.assertEqual(self.tick(c, when="@2026-01-01 06:30:00"), [])
        self.assertEqual(self.tick(c, when="@2026-01-01 23:59:59"), [])
        self.assertIn(rid(FAY), self.registry.records())
        self.assertEqual(self.jobs(c), [(c.ids[2], "delete", "pending", 0)])
        out, _ = self.run_cmd(c, "queue", "list", when="@2026-01-01 23:59:59")
        row = [l for l in out.splitlines() if c.ids[2] in l]
        self.assertEqual(len(row), 1, out)
        self.assertIn("rtbf: held until", row[0])
        out, _ = self.run_cmd(c, "queue", "list", "--json", when="@2026-01-01 23:59:59")
        held = json.loads(out.splitlines()[0])
        self.assertEqual((held["id"], held["rtbf"], held["due"]),
                         (c.ids[2], True, "2026-01-02T00:00:00Z"))
        self.assertEqual(self.tick(c, when="@2026-01-02 00:00:00"), [("DELETE", rid(FAY))])
        self.assertEqual(self.registry.records(), {})
        self.assertEqual(self.jobs(c), [])

    def test_window_zero_deletes_at_once(self):
        c = self.purged_fay(0)
        self.assertEqual(self.tick(c, when="@2026-01-01 06:00:01"), [("DELETE", rid(FAY))])
        self.assertEqual(self.registry.records(), {})

    def test_rejoin_inside_the_window_supersedes_the_delete(self):
        c = self.purged_fay(24)
        self.assertEqual(self.tick(c, when="@2026-01-01 06:30:00"), [])
        self.reveal(c, 3)
        self.assertEqual(self.tick(c, when="@2026-01-01 07:30:00"), [("PUT", rid(FAY))])
        self.assertEqual(self.tick(c, when="@2026-01-02 00:00:01"), [])
        self.assertEqual(self.registry.requests("DELETE"), [])
        self.assertEqual(self.registry.records(), {
            rid(FAY): record(FAY, "active", "2026-01-01T07:00:00Z", role="issuer")})
        superseded = [j for j, _ in self.outcomes(c, "superseded")]
        self.assertEqual(superseded, [c.ids[2]])

    def test_admin_purge_not_offered_but_own_purge_stands(self):
        log = [add(GUS), add(HAL), remove(GUS, "purge"),
               remove(HAL, "purge", actor=HAL)]
        c = self.community(log, window=0,
                           policy={"departure_options": ["tombstone", "historical"]})
        self.reveal(c, 2)
        self.tick(c)
        self.reveal(c, 4)
        self.assertEqual(self.tick(c), sorted([("PUT", rid(GUS)), ("DELETE", rid(HAL))]))
        records = self.registry.records()
        self.assertEqual(list(records), [rid(GUS)])
        self.assertEqual(records[rid(GUS)]["context"]["status"], "departed")
        self.assertNotIn("activeTo", records[rid(GUS)]["context"])
        self.assertEqual(self.overrides(c), sorted([
            (c.ids[3], "not_offered", "purge", "tombstone", "tombstone"),
            (c.ids[4], "rtbf", "purge", "tombstone", "purge")]))


class Redacted(PolicyCase):
    def test_redacted_vector(self):
        expected = vtcsync.load_json("redacted.expected.json")
        for split in (None, 2):  # one pass; or the removals in a later pass
            with self.subTest(split=split):
                self.registry.reset()
                c = self.community()
                c.full = vtcsync.data_file("redacted.audit.jsonl")
                self.reveal(c, split or 4)
                self.tick(c)
                if split:
                    self.reveal(c, 4)
                    self.tick(c)
                records = {r["entity_id"]: r["context"]["status"]
                           for r in self.registry.records().values()}
                self.assertEqual(records, {
                    **{m: "departed" for m in expected["departed"]},
                    **{m: "active" for m in expected["active"]}})
                ids = vtcsync.event_ids(c.full)
                self.assertEqual([j for j, _ in self.outcomes(c, "unattributable")],
                                 [ids[n] for n in expected["unattributable_lines"]])
                out, _ = self.run_cmd(c, "status")
                warning = [l for l in out.splitlines() if "unattributable" in l]
                self.assertEqual(len(warning), 1, out)
                self.assertIn("WARNING", warning[0])
                self.assertIn("removal", warning[0])
                self.assertEqual(c.status_json()["unattributable_removals"], 1)


class Privacy(PolicyCase):
    PAT, QUIN, KIM = "did:key:z6MkPrivacyPatricia", "did:web:quin.example", \
        "did:key:z6MkKimStays"

    def test_forgotten_dids_leave_every_file_log_and_outcome(self):
        log = [add(self.PAT), add(self.QUIN), add(self.KIM),
               remove(self.PAT, "purge", actor=self.PAT), remove(self.QUIN, "purge")]
        c = self.community(log, window=0)
        self.reveal(c, 3)
        self.tick(c)
        raw = self.db_bytes(c)
        for m in (self.PAT, self.QUIN, self.KIM):
            self.assertIn(m.encode(), raw)  # the check below can see a DID
        self.reveal(c, 5)
        # A reader (status, a monitor) keeps the database open: closing the
        # pass's connection then does not remove the WAL, the pass's own
        # checkpoint must scrub it. Idle, it holds no read transaction.
        reader = c.db.connect()
        self.addCleanup(reader.close)
        reader.execute("SELECT count(*) FROM members").fetchall()
        sent = self.tick(c)
        self.assertEqual(sent, sorted(("DELETE", rid(m)) for m in (self.PAT, self.QUIN)))
        raw = self.db_bytes(c)
        for m in (self.PAT, self.QUIN):
            self.assertNotIn(m.encode(), raw, f"{m} left in the state files")
        self.assertIn(self.KIM.encode(), raw)
        self.assertEqual(self.tick(c), [])
        self.assertEqual([r["entity_id"] for r in self.registry.records().values()],
                         [self.KIM])
        # Neither logs nor outcomes ever name a member.
        rows = json.dumps(c.db.outcomes())
        self.assertIn(c.ids[4], rows)  # the RTBF job's outcomes are there
        for m in (self.PAT, self.QUIN, self.KIM):
            for text in (*self.stderr, rows):
                self.assertNotIn(m, text)


if __name__ == "__main__":
    unittest.main()
