#!/usr/bin/env python3
"""Tests of the test VTC itself (tests/support/vtc_server.py, vtc.py and
ed25519.py), so that end-to-end tests of vtc-sync against it can trust it.
Expected values are computed here, independently of the server's code.

Run: PYTHONPATH=tests/support VTC_GEN_AUDIT=scripts/gen-audit \\
     VTC_TEST_DATA=tests/data python3 tests/e2e/test_vtc_server.py
"""

import base64
import hashlib
import hmac
import http.client
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent.parent / "support"
sys.path.insert(0, str(SUPPORT))

import ed25519  # noqa: E402
from vtc import (TT_AUTHENTICATE, TT_CHALLENGE, TT_LIST, TT_VERIFY, Vtc,  # noqa: E402
                 VtcError, authenticate_body, did_key_of_pem, did_key_of_seed,
                 make_id_token, make_test_pki, seed_of_pem, split_items)

REPO = Path(__file__).resolve().parents[2]
GEN_AUDIT = Path(os.environ.get("VTC_GEN_AUDIT") or REPO / "scripts" / "gen-audit")
DATA = Path(os.environ.get("VTC_TEST_DATA") or REPO / "tests" / "data")
VTC_DID = "did:webvh:QmCommunity:community.example"
AUDIT_KEY = bytes(range(32))
ZERO = "A" * 43
L_ORDER = 2**252 + 27742317777372353535851937790883648493


def identity(n):
    seed = hashlib.sha256(b"vtc-server-test identity %d" % n).digest()
    return seed, did_key_of_seed(seed)


ADMIN_SEED, ADMIN = identity(1)
MEMBER_SEED, MEMBER = identity(2)
CTX_SEED, CTX_ADMIN = identity(3)
OUTSIDER_SEED, OUTSIDER = identity(4)
OTHER_ADMIN_SEED, OTHER_ADMIN = identity(5)
ACL = {ADMIN: "admin", MEMBER: "member", CTX_ADMIN: ("admin", ["ctx-a"]), OTHER_ADMIN: "admin"}


# -- independent expectations ------------------------------------------------------

def lines_of(path):
    data = Path(path).read_bytes()
    assert data.endswith(b"\n"), path
    return data[:-1].split(b"\n")


def key_of(line):
    """Storage key of a line whose timestamp is UTC with Z and a fraction of
    0/3/6/9 digits that is already the shortest exact one (gen-audit's and
    the vectors' form): only the offset notation changes."""
    obj = json.loads(line)
    ts, frac = obj["timestamp"], obj["timestamp"][19:-1]
    assert ts.endswith("Z") and len(ts) >= 20, ts
    assert frac == "" or (len(frac) in (4, 7, 10) and not frac.endswith("000")), ts
    return (ts[:-1] + "+00:00:" + obj["event_id"]).encode()


def newest_first(lines):
    return sorted(lines, key=key_of, reverse=True)


def hex_of(b64):
    return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).hex()


