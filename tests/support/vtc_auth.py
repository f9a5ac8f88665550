"""The test VTC's login (standard library only): challenges, access tokens
and the SIOP id_token a client signs. See vtc_server.py for the API."""

import ed25519  # the independent verifier, next to this file
from vtc_log import loads_strict, unb64u


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


