#!/usr/bin/env python3
"""Tests of the test registry itself (tests/support/registry_server.py), so
that end-to-end tests of vtc-sync can trust what it reports.

Run: PYTHONPATH=tests/support python3 tests/e2e/test_registry_server.py
"""

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent.parent / "support"
sys.path.insert(0, str(SUPPORT))

from registry import Registry, RegistryError, make_test_pki, record_id  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"
VECTOR = json.loads((DATA / "basic.registry.json").read_text())
AUTHORITY = VECTOR["vtc_did"]


def make_record(entity, authority=AUTHORITY, recognized=True):
    return {"entity_id": entity, "authority_id": authority, "action": "recognise",
            "resource": "trust-graph", "record_type": "recognition",
            "recognized": recognized,
            "context": {"status": "active", "activeFrom": "2026-01-01T00:00:00Z",
                        "role": "member"}}


class Client:
    """Minimal raw HTTP client over http.client (one connection per call
    unless a connection is passed), so tests see exactly what is on the wire."""

    def __init__(self, reg, context=None):
        self.reg = reg
        self.context = context

    def connect(self):
        if self.reg.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.reg.port, timeout=10,
                                               context=self.context)
        return http.client.HTTPConnection("127.0.0.1", self.reg.port, timeout=10)

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or self.connect()
        try:
            data = None if body is None else (
                body if isinstance(body, bytes) else json.dumps(body).encode())
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
            payload = json.loads(raw) if raw and "json" in (resp.getheader("Content-Type") or "") else raw
            return resp.status, dict(resp.getheaders()), payload
        finally:
            if own:
                conn.close()

    def put(self, rid, record, key="k1", extra=None, **kw):
        headers = {"Content-Type": "application/json", **(extra or {})}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.request("PUT", f"{self.reg.admin_path}/records/{rid}",
                            {"record": record}, headers, **kw)

    def get(self, rid, **kw):
        return self.request("GET", f"{self.reg.admin_path}/records/{rid}", **kw)

    def delete(self, rid, key="d1", **kw):
        headers = {} if key is None else {"Idempotency-Key": key}
        return self.request("DELETE", f"{self.reg.admin_path}/records/{rid}", headers=headers, **kw)


class RegistryTestCase(unittest.TestCase):
    registry_kwargs = {}

    def setUp(self):
        self.reg = Registry(**self.registry_kwargs).start()
        self.addCleanup(self.reg.__exit__, None, None, None)
        self.c = Client(self.reg)