def mint_cursor(key, rows, audit_key=AUDIT_KEY, trailing=b""):
    buf = struct.pack(">I", len(key)) + key + struct.pack(">Q", rows) + trailing
    tag = hmac.new(audit_key, buf, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(buf + tag).rstrip(b"=").decode()


def gen_audit(*args):
    res = subprocess.run([sys.executable, str(GEN_AUDIT), *map(str, args)],
                         capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise AssertionError(f"gen-audit {args}: {res.stderr}")


TMP = None
S1 = S10 = BIG = None


def setUpModule():
    global TMP, S1, S10, BIG
    TMP = tempfile.TemporaryDirectory(prefix="vtc-server-test-")
    d = Path(TMP.name)
    S1, S10, BIG = d / "s1.jsonl", d / "s10.jsonl", d / "big.jsonl"
    gen_audit("--entries", 500, "--members", 50, "--seed", 1, "--keys", d / "k1.json", "-o", S1)
    gen_audit("--entries", 500, "--members", 50, "--seed", 10, "--keys", d / "k10.json",
              "-o", S10)
    gen_audit("--entries", 20000, "--members", 2000, "--seed", 3, "--keys", d / "k3.json",
              "-o", BIG)


def tearDownModule():
    TMP.cleanup()


def page_all(vtc, token, limit, conn=None):
    """(all items in order, [(len(items), next_cursor) per page])."""
    items, pages, cursor = [], [], None
    while True:
        r = vtc.get_audit_page(token, limit=limit, cursor=cursor, conn=conn)
        if r.status != 200:
            raise AssertionError(f"page {len(pages) + 1}: {r.status} {r.text}")
        got, cursor = split_items(r.body)
        json.loads(r.body)  # the page is valid JSON as a whole
        items += got
        pages.append((len(got), cursor))
        if cursor is None:
            return items, pages


# -- Ed25519 -----------------------------------------------------------------------

class Ed25519Test(unittest.TestCase):
    VECTORS = [  # RFC 8032 section 7.1, tests 1-3: secret, public, message, signature
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc6"
         "1e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e45"
         "8f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae"
         "67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    def test_rfc8032_vectors(self):
        for secret, public, msg, sig in self.VECTORS:
            sk, pk, m, s = map(bytes.fromhex, (secret, public, msg, sig))
            self.assertEqual(ed25519.public_key(sk), pk)
            self.assertEqual(ed25519.sign(sk, m), s)
            self.assertTrue(ed25519.verify(pk, m, s))

    def test_verify_refuses_what_it_must(self):
        sk, pk, _, s = map(bytes.fromhex, self.VECTORS[1])
        m = b"\x72"
        self.assertFalse(ed25519.verify(pk, b"\x73", s))
        self.assertFalse(ed25519.verify(bytes.fromhex(self.VECTORS[0][1]), m, s))
        for i in (0, 31, 32, 63):  # a bit of R, of S
            bad = bytearray(s)
            bad[i] ^= 1
            self.assertFalse(ed25519.verify(pk, m, bytes(bad)), i)
        # S + L satisfies the group equation too: only the S < L check refuses it.
        s_plus_l = int.from_bytes(s[32:], "little") + L_ORDER
        self.assertFalse(ed25519.verify(pk, m, s[:32] + s_plus_l.to_bytes(32, "little")))
        self.assertFalse(ed25519.verify(pk, m, s[:63]))
        self.assertFalse(ed25519.verify(pk[:31], m, s))
        self.assertFalse(ed25519.verify(b"\xff" * 32, m, s))  # not a point encoding

    def test_did_key(self):
        pk = bytes.fromhex(self.VECTORS[0][1])
        did = ed25519.did_key(pk)
        self.assertTrue(did.startswith("did:key:z6Mk"), did)
        alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        n = 0
        for c in did[len("did:key:z"):]:
            n = n * 58 + alphabet.index(c)
        self.assertEqual(n.to_bytes(34, "big"), b"\xed\x01" + pk)
        self.assertEqual(ed25519.public_key_of_did_key(did), pk)
        with self.assertRaises(ValueError):
            # An X25519 did:key (multicodec 0xec01) is no Ed25519 key.
            ed25519.public_key_of_did_key(
                "did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc")

    def test_agrees_with_openssl(self):
        if not shutil.which("openssl"):
            self.skipTest("no openssl")
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            run = lambda *a: subprocess.run(["openssl", *a], capture_output=True)  # noqa: E731
            if run("genpkey", "-algorithm", "ed25519", "-out", d / "k.pem").returncode:
                self.skipTest("openssl without Ed25519")
            pub_der = run("pkey", "-in", d / "k.pem", "-pubout", "-outform", "DER").stdout
            seed = seed_of_pem(d / "k.pem")
            self.assertEqual(ed25519.public_key(seed), pub_der[-32:])
            self.assertEqual(did_key_of_pem(d / "k.pem"), ed25519.did_key(pub_der[-32:]))
            (d / "m").write_bytes(b"h.p")
            if run("pkeyutl", "-sign", "-rawin", "-inkey", d / "k.pem", "-in", d / "m",
                   "-out", d / "sig").returncode:
                self.skipTest("openssl pkeyutl without -rawin")
            sig = (d / "sig").read_bytes()
            self.assertTrue(ed25519.verify(pub_der[-32:], b"h.p", sig))
            self.assertFalse(ed25519.verify(pub_der[-32:], b"h.q", sig))
            self.assertEqual(ed25519.sign(seed, b"h.p"), sig)  # deterministic


# -- listing ------------------------------------------------------------------------

class ServerCase(unittest.TestCase):
    log = None            # class attribute: Path
    vtc_kwargs = {}

    @classmethod
    def setUpClass(cls):
        cls.vtc = Vtc(cls.log, VTC_DID, ACL, audit_key=AUDIT_KEY, **cls.vtc_kwargs).start()

    @classmethod
    def tearDownClass(cls):
        cls.vtc.__exit__(None, None, None)

    def setUp(self):
        self.vtc.reset()
        self.vtc.set_latency(0)

    def admin(self):
        return self.vtc.login(ADMIN_SEED, ADMIN)


class ListingTest(ServerCase):
    @classmethod
    def setUpClass(cls):
        cls.log = S1
        cls.lines = lines_of(S1)
        cls.expected = newest_first(cls.lines)
        super().setUpClass()

    def test_paging_returns_every_line_once_with_its_bytes(self):
        token = self.admin()
        conn = self.vtc.connect()
        try:
            first = self.vtc.get_audit_page(token, limit=37, conn=conn)
            sock = conn.sock
            self.assertIsNotNone(sock, "server closed a keep-alive connection")
            items, pages = page_all(self.vtc, token, 37, conn=conn)
            self.assertIs(conn.sock, sock, "client had to reconnect")
        finally:
            conn.close()
        self.assertEqual(split_items(first.body)[0], items[:37])
        self.assertEqual(len(items), 500)
        self.assertEqual(items, self.expected)  # exact bytes, newest first
        self.assertEqual([n for n, _ in pages], [37] * 13 + [500 - 13 * 37])
        self.assertTrue(all(isinstance(c, str) for _, c in pages[:-1]))
        self.assertEqual(len(pages), math.ceil(500 / 37))
        self.assertEqual(first.headers["content-type"], "application/json")

    def test_cursor_is_the_signed_key_of_the_oldest_item(self):
        r = self.vtc.get_audit_page(self.admin(), limit=10)
        items, cursor = split_items(r.body)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        self.assertNotIn("=", cursor)
        n = struct.unpack(">I", raw[:4])[0]
        self.assertEqual(raw[4:4 + n], key_of(items[-1]))
        self.assertEqual(struct.unpack(">Q", raw[4 + n:12 + n])[0], 500)
        self.assertEqual(len(raw), 4 + n + 8 + 32)
        self.assertEqual(raw[-32:], hmac.new(AUDIT_KEY, raw[:-32], hashlib.sha256).digest())
        self.assertEqual(cursor, mint_cursor(key_of(items[-1]), 500))

    def test_minted_cursor_pages_strictly_below_its_key(self):
        token = self.admin()
        k = key_of(self.expected[99])
        r = self.vtc.get_audit_page(token, limit=5, cursor=mint_cursor(k, 7))
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(split_items(r.body)[0], self.expected[100:105])
        # A key between two rows: the page starts at the next older row.
        between = k[:-1] + b"~"  # sorts just above row 99, below row 98
        items = split_items(self.vtc.get_audit_page(token, limit=2,
                                                    cursor=mint_cursor(between, 0)).body)[0]
        self.assertEqual(items, self.expected[99:101])
        # The longest key accepted, 1024 bytes, sorting above every row.
        r = self.vtc.get_audit_page(token, limit=1, cursor=mint_cursor(b"~" * 1024, 1))
        self.assertEqual(split_items(r.body)[0], self.expected[:1])
        # Below the oldest row: an empty last page.
        r = self.vtc.get_audit_page(token, limit=5, cursor=mint_cursor(b"0", 1))
        self.assertEqual(r.body, b'{"items":[],"next_cursor":null}')

    def test_bad_cursors_are_400(self):
        token = self.admin()
        good = mint_cursor(key_of(self.expected[9]), 500)
        raw = bytearray(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
        raw[-1] ^= 1
        bad = [
            base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode(),    # tag altered
            mint_cursor(key_of(self.expected[9]), 500, audit_key=bytes(32)),  # other key
            mint_cursor(key_of(self.expected[9]), 500, trailing=b"x"),  # trailing bytes
            mint_cursor(b"~" * 1025, 1),                                # key too long
            good + "=",                                                 # padding
            good[:-1] + ("B" if good[-1] != "B" else "C"),               # tag altered
            "", "!!!!",
        ]
        for c in bad:
            r = self.vtc.get_audit_page(token, limit=3, cursor=c)
            self.assertEqual((r.status, r.body), (400, b'{"error":"invalid pagination cursor"}'),
                             c)
        self.assertEqual(self.vtc.get_audit_page(token, limit=3, cursor=good).status, 200)

    def test_limits(self):
        token = self.admin()

        def count(query):
            r = self.vtc.request("GET", "/v1/audit" + query, headers={
                "Trust-Task": TT_LIST, "Authorization": f"Bearer {token}"})
            return r.status, (len(split_items(r.body)[0]) if r.status == 200 else r)

        self.assertEqual(count(""), (200, 50))
        self.assertEqual(count("?limit=0"), (200, 1))
        self.assertEqual(count("?limit=1"), (200, 1))
        self.assertEqual(count("?limit=200"), (200, 200))
        self.assertEqual(count("?limit=201"), (200, 200))
        self.assertEqual(count("?limit=100000"), (200, 200))
        self.assertEqual(count("?since=2026-01-01T00:00:00Z&limit=3&x"), (200, 3))
        for q in ("?limit=abc", "?limit=-1", "?limit=1.5", "?limit=",
                  "?limit=99999999999999999999", "?limit=1&limit=2"):
            status, r = count(q)
            self.assertEqual(status, 400, q)
            self.assertTrue(r.text.startswith("Failed to deserialize query string: "), r.text)
            self.assertTrue(r.headers["content-type"].startswith("text/plain"), q)
        # Authentication comes before the query: no token is 401 whatever the limit.
        r = self.vtc.request("GET", "/v1/audit?limit=abc", headers={"Trust-Task": TT_LIST})
        self.assertEqual(r.status, 401)

    def test_next_cursor_null_only_when_no_row_remains(self):
        token = self.admin()
        r = self.vtc.get_audit_page(token, limit=200)
        _, c1 = split_items(r.body)
        items, c2 = split_items(self.vtc.get_audit_page(token, limit=200, cursor=c1).body)
        self.assertIsNotNone(c2)
        # Exactly the 100 remaining rows: full page, and nothing remains below.
        items, c3 = split_items(self.vtc.get_audit_page(token, limit=100, cursor=c2).body)
        self.assertEqual((len(items), c3), (100, None))
        self.assertEqual(items, self.expected[400:])
        # 99 of the 100: one row remains, so a cursor.
        items, c4 = split_items(self.vtc.get_audit_page(token, limit=99, cursor=c2).body)
        self.assertIsNotNone(c4)
        items, c5 = split_items(self.vtc.get_audit_page(token, limit=99, cursor=c4).body)
        self.assertEqual((items, c5), (self.expected[499:], None))

    def test_rotate_key_invalidates_cursors(self):
        token = self.admin()
        _, cursor = split_items(self.vtc.get_audit_page(token, limit=5).body)
        self.assertEqual(self.vtc.get_audit_page(token, limit=5, cursor=cursor).status, 200)
        self.vtc.rotate_key()
        r = self.vtc.get_audit_page(token, limit=5, cursor=cursor)
        self.assertEqual((r.status, r.json()), (400, {"error": "invalid pagination cursor"}))
        items, fresh = split_items(self.vtc.get_audit_page(token, limit=5).body)
        self.assertEqual(items, self.expected[:5])
        self.assertNotEqual(fresh, cursor)  # signed with the new key
        self.assertEqual(self.vtc.get_audit_page(token, limit=5, cursor=fresh).status, 200)

    def test_trust_task_gate_comes_before_authentication(self):
        token = self.admin()
        cases = [  # (Trust-Task, with the token?) -> status, body
            (None, False, 400, {"error": "TrustTaskMissing",
                                "message": "request is missing required Trust-Task header"}),
            (None, True, 400, None),
            (TT_CHALLENGE, False, 415, {
                "error": "TrustTaskMismatch", "expected": TT_LIST, "received": TT_CHALLENGE,
                "message": f"Trust-Task header does not match handler (expected {TT_LIST})"}),
            (TT_LIST + "/", True, 415, None),
            ("http://trusttasks.org/openvtc/vtc/audit/list/1.0", False, 400, None),
            ("", False, 400, None),
            (TT_LIST, False, 401, None),
        ]
        for tt, with_token, status, body in cases:
            headers = {} if tt is None else {"Trust-Task": tt}
            if with_token:
                headers["Authorization"] = f"Bearer {token}"
            r = self.vtc.request("GET", "/v1/audit?limit=1", headers=headers)
            self.assertEqual(r.status, status, (tt, with_token, r.text))
            if body is not None:
                self.assertEqual(r.json(), body)
                self.assertEqual(list(r.json()), sorted(body))  # serde_json's key order
        malformed = self.vtc.request("GET", "/v1/audit", headers={"Trust-Task": "ftp://x"})
        self.assertEqual(malformed.json()["error"], "TrustTaskMalformed")
        self.assertEqual(malformed.json()["received"], "ftp://x")
        # Every API route is gated: 400 even for requests that would be refused later.
        for method, path, body in (("GET", "/v1/audit/verify", None),
                                   ("POST", "/v1/auth/challenge", {"subject": OUTSIDER}),
                                   ("POST", "/v1/auth/", {})):
            r = self.vtc.request(method, path, body, {"Content-Type": "application/json"})
            self.assertEqual((r.status, r.json()["error"]), (400, "TrustTaskMissing"), path)
        r = self.vtc.request("GET", "/v1/audit/verify", headers={"Trust-Task": TT_LIST})
        self.assertEqual((r.status, r.json()["expected"]), (415, TT_VERIFY))
        # A good header with a bad token: 401 of the auth layer.
        for auth in ("Bearer nope", "Basic abc", "Bearer"):
            r = self.vtc.request("GET", "/v1/audit", headers={"Trust-Task": TT_LIST,
                                                              "Authorization": auth})
            self.assertEqual(r.status, 401, auth)
            self.assertTrue(r.json()["error"].startswith("unauthorized: "), r.text)

    def test_verify_of_a_good_log(self):
        r = self.vtc.audit_verify(self.admin())
        self.assertEqual(r.status, 200, r.text)
        last = json.loads(self.lines[-1])
        self.assertEqual(r.body, json.dumps({
            "verified": True, "entriesExamined": 500, "entriesVerified": 500,
            "legacySkipped": 0, "unparseableSkipped": 0, "head": hex_of(last["entry_hash"])},
            separators=(",", ":")).encode())

    def test_health(self):
        r = self.vtc.request("GET", "/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, ('{"status":"ok","version":"0.11.12","vtc_did":"%s"}'
                                  % VTC_DID).encode())
        self.vtc.set_version("0.12.0")
        try:
            self.assertEqual(self.vtc.request("GET", "/health").json()["version"], "0.12.0")
        finally:
            self.vtc.set_version("0.11.12")
        self.assertEqual(self.vtc.request("GET", "/v1/health").status, 404)
        self.assertEqual(self.vtc.request("POST", "/health", b"").status, 405)

    def test_injected_503_then_normal(self):
        token = self.admin()
        self.vtc.inject(route="audit", status=503, retry_after="5")
        self.vtc.inject(route="challenge", status=500, times=2)
        r = self.vtc.get_audit_page(token, limit=2)
        self.assertEqual((r.status, r.headers.get("retry-after"), r.json()),
                         (503, "5", {"error": "injected"}))
        r = self.vtc.get_audit_page(token, limit=2)
        self.assertEqual(r.status, 200)
        self.assertNotIn("retry-after", r.headers)
        self.assertEqual(self.vtc.injections()[0]["route"], "challenge")
        self.assertEqual(self.vtc.challenge(ADMIN).status, 500)
        self.vtc.inject(route="*", status=502, body="bad gateway")
        r = self.vtc.request("GET", "/health")
        self.assertEqual((r.status, r.body), (502, b"bad gateway"))
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))
        self.assertEqual(self.vtc.challenge(ADMIN).status, 500)  # times=2, second use
        self.assertEqual(self.vtc.challenge(ADMIN).status, 200)
        self.assertEqual(self.vtc.injections(), [])
        log = self.vtc.requests()
        self.assertEqual([(q["route"], q["status"], q["injected"]) for q in log[-6:]],
                         [("audit", 503, True), ("audit", 200, False),
                          ("challenge", 500, True), ("health", 502, True),
                          ("challenge", 500, True), ("challenge", 200, False)])

    def test_injected_drop_closes_without_answer(self):
        token = self.admin()
        self.vtc.inject(route="audit", drop=True)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.vtc.get_audit_page(token, limit=2)
        self.assertEqual(self.vtc.requests("audit")[-1]["status"], "dropped")
        self.assertEqual(self.vtc.get_audit_page(token, limit=2).status, 200)

    def test_bad_injection_refused(self):
        for bad in ({"route": "audits", "status": 503}, {"route": "audit"},
                    {"route": "audit", "status": "503"}, {"status": 503, "retry-after": "5"},
                    {"status": 503, "times": 0}):
            with self.assertRaises(VtcError, msg=bad):
                self.vtc.inject(**bad)
        self.assertEqual(self.vtc.injections(), [])

    def test_latency_delays_audit_pages_only(self):
        token = self.admin()
        self.vtc.set_latency(300)
        t0 = time.monotonic()
        self.assertEqual(self.vtc.get_audit_page(token, limit=1).status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        t0 = time.monotonic()
        self.vtc.request("GET", "/health")
        self.vtc.requests()
        self.assertLess(time.monotonic() - t0, 0.3)

    def test_requests_are_recorded(self):
        self.vtc.reset()
        token = self.admin()
        self.vtc.get_audit_page(token, limit=3, cursor=None)
        log = self.vtc.requests()
        self.assertEqual([(q["method"], q["path"], q["route"], q["status"]) for q in log], [
            ("POST", "/v1/auth/challenge", "challenge", 200),
            ("POST", "/v1/auth/", "authenticate", 200),
            ("GET", "/v1/audit", "audit", 200)])
        self.assertEqual(log[0]["trust_task"], TT_CHALLENGE)
        self.assertEqual(log[0]["content_type"], "application/json")
        self.assertEqual(json.loads(log[0]["body"]), {"subject": ADMIN})
        self.assertEqual(json.loads(log[1]["body"])["type"], TT_AUTHENTICATE)
        self.assertEqual(log[2]["query"], "limit=3")
        self.assertEqual(log[2]["authorization"], f"Bearer {token}")
        self.assertEqual(log[2]["trust_task"], TT_LIST)
        self.assertEqual(self.vtc.requests("audit"), log[2:])

    def test_removed_route_is_404(self):
        with Vtc(S1, VTC_DID, ACL) as vtc:
            token = vtc.login(ADMIN_SEED, ADMIN)
            vtc.remove_route("audit")
            r = vtc.get_audit_page(token, limit=1)
            self.assertEqual((r.status, r.json()), (404, {"error": "not found"}))
            self.assertEqual(vtc.audit_verify(token).status, 200)
            vtc.remove_route("challenge")
            self.assertEqual(vtc.challenge(ADMIN).status, 404)
            self.assertEqual(vtc.request("GET", "/health").status, 200)


# -- login ---------------------------------------------------------------------------

class LoginTest(ServerCase):
    log = DATA / "basic.audit.jsonl"

    def challenge(self, did=ADMIN):
        r = self.vtc.challenge(did)
        self.assertEqual(r.status, 200, r.text)
        return r.json()

    def authenticate(self, token, session_id):
        return self.vtc.authenticate(token, session_id)

    def test_login_answer(self):
        c = self.challenge()
        self.assertEqual(list(c), ["challenge", "sessionId", "expiresAt"])
        self.assertRegex(c["challenge"], r"\A[0-9a-f]{64}\Z")
        self.assertEqual(uuid.UUID(c["sessionId"]).version, 4)
        self.assertRegex(c["expiresAt"], r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
        now = int(time.time())
        r = self.authenticate(make_id_token(ADMIN_SEED, ADMIN, VTC_DID, c["challenge"],
                                            now, now + 300), c["sessionId"])
        self.assertEqual(r.status, 200, r.text)
        body = r.json()
        self.assertEqual(list(body), ["session", "tokens"])
        s, t = body["session"], body["tokens"]
        self.assertEqual((s["id"], s["subject"], s["amr"], s["acr"]),
                         (ADMIN, ADMIN, ["did"], "aal1"))
        self.assertEqual(list(t), ["accessToken", "refreshToken", "tokenType", "expiresIn",
                                   "refreshExpiresIn"])
        self.assertEqual((t["tokenType"], t["expiresIn"], t["refreshExpiresIn"]),
                         ("Bearer", 900, 86400))
        self.assertEqual(uuid.UUID(t["refreshToken"]).version, 4)
        self.assertEqual(self.vtc.get_audit_page(t["accessToken"], limit=1).status, 200)
        self.assertEqual(self.vtc.sessions(), {ADMIN: {"logins": 1}})
        # The challenge is single use.
        r = self.authenticate(make_id_token(ADMIN_SEED, ADMIN, VTC_DID, c["challenge"],
                                            now, now + 300), c["sessionId"])
        self.assertEqual(r.status, 401)
        self.assertTrue(r.json()["error"].startswith("authentication error: "), r.text)
        self.assertEqual(self.vtc.sessions(), {ADMIN: {"logins": 1}})

    def test_bad_id_tokens_are_401_and_leave_the_challenge_usable(self):
        c = self.challenge()
        n, sid = c["challenge"], c["sessionId"]
        now = int(time.time())
        foreign_seed = hashlib.sha256(b"foreign").digest()
        mb = ADMIN.split(":", 2)[2]
        cases = [  # (id_token, session id, a fragment of the error)
            (make_id_token(ADMIN_SEED, ADMIN, "did:web:other.example", n, now, now + 300),
             sid, "`aud`"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now - 600, now - 1), sid, "expired"),
            (make_id_token(foreign_seed, ADMIN, VTC_DID, n, now, now + 300), sid, "signature"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, "0" * 64, now, now + 300), sid,
             "challenge mismatch"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now + 120, now + 300), sid, "future"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now + 50, now + 40), sid,
             "after `exp`"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, now + 300, header={"alg": "ES256"}),
             sid, "EdDSA"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, now + 300, kid=ADMIN + "#key-0"),
             sid, "`authentication` relationship"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, now + 300,
                           kid=OTHER_ADMIN + "#" + mb), sid, "`kid`"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, now + 300, header={"kid": None}),
             sid, "missing `kid`"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, now + 300,
                           claims={"sub": OTHER_ADMIN}), sid, "`sub`"),
            (make_id_token(OTHER_ADMIN_SEED, OTHER_ADMIN, VTC_DID, n, now, now + 300), sid,
             "challenge session's DID"),
            (make_id_token(ADMIN_SEED, ADMIN, [VTC_DID], n, now, now + 300), sid, "JSON"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, str(now), now + 300), sid, "JSON"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, now + 300.0), sid, "JSON"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, None), sid, "missing `exp`"),
            (make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, now + 300), str(uuid.uuid4()),
             "session not found"),
            ("a", sid, "JWS"),
            ("a.b", sid, "base64url"),
        ]
        for token, session, why in cases:
            r = self.authenticate(token, session)
            self.assertEqual(r.status, 401, (why, r.text))
            err = r.json()["error"]
            self.assertTrue(err.startswith("authentication error: "), err)
            self.assertIn(why, err)
        # Wrong envelope type: not a SIOP login at all.
        good = make_id_token(ADMIN_SEED, ADMIN, VTC_DID, n, now, now + 300)
        body = authenticate_body(good, sid)
        body["type"] = "https://trusttasks.org/spec/auth/authenticate/0.2"
        r = self.vtc.request("POST", "/v1/auth/", body, {"Trust-Task": TT_AUTHENTICATE})
        self.assertEqual(r.status, 401)
        # None of this used the challenge up.
        self.assertEqual(self.vtc.sessions(), {})
        r = self.authenticate(good, sid)
        self.assertEqual(r.status, 200, r.text)
        # alg compares case-insensitively.
        c = self.challenge()
        r = self.authenticate(make_id_token(ADMIN_SEED, ADMIN, VTC_DID, c["challenge"], now,
                                            now + 300, header={"alg": "eddsa"}), c["sessionId"])
        self.assertEqual(r.status, 200, r.text)

    def test_acl_gates(self):
        r = self.vtc.challenge(OUTSIDER)
        self.assertEqual((r.status, r.json()),
                         (403, {"error": f"forbidden: DID not in ACL: {OUTSIDER}"}))
        for seed, did in ((MEMBER_SEED, MEMBER), (CTX_SEED, CTX_ADMIN)):
            token = self.vtc.login(seed, did)
            for r in (self.vtc.get_audit_page(token, limit=1), self.vtc.audit_verify(token)):
                self.assertEqual((r.status, r.json()),
                                 (403, {"error": "forbidden: super admin required"}), did)
        # The ACL can change: removal stops new logins; a new admin can log in.
        self.vtc.set_acl(OUTSIDER, "admin")
        token = self.vtc.login(OUTSIDER_SEED, OUTSIDER)
        self.assertEqual(self.vtc.get_audit_page(token, limit=1).status, 200)
        self.vtc.set_acl(OUTSIDER, None)
        self.assertEqual(self.vtc.challenge(OUTSIDER).status, 403)
        # Removed between challenge and authenticate: refused too.
        self.vtc.set_acl(OUTSIDER, "admin")
        c = self.challenge(OUTSIDER)
        self.vtc.set_acl(OUTSIDER, None)
        now = int(time.time())
        r = self.authenticate(make_id_token(OUTSIDER_SEED, OUTSIDER, VTC_DID, c["challenge"],
                                            now, now + 300), c["sessionId"])
        self.assertEqual(r.status, 403, r.text)

    def test_one_session_per_did(self):
        first = self.vtc.login(ADMIN_SEED, ADMIN)
        other = self.vtc.login(OTHER_ADMIN_SEED, OTHER_ADMIN)
        self.assertEqual(self.vtc.get_audit_page(first, limit=1).status, 200)
        second = self.vtc.login(ADMIN_SEED, ADMIN)
        r = self.vtc.get_audit_page(first, limit=1)
        self.assertEqual((r.status, r.json()), (401, {"error": "unauthorized: token superseded"}))
        self.assertEqual(self.vtc.get_audit_page(second, limit=1).status, 200)
        self.assertEqual(self.vtc.get_audit_page(other, limit=1).status, 200)  # other DID
        self.assertEqual(self.vtc.sessions(), {ADMIN: {"logins": 2}, OTHER_ADMIN: {"logins": 1}})
        self.vtc.end_sessions(ADMIN)
        self.assertEqual(self.vtc.get_audit_page(second, limit=1).status, 401)
        self.assertEqual(self.vtc.audit_verify(second).status, 401)
        self.assertEqual(self.vtc.get_audit_page(other, limit=1).status, 200)
        third = self.vtc.login(ADMIN_SEED, ADMIN)
        self.assertEqual(self.vtc.get_audit_page(third, limit=1).status, 200)

    def test_challenge_request_rules(self):
        path, tt = "/v1/auth/challenge", {"Trust-Task": TT_CHALLENGE}
        r = self.vtc.request("POST", path, {"subject": ADMIN}, tt)
        self.assertEqual(r.status, 415)
        r = self.vtc.request("POST", path, {"subject": ADMIN},
                             {**tt, "Content-Type": "text/plain"})
        self.assertEqual(r.status, 415)
        json_ct = {**tt, "Content-Type": "application/json; charset=utf-8"}
        self.assertEqual(self.vtc.request("POST", path, b"{nope", json_ct).status, 400)
        self.assertEqual(self.vtc.request("POST", path, b"", json_ct).status, 400)
        self.assertEqual(self.vtc.request("POST", path, {"did": ADMIN}, json_ct).status, 200)
        self.assertEqual(self.vtc.request("POST", path, {"who": ADMIN}, json_ct).status, 422)
        self.assertEqual(self.vtc.request("POST", path, {"subject": ADMIN, "did": ADMIN},
                                          json_ct).status, 422)
        self.assertEqual(self.vtc.request("GET", path, headers=tt).status, 405)
        self.assertEqual(self.vtc.request("POST", "/v1/auth", {}, json_ct).status, 404)

    def test_at_most_ten_pending_challenges_per_did(self):
        for i in range(9):  # the alias request above is not in this test: reset() ran
            self.challenge(OTHER_ADMIN)
        last = self.challenge(OTHER_ADMIN)  # the tenth
        r = self.vtc.challenge(OTHER_ADMIN)
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(self.vtc.challenge(ADMIN).status, 200)  # per DID
        # Using one frees a slot.
        now = int(time.time())
        token = make_id_token(OTHER_ADMIN_SEED, OTHER_ADMIN, VTC_DID, last["challenge"], now,
                              now + 300)
        self.assertEqual(self.authenticate(token, last["sessionId"]).status, 200)
        self.assertEqual(self.vtc.challenge(OTHER_ADMIN).status, 200)
        self.assertEqual(self.vtc.challenge(OTHER_ADMIN).status, 400)

    def test_keep_alive_for_a_whole_pass(self):
        conn = self.vtc.connect()
        try:
            token = self.vtc.login(ADMIN_SEED, ADMIN, conn=conn)
            sock = conn.sock
            self.assertIsNotNone(sock)
            items, _ = page_all(self.vtc, token, 5, conn=conn)
            self.assertEqual(self.vtc.audit_verify(token, conn=conn).status, 200)
            self.assertIs(conn.sock, sock, "client had to reconnect")
        finally:
            conn.close()
        self.assertEqual(items, newest_first(lines_of(self.log)))


