"""Test fixture around vtc_server.py, a test VTC (standard library only).

    seed = os.urandom(32)
    did = did_key_of_seed(seed)
    with Vtc(log_path, COMMUNITY_DID, acl={did: "admin"}) as vtc:
        ...point vtc-sync's audit.source at vtc.url...
        vtc.after_pages(1, "rotate_key")
        token = vtc.login(seed, did)
        page = vtc.get_audit_page(token, limit=200)
        items, next_cursor = split_items(page.body)
        assert [r["status"] for r in vtc.requests("audit")] == [200, 200, 400, ...]

`acl` maps a DID to "admin" (a super-admin), "member", "admin:ctx1,ctx2",
or a (role, [contexts]) pair. For HTTPS pass tls_cert/tls_key plus ca_file,
so the fixture's own client trusts the server; make_test_pki() (re-exported
from registry.py) makes them.

Helpers for tests that craft logins themselves: did_key_of_pem(path),
did_key_of_seed(seed), make_id_token(...), authenticate_body(...).
"""

import base64
import http.client
import json
import ssl
import sys
import time
from pathlib import Path

from server_process import ServerProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ed25519  # noqa: E402
from registry import make_test_pki  # noqa: E402,F401  (re-exported for TLS tests)

SERVER = Path(__file__).resolve().parent / "vtc_server.py"

TT_LIST = "https://trusttasks.org/openvtc/vtc/audit/list/1.0"
TT_VERIFY = "https://trusttasks.org/openvtc/vtc/audit/verify/1.0"
TT_CHALLENGE = "https://trusttasks.org/spec/auth/challenge/0.1"
TT_AUTHENTICATE = "https://trusttasks.org/spec/auth/authenticate/0.1"
ZERO_HASH_B64 = "A" * 43


class VtcError(RuntimeError):
    """The test VTC could not be started, a control call failed, or a login
    the helper expected to succeed did not."""


# -- identities and id_tokens ------------------------------------------------------

# PKCS#8 prefix of an Ed25519 private key (RFC 8410), as `openssl genpkey
# -algorithm ed25519` writes it: the 32-byte seed follows.
_PKCS8_ED25519_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def seed_of_pem(path):
    """The 32-byte seed of an Ed25519 PKCS#8 PEM private key file."""
    lines = Path(path).read_text().splitlines()
    try:
        begin = lines.index("-----BEGIN PRIVATE KEY-----")
        end = lines.index("-----END PRIVATE KEY-----", begin)
    except ValueError:
        raise ValueError(f"{path}: not a PEM PRIVATE KEY") from None
    der = base64.b64decode("".join(lines[begin + 1:end]), validate=True)
    if len(der) != 48 or not der.startswith(_PKCS8_ED25519_PREFIX):
        raise ValueError(f"{path}: not an Ed25519 PKCS#8 key")
    return der[-32:]


def did_key_of_seed(seed):
    return ed25519.did_key(ed25519.public_key(seed))


def did_key_of_pem(path):
    """The did:key of the Ed25519 private key in PEM file `path`."""
    return did_key_of_seed(seed_of_pem(path))


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _json_b64u(value):
    return b64u(json.dumps(value, separators=(",", ":")).encode())


