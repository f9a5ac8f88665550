#!/usr/bin/env python3
"""Test trust registry for vtc-sync over HTTP(S), plus a control API.

Standard library only, so it runs with whatever python3 the tests find.

Registry API (under --admin-path, default /admin/v1):

  PUT    {admin}/records/{id}   body {"record":{...}}, Idempotency-Key required
                                -> 200 {"record":...}  (always 200, never 201)
  DELETE {admin}/records/{id}   Idempotency-Key required -> 204 / 404 absent
  GET    {admin}/records/{id}   -> 200 {"record":...} / 404
  GET    {admin}/records?authority_id=..&limit=..&cursor=..
                                -> 200 {"records":[...],"nextCursor":str|null}

Idempotency (after draft-ietf-httpapi-idempotency-key-header): the first
answer to (method, id, Idempotency-Key) is remembered. The same key again
with the same body gets that answer back (header `Idempotent-Replayed: true`)
and is not an effective write; the same key with a different body is 422.

Control API (never authenticated, never delayed, never logged, never
subject to injections):

  GET  /_control/records      {"<id>": record, ...}
  POST /_control/records      {"<id>": record|null, ...}  preload (null deletes);
                              not counted as writes
  GET  /_control/requests     every non-control request, in arrival order
  GET  /_control/writes       {"<id>": effective write count}
  GET  /_control/injections   injections not yet consumed
  POST /_control/inject       queue one injection (see Injection.from_json)
  POST /_control/latency      {"ms": N}
  POST /_control/reset        clear records, requests, writes, idempotency
                              memory and injections (latency is kept)

stdout carries exactly one line, `listening <host> <port>`; anything else goes
to stderr, and only with --verbose (or for unexpected handler errors).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import serve  # next to this file

CONTROL_PREFIX = "/_control/"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024
# A peer that connects but never finishes the TLS handshake must not pin a
# worker thread forever.
HANDSHAKE_TIMEOUT_S = 10
# Idle keep-alive connections are closed after this long so that abandoned
# client connections do not accumulate threads.
IDLE_TIMEOUT_S = 120
# Record fields that must be present; the four key fields also make the id.
KEY_FIELDS = ("authority_id", "entity_id", "action", "resource")


class BadRequest(Exception):
    """Client error detected while decoding a request; answered with 400."""


def record_id(record):
    """Lowercase hex SHA-256 of the four key fields joined by LF."""
    joined = "\n".join(record[f] for f in KEY_FIELDS)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _no_duplicate_keys(pairs):
    # json.loads silently keeps the last duplicate; a client that sends
    # {"record":..,"record":..} is broken and should be told so.
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate key {k!r}")
        obj[k] = v
    return obj


def parse_json(raw):
    """Strictly parse a request body; returns (value, error message or None)."""
    if not raw:
        return None, "empty body"
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys), None
    except (UnicodeDecodeError, ValueError) as e:
        return None, f"invalid JSON: {e}"


def validate_put_body(body):
    """Return the record if `body` is exactly {"record": {...}} with a usable
    record, else raise BadRequest. Only what the API fixes is checked, so the
    server catches malformed bodies without second-guessing record content."""
    if not isinstance(body, dict) or list(body) != ["record"]:
        raise BadRequest('body must be exactly {"record": {...}}')
    rec = body["record"]
    if not isinstance(rec, dict):
        raise BadRequest("record must be an object")
    for f in KEY_FIELDS:
        v = rec.get(f)
        if not isinstance(v, str) or not v:
            raise BadRequest(f"record.{f} must be a non-empty string")
        if "\n" in v:
            # LF would make the id ambiguous (vtc-sync refuses such fields).
            raise BadRequest(f"record.{f} contains a line feed")
    if not isinstance(rec.get("record_type"), str):
        raise BadRequest("record.record_type must be a string")
    if not isinstance(rec.get("recognized"), bool):
        raise BadRequest("record.recognized must be a boolean")
    if "context" in rec:
        ctx = rec["context"]
        if not isinstance(ctx, dict) or not all(isinstance(v, str) for v in ctx.values()):
            raise BadRequest("record.context must be an object of strings")
    return rec


def encode_cursor(last_id):
    return base64.urlsafe_b64encode(("after:" + last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid cursor")
    if not text.startswith("after:"):
        raise BadRequest("invalid cursor")
    return text[len("after:"):]


class Response:
    """What the handler writes back (status, extra headers, body bytes)."""

    def __init__(self, status, payload=None, headers=None, content_type="application/json"):
        self.status = status
        if payload is None:
            self.body = b""
        elif isinstance(payload, (bytes, bytearray)):
            self.body = bytes(payload)
        elif isinstance(payload, str):
            self.body = payload.encode("utf-8")
        else:
            self.body = json.dumps(payload, sort_keys=True).encode("utf-8")
        self.headers = list(headers or [])
        self.content_type = content_type


def error(status, message, headers=None):
    return Response(status, {"error": message}, headers)


class Injection:
    """One queued fault. Consumed in queue order by the first matching
    non-control request(s)."""

    FIELDS = {"method", "path_contains", "times", "status", "retry_after", "body",
              "delay_ms", "drop", "reset", "apply", "headers"}

    def __init__(self, d):
        self.method = d.get("method")
        self.path_contains = d.get("path_contains")
        self.times = d.get("times", 1)
        self.status = d.get("status")
        self.retry_after = d.get("retry_after")
        self.body = d.get("body")
        self.delay_ms = d.get("delay_ms")
        self.drop = bool(d.get("drop", False))
        self.reset = bool(d.get("reset", False))
        self.apply = bool(d.get("apply", False))
        self.headers = d.get("headers") or {}

    @classmethod
    def from_json(cls, d):
        """Validate strictly: a typo in a test's injection must fail loudly,
        not silently inject nothing."""
        if not isinstance(d, dict):
            raise BadRequest("injection must be an object")
        unknown = set(d) - cls.FIELDS
        if unknown:
            raise BadRequest(f"unknown injection fields: {sorted(unknown)}")

        def check(name, ok, what):
            if name in d and d[name] is not None and not ok(d[name]):
                raise BadRequest(f"injection.{name} must be {what}")

        is_int = lambda v: isinstance(v, int) and not isinstance(v, bool)
        check("method", lambda v: isinstance(v, str) and v.isupper(), "an upper-case method or null")
        check("path_contains", lambda v: isinstance(v, str), "a string or null")
        check("times", lambda v: is_int(v) and (v >= 1 or v == -1), "N >= 1 or -1")
        check("status", lambda v: is_int(v) and 200 <= v <= 599, "an int in 200..599")
        check("retry_after", lambda v: isinstance(v, str) and "\n" not in v, "a string or null")
        check("body", lambda v: isinstance(v, str), "a string or null")
        check("delay_ms", lambda v: is_int(v) and v >= 0, "an int >= 0 or null")
        check("drop", lambda v: isinstance(v, bool), "a boolean")
        check("reset", lambda v: isinstance(v, bool), "a boolean")
        check("apply", lambda v: isinstance(v, bool), "a boolean")
        check("headers", lambda v: isinstance(v, dict) and all(
            isinstance(k, str) and isinstance(x, str) and "\n" not in k + x
            for k, x in v.items()), "an object of strings")
        inj = cls(d)
        if inj.drop and inj.reset:
            raise BadRequest("drop and reset are exclusive")
        if inj.status is None and not (inj.drop or inj.reset):
            raise BadRequest("injection needs a status (or drop/reset)")
        if d.get("times") is None:
            inj.times = 1
        return inj

    def matches(self, method, raw_path):
        return ((self.method is None or self.method == method)
                and (self.path_contains is None or self.path_contains in raw_path))

    def to_json(self):
        return {"method": self.method, "path_contains": self.path_contains,
                "times": self.times, "status": self.status,
                "retry_after": self.retry_after, "body": self.body,
                "delay_ms": self.delay_ms, "drop": self.drop, "reset": self.reset,
                "apply": self.apply, "headers": self.headers}

    def response(self):
        headers = list(self.headers.items())
        if self.retry_after is not None:
            headers.append(("Retry-After", self.retry_after))
        if self.body is None:
            return Response(self.status, {"error": f"injected {self.status}"}, headers)
        _, err = parse_json(self.body.encode("utf-8"))
        return Response(self.status, self.body, headers,
                        "application/json" if err is None else "text/plain; charset=utf-8")


class State:
    """Everything mutable, behind one lock. Methods named *_locked expect the
    caller to hold it; no method sleeps while holding it."""

    def __init__(self, admin_path, token, latency_ms):
        self.lock = threading.Lock()
        self.admin_path = admin_path
        self.token = token
        self.latency_ms = latency_ms
        self.clear()

    def clear(self):
        self.records = {}         # id -> record
        self.requests = []        # request log entries (dicts, mutated when answered)
        self.writes = {}          # id -> effective write count
        self.idempotency = {}     # (method, id, key) -> (parsed body, Response)
        self.injections = []      # queued Injection objects

    # -- request log ------------------------------------------------------

    def log_request(self, method, raw_path, headers, body):
        with self.lock:
            entry = {
                "seq": len(self.requests) + 1,
                "method": method,
                "path": raw_path,
                "idempotency_key": headers.get("Idempotency-Key"),
                "authorization_present": headers.get("Authorization") is not None,
                "body": body,
                "status": None,         # filled in when answered
                "time": time.monotonic(),
                "end_time": None,
                "injected": False,
                "replayed": False,
            }
            self.requests.append(entry)
            return entry

    def finish(self, entry, status, **extra):
        with self.lock:
            entry["status"] = status
            entry["end_time"] = time.monotonic()
            entry.update(extra)

    def take_injection(self, method, raw_path):
        with self.lock:
            for i, inj in enumerate(self.injections):
                if inj.matches(method, raw_path):
                    if inj.times != -1:
                        inj.times -= 1
                        if inj.times == 0:
                            del self.injections[i]
                    return inj
        return None

    # -- registry semantics -----------------------------------------------

    def process(self, method, raw_path, headers, body, body_err):
        """Apply one registry request to the store and return its Response,
        plus whether it was an idempotent replay."""
        with self.lock:
            return self._process_locked(method, raw_path, headers, body, body_err)

    def _process_locked(self, method, raw_path, headers, body, body_err):
        if self.token is not None and not self._authorized(headers.get("Authorization")):
            return error(401, "unauthorized", [("WWW-Authenticate", "Bearer")]), False

        split = urlsplit(raw_path)
        path = split.path
        admin = self.admin_path
        if path != admin and not path.startswith(admin + "/"):
            return error(404, "not found"), False
        if method not in ("GET", "PUT", "DELETE"):
            return error(405, "method not allowed", [("Allow", "GET, PUT, DELETE")]), False

        rest = path[len(admin):]
        if rest == "/records":
            if method != "GET":
                return error(405, "method not allowed", [("Allow", "GET")]), False
            return self._list_locked(split.query), False
        if rest.startswith("/records/") and rest.count("/") == 2 and len(rest) > len("/records/"):
            rid = rest[len("/records/"):]
            if method == "GET":
                rec = self.records.get(rid)
                if rec is None:
                    return error(404, "no such record"), False
                return Response(200, {"record": rec}), False
            return self._write_locked(method, rid, headers, body, body_err)
        return error(404, "not found"), False

    def _authorized(self, value):
        if value is None:
            return False
        scheme, _, cred = value.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            cred.strip().encode(), self.token.encode())

    def _write_locked(self, method, rid, headers, body, body_err):
        key = headers.get("Idempotency-Key")
        if not key:
            return error(400, "Idempotency-Key header required"), False
        memo_key = (method, rid, key)
        if memo_key in self.idempotency:
            seen_body, seen_resp = self.idempotency[memo_key]
            if seen_body != body:
                return error(422, "Idempotency-Key reused with a different request body"), False
            # Same request again: same answer, and the store is not touched.
            return Response(seen_resp.status, seen_resp.body,
                            seen_resp.headers + [("Idempotent-Replayed", "true")]), True

        if method == "PUT":
            try:
                if body_err is not None:
                    raise BadRequest(body_err)
                rec = validate_put_body(body)
                if record_id(rec) != rid:
                    raise BadRequest("id in the path is not the SHA-256 of the record's key fields")
            except BadRequest as e:
                # Rejections are not remembered: a corrected retry with the
                # same key must be able to succeed.
                return error(400, str(e)), False
            self.records[rid] = rec
            self.writes[rid] = self.writes.get(rid, 0) + 1
            resp = Response(200, {"record": rec})
        else:  # DELETE
            if rid in self.records:
                del self.records[rid]
                self.writes[rid] = self.writes.get(rid, 0) + 1
                resp = Response(204)
            else:
                resp = error(404, "no such record")
        self.idempotency[memo_key] = (body, resp)
        return resp, False

    def _list_locked(self, query):
        q = parse_qs(query, keep_blank_values=True)
        try:
            authority = q.get("authority_id", [None])[0]
            if not authority:
                raise BadRequest("authority_id is required")
            limit = DEFAULT_LIMIT
            if "limit" in q:
                text = q["limit"][0]
                if not text.isdigit() or int(text) < 1:
                    raise BadRequest("limit must be a positive integer")
                # Like most paged APIs, an over-large limit is clamped, not refused.
                limit = min(int(text), MAX_LIMIT)
            after = decode_cursor(q["cursor"][0]) if q.get("cursor", [""])[0] else None
        except BadRequest as e:
            return error(400, str(e))
        # Keyset paging on the id: stable even if records change between pages.
        ids = sorted(i for i, r in self.records.items()
                     if r.get("authority_id") == authority and (after is None or i > after))
        page = ids[:limit]
        next_cursor = encode_cursor(page[-1]) if len(ids) > limit else None
        return Response(200, {"records": [self.records[i] for i in page],
                              "nextCursor": next_cursor})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer is length-framed
    # Buffered writes: headers and body leave in one segment (the handler
    # flushes after each request). Unbuffered, the body waits on Nagle for
    # the client's delayed ACK: ~40 ms per request on a kept-alive socket.
    wbufsize = 1 << 16
    server_version = "vtc-test-registry/1"
    timeout = IDLE_TIMEOUT_S

    # Route every method (including ones http.server does not know, which it
    # would answer with 501) through one dispatcher so that unknown methods
    # get the 405 the brief asks for.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("registry: %s %s\n" % (self.address_string(), fmt % args))

    # -- I/O helpers --------------------------------------------------------

    def _read_body(self):
        """Read the whole body (even for requests we reject) so that the
        connection stays in sync for keep-alive."""
        te = self.headers.get("Transfer-Encoding", "")
        if te:
            if te.strip().lower() != "chunked":
                raise BadRequest("unsupported Transfer-Encoding")
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise BadRequest("bad Content-Length")
        return self.rfile.read(int(length))

    def _read_chunked(self):
        # libcurl uses chunked uploads when it does not know the size upfront.
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers are ignored
                return bytes(out)
            if len(out) + size > MAX_BODY_BYTES:
                raise BadRequest("body too large")
            out += self.rfile.read(size)
            self.rfile.readline(1024)  # CRLF after the chunk

    def _send(self, resp):
        self.send_response(resp.status)
        for k, v in resp.headers:
            self.send_header(k, v)
        # RFC 9110: 204/304 carry neither a body nor Content-Length; they are
        # self-delimiting so keep-alive still works.
        no_body = resp.status in (204, 304) or self.command == "HEAD"
        if resp.status not in (204, 304):
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not no_body:
            self.wfile.write(resp.body)

    def _abort(self, rst):
        """Close without any answer: FIN (an 'empty reply') or, with rst, a
        TCP reset ('connection reset by peer')."""
        self.close_connection = True
        sock = self.connection
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- dispatch -----------------------------------------------------------

    def _dispatch(self):
        try:
            raw = self._read_body()
        except BadRequest as e:
            self.close_connection = True  # framing is lost; cannot keep alive
            self._send(error(400, str(e)))
            return
        path = urlsplit(self.path).path
        if path.startswith(CONTROL_PREFIX):
            self._control(path, raw)
        else:
            self._registry(raw)

    def _registry(self, raw):
        state = self.server.state
        body, body_err = parse_json(raw) if raw else (None, None)
        entry = state.log_request(self.command, self.path, self.headers, body)
        inj = state.take_injection(self.command, self.path)
        with state.lock:
            latency = state.latency_ms
        # Delays happen outside the lock so concurrent requests overlap.
        if latency:
            time.sleep(latency / 1000.0)

        if inj is None:
            resp, replayed = state.process(self.command, self.path, self.headers, body, body_err)
            state.finish(entry, resp.status, replayed=replayed)
            self._send(resp)
            return

        extra = {"injected": True}
        if inj.apply:
            # The write really happens (and its real answer is what an
            # idempotent replay will get); only the answer on the wire is faked.
            real, replayed = state.process(self.command, self.path, self.headers, body, body_err)
            extra.update(applied_status=real.status, replayed=replayed)
        if inj.delay_ms:
            time.sleep(inj.delay_ms / 1000.0)
        if inj.drop or inj.reset:
            state.finish(entry, "dropped", **extra)
            self._abort(rst=inj.reset)
            return
        resp = inj.response()
        state.finish(entry, resp.status, **extra)
        self._send(resp)

    def _control(self, path, raw):
        state = self.server.state
        name = path[len(CONTROL_PREFIX):]
        method = self.command
        routes = {
            ("GET", "records"), ("POST", "records"), ("GET", "requests"),
            ("GET", "writes"), ("GET", "injections"), ("POST", "inject"),
            ("POST", "latency"), ("POST", "reset"),
        }
        if (method, name) not in routes:
            if any(n == name for _, n in routes):
                self._send(error(405, "method not allowed"))
            else:
                self._send(error(404, "unknown control endpoint"))
            return
        try:
            payload = None
            if method == "POST" and name != "reset":
                payload, err = parse_json(raw)
                if err:
                    raise BadRequest(err)
            self._send(self._control_locked(state, method, name, payload))
        except BadRequest as e:
            self._send(error(400, str(e)))

    def _control_locked(self, state, method, name, payload):
        with state.lock:
            if (method, name) == ("GET", "records"):
                return Response(200, state.records)
            if (method, name) == ("POST", "records"):
                if not isinstance(payload, dict) or not all(
                        v is None or isinstance(v, dict) for v in payload.values()):
                    raise BadRequest('expected {"<id>": record or null, ...}')
                # Preloads may use any id (drift tests plant inconsistent
                # records on purpose), so nothing is validated beyond shape.
                for rid, rec in payload.items():
                    if rec is None:
                        state.records.pop(rid, None)
                    else:
                        state.records[rid] = rec
                return Response(200, {"records": len(state.records)})
            if (method, name) == ("GET", "requests"):
                return Response(200, state.requests)
            if (method, name) == ("GET", "writes"):
                return Response(200, state.writes)
            if (method, name) == ("GET", "injections"):
                return Response(200, [i.to_json() for i in state.injections])
            if (method, name) == ("POST", "inject"):
                state.injections.append(Injection.from_json(payload))
                return Response(200, {"queued": len(state.injections)})
            if (method, name) == ("POST", "latency"):
                ms = payload.get("ms") if isinstance(payload, dict) else None
                if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
                    raise BadRequest('expected {"ms": N} with N >= 0')
                state.latency_ms = ms
                return Response(200, {"ms": ms})
            if (method, name) == ("POST", "reset"):
                state.clear()
                return Response(200, {"reset": True})
        raise AssertionError("unrouted control endpoint")


class RegistryServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connection attempts when a
    # client opens dozens at once (concurrency 32); a dropped SYN costs the
    # client a one-second retransmission.
    request_queue_size = 128

    def __init__(self, address, state, ssl_context=None, verbose=False):
        self.state = state
        self.ssl_context = ssl_context
        self.verbose = verbose
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind would call socket.getfqdn(), a reverse DNS
        # lookup that can stall for seconds in sandboxes; the name is unused.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # TLS handshakes run here, on the per-connection thread, rather than
        # in accept(): a stalled or failing handshake must not block others.
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        # Handshake explicitly: with do_handshake_on_connect, wrap_socket
        # closes the socket itself on failure, before we can close it gently.
        tls = self.ssl_context.wrap_socket(request, server_side=True,
                                           do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write(f"registry: TLS handshake with {client_address[0]} failed: {e}\n")
            _lingering_close(tls)
            return
        try:
            tls.settimeout(None)  # the handler applies its own idle timeout
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            # wrap_socket detached `request`, so shutdown_request() cannot
            # close this one for us.
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Clients hanging up (including our own drop/reset injections and
        # refused TLS peers) are normal here; anything else is a bug worth a
        # traceback on stderr.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _lingering_close(sock):
    """Close after a refused handshake without losing our TLS alert.

    With TLS 1.3 the client considers the handshake done before we have
    checked its certificate and sends its request at once. Closing with that
    request unread makes the kernel send RST, and the client then reports a
    bare reset instead of the "certificate required" alert, so it cannot
    tell a TLS refusal (to vtc-sync a config error) from a network failure.
    Send FIN, drain briefly, then close."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1.0)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and sock.recv(65536):
            pass
    except OSError:
        pass
    finally:
        sock.close()