class ExpiryTest(unittest.TestCase):
    def test_expired_access_token_and_challenge(self):
        with Vtc(DATA / "basic.audit.jsonl", VTC_DID, ACL, access_ttl=1, challenge_ttl=1) as vtc:
            stale = vtc.challenge(ADMIN).json()
            token = vtc.login(ADMIN_SEED, ADMIN)
            self.assertEqual(vtc.get_audit_page(token, limit=1).status, 200)
            time.sleep(2.05)
            r = vtc.get_audit_page(token, limit=1)
            self.assertEqual(r.status, 401)
            self.assertIn("Expired", r.json()["error"])
            now = int(time.time())
            r = vtc.authenticate(make_id_token(ADMIN_SEED, ADMIN, VTC_DID, stale["challenge"],
                                               now, now + 300), stale["sessionId"])
            self.assertEqual((r.status, r.json()),
                             (401, {"error": "authentication error: challenge expired"}))


# -- logs with legacy, bad and tampered rows ------------------------------------------

class LogShapesTest(unittest.TestCase):
    def serve(self, log, **kw):
        vtc = Vtc(log, VTC_DID, ACL, **kw).start()
        self.addCleanup(vtc.__exit__, None, None, None)
        return vtc, vtc.login(ADMIN_SEED, ADMIN)

    def test_legacy_rows_gain_zero_hashes_before_event(self):
        lines = lines_of(DATA / "legacy-prefix.audit.jsonl")
        vtc, token = self.serve(DATA / "legacy-prefix.audit.jsonl")
        items, pages = page_all(vtc, token, 3)
        expected = []
        for line in newest_first(lines):
            if json.loads(line)["schema_version"] == 1:
                self.assertEqual(line.count(b'"event":'), 1)
                line = line.replace(b',"event":', b',"prev_hash":"%s","entry_hash":"%s","event":'
                                    % (ZERO.encode(), ZERO.encode()))
            expected.append(line)
        self.assertEqual(items, expected)
        self.assertEqual(len(pages), 2)
        legacy = [json.loads(i) for i in items if json.loads(i)["schema_version"] == 1]
        self.assertEqual(len(legacy), 2)
        for env in legacy:
            self.assertEqual(list(env)[-3:], ["prev_hash", "entry_hash", "event"])
        r = vtc.audit_verify(token)
        self.assertEqual(r.json(), {
            "verified": True, "entriesExamined": 4, "entriesVerified": 2, "legacySkipped": 2,
            "unparseableSkipped": 0, "head": hex_of(json.loads(lines[-1])["entry_hash"])})

    def test_break_index_counts_legacy_rows(self):
        lines = lines_of(DATA / "legacy-prefix.audit.jsonl")
        self.assertEqual(lines, sorted(lines, key=key_of))
        self.assertEqual([json.loads(x)["schema_version"] for x in lines], [1, 1, 2, 2])
        self.assertEqual(lines[3].count(b'"role":"member"'), 1)
        with tempfile.TemporaryDirectory() as d:
            log = Path(d) / "log.jsonl"
            log.write_bytes(b"\n".join(lines[:3] + [lines[3].replace(
                b'"role":"member"', b'"role":"admin"')]) + b"\n")
            vtc, token = self.serve(log)
            self.assertEqual(vtc.audit_verify(token).json(), {
                "verified": False, "entriesExamined": 4, "entriesVerified": 1,
                "legacySkipped": 2, "unparseableSkipped": 0,
                "head": hex_of(json.loads(lines[2])["entry_hash"]),
                "chainBreak": {"kind": "tamperedEntry", "index": 3,
                               "eventId": json.loads(lines[3])["event_id"]}})

    def test_verify_reports_a_tampered_entry(self):
        lines = lines_of(DATA / "tampered.audit.jsonl")
        self.assertEqual(lines, sorted(lines, key=key_of))  # key order is file order here
        vtc, token = self.serve(DATA / "tampered.audit.jsonl")
        self.assertEqual(vtc.audit_verify(token).body, json.dumps({
            "verified": False, "entriesExamined": 9, "entriesVerified": 8, "legacySkipped": 0,
            "unparseableSkipped": 0, "head": hex_of(json.loads(lines[7])["entry_hash"]),
            "chainBreak": {"kind": "tamperedEntry", "index": 8,
                           "eventId": json.loads(lines[8])["event_id"]}},
            separators=(",", ":")).encode())
        # The listing still serves every row.
        self.assertEqual(page_all(vtc, token, 200)[0], newest_first(lines))

    def test_verify_reports_a_broken_link(self):
        lines = lines_of(DATA / "dropped.audit.jsonl")
        self.assertEqual(lines, sorted(lines, key=key_of))
        vtc, token = self.serve(DATA / "dropped.audit.jsonl")
        v = vtc.audit_verify(token).json()
        self.assertEqual((v["verified"], v["chainBreak"]), (False, {
            "kind": "brokenLink", "index": 4, "eventId": json.loads(lines[4])["event_id"]}))
        self.assertEqual(v["head"], hex_of(json.loads(lines[3])["entry_hash"]))

    def test_key_order_decides_not_write_order(self):
        # Seed 10 writes two entries with one timestamp whose event ids sort
        # against their write order: the listing and verify follow the key.
        lines = lines_of(S10)
        i = next(i for i in range(1, len(lines))
                 if json.loads(lines[i])["timestamp"] == json.loads(lines[i - 1])["timestamp"])
        self.assertGreater(key_of(lines[i - 1]), key_of(lines[i]))
        vtc, token = self.serve(S10)
        items = page_all(vtc, token, 200)[0]
        self.assertEqual(items, newest_first(lines))
        self.assertLess(items.index(lines[i - 1]), items.index(lines[i]))
        v = vtc.audit_verify(token).json()
        self.assertEqual(v["chainBreak"], {"kind": "brokenLink", "index": i - 1,
                                           "eventId": json.loads(lines[i])["event_id"]})
        self.assertEqual(v["entriesVerified"], i - 1)

    def test_unparseable_lines_are_skipped(self):
        lines = lines_of(DATA / "basic.audit.jsonl")
        self.assertEqual(lines, sorted(lines, key=key_of))
        bad = json.loads(lines[5])
        bad["actor_did_hash"] = bad["actor_did_hash"][:-1] + "B"  # non-canonical base64url
        bad_line = json.dumps(bad, separators=(",", ":")).encode()
        self.assertNotEqual(bad_line, lines[5])
        dup = lines[6][:-1] + b',"event_version":1}'               # duplicate member
        with tempfile.TemporaryDirectory() as d:
            log = Path(d) / "log.jsonl"
            log.write_bytes(b"\n".join(lines[:5] + [b"not json", bad_line, dup, b"[1,2]", b""]
                                       + lines[7:]) + b"\n")
            vtc, token = self.serve(log)
            items, _ = page_all(vtc, token, 2)
            good = lines[:5] + lines[7:]
            self.assertEqual(items, newest_first(good))
            v = vtc.audit_verify(token).json()
            # Two rows with keys (bad_line, dup) and three lines that are no row.
            self.assertEqual((v["unparseableSkipped"], v["entriesExamined"]), (5, 6))
            self.assertEqual(v["chainBreak"]["kind"], "brokenLink")  # line 6/7 are missing
            # The rows without envelope still count: the cursor's row count.
            r = vtc.get_audit_page(token, limit=1)
            cursor = split_items(r.body)[1]
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            n = struct.unpack(">I", raw[:4])[0]
            self.assertEqual(struct.unpack(">Q", raw[4 + n:12 + n])[0], len(lines))
            # An incomplete last line is not there yet; completing it adds it.
            extra = lines_of(S1)[0]
            with open(log, "ab") as f:
                f.write(extra[:50])
            self.assertEqual(page_all(vtc, token, 200)[0], newest_first(good))
            with open(log, "ab") as f:
                f.write(extra[50:] + b"\n")
            self.assertEqual(page_all(vtc, token, 200)[0], newest_first(good + [extra]))