class RecordsApiTest(RegistryTestCase):
    def test_vector_ids_match_spec_hash(self):
        # The server's id rule must agree with the public vector.
        for rid, rec in VECTOR["records"].items():
            self.assertEqual(record_id(rec["authority_id"], rec["entity_id"],
                                       rec["action"], rec["resource"]), rid)

    def test_put_with_wrong_id_is_400_and_not_stored(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        wrong = rid[:-1] + ("0" if rid[-1] != "0" else "1")
        status, _, body = self.c.put(wrong, rec)
        self.assertEqual(status, 400)
        self.assertIn("SHA-256", body["error"])
        # Upper-case hex is not the canonical id either.
        self.assertEqual(self.c.put(rid.upper(), rec)[0], 400)
        self.assertEqual(self.reg.records(), {})
        self.assertEqual(self.reg.writes(), {})

    def test_put_without_idempotency_key_is_400(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        status, _, body = self.c.put(rid, rec, key=None)
        self.assertEqual(status, 400)
        self.assertIn("Idempotency-Key", body["error"])
        self.assertEqual(self.reg.records(), {})
        log = self.reg.requests()
        self.assertEqual(len(log), 1)
        self.assertIsNone(log[0]["idempotency_key"])
        self.assertEqual(log[0]["status"], 400)

    def test_put_body_must_be_exactly_record_wrapper(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        path = f"{self.reg.admin_path}/records/{rid}"
        hdr = {"Idempotency-Key": "x"}
        for bad in ([rec], rec, {"record": rec, "extra": 1}, {"record": "x"},
                    {"record": {**rec, "recognized": "yes"}},
                    {"record": {**rec, "context": {"n": 1}}}):
            self.assertEqual(self.c.request("PUT", path, bad, hdr)[0], 400, bad)
        self.assertEqual(self.c.request("PUT", path, b"{not json", hdr)[0], 400)
        dup = b'{"record": %s, "record": %s}' % ((json.dumps(rec).encode(),) * 2)
        self.assertEqual(self.c.request("PUT", path, dup, hdr)[0], 400)
        self.assertEqual(self.reg.records(), {})

    def test_put_then_get_roundtrip(self):
        for rid, rec in VECTOR["records"].items():
            status, _, body = self.c.put(rid, rec, key="job-" + rid[:8])
            self.assertEqual(status, 200)
            self.assertEqual(body, {"record": rec})
        for rid, rec in VECTOR["records"].items():
            status, _, body = self.c.get(rid)
            self.assertEqual((status, body), (200, {"record": rec}))
        self.assertEqual(self.reg.records(), VECTOR["records"])
        self.assertEqual(self.reg.writes(), {rid: 1 for rid in VECTOR["records"]})
        self.assertEqual(self.c.get("0" * 64)[0], 404)

    def test_idempotent_replay_is_not_a_new_write(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        first = self.c.put(rid, rec, key="job1")
        again = self.c.put(rid, rec, key="job1")
        self.assertEqual(first[0], 200)
        self.assertEqual((again[0], again[2]), (first[0], first[2]))
        self.assertEqual(again[1].get("Idempotent-Replayed"), "true")
        self.assertEqual(self.reg.writes(), {rid: 1})
        # Same key, different body: a client bug, refused (IETF draft: 422).
        changed = {**rec, "recognized": not rec["recognized"]}
        self.assertEqual(self.c.put(rid, changed, key="job1")[0], 422)
        self.assertEqual(self.reg.records()[rid], rec)
        # A new key is a new effective write even with identical content.
        self.assertEqual(self.c.put(rid, rec, key="job1/r1")[0], 200)
        self.assertEqual(self.reg.writes(), {rid: 2})
        self.assertEqual([r["replayed"] for r in self.reg.requests()], [False, True, False, False])

    def test_delete(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        self.assertEqual(self.c.delete(rid, key="d0")[0], 404)  # absent
        self.assertEqual(self.c.delete(rid, key=None)[0], 400)   # no key
        self.c.put(rid, rec)
        status, headers, body = self.c.delete(rid, key="d1")
        self.assertEqual((status, body), (204, b""))
        self.assertNotIn(rid, self.reg.records())
        self.assertEqual(self.c.get(rid)[0], 404)
        self.assertEqual(self.reg.writes(), {rid: 2})  # the PUT and the DELETE

    def test_listing_pagination_returns_everything_once(self):
        entities = [f"did:key:z6Mk{n}" for n in ("A", "B", "C", "D", "E")]
        expected = {}
        for e in entities:
            rec = make_record(e)
            rid = record_id(AUTHORITY, e)
            expected[rid] = rec
            self.assertEqual(self.c.put(rid, rec, key=e)[0], 200)
        other = make_record("did:key:z6MkOther", authority="did:web:other.example")
        self.c.put(record_id("did:web:other.example", "did:key:z6MkOther"), other, key="o")

        seen, cursor, pages = [], None, 0
        while True:
            q = f"authority_id={AUTHORITY}&limit=2" + (f"&cursor={cursor}" if cursor else "")
            status, _, body = self.c.request("GET", f"{self.reg.admin_path}/records?{q}")
            self.assertEqual(status, 200)
            self.assertLessEqual(len(body["records"]), 2)
            seen += body["records"]
            pages += 1
            cursor = body["nextCursor"]
            if cursor is None:
                break
            self.assertIsInstance(cursor, str)
        self.assertEqual(pages, 3)
        ids = [record_id(r["authority_id"], r["entity_id"]) for r in seen]
        self.assertEqual(ids, sorted(expected))  # every one, once, in id order
        self.assertEqual(seen, [expected[i] for i in ids])

        # Default limit returns all five; the probe form (limit=1) pages.
        body = self.c.request("GET", f"{self.reg.admin_path}/records?authority_id={AUTHORITY}")[2]
        self.assertEqual((len(body["records"]), body["nextCursor"]), (5, None))
        body = self.c.request("GET", f"{self.reg.admin_path}/records?authority_id={AUTHORITY}&limit=1")[2]
        self.assertEqual(len(body["records"]), 1)
        self.assertIsNotNone(body["nextCursor"])
        for bad in ("limit=0", "limit=x", "cursor=%21%21", ""):
            q = f"authority_id={AUTHORITY}&{bad}" if bad else "limit=1"
            self.assertEqual(self.c.request("GET", f"{self.reg.admin_path}/records?{q}")[0], 400, bad)

    def test_unknown_paths_and_methods(self):
        a = self.reg.admin_path
        self.assertEqual(self.c.request("GET", f"{a}/nothing")[0], 404)
        self.assertEqual(self.c.request("GET", f"{a}/records/x/y")[0], 404)
        self.assertEqual(self.c.request("GET", "/elsewhere/records")[0], 404)
        self.assertEqual(self.c.request("POST", f"{a}/records/{'0' * 64}", {})[0], 405)
        self.assertEqual(self.c.request("PATCH", f"{a}/records/{'0' * 64}", {})[0], 405)
        self.assertEqual(self.c.request("PUT", f"{a}/records", {})[0], 405)
        self.assertEqual(self.c.request("BREW", f"{a}/records")[0], 405)
        self.assertEqual(len(self.reg.requests()), 7)

    def test_preload_and_reset(self):
        rec = make_record("did:key:z6MkDrift")
        # Preloads may plant records under any id (drift tests).
        self.reg.preload({"deadbeef": rec})
        self.assertEqual(self.c.get("deadbeef")[2], {"record": rec})
        self.assertEqual(self.reg.writes(), {})
        self.reg.preload({"deadbeef": None})
        self.assertEqual(self.reg.records(), {})
        self.reg.inject(status=500)
        self.reg.reset()
        self.assertEqual((self.reg.records(), self.reg.requests(), self.reg.injections()),
                         ({}, [], []))

    def test_keep_alive_reuses_one_connection(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        conn = self.c.connect()
        try:
            self.assertEqual(self.c.put(rid, rec, conn=conn)[0], 200)
            sock = conn.sock
            self.assertIsNotNone(sock, "server closed a keep-alive connection")
            self.assertEqual(self.c.get(rid, conn=conn)[0], 200)
            self.assertEqual(self.c.delete(rid, conn=conn)[0], 204)
            self.assertEqual(self.c.get(rid, conn=conn)[0], 404)
            self.assertIs(conn.sock, sock, "client had to reconnect")
        finally:
            conn.close()

    def test_chunked_upload(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        conn = self.c.connect()
        try:
            body = json.dumps({"record": rec}).encode()
            conn.request("PUT", f"{self.reg.admin_path}/records/{rid}",
                         body=iter([body[:10], body[10:]]),
                         headers={"Idempotency-Key": "c", "Transfer-Encoding": "chunked"},
                         encode_chunked=True)
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        finally:
            conn.close()
        self.assertEqual(self.reg.records(), {rid: rec})


class InjectionTest(RegistryTestCase):
    def test_503_with_retry_after_once_then_normal(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        self.reg.inject(method="PUT", status=503, retry_after="5")
        status, headers, _ = self.c.put(rid, rec)
        self.assertEqual(status, 503)
        self.assertEqual(headers.get("Retry-After"), "5")
        self.assertEqual(self.reg.records(), {})  # not applied
        self.assertEqual(self.reg.injections(), [])
        status, headers, _ = self.c.put(rid, rec)
        self.assertEqual(status, 200)
        self.assertNotIn("Retry-After", headers)
        log = self.reg.requests()
        self.assertEqual([(r["status"], r["injected"]) for r in log], [(503, True), (200, False)])
        self.assertEqual(self.reg.writes(), {rid: 1})

    def test_http_date_retry_after_body_and_filters(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        date = "Wed, 21 Oct 2037 07:28:00 GMT"
        self.reg.inject(method="DELETE", status=429, retry_after=date, body="slow down")
        self.reg.inject(path_contains="/records?", status=500, times=2)
        self.assertEqual(self.c.put(rid, rec)[0], 200)           # neither matches a PUT
        self.assertEqual(self.c.get(rid)[0], 200)                # nor a GET by id
        listing = f"{self.reg.admin_path}/records?authority_id={AUTHORITY}"
        self.assertEqual(self.c.request("GET", listing)[0], 500)
        self.assertEqual(self.c.request("GET", listing)[0], 500)
        self.assertEqual(self.c.request("GET", listing)[0], 200)  # times=2 used up
        status, headers, body = self.c.delete(rid)
        self.assertEqual((status, headers.get("Retry-After"), body), (429, date, b"slow down"))
        self.assertIn(rid, self.reg.records())

    def test_forever_injection(self):
        self.reg.inject(status=502, times=-1)
        for _ in range(3):
            self.assertEqual(self.c.get("x")[0], 502)
        self.assertEqual(len(self.reg.injections()), 1)

    def test_invalid_injection_is_refused(self):
        for bad in ({"status": 503, "retry-after": "5"}, {"status": "503"}, {},
                    {"status": 503, "times": 0}, {"drop": True, "reset": True}):
            with self.assertRaises(RegistryError, msg=bad):
                self.reg.inject(**bad)
        self.assertEqual(self.reg.injections(), [])

    def test_drop_closes_without_response(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        self.reg.inject(method="PUT", drop=True)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.c.put(rid, rec)
        self.assertEqual(self.reg.records(), {})
        self.assertEqual(self.reg.requests()[0]["status"], "dropped")
        self.assertEqual(self.c.put(rid, rec)[0], 200)  # next one is normal

    def test_reset_injection_sends_rst(self):
        self.reg.inject(reset=True)
        with self.assertRaises(ConnectionResetError):
            self.c.get("x")
        self.assertEqual(self.reg.requests()[0]["status"], "dropped")

    def test_apply_stores_the_write_but_answers_503(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        self.reg.inject(method="PUT", status=503, apply=True)
        self.assertEqual(self.c.put(rid, rec, key="job7")[0], 503)
        self.assertEqual(self.reg.records(), {rid: rec})
        self.assertEqual(self.reg.writes(), {rid: 1})
        log = self.reg.requests()
        self.assertEqual((log[0]["status"], log[0]["applied_status"]), (503, 200))
        # The client's retry with the same key replays the real answer.
        status, headers, body = self.c.put(rid, rec, key="job7")
        self.assertEqual((status, body), (200, {"record": rec}))
        self.assertEqual(headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(self.reg.writes(), {rid: 1})

    def test_apply_with_drop_deletes_then_hangs_up(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        self.reg.preload({rid: rec})
        self.reg.inject(method="DELETE", drop=True, apply=True)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.c.delete(rid)
        self.assertEqual(self.reg.records(), {})
        self.assertEqual(self.c.delete(rid, key="other")[0], 404)

    def test_injected_delay(self):
        self.reg.inject(status=200, body='{"ok":true}', delay_ms=300)
        t0 = time.monotonic()
        status, _, body = self.c.get("x")
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual((status, body), (200, {"ok": True}))


class LatencyTest(RegistryTestCase):
    registry_kwargs = {"latency_ms": 300}

    def test_latency_delays_answer(self):
        t0 = time.monotonic()
        self.assertEqual(self.c.get("0" * 64)[0], 404)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        # The control API is never delayed.
        t0 = time.monotonic()
        self.reg.records()
        self.assertLess(time.monotonic() - t0, 0.3)
        self.reg.set_latency(0)
        t0 = time.monotonic()
        self.c.get("0" * 64)
        self.assertLess(time.monotonic() - t0, 0.3)

    def test_concurrent_requests_overlap(self):
        self.reg.set_latency(500)
        n = 6
        results = []
        def one(i):
            results.append(self.c.get(f"{i:064x}")[0])
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        self.assertEqual(results, [404] * n)
        # Serialised, six requests would take 3 s; delays must run in parallel.
        self.assertGreaterEqual(elapsed, 0.5)
        self.assertLess(elapsed, 1.5)
        log = self.reg.requests()
        self.assertLess(max(r["time"] for r in log), min(r["end_time"] for r in log))


class TokenTest(RegistryTestCase):
    registry_kwargs = {"token": "s3cret-token"}

    def test_token_required(self):
        rid, rec = next(iter(VECTOR["records"].items()))
        status, headers, _ = self.c.put(rid, rec)
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("WWW-Authenticate"), "Bearer")
        self.assertEqual(self.c.put(rid, rec, extra={"Authorization": "Bearer wrong"})[0], 401)
        self.assertEqual(self.c.get(rid)[0], 401)
        self.assertEqual(self.reg.records(), {})
        status, _, _ = self.c.put(rid, rec, extra={"Authorization": "Bearer s3cret-token"})
        self.assertEqual(status, 200)
        self.assertEqual(self.reg.records(), {rid: rec})
        self.assertEqual([r["authorization_present"] for r in self.reg.requests()],
                         [False, True, False, True])


class LifecycleTest(unittest.TestCase):
    def test_refuses_non_loopback_host(self):
        for host in ("0.0.0.0", "10.1.2.3", "localhost", "::"):
            res = subprocess.run([sys.executable, str(SUPPORT / "registry_server.py"),
                                  "--host", host], capture_output=True, text=True, timeout=10)
            self.assertEqual(res.returncode, 2, host)
            self.assertEqual(res.stdout, "", host)
            self.assertIn("loopback", res.stderr)

    def test_sigterm_stops_cleanly_and_port_file(self):
        with tempfile.TemporaryDirectory() as d:
            port_file = os.path.join(d, "port")
            reg = Registry(port_file=port_file).start()
            try:
                with open(port_file) as f:
                    self.assertEqual(int(f.read()), reg.port)
                # Keep an idle keep-alive connection open: it must not block shutdown.
                conn = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=5)
                conn.request("GET", "/admin/v1/records/x")
                conn.getresponse().read()
                t0 = time.monotonic()
                self.assertEqual(reg.stop(), 0)
                self.assertLess(time.monotonic() - t0, 3)
                conn.close()
                self.assertEqual(reg.stderr_text(), "")
            finally:
                reg.__exit__(None, None, None)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", reg.port), timeout=2).close()

    def test_ipv6_loopback(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        with Registry(host="::1") as reg:
            self.assertTrue(reg.url.startswith("http://[::1]:"))
            self.assertEqual(reg.records(), {})

    def test_custom_admin_path(self):
        with Registry(admin_path="/trust/api") as reg:
            c = Client(reg)
            self.assertEqual(c.get("0" * 64)[0], 404)
            self.assertEqual(c.request("GET", "/admin/v1/records?authority_id=x")[0], 404)
            self.assertEqual(c.request("GET", "/trust/api/records?authority_id=x")[0], 200)

    def test_start_failure_is_reported(self):
        with self.assertRaises(RegistryError) as cm:
            Registry(tls_cert="/nonexistent.pem", tls_key="/nonexistent.key",
                     ca_file="/nonexistent.pem").start()
        self.assertIn("cannot load TLS material", str(cm.exception))


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = tempfile.TemporaryDirectory()
        cls.pki = make_test_pki(cls._dir.name)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def context(self, cert=None, key=None, ca=None):
        ctx = ssl.create_default_context(cafile=ca or self.pki["ca"])
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def test_pki_files(self):
        for k, v in self.pki.items():
            self.assertTrue(os.path.getsize(v) > 0, k)
            if k.endswith("_key"):
                self.assertEqual(os.stat(v).st_mode & 0o077, 0, k)

    def test_https(self):
        p = self.pki
        with Registry(tls_cert=p["server_cert"], tls_key=p["server_key"], ca_file=p["ca"]) as reg:
            self.assertTrue(reg.url.startswith("https://127.0.0.1:"))
            rid, rec = next(iter(VECTOR["records"].items()))
            c = Client(reg, self.context())
            self.assertEqual(c.put(rid, rec)[0], 200)
            self.assertEqual(reg.records(), {rid: rec})  # control API over HTTPS
            # keep-alive over TLS too
            conn = c.connect()
            try:
                self.assertEqual(c.get(rid, conn=conn)[0], 200)
                sock = conn.sock
                self.assertEqual(c.get(rid, conn=conn)[0], 200)
                self.assertIs(conn.sock, sock)
            finally:
                conn.close()
            # Not trusting the test CA must fail verification.
            with self.assertRaises(ssl.SSLCertVerificationError):
                Client(reg, ssl.create_default_context(cafile=p["wrong_ca"])).get(rid)
            # Plain HTTP to the TLS port fails the handshake: no HTTP answer.
            conn = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=5)
            try:
                with self.assertRaises((http.client.HTTPException, ConnectionError)):
                    conn.request("GET", f"{reg.admin_path}/records/{rid}")
                    conn.getresponse()
            finally:
                conn.close()
            # Only the three requests that completed a handshake were seen.
            self.assertEqual([r["method"] for r in reg.requests()], ["PUT", "GET", "GET"])

    def test_client_certificate_required(self):
        p = self.pki
        with Registry(tls_cert=p["server_cert"], tls_key=p["server_key"], client_ca=p["ca"],
                      ca_file=p["ca"], client_cert=p["client_cert"],
                      client_key=p["client_key"]) as reg:
            rid, rec = next(iter(VECTOR["records"].items()))
            # The refusal must arrive as a TLS alert (not a bare reset):
            # vtc-sync takes it for a config answer (vtc-sync(1), THE REGISTRY).
            with self.assertRaisesRegex(ssl.SSLError, "CERTIFICATE_REQUIRED"):
                Client(reg, self.context()).put(rid, rec)  # no certificate
            with self.assertRaisesRegex(ssl.SSLError, "UNKNOWN_CA"):
                Client(reg, self.context(p["wrong_client_cert"], p["wrong_client_key"])).put(rid, rec)
            self.assertEqual(reg.requests(), [])  # never reached HTTP
            self.assertEqual(reg.records(), {})
            good = Client(reg, self.context(p["client_cert"], p["client_key"]))
            self.assertEqual(good.put(rid, rec)[0], 200)
            self.assertEqual(reg.records(), {rid: rec})

    def test_refusal_alert_survives_a_late_request(self):
        # libcurl finishes its side of the TLS 1.3 handshake, then writes the
        # request a moment later. If the server simply closed after refusing
        # the certificate, that write would meet a TCP reset and the alert
        # would be lost (curl: "getpeername() failed"/"Connection reset").
        p = self.pki
        with Registry(tls_cert=p["server_cert"], tls_key=p["server_key"], client_ca=p["ca"],
                      ca_file=p["ca"], client_cert=p["client_cert"],
                      client_key=p["client_key"]) as reg:
            raw = socket.create_connection(("127.0.0.1", reg.port), timeout=5)
            with self.context().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                time.sleep(0.3)
                tls.sendall(b"GET /admin/v1/records/x HTTP/1.1\r\nHost: x\r\n\r\n")
                with self.assertRaisesRegex(ssl.SSLError, "CERTIFICATE_REQUIRED"):
                    tls.recv(1024)

    def test_https_fixture_needs_ca_file(self):
        with self.assertRaises(ValueError):
            Registry(tls_cert=self.pki["server_cert"], tls_key=self.pki["server_key"])


if __name__ == "__main__":
    unittest.main()
