"""The test registry's records and behaviour (standard library only): what
registry_server.py answers, apart from HTTP itself. See registry_server.py
for the API."""

import base64
import hashlib
import hmac
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

from http_base import BadRequest, Response, take_injection

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Record fields that must be present; the four key fields also make the id.
KEY_FIELDS = ("authority_id", "entity_id", "action", "resource")


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
            return take_injection(self.injections, lambda inj: inj.matches(method, raw_path))

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