# -- one-shot triggers -------------------------------------------------------------------

class AfterPagesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        d = Path(self.dir.name)
        self.log = d / "log.jsonl"
        shutil.copy(DATA / "basic.audit.jsonl", self.log)
        longer = d / "longer.jsonl"
        shutil.copy(self.log, longer)
        gen_audit("--entries", 3, "--seed", 5, "--keys", DATA / "basic.keys.json", "--append",
                  "-o", longer)
        self.extra = d / "extra.jsonl"
        self.extra.write_bytes(longer.read_bytes()[self.log.stat().st_size:])
        self.vtc = Vtc(self.log, VTC_DID, ACL).start()
        self.addCleanup(self.vtc.__exit__, None, None, None)
        self.token = self.vtc.login(ADMIN_SEED, ADMIN)

    def page(self, limit, cursor=None, token=None):
        return self.vtc.get_audit_page(token or self.token, limit=limit, cursor=cursor)

    def test_append(self):
        base = lines_of(self.log)
        extra = lines_of(self.extra)
        self.assertEqual(len(extra), 3)
        self.vtc.after_pages(2, "append", from_=self.extra)
        self.assertEqual(self.page(1, token="nope").status, 401)   # not a page
        items, c1 = split_items(self.page(4).body)
        self.assertEqual(lines_of(self.log), base)                  # not yet
        items2, c2 = split_items(self.page(4, c1).body)
        self.assertEqual(lines_of(self.log), base + extra)          # right after page 2
        self.assertEqual(items + items2, newest_first(base)[:8])
        items3, _ = split_items(self.page(10, c2).body)             # below the cursor: same
        self.assertEqual(items3, newest_first(base)[8:])
        fresh, _ = split_items(self.page(5).body)
        self.assertEqual(fresh, newest_first(base + extra)[:5])
        self.assertEqual(fresh[:3], newest_first(extra))
        self.vtc.after_pages(1, "append", from_=self.extra)
        self.vtc.reset()                                            # forgets triggers
        self.assertEqual(self.page(1, token=self.vtc.login(ADMIN_SEED, ADMIN)).status, 200)
        self.assertEqual(lines_of(self.log), base + extra)

    def test_rotate_key(self):
        self.vtc.after_pages(2, "rotate_key")
        _, c1 = split_items(self.page(3).body)
        r = self.page(3, c1)
        self.assertEqual(r.status, 200)
        _, c2 = split_items(r.body)
        r = self.page(3, c2)
        self.assertEqual((r.status, r.json()), (400, {"error": "invalid pagination cursor"}))
        _, c3 = split_items(self.page(3).body)
        self.assertEqual(self.page(3, c3).status, 200)  # one-shot

    def test_end_sessions(self):
        self.vtc.after_pages(1, "end_sessions", did=ADMIN)
        self.assertEqual(self.page(3).status, 200)
        r = self.page(3)
        self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized: token superseded"))
        token = self.vtc.login(ADMIN_SEED, ADMIN)
        self.assertEqual(self.page(3, token=token).status, 200)
        self.assertEqual(self.page(3, token=token).status, 200)

    def test_bad_triggers_refused(self):
        for bad in ({"do": "rotate_key"}, {"pages": 0, "do": "rotate_key"},
                    {"pages": 1, "do": "explode"}, {"pages": 1, "do": "end_sessions"},
                    {"pages": 1, "do": "append", "from": "/nonexistent"}):
            with self.assertRaises(VtcError, msg=bad):
                self.vtc._control("POST", "after-pages", bad)


