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
  POST /_control/inject       queue one injection (see registry_state.Injection)
  POST /_control/latency      {"ms": N}
  POST /_control/reset        clear records, requests, writes, idempotency
                              memory and injections (latency is kept)

stdout carries exactly one line, `listening <host> <port>`; anything else goes
to stderr, and only with --verbose (or for unexpected handler errors).

This file holds the HTTP handler and the command line; registry_state.py
the records and the answers.
"""

import argparse
import sys
import time

import http_base  # next to this file
import serve
from http_base import CONTROL_PREFIX, BadRequest, Response
from registry_state import Injection, State, error, parse_json


class Handler(http_base.Handler):
    # Every method reaches serve_api(), so that unknown ones get a 405.
    server_version = "vtc-test-registry/1"

    def serve_api(self, split, raw):
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

    def control(self, name, raw):
        state = self.server.state
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


class RegistryServer(http_base.Server):
    log_name = "registry"
    handler_class = Handler


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    serve.add_arguments(p)
    p.add_argument("--admin-path", default="/admin/v1")
    p.add_argument("--token", help="require Authorization: Bearer TOKEN")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--client-ca", help="require a client certificate issued by this CA")
    args = p.parse_args(argv)

    serve.check_arguments(p, args)
    if not (args.admin_path.startswith("/") and not args.admin_path.endswith("/")
            and not args.admin_path.startswith(CONTROL_PREFIX.rstrip("/"))):
        p.error("--admin-path must start with '/', not end with '/', and not be under /_control")
    if args.client_ca and not args.tls_cert:
        p.error("--client-ca needs --tls-cert/--tls-key")
    if args.latency_ms < 0:
        p.error("--latency-ms must be >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    return serve.run(RegistryServer, args,
                     lambda: State(args.admin_path, args.token, args.latency_ms),
                     args.client_ca)


if __name__ == "__main__":
    sys.exit(main())
