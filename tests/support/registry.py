"""Test fixture around registry_server.py (standard library only).

    with Registry(token="s3cret") as reg:
        ...point vtc-sync at reg.url with admin_path reg.admin_path...
        reg.inject(method="PUT", status=503, retry_after="5")
        assert reg.records() == {...}
        assert [r["status"] for r in reg.requests()] == [503, 200]

For HTTPS pass tls_cert/tls_key (and client_ca for mTLS) plus ca_file so the
fixture's own control client trusts the server (and client_cert/client_key
when the server requires one). make_test_pki() makes all of these.
"""

import hashlib
import json
import os
import secrets
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from server_process import ServerProcess

SERVER = Path(__file__).resolve().parent / "registry_server.py"


class RegistryError(RuntimeError):
    """The test registry could not be started or its control API failed."""


def record_id(authority_id, entity_id, action="recognise", resource="trust-graph"):
    """The record id (vtc-sync(1), THE REGISTRY), computed as the server
    does."""
    joined = "\n".join((authority_id, entity_id, action, resource))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


class Registry(ServerProcess):
    """Runs registry_server.py as a subprocess for the duration of a `with`."""

    what = "registry"
    error = RegistryError

    def __init__(self, *, host="127.0.0.1", port=0, admin_path="/admin/v1", token=None,
                 latency_ms=None, tls_cert=None, tls_key=None, client_ca=None,
                 ca_file=None, client_cert=None, client_key=None, port_file=None,
                 verbose=False, start_timeout=10.0, stop_timeout=5.0, python=None):
        if tls_cert and not ca_file:
            raise ValueError("an HTTPS registry needs ca_file for the fixture's own client")
        self.host = host
        self.admin_path = admin_path
        self.token = token
        self.tls = bool(tls_cert)
        self._ca_file = ca_file
        self._client_cert = client_cert
        self._client_key = client_key
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout

        # self.url is the base URL for vtc-sync's registry.url.
        args = self._command(SERVER, python=python, host=host, port=port, tls_cert=tls_cert,
                             tls_key=tls_key, port_file=port_file, verbose=verbose)
        args += ["--admin-path", admin_path]
        if token is not None:
            args += ["--token", token]
        if latency_ms:
            args += ["--latency-ms", str(latency_ms)]
        if client_ca:
            args += ["--client-ca", str(client_ca)]
        self._args = args

    # -- addresses --------------------------------------------------------------

    @property
    def admin_url(self):
        return self.url + self.admin_path

    def record_url(self, rid):
        return f"{self.admin_url}/records/{rid}"

    def ssl_context(self):
        """Client context trusting the test CA (and presenting the fixture's
        client certificate if one was given); None for plain HTTP."""
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=str(self._ca_file))
        if self._client_cert:
            ctx.load_cert_chain(str(self._client_cert), str(self._client_key))
        return ctx

    # -- control API ------------------------------------------------------------

    def _control(self, method, name, payload=None):
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(self.url + "/_control/" + name, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        # No proxies: an environment HTTP(S)_PROXY must never see test traffic.
        handlers = [urllib.request.ProxyHandler({})]
        if self.tls:
            handlers.append(urllib.request.HTTPSHandler(context=self.ssl_context()))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(req, timeout=10) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            raise RegistryError(f"control {method} {name}: {e.code} {e.read().decode(errors='replace')}")

    def records(self):
        """{id: record} currently stored."""
        return self._control("GET", "records")

    def requests(self, method=None):
        """Every non-control request so far, in arrival order (optionally only
        one method). Fields: seq, method, path, idempotency_key,
        authorization_present, body, status (int, "dropped", or None while in
        flight), time/end_time (server time.monotonic(), same clock as ours on
        Linux), injected, replayed, and applied_status for apply-injections."""
        reqs = self._control("GET", "requests")
        return [r for r in reqs if method is None or r["method"] == method]

    def writes(self):
        """{id: effective write count}; idempotent replays do not count."""
        return self._control("GET", "writes")

    def injections(self):
        """Injections not yet consumed."""
        return self._control("GET", "injections")

    def inject(self, **kw):
        """Queue one fault: method, path_contains, times (-1 = forever),
        status, retry_after, body, headers, delay_ms, drop, reset, apply."""
        return self._control("POST", "inject", kw)

    def reset(self):
        return self._control("POST", "reset")

    def set_latency(self, ms):
        return self._control("POST", "latency", {"ms": ms})

    def preload(self, records):
        """Store {id: record} directly (None deletes); not counted as writes
        and not logged, so drift tests can plant any content under any id."""
        return self._control("POST", "records", records)


# -- throw-away PKI -------------------------------------------------------------

def _openssl(*args):
    res = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise RegistryError(f"openssl {' '.join(args)} failed: {res.stderr.strip()}")


def _make_ca(d, name, cn):
    key, cert = d / f"{name}.key", d / f"{name}.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
             "-out", str(cert), "-days", "30", "-subj", f"/CN={cn}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    os.chmod(key, 0o600)
    return cert, key


def _make_leaf(d, name, cn, ca_cert, ca_key, extensions):
    key, csr, cert, ext = (d / f"{name}.key", d / f"{name}.csr", d / f"{name}.pem",
                           d / f"{name}.ext")
    # Strict verifiers (e.g. Python 3.13's VERIFY_X509_STRICT) want the key
    # identifiers and a non-CA basicConstraints on leaves.
    ext.write_text("\n".join([
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid,issuer",
        *extensions]) + "\n")
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
             "-out", str(csr), "-subj", f"/CN={cn}")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
             "-set_serial", "0x" + secrets.token_hex(8), "-days", "30", "-out", str(cert),
             "-extfile", str(ext))
    # vtc-sync refuses secret files readable by others (vtc-sync.toml(5),
    # SECRET FILES).
    os.chmod(key, 0o600)
    return cert, key


def make_test_pki(directory):
    """Make a throw-away PKI in `directory` with the openssl command:

    ca                  the trusted test CA (PEM); give it to clients as ca_file
                        and to the server as --client-ca
    server_cert/_key    CA-signed, SAN IP:127.0.0.1, IP:::1, DNS:localhost
    client_cert/_key    CA-signed client certificate (clientAuth)
    wrong_ca            a second, unrelated CA
    wrong_client_cert/_key  client certificate signed by wrong_ca (must be refused)

    Keys are mode 0600. Returns a dict of str paths.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ca, ca_key = _make_ca(d, "ca", "vtc-sync test CA")
    wrong_ca, wrong_ca_key = _make_ca(d, "wrong-ca", "vtc-sync untrusted CA")
    server_cert, server_key = _make_leaf(
        d, "server", "127.0.0.1", ca, ca_key,
        ["subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost", "extendedKeyUsage=serverAuth"])
    client_cert, client_key = _make_leaf(
        d, "client", "vtc-sync test client", ca, ca_key, ["extendedKeyUsage=clientAuth"])
    wrong_cert, wrong_key = _make_leaf(
        d, "wrong-client", "vtc-sync test client", wrong_ca, wrong_ca_key,
        ["extendedKeyUsage=clientAuth"])
    return {k: str(v) for k, v in dict(
        ca=ca, server_cert=server_cert, server_key=server_key,
        client_cert=client_cert, client_key=client_key, wrong_ca=wrong_ca,
        wrong_client_cert=wrong_cert, wrong_client_key=wrong_key).items()}