# -- size, TLS, process -------------------------------------------------------------------

class BigLogTest(unittest.TestCase):
    def test_pages_of_a_20000_entry_log_are_cheap(self):
        lines = lines_of(BIG)
        with Vtc(BIG, VTC_DID, ACL) as vtc:
            token = vtc.login(ADMIN_SEED, ADMIN)
            conn = vtc.connect(timeout=60)
            try:
                r = vtc.get_audit_page(token, limit=200, conn=conn)  # parses the log
                items, cursor = split_items(r.body)
                t0 = time.monotonic()
                more, pages = page_all_from(vtc, token, cursor, conn)
                elapsed = time.monotonic() - t0
            finally:
                conn.close()
        self.assertEqual(items + more, newest_first(lines))
        self.assertEqual(len(pages), 99)
        # Re-parsing 20,000 lines for each page would take several seconds.
        self.assertLess(elapsed, 10.0)


def page_all_from(vtc, token, cursor, conn):
    items, pages = [], []
    while cursor is not None:
        r = vtc.get_audit_page(token, limit=200, cursor=cursor, conn=conn)
        got, cursor = split_items(r.body)
        items += got
        pages.append(len(got))
    return items, pages


class TlsTest(unittest.TestCase):
    def test_https(self):
        with tempfile.TemporaryDirectory() as d:
            pki = make_test_pki(d)
            with Vtc(DATA / "basic.audit.jsonl", VTC_DID, ACL, tls_cert=pki["server_cert"],
                     tls_key=pki["server_key"], ca_file=pki["ca"]) as vtc:
                self.assertTrue(vtc.url.startswith("https://127.0.0.1:"))
                self.assertEqual(vtc.api_url, vtc.url + "/v1")
                token = vtc.login(ADMIN_SEED, ADMIN)
                items, _ = page_all(vtc, token, 5)
                self.assertEqual(items, newest_first(lines_of(DATA / "basic.audit.jsonl")))
                self.assertEqual(vtc.sessions(), {ADMIN: {"logins": 1}})  # control over TLS
                conn = http.client.HTTPConnection("127.0.0.1", vtc.port, timeout=5)
                try:
                    with self.assertRaises((http.client.HTTPException, ConnectionError)):
                        conn.request("GET", "/health")
                        conn.getresponse()
                finally:
                    conn.close()


