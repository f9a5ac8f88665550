"""The test VTC's state and answers (standard library only): what
vtc_server.py answers, apart from HTTP itself. See vtc_server.py for the
API and how the VTC behaves."""

import hmac
import json
import os
import secrets
import threading
import time
import uuid
from bisect import bisect_left
from urllib.parse import parse_qsl

import http_base
from http_base import BadRequest
from vtc_auth import AuthFailure, Challenge, Token, jws_claims, verify_id_token
from vtc_log import (AuditLog, DuplicateMember, civil_from_days, compact, decode_cursor,
                     encode_cursor, loads_strict)

TT_LIST = "https://trusttasks.org/openvtc/vtc/audit/list/1.0"
TT_VERIFY = "https://trusttasks.org/openvtc/vtc/audit/verify/1.0"
TT_CHALLENGE = "https://trusttasks.org/spec/auth/challenge/0.1"
TT_AUTHENTICATE = "https://trusttasks.org/spec/auth/authenticate/0.1"
ROUTES = ("audit", "verify", "challenge", "authenticate", "health")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_PENDING_CHALLENGES = 10
REFRESH_TTL = 86400
SIOP_CLOCK_SKEW = 60
UNAUTH_BODY_LIMIT = 64 * 1024


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