def make_ssl_context(cert, key, client_ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=client_ca)
    return ctx


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1", help="loopback address only")
    p.add_argument("--port", type=int, default=0, help="0 = kernel-chosen")
    p.add_argument("--admin-path", default="/admin/v1")
    p.add_argument("--token", help="require Authorization: Bearer TOKEN")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca", help="require a client certificate issued by this CA")
    p.add_argument("--port-file")
    p.add_argument("--exit-on-stdin-eof", action="store_true",
                   help="stop when stdin closes (the parent died)")
    p.add_argument("--verbose", action="store_true", help="log requests on stderr")
    args = p.parse_args(argv)

    args.family = serve.loopback_family(p, args.host)
    if not (args.admin_path.startswith("/") and not args.admin_path.endswith("/")
            and not args.admin_path.startswith(CONTROL_PREFIX.rstrip("/"))):
        p.error("--admin-path must start with '/', not end with '/', and not be under /_control")
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        p.error("--client-ca needs --tls-cert/--tls-key")
    if args.latency_ms < 0:
        p.error("--latency-ms must be >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    ssl_context = None
    if args.tls_cert:
        try:
            ssl_context = make_ssl_context(args.tls_cert, args.tls_key, args.client_ca)
        except (OSError, ssl.SSLError) as e:
            sys.stderr.write(f"registry: cannot load TLS material: {e}\n")
            return 2

    state = State(args.admin_path, args.token, args.latency_ms)
    server = serve.listen(RegistryServer, args.family, (args.host, args.port),
                          state, ssl_context, args.verbose, name="registry")
    if server is None:
        return 2
    return serve.serve(server, args.host, args.port_file, args.exit_on_stdin_eof)

if __name__ == "__main__":
    sys.exit(main())