class LifecycleTest(unittest.TestCase):
    def test_refuses_non_loopback_host_and_bad_arguments(self):
        server = str(SUPPORT / "vtc_server.py")
        base = [sys.executable, server, "--log", "/dev/null", "--vtc-did", VTC_DID]
        for extra in (["--host", "0.0.0.0"], ["--acl", f"{ADMIN}=owner"],
                      ["--audit-key", "00"], ["--api-path", "/v1/"]):
            res = subprocess.run(base + extra, capture_output=True, text=True, timeout=10)
            self.assertEqual((res.returncode, res.stdout), (2, ""), extra)

    def test_port_file_stdout_and_sigterm(self):
        with tempfile.TemporaryDirectory() as d:
            port_file = os.path.join(d, "port")
            vtc = Vtc(DATA / "basic.audit.jsonl", VTC_DID, {ADMIN: "admin"},
                      port_file=port_file, api_path="/api/v2").start()
            try:
                with open(port_file) as f:
                    self.assertEqual(int(f.read()), vtc.port)
                self.assertEqual(vtc.api_url, vtc.url + "/api/v2")
                token = vtc.login(ADMIN_SEED, ADMIN)
                self.assertEqual(vtc.get_audit_page(token, limit=1).status, 200)
                self.assertEqual(vtc.request("GET", "/v1/audit").status, 404)
                conn = vtc.connect()
                conn.request("GET", "/health")
                conn.getresponse().read()  # an idle keep-alive connection stays open
                t0 = time.monotonic()
                self.assertEqual(vtc.stop(), 0)
                self.assertLess(time.monotonic() - t0, 3)
                conn.close()
                self.assertEqual(vtc.stderr_text(), "")
            finally:
                vtc.__exit__(None, None, None)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", vtc.port), timeout=2).close()
        # stdout carries the one line; SIGTERM is a clean exit.
        proc = subprocess.Popen([sys.executable, str(SUPPORT / "vtc_server.py"), "--log",
                                 "/dev/null", "--vtc-did", VTC_DID], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        first = proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        self.assertEqual(first.split()[:2], [b"listening", b"127.0.0.1"])
        self.assertEqual((out, err, proc.returncode), (b"", b"", 0))


if __name__ == "__main__":
    unittest.main()
