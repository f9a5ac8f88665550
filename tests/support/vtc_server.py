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

This file holds the HTTP handler and the command line; vtc_state.py the
state and the answers, vtc_log.py the audit log, vtc_auth.py the login.
"""

import argparse
import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_base  # noqa: E402  (next to this file)
import serve  # noqa: E402
from http_base import CONTROL_PREFIX, BadRequest  # noqa: E402
from vtc_state import ROUTES, Injection, Response, State, Trigger, error  # noqa: E402


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
