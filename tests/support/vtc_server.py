#!/usr/bin/env python3
"""Test VTC for vtc-sync: the REST audit API and SIOP login of vtc-service
0.11 (the VTC version vtc-sync(1) reads from when audit.source is a URL),
served from a JSON Lines audit log, plus a control API for the tests.

Standard library only, so it runs with whatever python3 the tests find.

VTC API (all bodies compact JSON unless noted; {api} is --api-path):

  GET  /health              {"status":"ok","version":..,"vtc_did":..}; no
                            Trust-Task header, no login, never under {api}
  POST {api}/auth/challenge Trust-Task https://trusttasks.org/spec/auth/challenge/0.1
                            Content-Type: application/json, body
                            {"subject":DID} (or {"did":DID})
                            -> {"challenge":<64 hex>,"sessionId":<uuid>,"expiresAt":..}
  POST {api}/auth/          Trust-Task https://trusttasks.org/spec/auth/authenticate/0.1
                            {"type":<that URL>,"payload":{"id_token":"h.p.s","session_id":..}}
                            -> {"session":{..},"tokens":{"accessToken":..,..}}
  GET  {api}/audit?limit=N&cursor=C
                            Trust-Task https://trusttasks.org/openvtc/vtc/audit/list/1.0,
                            Authorization: Bearer <accessToken> of a super-admin
                            -> {"items":[<envelope>,..],"next_cursor":"..."|null}
  GET  {api}/audit/verify   Trust-Task https://trusttasks.org/openvtc/vtc/audit/verify/1.0,
                            super-admin -> {"verified":..,"head":<64 hex>,..}

How the VTC behaves, as far as a client can see it:

- The audit log is the --log file, re-read whenever it changes (the parsed
  form is cached on the file's device, inode, size and mtime). Each complete
  line (ended by LF) is one stored row; a final line without LF is not
  written yet. The storage key of a row is
  `<timestamp as RFC 3339, +00:00, shortest exact 0/3/6/9 fraction
  digits>:<event_id lowercase>`; two lines with the same key are one row,
  the later line wins (the store overwrites). Rows sort by the key's bytes.
- A line that is not a JSON object, or has no usable event_id/timestamp,
  is no row at all. A JSON object with a key that does not deserialise as
  an envelope (wrong types, non-canonical base64url hashes, duplicate
  members, ...) is a row that is never served (the VTC skips it with a
  warning) but still takes its place in the key order.
- Items are the exact bytes of their line. A row without prev_hash or
  entry_hash (a version-1 row) gains them as the zero hash (43 x "A"),
  inserted just before its top-level "event" member.
- The listing runs newest first (descending key). The cursor is
  base64url(u32be(len key) || key || u64be(rows) || HMAC-SHA256(audit key, ..))
  of the page's oldest item; it is null when no row remains below it; a
  cursor that does not verify under the current audit key, whose key is
  longer than 1024 bytes or that carries trailing bytes is 400
  {"error":"invalid pagination cursor"}. limit: default 50, clamped to
  1..200; not an integer: 400 text/plain "Failed to deserialize query
  string: ...". Unknown query parameters are ignored.
- Every {api} route checks its Trust-Task header before anything else:
  missing 400 TrustTaskMissing, not https:// (or with CR/LF/NUL) 400
  TrustTaskMalformed, another value 415 TrustTaskMismatch.
- Login: the DID must be in the ACL (else 403 at the challenge); at most
  10 unexpired pending challenges per DID (the 11th is 400). The id_token
  is an EdDSA compact JWS whose kid is <did>#<multibase of the did:key>,
  claims iss == sub == the challenged DID, aud == --vtc-did, nonce == the
  challenge, integer iat/exp with exp > now, iat <= now + 60, iat <= exp;
  its signature is checked with ed25519.py (next to this file). Every
  failure is 401 {"error":"authentication error: <why>"}; a failure before
  the session check does not consume the challenge, success does.
- One session per DID: a new login supersedes the DID's previous token.
  Tokens are random opaque strings valid --access-ttl seconds; the role is
  the one the ACL gave at login. /audit and /audit/verify need a
  super-admin (role admin, no contexts): else 403.

Control API (never authenticated, delayed, logged or faulted; JSON):

  GET  /_control/requests      every non-control request in arrival order:
                               seq, method, path, query, route, trust_task,
                               authorization, content_type, body (text),
                               status (int, "dropped", or null while in
                               flight), injected, time/end_time (monotonic)
  GET  /_control/injections    injections not yet used up
  GET  /_control/sessions      {did: {"logins": n}} successful logins
  POST /_control/reset         forget requests, challenges, sessions,
                               tokens, login counts, injections and
                               triggers (latency, ACL, audit key, removed
                               routes and version stay)
  POST /_control/inject        {"route":"audit"|"verify"|"challenge"|
                               "authenticate"|"health"|"*", "status":503,
                               "times":1 (-1 = forever), "retry_after":null|"5",
                               "body":null|"text", "drop":false, "delay_ms":0}
                               the next matching requests get that answer
                               ({"error":"injected"} unless body is given;
                               a body that is not JSON goes as text/plain),
                               or with drop the connection closes unanswered
  POST /_control/latency       {"ms":N}: every {api}/audit answer waits N ms
  POST /_control/rotate-key    new random audit key: old cursors now 400
  POST /_control/end-sessions  {"did":..}: as if the DID logged in elsewhere
  POST /_control/after-pages   {"pages":N,"do":"rotate_key"|"end_sessions"|
                               "append","did":..,"from":PATH} one-shot:
                               once the N-th {api}/audit page (200) from now
                               has been computed, and before it is sent, do
                               the action (append: add the bytes of file
                               PATH to the log)
  POST /_control/remove-route  {"route":"audit"|"verify"|"challenge"|
                               "authenticate"}: 404 {"error":"not found"}
  POST /_control/version       {"version":"0.12.0"}: what /health reports
  POST /_control/acl           {"did":..,"role":"admin"|"member"|null,
                               "contexts":[..]}: set (null: remove) an entry

stdout carries exactly one line, `listening <host> <port>`; anything else
goes to stderr, and only with --verbose (or for unexpected handler errors).
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
import sys
import threading
import time
import uuid
from bisect import bisect_left
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ed25519  # noqa: E402  (the independent verifier, next to this file)
import http_base  # noqa: E402
import serve  # noqa: E402
from http_base import CONTROL_PREFIX, BadRequest  # noqa: E402

TT_LIST = "https://trusttasks.org/openvtc/vtc/audit/list/1.0"
TT_VERIFY = "https://trusttasks.org/openvtc/vtc/audit/verify/1.0"
TT_CHALLENGE = "https://trusttasks.org/spec/auth/challenge/0.1"
TT_AUTHENTICATE = "https://trusttasks.org/spec/auth/authenticate/0.1"
ROUTES = ("audit", "verify", "challenge", "authenticate", "health")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_CURSOR_KEY = 1024
CURSOR_TAG = 32
MAX_PENDING_CHALLENGES = 10
REFRESH_TTL = 86400
SIOP_CLOCK_SKEW = 60
UNAUTH_BODY_LIMIT = 64 * 1024
ZERO_HASH = bytes(32)
ZERO_HASH_B64 = "A" * 43
CHAIN_TAG = b"vtc-audit-chain/v1\x00"
NS = 10**9


def compact(value):
    # serde_json's compact writer: no spaces, UTF-8 kept as is.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_B64U_CHARS = re.compile(r"[A-Za-z0-9_-]*\Z")


def unb64u(text):
    """Strict base64url without padding (what the Rust base64 crate's
    URL_SAFE_NO_PAD accepts): bytes, or None."""
    if not isinstance(text, str) or not _B64U_CHARS.match(text) or len(text) % 4 == 1:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if b64u(raw) == text else None  # non-zero trailing bits


# -- the audit log ---------------------------------------------------------------

_HASH32 = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]\Z")  # canonical, 32 bytes
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_TS = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?"
                 r"(?:[Zz]|([+-])(\d\d):(\d\d))\Z")
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def days_from_civil(y, m, d):
    era, yoe = divmod(y - (m <= 2), 400)
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def civil_from_days(z):
    era, doe = divmod(z + 719468, 146097)
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, doy - (153 * mp + 2) // 5 + 1


def parse_timestamp(text):
    """RFC 3339 (any offset, any number of fraction digits; beyond 9 are
    dropped) -> nanoseconds since the epoch in UTC, or None."""
    m = _TS.match(text) if isinstance(text, str) else None
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 60):
        return None
    days = days_from_civil(y, mo, d)
    if civil_from_days(days) != (y, mo, d):
        return None
    frac = (m.group(7) or "")[:9]
    ns = (days * 86400 + h * 3600 + mi * 60 + s) * NS + int(frac.ljust(9, "0") or 0)
    if m.group(8):
        oh, om = int(m.group(9)), int(m.group(10))
        if oh > 23 or om > 59:
            return None
        ns -= (1 if m.group(8) == "+" else -1) * (oh * 3600 + om * 60) * NS
    return ns


def render_timestamp(ns):
    """The key's timestamp: RFC 3339, +00:00, shortest exact 0/3/6/9 digits."""
    sec, frac = divmod(ns, NS)
    days, rem = divmod(sec, 86400)
    y, mo, d = civil_from_days(days)
    if not 0 <= y <= 9999:
        return None
    f = ("" if frac == 0 else ".%03d" % (frac // 10**6) if frac % 10**6 == 0
         else ".%06d" % (frac // 1000) if frac % 1000 == 0 else ".%09d" % frac)
    return "%04d-%02d-%02dT%02d:%02d:%02d%s+00:00" % (
        y, mo, d, rem // 3600, rem // 60 % 60, rem % 60, f)


def canonical_uuid(text):
    if not isinstance(text, str):
        return None
    if _UUID.match(text):
        return text
    try:
        return str(uuid.UUID(text))  # upper case, braces, urn:uuid:, no hyphens
    except ValueError:
        return None


_TS_SHORT = re.compile(r"\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
                       r"(?:\.\d{3}|\.\d{6}|\.\d{9})?Z\Z")
_DATE_OK = {}


def storage_key(obj):
    """The row key of a parsed line, or None."""
    eid, ts = obj.get("event_id"), obj.get("timestamp")
    # Fast path (logs of 200,000 lines): a UTC timestamp whose fraction is
    # already the shortest exact one only changes its offset notation.
    if (type(eid) is str and type(ts) is str and _UUID.match(eid) and _TS_SHORT.match(ts)
            and not ts.endswith("000Z")):
        date = ts[:10]
        ok = _DATE_OK.get(date)
        if ok is None:
            y, mo, d = int(date[:4]), int(date[5:7]), int(date[8:10])
            ok = _DATE_OK[date] = (1 <= mo <= 12 and 1 <= d <= 31
                                   and civil_from_days(days_from_civil(y, mo, d)) == (y, mo, d))
        return (ts[:-1] + "+00:00:" + eid).encode() if ok else None
    eid = canonical_uuid(obj.get("event_id"))
    ns = parse_timestamp(obj.get("timestamp"))
    ts = None if ns is None else render_timestamp(ns)
    if eid is None or ts is None:
        return None
    return (ts + ":" + eid).encode()


class DuplicateMember(ValueError):
    pass


def _strict_pairs(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DuplicateMember("duplicate member")
    return obj


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


_STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_strict_pairs,
                                   parse_constant=_refuse_constant)


def loads_strict(text):
    """json.loads, refusing duplicate members and NaN/Infinity (as serde does)."""
    return _STRICT_DECODER.decode(text)


_HASH_MATCH = _HASH32.match
_UUID_MATCH = _UUID.match


def envelope_ok(obj):
    """Whether the VTC would deserialise this object as an envelope."""
    get = obj.get
    ev, sv, kid = get("event_version"), get("schema_version"), get("audit_key_id")
    actor, target = get("actor_did_hash"), get("target_did_hash", 0)
    if not (type(ev) is int and 0 <= ev < 1 << 32 and type(sv) is int and 0 <= sv < 1 << 32
            and type(actor) is str and _HASH_MATCH(actor)
            and (target is None or type(target) is str and _HASH_MATCH(target))):
        return False
    if not (type(kid) is str and _UUID_MATCH(kid)) and canonical_uuid(kid) is None:
        return False
    for name in ("actor_did_plain", "target_did_plain"):
        v = get(name)
        if v is not None and type(v) is not str:
            return False
    for name in ("prev_hash", "entry_hash"):
        v = get(name, "A" * 43)
        if type(v) is not str or not _HASH_MATCH(v):
            return False
    event = get("event")
    return type(event) is dict and type(event.get("type")) is str


def top_level_members(text):
    """[(name, key_start, value_start, value_end)] of the members of the JSON
    object `text` (already known to parse), as str indices."""
    out = []
    i = _WS.match(text, 0).end() + 1  # past '{'
    i = _WS.match(text, i).end()
    if text[i] == "}":
        return out
    while True:
        key_start = i
        name, i = json.decoder.scanstring(text, i + 1)
        i = _WS.match(text, _WS.match(text, i).end() + 1).end()  # past ':'
        value_start = i
        _, i = _DECODER.raw_decode(text, i)
        out.append((name, key_start, value_start, i))
        i = _WS.match(text, i).end()
        if text[i] == "}":
            return out
        i = _WS.match(text, i + 1).end()  # past ','


def event_span(text, obj):
    """(key_start, value_start, value_end) of the top-level "event" member of
    the parsed line `text` (str indices)."""
    if obj and next(reversed(obj)) == "event":
        # Fast path: "event" is the last member, its value ends before the
        # closing brace. A candidate found by rfind inside the event value
        # (a nested "event" key) cannot parse: it would run into the
        # enclosing brackets.
        close = len(text.rstrip(" \t\r\n")) - 1
        ve = len(text[:close].rstrip(" \t\r\n"))
        p = text.rfind('"event":', 0, ve)
        while p > 0:
            vs = _WS.match(text, p + 8).end()
            try:
                if json.loads(text[vs:ve]) == obj["event"]:
                    return p, vs, ve
            except ValueError:
                pass
            p = text.rfind('"event":', 0, p)
    return [m for m in top_level_members(text) if m[0] == "event"][-1][1:]


class Row:
    """One stored row. ok: served and verified; otherwise it only takes its
    place in the key order. `patched` holds the served bytes when they
    differ from the line (zero hashes inserted)."""
    __slots__ = ("ok", "start", "end", "schema", "patched")

    def __init__(self, ok, start, end, schema=None, patched=None):
        self.ok, self.start, self.end = ok, start, end
        self.schema, self.patched = schema, patched


def classify_line(data, start, end):
    """(key or None, Row or None) for the line data[start:end]."""
    duplicate = False
    try:
        text = data[start:end].decode("utf-8")
        try:
            obj = loads_strict(text)
        except DuplicateMember:
            # Still a row (its key is readable), but no envelope.
            obj, duplicate = json.loads(text), True
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, None
    if type(obj) is not dict:
        return None, None
    key = storage_key(obj)
    if key is None:
        return None, None
    if duplicate or not envelope_ok(obj):
        return key, Row(False, start, end)
    patched = None
    missing = [n for n in ("prev_hash", "entry_hash") if n not in obj]
    if missing:
        ks = event_span(text, obj)[0]
        insert = "".join('"%s":"%s",' % (n, ZERO_HASH_B64) for n in missing)
        patched = (text[:ks] + insert + text[ks:]).encode("utf-8")
    return key, Row(True, start, end, obj["schema_version"], patched)


class Snapshot:
    """The log as one request sees it: rows by key, keys ascending."""

    def __init__(self, data, rows, keys, keyless):
        self.data, self.rows, self.keys, self.keyless = data, rows, keys, keyless

    def item(self, key):
        row = self.rows[key]
        return row.patched if row.patched is not None else self.data[row.start:row.end]


class AuditLog:
    """The --log file, parsed once per change of (dev, ino, size, mtime).
    An append is parsed incrementally when the earlier bytes are unchanged."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.sig = None
        self.snap = Snapshot(b"", {}, [], 0)
        self.parsed_upto = 0          # bytes up to the end of the last complete line
        self.verify_cache = None      # (snapshot, result)

    def snapshot(self):
        with self.lock:
            try:
                st = os.stat(self.path)
                sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            except FileNotFoundError:
                sig = None
            if sig != self.sig or sig is None:
                self._reload(sig)
            return self.snap

    def _reload(self, sig):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = b""
        old, n = self.snap, self.parsed_upto
        incremental = (sig is not None and self.sig is not None and sig[:2] == self.sig[:2]
                       and len(data) >= n and data[:n] == old.data[:n])
        if incremental:
            rows, keyless, start = dict(old.rows), old.keyless, n
        else:
            rows, keyless, start = {}, 0, 0
        end = data.rfind(b"\n") + 1
        pos = start
        changed = not incremental
        while pos < end:
            nl = data.index(b"\n", pos)
            key, row = classify_line(data, pos, nl)
            if key is None:
                keyless += 1
            else:
                rows[key] = row
            changed = True
            pos = nl + 1
        self.sig = sig
        self.parsed_upto = max(end, start)
        if changed:
            self.snap = Snapshot(data, rows, sorted(rows), keyless)
            self.verify_cache = None
        else:
            self.snap = Snapshot(data, old.rows, old.keys, old.keyless)

    def verify(self):
        snap = self.snapshot()
        with self.lock:
            if self.verify_cache and self.verify_cache[0] is snap.keys:
                return self.verify_cache[1]
        result = verify_chain(snap)
        with self.lock:
            self.verify_cache = (snap.keys, result)
        return result


def chain_digest(obj, text, key, prev):
    """The chain digest of one parsed line (the VTC's chain_digest, hashing
    the exact bytes of the line's event value)."""
    _, vs, ve = event_span(text, obj)
    e = text[vs:ve].encode("utf-8")
    target = obj["target_did_hash"]
    return hashlib.sha256(b"".join((
        CHAIN_TAG, prev, uuid.UUID(obj["event_id"]).bytes,
        obj["event_version"].to_bytes(4, "big"), obj["schema_version"].to_bytes(4, "big"),
        key.rsplit(b":", 1)[0], uuid.UUID(obj["audit_key_id"]).bytes,
        unb64u(obj["actor_did_hash"]),
        b"\x00" if target is None else b"\x01" + unb64u(target),
        len(e).to_bytes(8, "big"), e))).digest()


def verify_chain(snap):
    """GET /audit/verify: fold the rows in ascending key order through the
    chain check; legacy rows (schema_version < 2) are counted and skipped,
    unparseable ones counted without a position."""
    examined = verified = legacy = 0
    unparseable = snap.keyless
    head, brk = None, None
    for key in snap.keys:
        row = snap.rows[key]
        if not row.ok:
            unparseable += 1
            continue
        index = examined
        examined += 1
        if row.schema < 2:
            legacy += 1
            continue
        text = snap.data[row.start:row.end].decode("utf-8")
        obj = json.loads(text)
        prev = unb64u(obj["prev_hash"]) if "prev_hash" in obj else ZERO_HASH
        entry = unb64u(obj["entry_hash"]) if "entry_hash" in obj else ZERO_HASH
        kind = None
        if chain_digest(obj, text, key, prev) != entry:
            kind = "tamperedEntry"
        elif prev != (head or ZERO_HASH):
            kind = "brokenLink"
        if kind:
            brk = {"kind": kind, "index": index, "eventId": canonical_uuid(obj["event_id"])}
            break
        head = entry
        verified += 1
    out = {"verified": brk is None, "entriesExamined": examined,
           "entriesVerified": verified, "legacySkipped": legacy,
           "unparseableSkipped": unparseable}
    if head is not None:
        out["head"] = head.hex()
    if brk is not None:
        out["chainBreak"] = brk
    return out


def encode_cursor(key, snapshot_id, audit_key):
    buf = struct.pack(">I", len(key)) + key + struct.pack(">Q", snapshot_id)
    return b64u(buf + hmac.new(audit_key, buf, hashlib.sha256).digest())


def decode_cursor(wire, audit_key):
    """The cursor's key, or None when it does not verify."""
    raw = unb64u(wire)
    if raw is None or len(raw) <= CURSOR_TAG + 4 + 8:
        return None
    payload, tag = raw[:-CURSOR_TAG], raw[-CURSOR_TAG:]
    if not hmac.compare_digest(hmac.new(audit_key, payload, hashlib.sha256).digest(), tag):
        return None
    (n,) = struct.unpack(">I", payload[:4])
    if n > MAX_CURSOR_KEY or len(payload) != 4 + n + 8:  # short, or trailing bytes
        return None
    return payload[4:4 + n]


# -- HTTP answers ----------------------------------------------------------------

class Response(http_base.Response):
    @staticmethod
    def encode_json(value):
        return compact(value).encode("utf-8")


def error(status, message):
    return Response(status, {"error": message})


def plain(status, message):
    return Response(status, message, content_type="text/plain; charset=utf-8")


def rfc3339_secs(epoch):
    days, rem = divmod(int(epoch), 86400)
    y, mo, d = civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, mo, d, rem // 3600, rem // 60 % 60, rem % 60)


class Injection:
    FIELDS = {"route", "status", "times", "retry_after", "body", "drop", "delay_ms"}

    def __init__(self, d):
        if not isinstance(d, dict):
            raise BadRequest("injection must be an object")
        unknown = set(d) - self.FIELDS
        if unknown:
            raise BadRequest(f"unknown injection fields: {sorted(unknown)}")
        is_int = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
        self.route = d.get("route", "*")
        if self.route != "*" and self.route not in ROUTES:
            raise BadRequest(f"injection.route must be one of {ROUTES + ('*',)}")
        self.times = d.get("times", 1) if d.get("times") is not None else 1
        if not is_int(self.times) or not (self.times >= 1 or self.times == -1):
            raise BadRequest("injection.times must be N >= 1 or -1")
        self.drop = d.get("drop", False)
        if not isinstance(self.drop, bool):
            raise BadRequest("injection.drop must be a boolean")
        self.status = d.get("status")
        if self.status is None and not self.drop:
            raise BadRequest("injection needs a status (or drop)")
        if self.status is not None and not (is_int(self.status) and 100 <= self.status <= 599):
            raise BadRequest("injection.status must be an int in 100..599")
        self.retry_after = d.get("retry_after")
        if self.retry_after is not None and not (
                isinstance(self.retry_after, str) and "\n" not in self.retry_after
                and "\r" not in self.retry_after):
            raise BadRequest("injection.retry_after must be a string or null")
        self.body = d.get("body")
        if self.body is not None and not isinstance(self.body, str):
            raise BadRequest("injection.body must be a string or null")
        self.delay_ms = d.get("delay_ms") or 0
        if not is_int(self.delay_ms) or self.delay_ms < 0:
            raise BadRequest("injection.delay_ms must be an int >= 0")

    def to_json(self):
        return {k: getattr(self, k) for k in sorted(self.FIELDS)}

    def response(self):
        headers = [] if self.retry_after is None else [("Retry-After", self.retry_after)]
        if self.body is None:
            return Response(self.status, {"error": "injected"}, headers)
        try:
            json.loads(self.body)
            ctype = "application/json"
        except ValueError:
            ctype = "text/plain; charset=utf-8"
        return Response(self.status, self.body, headers, ctype)


class Trigger:
    ACTIONS = ("rotate_key", "end_sessions", "append")

    def __init__(self, d):
        if not isinstance(d, dict):
            raise BadRequest("after-pages needs an object")
        unknown = set(d) - {"pages", "do", "did", "from"}
        if unknown:
            raise BadRequest(f"unknown after-pages fields: {sorted(unknown)}")
        self.pages = d.get("pages")
        if not (isinstance(self.pages, int) and not isinstance(self.pages, bool)
                and self.pages >= 1):
            raise BadRequest("after-pages.pages must be an int >= 1")
        self.action = d.get("do")
        if self.action not in self.ACTIONS:
            raise BadRequest(f"after-pages.do must be one of {self.ACTIONS}")
        self.did = d.get("did")
        self.source = d.get("from")
        if self.action == "end_sessions" and not isinstance(self.did, str):
            raise BadRequest("after-pages end_sessions needs did")
        if self.action == "append":
            if not isinstance(self.source, str) or not os.path.isfile(self.source):
                raise BadRequest("after-pages append needs from: an existing file")

    def to_json(self):
        return {"pages": self.pages, "do": self.action, "did": self.did, "from": self.source}


class Challenge:
    __slots__ = ("did", "challenge", "created", "used")

    def __init__(self, did, challenge, created):
        self.did, self.challenge, self.created, self.used = did, challenge, created, False


class Token:
    __slots__ = ("did", "role", "contexts", "expires", "jti")

    def __init__(self, did, role, contexts, expires, jti):
        self.did, self.role, self.contexts = did, role, contexts
        self.expires, self.jti = expires, jti


class AuthFailure(Exception):
    """An authentication error: 401 {"error":"authentication error: <why>"}."""


class State:
    """Everything mutable, behind one lock (never held while sleeping or
    while reading the log)."""

    def __init__(self, args, acl):
        self.lock = threading.Lock()
        self.log = AuditLog(args.log)
        self.log_path = args.log
        self.api = args.api_path
        self.vtc_did = args.vtc_did
        self.version = args.version
        self.access_ttl = args.access_ttl
        self.challenge_ttl = args.challenge_ttl
        self.acl = acl                                 # did -> (role, [contexts])
        self.audit_key = args.audit_key
        self.latency_ms = 0
        self.removed = set()
        self.clear()

    def clear(self):
        self.requests = []
        self.challenges = {}      # session id -> Challenge
        self.sessions = {}        # did -> jti of its one valid token
        self.tokens = {}          # access token -> Token
        self.logins = {}          # did -> successful logins
        self.injections = []
        self.triggers = []

    # -- request log / faults ---------------------------------------------

    def route_of(self, path):
        if path == "/health":
            return "health"
        return {self.api + "/audit": "audit", self.api + "/audit/verify": "verify",
                self.api + "/auth/challenge": "challenge",
                self.api + "/auth/": "authenticate"}.get(path)

    def log_request(self, method, path, query, route, headers, raw):
        with self.lock:
            entry = {"seq": len(self.requests) + 1, "method": method, "path": path,
                     "query": query, "route": route,
                     "trust_task": headers.get("Trust-Task"),
                     "authorization": headers.get("Authorization"),
                     "content_type": headers.get("Content-Type"),
                     "body": raw.decode("utf-8", "replace"),
                     "status": None, "injected": False,
                     "time": time.monotonic(), "end_time": None}
            self.requests.append(entry)
            return entry

    def finish(self, entry, status, injected=False):
        with self.lock:
            entry.update(status=status, injected=injected, end_time=time.monotonic())

    def take_injection(self, route):
        with self.lock:
            return http_base.take_injection(
                self.injections, lambda inj: inj.route == "*" or inj.route == route)

    def page_served(self):
        """Count one /audit page against the triggers; run those due."""
        with self.lock:
            due = []
            for t in self.triggers:
                t.pages -= 1
                if t.pages == 0:
                    due.append(t)
            self.triggers = [t for t in self.triggers if t.pages > 0]
        for t in due:
            self.run_action(t)

    def run_action(self, t):
        if t.action == "rotate_key":
            with self.lock:
                self.audit_key = secrets.token_bytes(32)
        elif t.action == "end_sessions":
            self.end_session(t.did)
        else:
            with open(t.source, "rb") as src:
                extra = src.read()
            with open(self.log_path, "ab") as f:
                f.write(extra)

    def end_session(self, did):
        with self.lock:
            # A login elsewhere: the DID's session now pins a token nobody holds.
            self.sessions[did] = secrets.token_hex(16)

    # -- the VTC -------------------------------------------------------------

    def handle(self, method, route, query, headers, raw):
        """The VTC's answer (route is known, not removed, not injected)."""
        allowed = "POST" if route in ("challenge", "authenticate") else "GET"
        if method != allowed:
            r = Response(405)
            r.headers.append(("Allow", allowed))
            return r
        if route == "health":
            return Response(200, {"status": "ok", "version": self.version,
                                  "vtc_did": self.vtc_did})
        expected = {"audit": TT_LIST, "verify": TT_VERIFY, "challenge": TT_CHALLENGE,
                    "authenticate": TT_AUTHENTICATE}[route]
        refused = trust_task_gate(headers.get_all("Trust-Task"), expected)
        if refused:
            return refused
        if route == "challenge":
            return self.challenge(headers, raw)
        if route == "authenticate":
            return self.authenticate(raw)
        token, refused = self.authorize(headers.get("Authorization"))
        if refused:
            return refused
        if route == "verify":
            return Response(200, self.log.verify())
        return self.list_audit(query)

    def authorize(self, value):
        scheme, _, cred = (value or "").strip().partition(" ")
        cred = cred.strip()
        if scheme.lower() != "bearer" or not cred:
            return None, error(401, "unauthorized: missing or invalid Authorization header")
        with self.lock:
            tok = self.tokens.get(cred)
            if tok is None:
                return None, error(401, "unauthorized: invalid token: InvalidToken")
            if tok.expires <= time.time():
                return None, error(401, "unauthorized: invalid token: ExpiredSignature")
            pinned = self.sessions.get(tok.did)
            if pinned is None:
                return None, error(401, "unauthorized: session not found")
            if pinned != tok.jti:
                return None, error(401, "unauthorized: token superseded")
        if tok.role != "admin" or tok.contexts:
            return None, error(403, "forbidden: super admin required")
        return tok, None

    def list_audit(self, query):
        limit, cursor = DEFAULT_LIMIT, None
        seen = set()
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name not in ("limit", "cursor"):
                continue
            if name in seen:
                return plain(400, f"Failed to deserialize query string: duplicate field `{name}`")
            seen.add(name)
            if name == "cursor":
                cursor = value
                continue
            digits = value[1:] if value.startswith("+") else value
            if not value:
                why = "cannot parse integer from empty string"
            elif not digits.isascii() or not digits.isdigit():
                why = "invalid digit found in string"
            elif int(digits) >= 1 << 64:
                why = "number too large to fit in target type"
            else:
                limit = int(digits)
                continue
            return plain(400, f"Failed to deserialize query string: {why}")
        limit = min(max(limit, 1), MAX_LIMIT)
        with self.lock:
            audit_key = self.audit_key
        below = None
        if cursor is not None:
            below = decode_cursor(cursor, audit_key)
            if below is None:
                return error(400, "invalid pagination cursor")

        snap = self.log.snapshot()
        keys = snap.keys
        idx = len(keys) if below is None else bisect_left(keys, below)  # keys[:idx] < cursor
        items, last = [], None
        while len(items) < limit and idx > 0:
            idx -= 1
            key = keys[idx]
            if snap.rows[key].ok:
                items.append(snap.item(key))
                last = key
        next_cursor = None
        if idx > 0 and last is not None:
            next_cursor = encode_cursor(last, len(keys), audit_key)
        body = b"".join((b'{"items":[', b",".join(items), b'],"next_cursor":',
                         b"null" if next_cursor is None else b'"%s"' % next_cursor.encode(),
                         b"}"))
        return Response(200, body)

    def challenge(self, headers, raw):
        if len(raw) > UNAUTH_BODY_LIMIT:
            return plain(413, "Failed to buffer the request body: length limit exceeded")
        if not is_json_content_type(headers.get("Content-Type")):
            return plain(415, "Expected request with `Content-Type: application/json`")
        try:
            body = loads_strict(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            if isinstance(e, DuplicateMember):
                return plain(422, "Failed to deserialize the JSON body into the target type: "
                                 "duplicate field `subject`")
            return plain(400, f"Failed to parse the request body as JSON: {e}")
        names = [n for n in ("subject", "did") if isinstance(body, dict) and n in body]
        if not isinstance(body, dict) or len(names) != 1 or not isinstance(body[names[0]], str):
            why = ("duplicate field `subject`" if len(names) == 2
                   else "invalid type: expected struct ChallengeRequest"
                   if not isinstance(body, dict)
                   else "missing field `subject`" if not names
                   else "invalid type: expected a string")
            return plain(422, f"Failed to deserialize the JSON body into the target type: {why}")
        did = body[names[0]]
        now = int(time.time())
        with self.lock:
            if did not in self.acl:
                return error(403, f"forbidden: DID not in ACL: {did}")
            pending = sum(1 for c in self.challenges.values()
                          if c.did == did and not c.used and now - c.created <= self.challenge_ttl)
            if pending >= MAX_PENDING_CHALLENGES:
                return error(400, "validation error: too many pending challenges")
            session_id = str(uuid.uuid4())
            ch = Challenge(did, secrets.token_hex(32), now)
            self.challenges[session_id] = ch
        return Response(200, {"challenge": ch.challenge, "sessionId": session_id,
                              "expiresAt": rfc3339_secs(now + self.challenge_ttl)})

    def authenticate(self, raw):
        if len(raw) > UNAUTH_BODY_LIMIT:
            return plain(413, "Failed to buffer the request body: length limit exceeded")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return plain(400, f"Request body didn't contain valid UTF-8: {e}")
        try:
            did, role, contexts = self._verify_login(body)
        except AuthFailure as e:
            return error(401, f"authentication error: {e}")
        except PermissionError as e:
            return error(403, f"forbidden: {e}")
        now = int(time.time())
        token = secrets.token_urlsafe(32)
        jti = secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = Token(did, role, contexts, time.time() + self.access_ttl, jti)
            self.sessions[did] = jti
            self.logins[did] = self.logins.get(did, 0) + 1
        tokens = {"accessToken": token, "refreshToken": str(uuid.uuid4()),
                  "tokenType": "Bearer", "expiresIn": self.access_ttl,
                  "refreshExpiresIn": REFRESH_TTL}
        if contexts:  # the VTC leaves out an empty scope
            tokens["scope"] = ["ctx:" + c for c in contexts]
        return Response(200, {
            "session": {"id": did, "subject": did, "issuedAt": rfc3339_secs(now),
                        "expiresAt": rfc3339_secs(now + self.access_ttl),
                        "amr": ["did"], "acr": "aal1"},
            "tokens": tokens})

    def _verify_login(self, body):
        """The SIOP checks, in the VTC's order; (did, role, contexts)."""
        try:
            env = loads_strict(body)
        except (ValueError, RecursionError):
            env = None
        payload = env.get("payload") if isinstance(env, dict) else None
        if not (isinstance(env, dict) and isinstance(env.get("type"), str)
                and isinstance(payload, dict) and isinstance(payload.get("id_token"), str)
                and isinstance(payload.get("session_id"), str)
                and env["type"] == TT_AUTHENTICATE and payload["id_token"]):
            # Not a SIOP envelope: the VTC would try DIDComm, which it lacks.
            raise AuthFailure("ATM not configured")
        id_token, session_id = payload["id_token"], payload["session_id"]
        session_key = payload.get("session_pubkey_b58btc")

        # The unverified issuer is bound to the challenge before anything else.
        claims = jws_claims(id_token, "id_token: ")
        with self.lock:
            ch = self.challenges.get(session_id)
        if ch is None:
            raise AuthFailure("session not found")
        if claims["iss"] != ch.did:
            raise AuthFailure("id_token `iss` does not match the challenge session's DID")

        verified = verify_id_token(id_token)
        for name in ("aud", "nonce", "iat", "exp"):
            if claims.get(name) is None:
                raise AuthFailure(f"id_token verification failed: id_token missing `{name}`")
        if claims["aud"] != self.vtc_did:
            raise AuthFailure("id_token `aud` does not match this service")
        now = int(time.time())
        if claims["exp"] <= now:
            raise AuthFailure("id_token has expired")
        if claims["iat"] > now + SIOP_CLOCK_SKEW:
            raise AuthFailure("id_token `iat` is in the future")
        if claims["iat"] > claims["exp"]:
            raise AuthFailure("id_token `iat` is after `exp`")
        if session_key is not None and not (isinstance(session_key, str)
                                            and session_key.startswith("z6Mk")):
            raise AuthFailure("session_pubkey_b58btc must be an Ed25519 multikey (z6Mk… prefix)")

        with self.lock:
            if self.challenges.get(session_id) is not ch:
                raise AuthFailure("session not found")
            if ch.used:
                raise AuthFailure("session replay or state mismatch")
            if not hmac.compare_digest(ch.challenge.encode(), claims["nonce"].encode()):
                raise AuthFailure("challenge mismatch")
            if verified != ch.did:
                raise AuthFailure("signer DID does not match session DID")
            if now - ch.created > self.challenge_ttl:
                raise AuthFailure("challenge expired")
            entry = self.acl.get(ch.did)
            if entry is None:
                raise PermissionError(f"DID not in ACL: {ch.did}")
            ch.used = True
            del self.challenges[session_id]  # single use: a replay finds nothing
            return ch.did, entry[0], list(entry[1])


def trust_task_gate(values, expected):
    if not values:
        return Response(400, {"error": "TrustTaskMissing",
                              "message": "request is missing required Trust-Task header"})
    value = values[0]
    if any(not (" " <= c <= "~" or c == "\t") for c in value):
        return error(400, "validation error: Trust-Task header is not valid UTF-8")
    if not value.startswith("https://") or any(c in value for c in "\r\n\0"):
        return Response(400, {"error": "TrustTaskMalformed",
                              "message": f"malformed Trust-Task identifier: {value or '<empty>'}",
                              "received": value or "<empty>"})
    if value != expected:
        return Response(415, {"error": "TrustTaskMismatch",
                              "expected": expected,
                              "message": "Trust-Task header does not match handler "
                                         f"(expected {expected})",
                              "received": value})
    return None


def is_json_content_type(value):
    if not value:
        return False
    mime = value.split(";", 1)[0].strip().lower()
    typ, _, sub = mime.partition("/")
    return typ == "application" and (sub == "json" or sub.endswith("+json"))


def _b64_json(part, what, prefix):
    raw = unb64u(part)
    if raw is None:
        raise AuthFailure(f"{prefix}id_token {what} is not valid base64url")
    try:
        value = loads_strict(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise AuthFailure(f"{prefix}id_token {what} is not valid JSON")
    return value


def jws_claims(id_token, prefix):
    """The claims of a compact JWS, unverified; iss == sub enforced."""
    parts = id_token.split(".")
    if len(parts) < 2:
        raise AuthFailure(f"{prefix}id_token is not a compact JWS (header.payload.signature)")
    claims = _b64_json(parts[1], "payload", prefix)
    for name in ("iss", "sub", "aud", "nonce"):
        if claims.get(name) is not None and not isinstance(claims[name], str):
            raise AuthFailure(f"{prefix}id_token payload is not valid JSON")
    for name in ("iat", "exp"):
        v = claims.get(name)
        if v is not None and not (type(v) is int and 0 <= v < 1 << 64):
            raise AuthFailure(f"{prefix}id_token payload is not valid JSON")
    for name in ("iss", "sub"):
        if claims.get(name) is None:
            raise AuthFailure(f"{prefix}id_token missing `{name}`")
    if claims["iss"] != claims["sub"]:
        raise AuthFailure(f"{prefix}id_token `iss` does not equal `sub`")
    return claims


def verify_id_token(id_token):
    """Signature and key binding of the id_token; returns the issuer."""
    prefix = "id_token verification failed: "
    parts = id_token.split(".")
    if len(parts) != 3:
        raise AuthFailure(prefix + "id_token is not a compact JWS (header.payload.signature)")
    iss = jws_claims(id_token, prefix)["iss"]
    header = _b64_json(parts[0], "header", prefix)
    alg = header.get("alg")
    if not isinstance(alg, str) or ("kid" in header and header["kid"] is not None
                                    and not isinstance(header["kid"], str)):
        raise AuthFailure(prefix + "id_token header is not valid JSON")
    if alg.lower() != "eddsa":
        raise AuthFailure(prefix + f"id_token header `alg` is `{alg}`; only EdDSA is accepted")
    kid = header.get("kid")
    if kid is None:
        raise AuthFailure(prefix + "id_token header missing `kid`")
    base = kid.split("#", 1)[0]
    if base != iss:
        raise AuthFailure(prefix + "id_token header `kid` DID does not match `iss`")
    # This VTC resolves did:key only (the key is in the DID itself).
    try:
        public = ed25519.public_key_of_did_key(base)
    except ValueError:
        raise AuthFailure(prefix + f"failed to resolve DID {base}: "
                                   "only Ed25519 did:key is supported here") from None
    if kid != base + "#" + base[len("did:key:"):]:
        raise AuthFailure(prefix + f"verification method {kid} is not in the DID's "
                                   "`authentication` relationship")
    sig = unb64u(parts[2])
    if sig is None:
        raise AuthFailure(prefix + "id_token signature is not valid base64url")
    if not ed25519.verify(public, (parts[0] + "." + parts[1]).encode("ascii"), sig):
        raise AuthFailure(prefix + "id_token signature verification failed")
    return iss


# -- HTTP plumbing ---------------------------------------------------------------

class Handler(http_base.Handler):
    server_version = "vtc-test-vtc/1"
    response_class = Response

    def serve_api(self, split, raw):
        self._vtc(split.path, split.query, raw)

    def _vtc(self, path, query, raw):
        state = self.server.state
        route = state.route_of(path)
        entry = state.log_request(self.command, path, query, route, self.headers, raw)
        inj = state.take_injection(route)
        if inj is not None:
            if inj.delay_ms:
                time.sleep(inj.delay_ms / 1000.0)
            if inj.drop:
                state.finish(entry, "dropped", injected=True)
                self._abort()
                return
            resp = inj.response()
            state.finish(entry, resp.status, injected=True)
            self._send(resp)
            return
        with state.lock:
            removed = route in state.removed
            latency = state.latency_ms if route == "audit" else 0
        if route is None or removed:
            resp = error(404, "not found") if removed else Response(404)
        else:
            if latency:
                time.sleep(latency / 1000.0)
            resp = state.handle(self.command, route, query, self.headers, raw)
            if route == "audit" and resp.status == 200:
                # Triggers act once the page is computed and before it is
                # sent, so the client cannot race them with its next request.
                state.page_served()
        state.finish(entry, resp.status)
        self._send(resp)

    def control(self, name, raw):
        state = self.server.state
        method = self.command
        gets = {"requests", "injections", "sessions"}
        posts = {"reset", "inject", "latency", "rotate-key", "end-sessions", "after-pages",
                 "remove-route", "version", "acl"}
        if (method, name) not in {("GET", n) for n in gets} | {("POST", n) for n in posts}:
            self._send(error(405 if name in gets | posts else 404,
                             "method not allowed" if name in gets | posts
                             else "unknown control endpoint"))
            return
        try:
            payload = None
            if method == "POST" and name not in ("reset", "rotate-key"):
                try:
                    payload = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as e:
                    raise BadRequest(f"invalid JSON: {e}")
            self._send(self._control_answer(state, method, name, payload))
        except BadRequest as e:
            self._send(error(400, str(e)))

    def _control_answer(self, state, method, name, p):
        def field(key, check, what):
            if not isinstance(p, dict) or key not in p or not check(p[key]):
                raise BadRequest(f"expected {what}")
            return p[key]

        if name == "requests":
            with state.lock:
                return Response(200, state.requests)
        if name == "injections":
            with state.lock:
                return Response(200, [i.to_json() for i in state.injections])
        if name == "sessions":
            with state.lock:
                return Response(200, {d: {"logins": n} for d, n in state.logins.items()})
        if name == "reset":
            with state.lock:
                state.clear()
            return Response(200, {"reset": True})
        if name == "inject":
            inj = Injection(p)
            with state.lock:
                state.injections.append(inj)
                return Response(200, {"queued": len(state.injections)})
        if name == "latency":
            ms = field("ms", lambda v: type(v) is int and v >= 0, '{"ms": N} with N >= 0')
            with state.lock:
                state.latency_ms = ms
            return Response(200, {"ms": ms})
        if name == "rotate-key":
            with state.lock:
                state.audit_key = secrets.token_bytes(32)
            return Response(200, {"rotated": True})
        if name == "end-sessions":
            did = field("did", lambda v: isinstance(v, str), '{"did": "..."}')
            state.end_session(did)
            return Response(200, {"ended": did})
        if name == "after-pages":
            t = Trigger(p)
            with state.lock:
                state.triggers.append(t)
                return Response(200, {"triggers": [x.to_json() for x in state.triggers]})
        if name == "remove-route":
            route = field("route", lambda v: v in ROUTES[:4], f"route one of {ROUTES[:4]}")
            with state.lock:
                state.removed.add(route)
            return Response(200, {"removed": sorted(state.removed)})
        if name == "version":
            v = field("version", lambda v: isinstance(v, str), '{"version": "..."}')
            with state.lock:
                state.version = v
            return Response(200, {"version": v})
        if name == "acl":
            did = field("did", lambda v: isinstance(v, str) and v, '{"did": "...", ...}')
            role = field("role", lambda v: v in ("admin", "member", None),
                         'role "admin", "member" or null')
            ctx = p.get("contexts") or []
            if not (isinstance(ctx, list) and all(isinstance(c, str) and c for c in ctx)):
                raise BadRequest("contexts must be a list of strings")
            with state.lock:
                if role is None:
                    state.acl.pop(did, None)
                else:
                    state.acl[did] = (role, list(ctx))
                return Response(200, {d: {"role": r, "contexts": c}
                                      for d, (r, c) in state.acl.items()})
        raise AssertionError("unrouted control endpoint")


class VtcServer(http_base.Server):
    log_name = "vtc"
    handler_class = Handler


def parse_acl(p, specs):
    acl = {}
    for spec in specs:
        did, eq, rest = spec.rpartition("=")
        role, _, ctx = rest.partition(":")
        if not eq or not did or role not in ("admin", "member"):
            p.error(f"--acl {spec!r}: expected DID=ROLE[:ctx1,ctx2] with ROLE admin or member")
        acl[did] = (role, [c for c in ctx.split(",") if c])
    return acl


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--log", required=True, help="the audit log (JSON Lines)")
    p.add_argument("--vtc-did", required=True, help="the VTC's DID (id_token aud, /health)")
    p.add_argument("--acl", action="append", default=[], metavar="DID=ROLE[:ctx1,ctx2]",
                   help="ACL entry; admin without contexts is a super-admin (repeatable)")
    p.add_argument("--api-path", default="/v1")
    p.add_argument("--version", default="0.11.12", help="what /health reports")
    p.add_argument("--audit-key", metavar="HEX32", help="cursor HMAC key (default random)")
    p.add_argument("--access-ttl", type=int, default=900, help="access token lifetime, s")
    p.add_argument("--challenge-ttl", type=int, default=300, help="challenge lifetime, s")
    serve.add_arguments(p)
    args = p.parse_args(argv)

    serve.check_arguments(p, args)
    api = args.api_path
    if api and not (api.startswith("/") and not api.endswith("/")
                    and not (api + "/").startswith(CONTROL_PREFIX)):
        p.error("--api-path must be empty or start with '/', not end with '/', "
                "and not be under /_control")
    if args.audit_key is None:
        args.audit_key = secrets.token_bytes(32)
    else:
        try:
            args.audit_key = bytes.fromhex(args.audit_key)
        except ValueError:
            args.audit_key = b""
        if len(args.audit_key) != 32:
            p.error("--audit-key must be 64 hex digits")
    if args.access_ttl < 1 or args.challenge_ttl < 0:
        p.error("--access-ttl must be >= 1 and --challenge-ttl >= 0")
    args.acl_map = parse_acl(p, args.acl)
    return args


def main(argv=None):
    args = parse_args(argv)
    return serve.run(VtcServer, args, lambda: State(args, args.acl_map))


if __name__ == "__main__":
    sys.exit(main())
