"""End to end: vtc-sync reading the audit log from a running VTC over its
REST API (audit.source is a URL): vtc-sync's identity and its login, the
walk of the public vectors, paging and the cursor, the VTC's answers and
their exit codes, what dispatch does while the VTC cannot be reached,
`tick --dry-run` and `audit verify`.

The VTC is tests/support/vtc_server.py (through vtc.py), the registry
tests/support/registry_server.py, both on 127.0.0.1. Time moves with
faketime, never by sleeping; a VTC refuses id_tokens issued more than 60 s
in its future, so faketime only moves the clock of passes that cannot reach
it, or by less than that.

Logs made here with gen-audit use --min-gap-ms 1: a VTC orders its log by
(timestamp, event_id), and two entries with one timestamp could swap."""

import base64
import calendar
import json
import os
import pathlib
import re
import shutil
import socket
import stat
import tempfile
import time
import unittest

import ed25519
import vtcsync
from registry import Registry, make_test_pki, record_id
from vtc import Vtc, did_key_of_pem, make_id_token, seed_of_pem
from vtcsync import (EX_CONFIG, EX_DATAERR, EX_IOERR, EX_OK, EX_USAGE, Community,
                     VtcCommunity)

vtcsync.binary()  # fail at once, clearly, when VTC_SYNC is not set

DID = vtcsync.COMMUNITY_DID
ADMIN = "did:key:z6MkAdmin"
EX_UNAVAILABLE = 69
# Every due job in one pass, one request at a time (a stable outcome order).
ALL_AT_ONCE = {"registry": {"concurrency": 1}, "sync": {"max_jobs_per_pass": 1000}}
DEGRADED = re.compile(r"^source health\s+DEGRADED since ", re.M)
ACTIVE_SINCE = re.compile(r"^source health\s+active since ", re.M)


def member(name):
    return f"did:key:z6Mk{name}"


def rid(did):
    return record_id(DID, did)


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ns(rfc3339):
    """'2026-01-01T00:00:00.5Z' -> integer nanoseconds since the epoch."""
    body, frac = rfc3339.rstrip("Z"), ""
    if "." in body:
        body, frac = body.split(".")
    secs = calendar.timegm(time.strptime(body, "%Y-%m-%dT%H:%M:%S"))
    return secs * 10**9 + int((frac + "0" * 9)[:9])


def write_lines(path, lines):
    with open(path, "wb") as f:
        f.write(b"".join(line + b"\n" for line in lines))


def last_entry(path):
    return json.loads(vtcsync.log_lines(path)[-1])


def outcome_rows(db):
    """Outcomes without seq, time and attempts; elapsed times in a detail
    ("after 3 ms") made comparable."""
    return [(o["kind"], o["job_id"], o["key_id"], o["target_hash"],
             re.sub(r"\b\d+ (ms|milliseconds|seconds|s)\b", r"N \1", o["detail"]))
            for o in db.outcomes()]


def error_line(test, err):
    """The one `vtc-sync: error:` line of a pass."""
    errors = [l for l in vtcsync.error_lines(err) if l]
    test.assertEqual(len(errors), 1, err)
    test.assertTrue(errors[0].startswith(vtcsync.ERROR_PREFIX), errors[0])
    return errors[0]


class VtcCase(unittest.TestCase):
    def community(self, log="basic.audit.jsonl", keys=True,
                  registry_url=vtcsync.LOOPBACK_REGISTRY, **extra):
        """A VtcCommunity (no VTC started yet); `extra` holds config
        sections."""
        c = VtcCommunity(log=log, keys=keys, registry_url=registry_url, extra=extra)
        self.addCleanup(c.cleanup)
        return c

    def file_community(self, log="basic.audit.jsonl", keys=True,
                       registry_url=vtcsync.LOOPBACK_REGISTRY, **extra):
        """The same, reading the log as a file: what the VTC source must match."""
        c = Community(log=log, keys=keys, registry_url=registry_url, extra=extra)
        self.addCleanup(c.cleanup)
        return c

    def registry(self):
        reg = Registry()
        reg.start()
        self.addCleanup(reg.__exit__, None, None, None)
        return reg

    def ok_registry(self):
        reg = vtcsync.OkRegistry()
        reg.__enter__()
        self.addCleanup(reg.__exit__, None, None, None)
        return reg

    def tick(self, c, *args, expect=EX_OK, env=None):
        code, out, err = c.tick(*args, env=env)
        self.assertEqual(code, expect, f"tick exited {code}, not {expect}: {err}")
        self.assertEqual(out, "", "tick prints nothing on stdout")
        return err

    def status_text(self, c):
        code, out, err = c.run("status")
        self.assertEqual(code, EX_OK, err)
        return out

    def file_walk(self, log, keys=True):
        """walk_state of one pass over `log` read as a file."""
        f = self.file_community(log=str(log), keys=keys)
        self.tick(f)
        return vtcsync.walk_state(f.db)

    def gen_log(self, c, path, entries, seed):
        """A random community's log of `entries` entries, every one with a
        timestamp of its own, signed with c's keys."""
        c.gen_audit("--entries", entries, "--seed", seed, "--members", 8,
                    "--min-gap-ms", 1, "-o", path)
        return vtcsync.log_lines(path)


# -- vtc-sync's identity ---------------------------------------------------------

