"""The test VTC's audit log (standard library only): the JSON Lines file
as the VTC stores and orders it, its hash chain, and the cursors of its
pages. See vtc_server.py for how the VTC behaves."""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import struct
import threading
import uuid

ZERO_HASH = bytes(32)
ZERO_HASH_B64 = "A" * 43
CHAIN_TAG = b"vtc-audit-chain/v1\x00"
NS = 10**9
MAX_CURSOR_KEY = 1024
CURSOR_TAG = 32


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