def make_id_token(seed, did, aud, nonce, iat, exp, kid=None, header=None, claims=None):
    """A SIOP id_token (compact EdDSA JWS) signed with `seed` for `did`.

    kid defaults to `<did>#<the did:key's multibase>`. `header` and `claims`
    are merged over the defaults (a None value removes the member), so a
    test can craft any wrong token: claims={"sub": other}, header={"alg":
    "ES256"}, claims={"iat": "now"}, ..."""
    if kid is None:
        kid = did + "#" + did.split(":", 2)[-1] if did.startswith("did:key:") else did
    h = {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    c = {"iss": did, "sub": did, "aud": aud, "nonce": nonce, "iat": iat, "exp": exp}
    for base, extra in ((h, header), (c, claims)):
        for k, v in (extra or {}).items():
            if v is None:
                base.pop(k, None)
            else:
                base[k] = v
    signing_input = _json_b64u(h) + "." + _json_b64u(c)
    return signing_input + "." + b64u(ed25519.sign(seed, signing_input.encode("ascii")))


def authenticate_body(id_token, session_id):
    return {"type": TT_AUTHENTICATE, "payload": {"id_token": id_token, "session_id": session_id}}


# -- reading pages -------------------------------------------------------------------

_DECODER = json.JSONDecoder()


def split_items(body):
    """(list of the raw bytes of each item, next_cursor) of an /audit page
    {"items":[...],"next_cursor":...} as the test VTC renders it (compact).
    The raw bytes are what a client must hash (the exact event bytes)."""
    text = body.decode("utf-8")
    prefix = '{"items":['
    if not text.startswith(prefix):
        raise ValueError("not an audit page: " + text[:80])
    items, i = [], len(prefix)
    if text[i:i + 1] != "]":
        while True:
            _, end = _DECODER.raw_decode(text, i)
            items.append(text[i:end].encode("utf-8"))
            if text[end:end + 1] == "]":
                i = end
                break
            if text[end:end + 1] != ",":
                raise ValueError(f"unexpected character at {end} in an audit page")
            i = end + 1
    rest = text[i + 1:]
    if not rest.startswith(',"next_cursor":') or not rest.endswith("}"):
        raise ValueError("no next_cursor in an audit page")
    return items, json.loads(rest[len(',"next_cursor":'):-1])


def storage_key(timestamp, event_id):
    """The VTC's row key of an envelope with this timestamp (RFC 3339 with Z
    or an offset) and event id: the listing sorts by it, descending."""
    import vtc_log  # the server's own rendering (same directory)
    ns = vtc_log.parse_timestamp(timestamp)
    if ns is None:
        raise ValueError(f"not an RFC 3339 timestamp: {timestamp!r}")
    return vtc_log.render_timestamp(ns) + ":" + vtc_log.canonical_uuid(event_id)


class VtcResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers      # {lower-case name: value}
        self.body = body            # bytes

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"VtcResponse({self.status}, {self.body[:200]!r})"


# -- the fixture -----------------------------------------------------------------------

def _acl_arg(did, spec):
    if isinstance(spec, str):
        return f"{did}={spec}"
    role, contexts = spec
    return f"{did}={role}" + (":" + ",".join(contexts) if contexts else "")


class Vtc(ServerProcess):
    """Runs vtc_server.py as a subprocess for the duration of a `with`."""

    what = "test VTC"
    error = VtcError

    def __init__(self, log_path, vtc_did, acl=None, *, host="127.0.0.1", port=0,
                 api_path="/v1", version=None, audit_key=None, access_ttl=None,
                 challenge_ttl=None, tls_cert=None, tls_key=None, ca_file=None,
                 port_file=None, verbose=False, start_timeout=10.0, stop_timeout=5.0,
                 python=None):
        if tls_cert and not ca_file:
            raise ValueError("an HTTPS VTC needs ca_file for the fixture's own client")
        self.log_path = str(log_path)
        self.vtc_did = vtc_did
        self.host = host
        self.api_path = api_path
        self.tls = bool(tls_cert)
        self._ca_file = ca_file
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout

        # self.url is audit.source for vtc-sync.
        args = self._command(SERVER, python=python, host=host, port=port, tls_cert=tls_cert,
                             tls_key=tls_key, port_file=port_file, verbose=verbose)
        args += ["--log", self.log_path, "--vtc-did", vtc_did, "--api-path", api_path]
        for did, spec in (acl or {}).items():
            args += ["--acl", _acl_arg(did, spec)]
        if version is not None:
            args += ["--version", version]
        if audit_key is not None:
            args += ["--audit-key", audit_key.hex() if isinstance(audit_key, bytes) else audit_key]
        if access_ttl is not None:
            args += ["--access-ttl", str(access_ttl)]
        if challenge_ttl is not None:
            args += ["--challenge-ttl", str(challenge_ttl)]
        self._args = args

    # -- addresses ----------------------------------------------------------------

    @property
    def api_url(self):
        return self.url + self.api_path

    def ssl_context(self):
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=str(self._ca_file))

    # -- raw HTTP -------------------------------------------------------------------

    def connect(self, timeout=10):
        """A new http.client connection to the server (no proxies)."""
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=self.ssl_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """One request; `path` is absolute (e.g. vtc.api_path + "/audit").
        A dict or list body is sent as JSON (Content-Type is not added).
        With `conn`, the connection is reused and left open."""
        own = conn is None
        conn = conn or self.connect()
        try:
            data = body
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
            return VtcResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw)
        finally:
            if own:
                conn.close()

    # -- a client, for tests ------------------------------------------------------------

    def challenge(self, did, conn=None):
        return self.request("POST", self.api_path + "/auth/challenge", {"subject": did},
                            {"Trust-Task": TT_CHALLENGE, "Content-Type": "application/json"},
                            conn=conn)

    def authenticate(self, id_token, session_id, conn=None):
        return self.request("POST", self.api_path + "/auth/",
                            authenticate_body(id_token, session_id),
                            {"Trust-Task": TT_AUTHENTICATE, "Content-Type": "application/json"},
                            conn=conn)

    def login(self, seed, did, conn=None):
        """Challenge + authenticate with a well-formed id_token; the access
        token. VtcError when either step does not answer 200."""
        ch = self.challenge(did, conn=conn)
        if ch.status != 200:
            raise VtcError(f"challenge for {did}: {ch.status} {ch.text}")
        c = ch.json()
        now = int(time.time())
        token = make_id_token(seed, did, self.vtc_did, c["challenge"], now, now + 300)
        auth = self.authenticate(token, c["sessionId"], conn=conn)
        if auth.status != 200:
            raise VtcError(f"authenticate as {did}: {auth.status} {auth.text}")
        return auth.json()["tokens"]["accessToken"]

    def get_audit_page(self, token, limit=None, cursor=None, conn=None, trust_task=TT_LIST):
        """GET {api}/audit; a VtcResponse (split_items(resp.body) for the items)."""
        q = [f"limit={limit}"] if limit is not None else []
        if cursor is not None:
            q.append(f"cursor={cursor}")
        headers = {}
        if trust_task is not None:
            headers["Trust-Task"] = trust_task
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.request("GET", self.api_path + "/audit" + ("?" + "&".join(q) if q else ""),
                            headers=headers, conn=conn)

    def audit_verify(self, token, conn=None):
        return self.request("GET", self.api_path + "/audit/verify",
                            headers={"Trust-Task": TT_VERIFY, "Authorization": f"Bearer {token}"},
                            conn=conn)

    # -- control API ------------------------------------------------------------------------

    def _control(self, method, name, payload=None):
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        conn = self.connect()
        try:
            conn.request(method, "/_control/" + name, body=data,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise VtcError(f"control {method} {name}: {resp.status} {raw.decode(errors='replace')}")
        return json.loads(raw.decode("utf-8"))

    def requests(self, route=None):
        """Every non-control request so far, in arrival order (optionally only
        one route: audit, verify, challenge, authenticate, health). Fields:
        seq, method, path, query, route, trust_task, authorization,
        content_type, body, status (int, "dropped", None in flight),
        injected, time, end_time."""
        reqs = self._control("GET", "requests")
        return [r for r in reqs if route is None or r["route"] == route]

    def injections(self):
        return self._control("GET", "injections")

    def inject(self, **kw):
        """Queue one fault: route ("audit", "verify", "challenge",
        "authenticate", "health" or "*"), status, times (-1 = forever),
        retry_after, body, drop, delay_ms."""
        return self._control("POST", "inject", kw)

    def set_latency(self, ms):
        return self._control("POST", "latency", {"ms": ms})

    def rotate_key(self):
        return self._control("POST", "rotate-key")

    def end_sessions(self, did):
        return self._control("POST", "end-sessions", {"did": did})

    def after_pages(self, n, do, **kw):
        """One-shot: after the n-th /audit page from now, do "rotate_key",
        "end_sessions" (did=...) or "append" (from_=PATH or **{"from": PATH})."""
        if "from_" in kw:
            kw["from"] = str(kw.pop("from_"))
        return self._control("POST", "after-pages", {"pages": n, "do": do, **kw})

    def remove_route(self, route):
        return self._control("POST", "remove-route", {"route": route})

    def set_version(self, version):
        return self._control("POST", "version", {"version": version})

    def set_acl(self, did, role, contexts=()):
        """role "admin", "member", or None to remove the DID from the ACL."""
        return self._control("POST", "acl", {"did": did, "role": role,
                                             "contexts": list(contexts)})

    def sessions(self):
        """{did: {"logins": n}}: successful logins since start (or reset)."""
        return self._control("GET", "sessions")

    def reset(self):
        return self._control("POST", "reset")