class Identity(VtcCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vtc-e2e-id-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_generate_writes_a_private_key_and_prints_its_did_key(self):
        path = os.path.join(self.dir, "id.pem")
        code, out, err = vtcsync.run("identity", "--generate", path)
        self.assertEqual(code, EX_OK, err)
        did = out.strip()
        self.assertEqual(out, did + "\n", "stdout is the DID alone")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertTrue(did.startswith("did:key:z6Mk"), did)
        self.assertEqual(did, did_key_of_pem(path))

        # A second key is another key.
        other = os.path.join(self.dir, "other.pem")
        code, out2, err = vtcsync.run("identity", "--generate", other)
        self.assertEqual(code, EX_OK, err)
        self.assertNotEqual(out2.strip(), did)
        self.assertNotEqual(seed_of_pem(other), seed_of_pem(path))

        # An existing file is never overwritten.
        before = pathlib.Path(path).read_bytes()
        code, out, err = vtcsync.run("identity", "--generate", path)
        self.assertEqual(code, EX_USAGE, err)
        self.assertEqual(out, "")
        self.assertIn(path, error_line(self, err))
        self.assertEqual(pathlib.Path(path).read_bytes(), before)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def test_identity_prints_the_did_of_the_configured_key(self):
        c = self.community()
        c.use_vtc("http://127.0.0.1:9")  # nobody is asked
        code, out, err = c.run("identity")
        self.assertEqual(code, EX_OK, err)
        self.assertEqual(out, c.identity_did + "\n")
        self.assertEqual(c.identity_did, did_key_of_pem(c.identity))

        # A key readable by others is refused, like every secret file.
        os.chmod(c.identity, 0o644)
        code, out, err = c.run("identity")
        self.assertEqual(code, EX_CONFIG, err)
        self.assertIn("identity_file", error_line(self, err))


# -- the login -------------------------------------------------------------------

class Login(VtcCase):
    def test_requests_and_id_token(self):
        c = self.community()
        vtc = c.start_vtc()
        before = int(time.time())
        self.tick(c)
        after = int(time.time())
        did = c.identity_did

        reqs = vtc.requests()
        self.assertEqual([r["route"] for r in reqs], ["challenge", "authenticate", "audit"])
        challenge, auth, page = reqs
        self.assertEqual((challenge["method"], challenge["path"]), ("POST", "/v1/auth/challenge"))
        self.assertEqual(challenge["trust_task"], "https://trusttasks.org/spec/auth/challenge/0.1")
        self.assertEqual(challenge["content_type"], "application/json")
        self.assertEqual(json.loads(challenge["body"]), {"subject": did})
        self.assertEqual((auth["method"], auth["path"]), ("POST", "/v1/auth/"))
        self.assertEqual(auth["trust_task"], "https://trusttasks.org/spec/auth/authenticate/0.1")
        self.assertEqual(auth["content_type"], "application/json")
        self.assertIsNone(challenge["authorization"])
        self.assertIsNone(auth["authorization"])
        self.assertEqual(auth["status"], 200)
        # A first walk pages from the newest entry: no one-item idle check.
        self.assertEqual((page["method"], page["path"], page["query"]),
                         ("GET", "/v1/audit", "limit=200"))
        self.assertEqual(page["trust_task"], "https://trusttasks.org/openvtc/vtc/audit/list/1.0")
        self.assertTrue(page["authorization"].startswith("Bearer "), page["authorization"])

        body = json.loads(auth["body"])
        self.assertEqual(body["type"], "https://trusttasks.org/spec/auth/authenticate/0.1")
        token = body["payload"]["id_token"]
        self.assertIsInstance(body["payload"]["session_id"], str)
        h64, c64, s64 = token.split(".")
        header = json.loads(b64u_decode(h64))
        claims = json.loads(b64u_decode(c64))
        multibase = did[len("did:key:"):]
        self.assertEqual(header, {"alg": "EdDSA", "typ": "JWT", "kid": f"{did}#{multibase}"})
        self.assertEqual(set(claims), {"iss", "sub", "aud", "nonce", "iat", "exp"})
        self.assertEqual((claims["iss"], claims["sub"], claims["aud"]), (did, did, DID))
        self.assertRegex(claims["nonce"], r"\A[0-9a-f]{64}\Z")
        self.assertIs(type(claims["iat"]), int)
        self.assertIs(type(claims["exp"]), int)
        self.assertTrue(before <= claims["iat"] <= after, (before, claims["iat"], after))
        self.assertEqual(claims["exp"], claims["iat"] + 300)
        # The signature, checked with the key inside the DID, by an
        # implementation independent of vtc-sync's.
        public = ed25519.public_key_of_did_key(did)
        signature = b64u_decode(s64)
        self.assertTrue(ed25519.verify(public, f"{h64}.{c64}".encode(), signature))
        self.assertFalse(ed25519.verify(public, f"{h64}.{c64}x".encode(), signature))
        self.assertEqual(vtc.sessions(), {did: {"logins": 1}})

    def test_nonce_and_session_are_the_challenges(self):
        """The id_token carries the challenge the VTC gave and goes with its
        session id (an injected challenge, so the values are known here;
        the VTC knows no such session and refuses the login: 78)."""
        c = self.community()
        vtc = c.start_vtc()
        nonce = "0123456789abcdef" * 4
        session = "6f1b3c2a-9d4e-4f5a-8b7c-0d1e2f3a4b5c"
        vtc.inject(route="challenge", status=200, body=json.dumps(
            {"challenge": nonce, "sessionId": session, "expiresAt": "2099-01-01T00:00:00Z"}))
        err = self.tick(c, expect=EX_CONFIG)
        line = error_line(self, err)
        self.assertIn(c.identity_did, line)
        self.assertIn("401", line)
        body = json.loads(vtc.requests("authenticate")[0]["body"])
        self.assertEqual(body["payload"]["session_id"], session)
        claims = json.loads(b64u_decode(body["payload"]["id_token"].split(".")[1]))
        self.assertEqual(claims["nonce"], nonce)
        self.assertEqual(vtc.requests("audit"), [])

    def test_the_vtc_refuses_wrong_id_tokens(self):
        """What the test VTC refuses, so that a login it accepts means
        something: a wrong aud, an expired token, a foreign key."""
        c = self.community()
        vtc = c.start_vtc()
        did, seed = c.identity_did, seed_of_pem(c.identity)
        ch = vtc.challenge(did)
        self.assertEqual(ch.status, 200, ch.text)
        nonce, session = ch.json()["challenge"], ch.json()["sessionId"]
        now = int(time.time())
        wrong = {
            "wrong aud": make_id_token(seed, did, "did:web:other.example", nonce, now, now + 300),
            "expired": make_id_token(seed, did, DID, nonce, now - 900, now - 600),
            "foreign key": make_id_token(os.urandom(32), did, DID, nonce, now, now + 300),
        }
        for name, token in wrong.items():
            with self.subTest(name):
                r = vtc.authenticate(token, session)
                self.assertEqual(r.status, 401, r.text)
                self.assertIn("authentication error", r.json()["error"])
        self.assertEqual(vtc.sessions(), {})
        good = vtc.authenticate(make_id_token(seed, did, DID, nonce, now, now + 300), session)
        self.assertEqual(good.status, 200, good.text)
        self.assertEqual(vtc.sessions(), {did: {"logins": 1}})
        # That login ended no pass; the next pass logs in anew.
        self.tick(c)
        self.assertEqual(vtc.sessions(), {did: {"logins": 2}})

    def test_a_401_after_login_means_log_in_again_once(self):
        c = self.community(audit={"page_size": 3})
        vtc = c.start_vtc()
        did = c.identity_did
        # Another login as the same DID after the first page.
        vtc.after_pages(1, "end_sessions", did=did)
        self.tick(c)
        self.assertEqual(vtc.sessions(), {did: {"logins": 2}})
        self.assertEqual([r["route"] for r in vtc.requests()],
                         ["challenge", "authenticate", "audit", "audit",
                          "challenge", "authenticate", "audit", "audit", "audit"])
        self.assertEqual([r["status"] for r in vtc.requests("audit")],
                         [200, 401, 200, 200, 200])
        audits = vtc.requests("audit")
        self.assertEqual(audits[1]["query"], audits[2]["query"], "the same page again")
        self.assertNotEqual(audits[1]["authorization"], audits[2]["authorization"])
        self.assertEqual(vtcsync.walk_state(c.db), self.file_walk(vtcsync.data_file(
            "basic.audit.jsonl")))

    def test_a_second_401_in_one_pass_is_a_config_error(self):
        """Two ended sessions in one pass: another client logs in as this
        DID; vtc-sync logs in once more per pass, no more (78)."""
        c = self.community(audit={"page_size": 3})
        vtc = c.start_vtc()
        did = c.identity_did
        vtc.after_pages(1, "end_sessions", did=did)
        vtc.after_pages(2, "end_sessions", did=did)
        err = self.tick(c, expect=EX_CONFIG)
        line = error_line(self, err)
        self.assertIn(did, line)
        self.assertIn("401", line)
        self.assertEqual(vtc.sessions(), {did: {"logins": 2}})
        self.assertIsNone(c.db.cursor(), "nothing was applied")
        self.assertEqual(c.db.counts()["jobs"], 0)


# -- the VTC's answers -------------------------------------------------------------

class Answers(VtcCase):
    def assert_degraded(self, c):
        text = self.status_text(c)
        self.assertRegex(text, DEGRADED)
        health = c.status_json()["source"]["health"]
        self.assertEqual(health["state"], "degraded")
        return health

    def test_unreachable_vtc_degrades_then_69_then_recovers(self):
        reg = self.ok_registry()
        c = self.community(registry_url=reg.url)
        lines = c.lines()
        write_lines(c.audit, lines[:6])
        vtc = c.start_vtc()
        self.tick(c)
        self.assertEqual(c.db.cursor_line(), 6)
        text = self.status_text(c)
        self.assertRegex(text, r"(?m)^source\s+http://127\.0\.0\.1:\d+ \(a VTC, over REST\)$")
        self.assertRegex(text, r"(?m)^source health\s+active$")
        self.assertEqual(c.status_json()["source"]["kind"], "vtc")
        self.assertIsNone(c.status_json()["source"]["health"], "never failed")

        # The VTC goes away (its port is held, refusing connections) while
        # its log grows.
        port = vtc.port
        vtc.stop()
        dead = socket.socket()
        dead.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        dead.bind(("127.0.0.1", port))
        self.addCleanup(dead.close)
        write_lines(c.audit, lines)
        jobs = vtcsync.walk_state(c.db)

        err = self.tick(c)
        self.assertEqual([l for l in vtcsync.error_lines(err) if l], [])
        self.assertIn("cannot be reached", err)
        self.assertEqual(c.db.cursor_line(), 6, "the walk waits")
        self.assertEqual(vtcsync.walk_state(c.db), jobs)
        health = self.assert_degraded(c)
        since = health["since"]
        self.assertIn("cannot be reached", health["last_error"])

        # Still within audit.degraded_after_seconds (default 300): 0.
        self.tick(c, env=vtcsync.faketime_env("+200s"))
        # Beyond it: 69, naming the VTC and since when.
        err = self.tick(c, expect=EX_UNAVAILABLE, env=vtcsync.faketime_env("+400s"))
        line = error_line(self, err)
        self.assertIn(f"127.0.0.1:{port}", line)
        self.assertIn("unreachable since " + since[:19], line)
        self.assertEqual(self.assert_degraded(c)["since"], since,
                         "degraded since the first failing pass")
        self.assertEqual(c.db.cursor_line(), 6)

        # The allowance is audit.degraded_after_seconds.
        c.extra.setdefault("audit", {})["degraded_after_seconds"] = 1000
        c.write_config()
        self.tick(c, env=vtcsync.faketime_env("+400s"))
        self.tick(c, expect=EX_UNAVAILABLE, env=vtcsync.faketime_env("+1100s"))

        # Back up on the same address: the walk catches up, the source is
        # active again.
        dead.close()
        back = Vtc(c.audit, DID, acl={c.identity_did: "admin"}, port=port)
        back.start()
        self.addCleanup(back.__exit__, None, None, None)
        err = self.tick(c)
        self.assertEqual(c.db.cursor_line(), 12)
        self.assertIn("6 entries read", err)
        self.assertRegex(self.status_text(c), ACTIVE_SINCE)
        health = c.status_json()["source"]["health"]
        self.assertEqual(health["state"], "active")
        self.assertIsNotNone(health["last_success"])
        self.assertGreater(ns(health["since"]), ns(since))

    def test_busy_vtc_skips_the_walk_like_an_unreachable_one(self):
        """429, 5xx, a 400 to a login (too many pending challenges), a
        connection closed unanswered and a timeout are the VTC being
        unreachable for now: exit 0, the walk waits, the source is
        degraded; the first pass that reads makes it active."""
        c = self.community(registry={"timeout_seconds": 1})
        lines = c.lines()
        write_lines(c.audit, lines[:4])
        vtc = c.start_vtc()
        self.tick(c)
        write_lines(c.audit, lines)
        walked = vtcsync.walk_state(c.db)
        did = c.identity_did

        def pending_challenges():
            # Challenges of the failed logins above are pending too.
            answers = [vtc.challenge(did).status for _ in range(10)]
            self.assertEqual(answers[-1], 400, answers)
            self.assertIn(200, answers)

        faults = [
            ("503 to a page", lambda: vtc.inject(route="audit", status=503), "HTTP 503"),
            ("429 to the challenge",
             lambda: vtc.inject(route="challenge", status=429, retry_after="5"), "HTTP 429"),
            ("502 to the authentication",
             lambda: vtc.inject(route="authenticate", status=502), "HTTP 502"),
            ("the connection closed unanswered",
             lambda: vtc.inject(route="challenge", drop=True), "cannot be reached"),
            # A 418 would be 74: the timeout (registry.timeout_seconds) comes first.
            ("a page slower than the timeout",
             lambda: vtc.inject(route="audit", status=418, delay_ms=2500), "cannot be reached"),
            ("400 to the challenge: ten challenges pending", pending_challenges, "HTTP 400"),
        ]
        since = None
        for name, fault, needle in faults:
            with self.subTest(name):
                fault()
                err = self.tick(c)
                self.assertEqual([l for l in vtcsync.error_lines(err) if l], [])
                self.assertIn(needle, err)
                self.assertEqual(c.db.cursor_line(), 4, "the walk waits")
                self.assertEqual(vtcsync.walk_state(c.db), walked)
                health = self.assert_degraded(c)
                self.assertIn(needle, health["last_error"])
                since = since or health["since"]
                self.assertEqual(health["since"], since)
        # Ten challenges stay pending for 300 s: the VTC forgets them.
        vtc.reset()
        self.tick(c)
        self.assertEqual(c.db.cursor_line(), 12)
        self.assertRegex(self.status_text(c), ACTIVE_SINCE)

    def test_401_at_login_is_a_config_error_naming_the_did(self):
        # The VTC's DID is not vtc.did: the id_token's aud is wrong.
        c = self.community()
        vtc = c.start_vtc(vtc_did="did:web:another-vtc.example")
        err = self.tick(c, expect=EX_CONFIG)
        line = error_line(self, err)
        self.assertIn(c.identity_did, line)
        self.assertIn("401", line)
        self.assertEqual([r["status"] for r in vtc.requests()], [200, 401])
        self.assertIsNone(c.db.cursor())

    def test_403_names_the_did_and_what_to_ask_for(self):
        c = self.community()
        vtc = c.start_vtc()
        did = c.identity_did
        cases = [
            ("not in the ACL", None, (), "challenge"),
            ("a member", "member", (), "audit"),
            ("an admin of some contexts", "admin", ("ctx-a",), "audit"),
        ]
        for name, role, contexts, route in cases:
            with self.subTest(name):
                vtc.set_acl(did, role, contexts)
                vtc.reset()
                err = self.tick(c, expect=EX_CONFIG)
                line = error_line(self, err)
                self.assertIn(did, line)
                self.assertIn("403", line)
                self.assertIn("ask the VTC's administrators", line)
                self.assertIn("admin with no contexts", line)
                self.assertEqual(vtc.requests()[-1]["route"], route)
                self.assertEqual(vtc.requests()[-1]["status"], 403)
                self.assertIsNone(c.db.cursor())
        vtc.set_acl(did, "admin")
        self.tick(c)
        self.assertEqual(c.db.cursor_line(), 12)

    def test_an_api_vtc_sync_does_not_speak_names_the_vtcs_version(self):
        c = self.community()
        vtc = c.start_vtc(version="0.12.3")
        shaped = json.dumps({"entries": [], "cursor": None})
        cases = [
            ("415 to the challenge", "0.12.3",
             lambda: vtc.inject(route="challenge", status=415,
                                body="Expected request with `Content-Type: application/json`"),
             "415"),
            ("a page of another shape", "0.13.0",
             lambda: vtc.inject(route="audit", status=200, body=shaped), "/v1/audit"),
            ("no audit route (404)", "1.0.0", lambda: vtc.remove_route("audit"), "404"),
        ]
        for name, version, fault, needle in cases:
            with self.subTest(name):
                vtc.set_version(version)
                fault()
                err = self.tick(c, expect=EX_CONFIG)
                line = error_line(self, err)
                self.assertIn(needle, line)
                self.assertIn(f"the VTC's version is {version}", line)
                self.assertEqual(vtc.requests()[-1]["route"], "health")
                self.assertIsNone(c.db.cursor())

    def test_any_other_answer_is_an_io_error(self):
        c = self.community()
        vtc = c.start_vtc()
        vtc.inject(route="audit", status=418)
        err = self.tick(c, expect=EX_IOERR)
        self.assertIn("418", error_line(self, err))
        self.assertIsNone(c.db.cursor())
        self.assertIsNone(c.status_json()["source"]["health"], "not unreachable")


class Tls(VtcCase):
    @classmethod
    def setUpClass(cls):
        cls.pki_dir = tempfile.mkdtemp(prefix="vtc-e2e-pki-")
        cls.pki = make_test_pki(cls.pki_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki_dir, ignore_errors=True)

    def test_tls_failure_is_a_config_error(self):
        c = self.community()
        vtc = c.start_vtc(tls_cert=self.pki["server_cert"], tls_key=self.pki["server_key"],
                          ca_file=self.pki["ca"])
        self.assertTrue(c.vtc_url.startswith("https://127.0.0.1:"))
        for name, ca in (("the system CAs", None), ("another CA", self.pki["wrong_ca"])):
            with self.subTest(name):
                c.extra["audit"] = {"ca_file": ca}
                c.write_config()
                err = self.tick(c, expect=EX_CONFIG)
                self.assertIn("TLS", error_line(self, err))
                self.assertEqual(vtc.requests(), [], "no request got through")
                self.assertIsNone(c.db.cursor())
                self.assertIsNone(c.status_json()["source"]["health"])
        c.extra["audit"] = {"ca_file": self.pki["ca"]}
        c.write_config()
        self.tick(c)
        self.assertEqual(c.db.cursor_line(), 12)
        self.assertEqual([r["status"] for r in vtc.requests()], [200, 200, 200])


class WhileUnreachable(VtcCase):
    def test_deletes_and_departures_go_out_publishes_wait(self):
        reg = self.registry()
        c = self.community(log=None, registry_url=reg.url, registry={"concurrency": 1},
                           sync={"max_jobs_per_pass": 1000, "max_backoff_seconds": 1})
        c.append_script([
            {"type": "MemberAdded", "actor": ADMIN, "target": member(n),
             "data": {"role": "member"}} for n in ("Ann", "Ben", "Cid")] + [
            {"type": "MemberRemoved", "actor": ADMIN, "target": member("Ann"),
             "data": {"disposition": "purge"}},
            {"type": "MemberRemoved", "actor": ADMIN, "target": member("Ben"),
             "data": {"disposition": "tombstone"}},
        ], seed=71)
        vtc = c.start_vtc()
        # The first pass reads everything; the registry fails every write.
        reg.inject(status=503, times=-1)
        self.tick(c)
        self.assertEqual(sorted((j["member"], j["kind"], j["attempts"]) for j in c.db.jobs()),
                         [(member("Ann"), "delete", 1), (member("Ben"), "depart", 1),
                          (member("Cid"), "publish", 1)])

        # The VTC is gone; the registry is well again. A pass a little later
        # (every retry due) sends the delete and the departure only.
        vtc.stop()
        reg.reset()
        err = self.tick(c, env=vtcsync.faketime_env("+30s"))
        self.assertIn("cannot be reached", err)
        sent = {(r["method"], r["path"].rsplit("/", 1)[-1]) for r in reg.requests()}
        self.assertEqual(sent, {("DELETE", rid(member("Ann"))), ("PUT", rid(member("Ben")))})
        self.assertFalse(reg.records()[rid(member("Ben"))]["recognized"])
        self.assertNotIn(rid(member("Cid")), reg.records())
        self.assertEqual([(j["member"], j["kind"], j["attempts"]) for j in c.db.jobs()],
                         [(member("Cid"), "publish", 1)], "the publish waits, untried")

        # The VTC is back: the publish goes out.
        c.start_vtc()
        self.tick(c, env=vtcsync.faketime_env("+30s"))
        self.assertTrue(reg.records()[rid(member("Cid"))]["recognized"])
        self.assertEqual(c.db.jobs(), [])


# -- the walk of the public vectors ---------------------------------------------

class Vectors(VtcCase):
    def test_basic_vector_gives_what_the_file_gives(self):
        expected = vtcsync.load_json("basic.registry.json")["records"]
        for mode, keys in (("strict", True), ("chain", None)):
            with self.subTest(mode):
                reg_file, reg_vtc = self.registry(), self.registry()
                f = self.file_community(keys=keys, registry_url=reg_file.url, **ALL_AT_ONCE)
                v = self.community(keys=keys, registry_url=reg_vtc.url, **ALL_AT_ONCE)
                v.start_vtc()
                err_file, err_vtc = self.tick(f), self.tick(v)
                if mode == "chain":
                    warn = [l for l in err_vtc.splitlines() if "warning" in l]
                    self.assertEqual(len(warn), 1, err_vtc)
                    self.assertIn("chain", warn[0])
                    self.assertEqual(warn, [l for l in err_file.splitlines() if "warning" in l])
                self.assertEqual(v.db.cursor_line(), 12)
                self.assertEqual(vtcsync.walk_state(v.db), vtcsync.walk_state(f.db))
                self.assertEqual(vtcsync.comparable_jobs(v.db), vtcsync.comparable_jobs(f.db))
                self.assertEqual(outcome_rows(v.db), outcome_rows(f.db))
                self.assertEqual(reg_vtc.records(), expected)
                self.assertEqual(reg_file.records(), expected)
                self.assertEqual(v.db.members(), f.db.members())

    def test_legacy_prefix(self):
        """Version-1 items arrive with zero hashes and are the legacy prefix
        they are in the file: counted, creating nothing."""
        expected = vtcsync.load_json("legacy-prefix.expected.json")
        log = vtcsync.data_file("legacy-prefix.audit.jsonl")
        c = self.community(log="legacy-prefix.audit.jsonl")
        vtc = c.start_vtc()
        # What the VTC serves really is zero hashes on the version-1 items.
        token = vtc.login(seed_of_pem(c.identity), c.identity_did)
        items = json.loads(vtc.get_audit_page(token, limit=10).body)["items"]
        self.assertEqual([(i["schema_version"], i["prev_hash"] == "A" * 43) for i in items],
                         [(2, False), (2, True), (1, True), (1, True)])
        self.tick(c)
        self.assertEqual(vtcsync.walk_state(c.db), self.file_walk(log))
        jobs = {j["member"]: j["kind"] for j in c.db.jobs()}
        self.assertEqual(sorted(jobs), sorted(expected["published"]))
        self.assertEqual(set(jobs.values()), {"publish"})
        for m in expected["not_published"]:
            self.assertNotIn(m, [x["did"] for x in c.db.members()])
        self.assertEqual(c.db.cursor_line(), 4)

        # Walked in two passes, the legacy prefix alone first.
        c2 = self.community(log="legacy-prefix.audit.jsonl")
        lines = c2.lines()
        write_lines(c2.audit, lines[:expected["legacy_rows"]])
        vtc2 = c2.start_vtc()
        self.tick(c2)
        self.assertEqual(c2.db.cursor_line(), 2)
        self.assertEqual(c2.db.counts()["jobs"], 0)
        vtc2.reset()
        self.tick(c2)
        self.assertEqual([r["query"] for r in vtc2.requests("audit")], ["limit=1"],
                         "a version-1 item can be the cursor's entry too")
        write_lines(c2.audit, lines)
        self.tick(c2)
        self.assertEqual(vtcsync.walk_state(c2.db), vtcsync.walk_state(c.db))

    def test_invalid_vectors_stop_at_the_bad_entry(self):
        for case in vtcsync.load_json("invalid.expected.json")["cases"]:
            with self.subTest(case["file"]):
                if case["file"] == "legacy-row.audit.jsonl":
                    self.check_legacy_row(case)
                else:
                    self.check_invalid(case["file"], case["first_bad_line"], case["reason"],
                                       case["good_lines_before"])

    def check_invalid(self, log, bad, reason, good, event_id=None):
        c = self.community(log=log)
        vtc = c.start_vtc()
        event_id = event_id or vtcsync.event_ids(c.audit)[bad]
        err = self.tick(c, expect=EX_DATAERR)
        line = error_line(self, err)
        self.assertIn(f"{vtc.url}/v1/audit line {bad} (event {event_id}): {reason}", line)

        # The entries before it count, as they do in the file; no job from
        # the bad entry or after it.
        self.assertEqual(c.db.cursor_line(), good)
        prefix = c.dir / "prefix.jsonl"
        write_lines(prefix, vtcsync.log_lines(c.audit)[:good])
        self.assertEqual(vtcsync.walk_state(c.db), self.file_walk(prefix))

        status = c.status_json()
        self.assertEqual(status["audit_failure"]["line"], bad)
        self.assertEqual(status["audit_failure"]["event_id"], event_id)
        self.assertEqual(status["audit_failure"]["reason"], reason)
        self.assertEqual(status["last_pass"]["exit_code"], EX_DATAERR)
        self.assertIn(f"STOPPED at line {bad} (event {event_id}): {reason}", self.status_text(c))

        # It stays stopped.
        rows = vtcsync.walk_state(c.db)
        self.tick(c, expect=EX_DATAERR)
        self.assertEqual(vtcsync.walk_state(c.db), rows)
        return c

    def check_legacy_row(self, case):
        """legacy-row inserts a version-1 row as line 8 with the timestamp
        of line 1 and a smaller event_id. A VTC serves its log in (timestamp,
        event_id) order, so that row comes first: a leading version-1
        prefix, which is accepted, counted and creates nothing. In a file
        it follows version-2 entries and is `legacy` (test_walk.py)."""
        c = self.community(log=case["file"])
        c.start_vtc()
        inserted = json.loads(c.lines()[case["first_bad_line"] - 1])
        self.assertEqual(inserted["schema_version"], 1)
        self.tick(c)
        self.assertEqual(c.db.cursor_line(), len(c.lines()))
        self.assertNotIn(inserted["target_did_plain"], [m["did"] for m in c.db.members()])
        basic = self.file_community()
        self.tick(basic)
        self.assertEqual(c.db.members(), basic.db.members())
        self.assertEqual(vtcsync.comparable_jobs(c.db), vtcsync.comparable_jobs(basic.db))
        self.assertEqual(outcome_rows(c.db), outcome_rows(basic.db))

    def test_a_line_that_is_not_json_shows_as_a_broken_link(self):
        """A line that is not a JSON object is no row of the VTC's (it skips
        it), so the entry after it comes right after the one before: its
        prev_hash does not match (broken-link), where the file walk says
        unparseable for the line itself."""
        c = self.community()
        lines = c.lines()
        ids = vtcsync.event_ids(c.audit)
        write_lines(c.audit, lines[:8] + [b"{oops"] + lines[9:])
        self.check_invalid(str(c.audit), 9, "broken-link", 8, event_id=ids[10])
        f = self.file_community(log=str(c.audit))
        code, _, err = f.tick()
        self.assertEqual(code, EX_DATAERR, err)
        self.assertIn("line 9: unparseable", error_line(self, err))

    def test_other_vectors_walk_as_in_the_file(self):
        for log in ("precision.audit.jsonl", "redacted.audit.jsonl"):
            with self.subTest(log):
                c = self.community(log=log)
                c.start_vtc()
                self.tick(c)
                self.assertEqual(c.db.cursor_line(), len(c.lines()))
                self.assertEqual(vtcsync.walk_state(c.db),
                                 self.file_walk(vtcsync.data_file(log)))
                self.assertEqual(c.db.members(), self.file_community_db(log).members())

    def file_community_db(self, log):
        f = self.file_community(log=log)
        self.tick(f)
        return f.db

    def test_an_item_vtc_sync_cannot_parse_stops_the_walk(self):
        """The VTC serves an envelope with a member too many (it ignores
        what it does not know); vtc-sync refuses it as unparseable, at its
        place in the log, with no event id (the entry is not understood)."""
        c = self.community()
        vtc = c.start_vtc()
        self.tick(c)
        c.append_script([{"type": "MemberAdded", "actor": ADMIN, "target": member(n),
                          "data": {"role": "member"}} for n in ("Xia", "Yan")], seed=5)
        lines = c.lines()
        lines[12] = lines[12].replace(b'{"event_id"', b'{"extra":1,"event_id"', 1)
        write_lines(c.audit, lines)
        err = self.tick(c, expect=EX_DATAERR)
        self.assertIn(f"{vtc.url}/v1/audit line 13: unparseable", error_line(self, err))
        self.assertEqual(c.db.cursor_line(), 12)
        failure = c.status_json()["audit_failure"]
        self.assertEqual((failure["line"], failure["reason"]), (13, "unparseable"))
        self.assertNotIn(member("Yan"), [m["did"] for m in c.db.members()])

    def test_audit_skip_steps_over_the_entry_the_walk_stopped_at(self):
        c = self.community(log="tampered.audit.jsonl")
        c.start_vtc()
        self.tick(c, expect=EX_DATAERR)
        ids = vtcsync.event_ids(c.audit)
        code, out, err = c.run("audit", "skip", "9", "--event-id", ids[9], "--yes")
        self.assertEqual(code, EX_OK, err)
        declared = json.loads(c.lines()[8])["entry_hash"]
        self.assertIn(f"skipped line 9 (event {ids[9]}, tampered)", out)
        self.assertIn(declared, out)
        self.assertEqual(c.status_json()["cursor"]["entry_hash"], declared)
        self.tick(c)
        self.assertEqual(c.db.cursor_line(), 12)
        self.assertIsNone(c.status_json()["audit_failure"])
        code, out, err = c.run("outcomes", "list", "--json")
        self.assertEqual(code, EX_OK, err)
        skipped = [d for d in map(json.loads, out.splitlines()) if d["kind"] == "entry_skipped"]
        self.assertEqual([d["detail"] for d in skipped],
                         [{"line": 9, "event_id": ids[9], "reason": "tampered"}])
        # Alice's removal (line 9) was never applied; the rest was.
        members = {m["did"]: m["status"] for m in c.db.members()}
        self.assertEqual(members["did:key:z6MkAlice"], "active")
        self.assertEqual(members["did:key:z6MkErin"], "active")
        self.assertEqual(members["did:web:dave.example"], "departed")

    def test_a_log_that_starts_mid_chain_needs_the_anchor(self):
        c = self.community()
        lines = c.lines()
        write_lines(c.audit, lines[4:])
        vtc = c.start_vtc()
        err = self.tick(c, expect=EX_DATAERR)
        first = json.loads(lines[4])["event_id"]
        self.assertIn(f"{vtc.url}/v1/audit line 1 (event {first}): broken-link",
                      error_line(self, err))
        self.assertIsNone(c.db.cursor())
        c.extra["audit"] = {"anchor": json.loads(lines[3])["entry_hash"]}
        c.write_config()
        self.tick(c)
        self.assertEqual(c.db.cursor_line(), 8)
        self.assertEqual(c.status_json()["cursor"]["entry_hash"],
                         json.loads(lines[-1])["entry_hash"])

    def test_api_path_and_a_source_with_a_trailing_slash(self):
        c = self.community()
        vtc = c.start_vtc(api_path="/vtc/api", version="0.11.99")
        err = self.tick(c, expect=EX_CONFIG)
        self.assertIn("the VTC's version is 0.11.99", error_line(self, err))
        c.extra["audit"] = {"api_path": "/vtc/api"}
        c.use_vtc(vtc.url + "/")
        self.tick(c)
        self.assertEqual(c.db.cursor_line(), 12)
        self.assertEqual([r["path"] for r in vtc.requests()],
                         ["/v1/auth/challenge", "/health", "/vtc/api/auth/challenge",
                          "/vtc/api/auth/", "/vtc/api/audit"])


# -- paging and the cursor --------------------------------------------------------

class Cursor(VtcCase):
    def test_cursor_status_and_the_idle_pass(self):
        reg = self.ok_registry()
        c = self.community(registry_url=reg.url, **ALL_AT_ONCE)
        lines = c.lines()
        write_lines(c.audit, lines[:5])
        vtc = c.start_vtc()
        self.tick(c)
        for n in (5, 12):
            write_lines(c.audit, lines[:n])
            self.tick(c)
            last = json.loads(lines[n - 1])
            cursor = c.status_json()["cursor"]
            self.assertEqual((cursor["line"], cursor["event_id"], cursor["entry_hash"]),
                             (n, last["event_id"], last["entry_hash"]))
            self.assertIn(f"entry {n}, event {last['event_id']}, entry_hash "
                          f"{last['entry_hash']}", self.status_text(c))
        self.assertEqual(c.db.counts()["jobs"], 0, "the registry took everything")

        # Nothing new: challenge, authenticate and one page of one item;
        # nothing said under -q, nothing written.
        vtc.reset()
        before = vtcsync.file_state(c.db_path)
        code, out, err = c.tick("-q")
        self.assertEqual((code, out, err), (EX_OK, "", ""))
        self.assertEqual(vtcsync.file_state(c.db_path)[""][:2], before[""][:2])
        reqs = vtc.requests()
        self.assertEqual([(r["route"], r["query"], r["status"]) for r in reqs],
                         [("challenge", "", 200), ("authenticate", "", 200),
                          ("audit", "limit=1", 200)])
        self.assertEqual(c.status_json()["cursor"]["line"], 12)

    def test_pages_of_page_size(self):
        c = self.community(audit={"page_size": 5})
        lines = c.lines()
        write_lines(c.audit, lines[:3])
        vtc = c.start_vtc()
        self.tick(c)
        write_lines(c.audit, lines)
        vtc.reset()
        self.tick(c)
        queries = [r["query"] for r in vtc.requests("audit")]
        # The idle check, then pages of 5 back to the cursor's entry (3).
        self.assertEqual(len(queries), 3, queries)
        self.assertEqual(queries[0], "limit=1")
        self.assertEqual(queries[1], "limit=5")
        self.assertRegex(queries[2], r"\Alimit=5&cursor=[A-Za-z0-9_-]+\Z")
        self.assertEqual(vtcsync.walk_state(c.db),
                         self.file_walk(vtcsync.data_file("basic.audit.jsonl")))

    def test_key_rotation_between_pages_restarts_the_pass(self):
        basic = self.file_walk(vtcsync.data_file("basic.audit.jsonl"))
        with self.subTest("first walk"):
            c = self.community(audit={"page_size": 3})
            vtc = c.start_vtc()
            vtc.after_pages(1, "rotate_key")
            err = self.tick(c)
            self.assertIn("changed its audit key", err)
            self.assertEqual([r["status"] for r in vtc.requests("audit")],
                             [200, 400, 200, 200, 200, 200])
            self.assertEqual(vtcsync.walk_state(c.db), basic)
            self.assertEqual(c.db.cursor_line(), 12)

        with self.subTest("from a cursor"):
            c = self.community(audit={"page_size": 3})
            lines = c.lines()
            write_lines(c.audit, lines[:5])
            vtc = c.start_vtc()
            self.tick(c)
            write_lines(c.audit, lines)
            vtc.reset()
            # After the idle check and the first page of 3.
            vtc.after_pages(2, "rotate_key")
            self.tick(c)
            audits = vtc.requests("audit")
            self.assertEqual([(r["query"].split("&")[0], r["status"]) for r in audits],
                             [("limit=1", 200), ("limit=3", 200), ("limit=3", 400),
                              ("limit=1", 200), ("limit=3", 200), ("limit=3", 200),
                              ("limit=3", 200)])
            self.assertEqual(vtcsync.walk_state(c.db), basic)
            self.assertEqual(c.db.cursor_line(), 12)

        with self.subTest("three restarts, no more"):
            c = self.community(audit={"page_size": 3})
            vtc = c.start_vtc()
            for n in (1, 2, 3):
                vtc.after_pages(n, "rotate_key")
            self.tick(c)
            self.assertEqual(vtcsync.walk_state(c.db), basic)

            c = self.community(audit={"page_size": 3})
            vtc = c.start_vtc()
            for n in (1, 2, 3, 4):
                vtc.after_pages(n, "rotate_key")
            err = self.tick(c)
            self.assertIn("changed its audit key 4 times", err)
            self.assertEqual([r["status"] for r in vtc.requests("audit")], [200, 400] * 4)
            self.assertIsNone(c.db.cursor())
            self.assertEqual(c.status_json()["source"]["health"]["state"], "degraded")
            self.tick(c)
            self.assertEqual(vtcsync.walk_state(c.db), basic)

    def test_entries_appended_while_a_pass_pages_come_next_pass(self):
        for name, start in (("first walk", 0), ("from a cursor", 12)):
            with self.subTest(name):
                c = self.community(log=None, audit={"page_size": 4})
                full = c.dir / "full.jsonl"
                lines = self.gen_log(c, full, 36, seed=17)
                write_lines(c.audit, lines[:start])
                vtc = c.start_vtc()
                if start:
                    self.tick(c)
                    self.assertEqual(c.db.cursor_line(), start)
                write_lines(c.audit, lines[:start + 12])
                tail = c.dir / "tail.jsonl"
                write_lines(tail, lines[start + 12:])
                # After the newest page of 4 (and the idle check of one
                # item when there is a cursor), the rest is appended.
                vtc.after_pages(2 if start else 1, "append", from_=tail)
                self.tick(c)
                self.assertEqual(c.db.cursor_line(), start + 12)
                self.assertEqual(len(vtcsync.log_lines(c.audit)), 36, "appended mid-pass")
                self.tick(c)
                self.assertEqual(c.db.cursor_line(), 36)
                self.assertEqual(vtcsync.walk_state(c.db), self.file_walk(full))

    def test_a_long_outage_pages_back_to_the_cursor(self):
        """2,500 entries with a key rotation, the last 2,400 new since the
        cursor: thirteen pages of 200 staged newest first, applied oldest
        first across batches, the same as the file gives."""
        c = self.community(log=None)
        full = c.dir / "full.jsonl"
        c.gen_audit("--entries", 2500, "--seed", 9, "--members", 300, "--min-gap-ms", 1,
                    "--rotate-at", 1200, "-o", full)
        lines = vtcsync.log_lines(full)
        write_lines(c.audit, lines[:100])
        vtc = c.start_vtc()
        self.tick(c)
        write_lines(c.audit, lines)
        vtc.reset()
        err = self.tick(c)
        self.assertIn("2400 entries read", err)
        self.assertEqual([r["query"].split("&")[0] for r in vtc.requests("audit")],
                         ["limit=1"] + ["limit=200"] * 13)
        self.assertEqual(c.db.cursor_line(), 2500)
        self.assertEqual(vtcsync.walk_state(c.db), self.file_walk(full))

    def test_rewritten_history_is_a_discontinuity(self):
        c = self.community(log=None, audit={"page_size": 4})
        lines = self.gen_log(c, c.dir / "one.jsonl", 20, seed=3)
        write_lines(c.audit, lines)
        vtc = c.start_vtc()
        self.tick(c)
        walked = vtcsync.walk_state(c.db)
        cursor = c.status_json()["cursor"]
        other = self.gen_log(c, c.dir / "two.jsonl", 20, seed=4)
        truncated_and_grown = lines[:10] + other[10:]
        for name, log in (("another chain of the same length", other),
                          ("the same chain cut short", lines[:15]),
                          ("history below the cursor replaced", truncated_and_grown)):
            with self.subTest(name):
                write_lines(c.audit, log)
                vtc.reset()
                err = self.tick(c, expect=EX_DATAERR)
                if log is not other:
                    # The first item older than the cursor's entry ends the
                    # search: the idle check and one page.
                    self.assertEqual(len(vtc.requests("audit")), 2)
                line = error_line(self, err)
                self.assertIn("discontinuity", line)
                self.assertIn(cursor["event_id"], line)
                self.assertEqual(vtcsync.walk_state(c.db), walked, "nothing enqueued")
                self.assertEqual(c.status_json()["cursor"], cursor)
                failure = c.status_json()["audit_failure"]
                self.assertEqual(failure["reason"], "discontinuity")
        # The VTC serving the chain vtc-sync knows again: idle, 0.
        write_lines(c.audit, lines)
        self.tick(c)
        self.assertIsNone(c.status_json()["audit_failure"])


# -- dry run and audit verify ---------------------------------------------------------

class DryRunAndVerify(VtcCase):
    def test_dry_run_logs_in_reads_and_writes_nothing(self):
        c = self.community()
        lines = c.lines()
        write_lines(c.audit, lines[:6])
        vtc = c.start_vtc()
        self.tick(c)
        write_lines(c.audit, lines)
        before = vtcsync.file_state(c.db_path)[""][:2]
        jobs = vtcsync.walk_state(c.db)

        code, out, err = c.run("tick", "--dry-run")
        self.assertEqual(code, EX_OK, err)
        said = [l for l in out.splitlines() if "logged in to the VTC as" in l]
        self.assertEqual(len(said), 1, out)
        self.assertIn(f"logged in to the VTC as {c.identity_did}", said[0])
        self.assertIn("session", said[0], "says it ended a running pass's session")
        self.assertIn("6 entries would be read", out)
        code, out, err = c.run("tick", "--dry-run", "--json")
        self.assertEqual(code, EX_OK, err)
        doc = json.loads(out)
        self.assertEqual(doc["vtc_login"], c.identity_did)
        self.assertEqual(doc["walk"]["entries"], 6)

        self.assertEqual(vtcsync.file_state(c.db_path)[""][:2], before, "nothing written")
        self.assertEqual(vtcsync.walk_state(c.db), jobs)
        self.assertEqual(c.db.cursor_line(), 6)
        self.assertEqual(vtc.sessions(), {c.identity_did: {"logins": 3}})
        # The real pass then reads the same six.
        err = self.tick(c)
        self.assertIn("6 entries read", err)

    def test_audit_verify_compares_heads_with_the_vtc(self):
        c = self.community()
        vtc = c.start_vtc()
        head = b64u_decode(last_entry(c.audit)["entry_hash"]).hex()
        code, out, err = c.run("audit", "verify")
        self.assertEqual(code, EX_OK, err)
        self.assertIn(f"the VTC's own verification: verified, head {head}", out)
        self.assertEqual(vtc.requests("verify")[0]["trust_task"],
                         "https://trusttasks.org/openvtc/vtc/audit/verify/1.0")
        code, out, err = c.run("audit", "verify", "--json")
        self.assertEqual(code, EX_OK, err)
        doc = json.loads(out)
        self.assertEqual(doc["vtc"], {"verified": True, "head": head, "agrees": True})
        self.assertEqual(doc["entries"], 12)

        for name, verdict in (("another head", {"verified": True, "head": "0" * 64}),
                              ("not verified", {"verified": False, "head": head})):
            with self.subTest(name):
                vtc.inject(route="verify", status=200, body=json.dumps(verdict))
                code, out, err = c.run("audit", "verify")
                self.assertEqual(code, EX_DATAERR, err)
                line = error_line(self, err)
                self.assertIn(verdict["head"], line)
                self.assertIn(head, line)
        self.assertFalse(c.db_path.exists(), "audit verify creates no database")

        # A log that fails vtc-sync's own check: 65, naming the entry.
        c.copy_log("tampered.audit.jsonl")
        code, out, err = c.run("audit", "verify")
        self.assertEqual(code, EX_DATAERR, err)
        self.assertIn("line 9", error_line(self, err))
        self.assertIn("tampered", error_line(self, err))


if __name__ == "__main__":
    unittest.main(verbosity=2)
