"""Pure-Python Ed25519 (RFC 8032, section 5.1), standard library only.

Written after the RFC's reference code so the test VTC can check the
id_tokens vtc-sync signs with OpenSSL against an independent
implementation. Slow (a few milliseconds per operation) and not constant
time: for tests only, never for real keys.

    pub = public_key(seed)            # 32-byte seed -> 32-byte public key
    sig = sign(seed, message)         # 64 bytes, deterministic
    verify(pub, message, sig)         # True / False, never raises

Also the did:key form of an Ed25519 public key (multicodec 0xed01,
multibase base58btc "z..."): did_key(pub) and public_key_of_did_key(did).
"""

import hashlib

__all__ = ["public_key", "sign", "verify", "did_key", "multibase_of",
           "public_key_of_did_key", "b58encode", "b58decode"]

# Curve constants (RFC 8032 section 5.1).
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # order of the base point
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _inv(x):
    return pow(x, P - 2, P)


# Points in extended homogeneous coordinates (X, Y, Z, T), x = X/Z, y = Y/Z,
# x*y = T/Z. The addition formula below is complete for a = -1, so it also
# doubles.
def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


_IDENTITY = (0, 1, 1, 0)


def _mul(s, p):
    q = _IDENTITY
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(p, q):
    # x1/z1 == x2/z2 and y1/z1 == y2/z2
    return ((p[0] * q[2] - q[0] * p[2]) % P == 0
            and (p[1] * q[2] - q[1] * p[2]) % P == 0)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * _inv(5) % P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % P)


def _compress(p):
    zinv = _inv(p[2])
    x, y = p[0] * zinv % P, p[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def _sha512_mod_l(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % L


def _expand(seed):
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != 32:
        raise ValueError("an Ed25519 seed is 32 bytes")
    h = hashlib.sha512(bytes(seed)).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8   # clear the three low bits and bit 255
    a |= 1 << 254
    return a, h[32:]


def public_key(seed):
    """The 32-byte public key of a 32-byte seed (the RFC's "private key")."""
    a, _ = _expand(seed)
    return _compress(_mul(a, _G))


def sign(seed, message):
    """Deterministic 64-byte signature R || S of `message` (bytes)."""
    a, prefix = _expand(seed)
    pub = _compress(_mul(a, _G))
    r = _sha512_mod_l(prefix, message)
    r_enc = _compress(_mul(r, _G))
    k = _sha512_mod_l(r_enc, pub, message)
    s = (r + k * a) % L
    return r_enc + s.to_bytes(32, "little")


def verify(public, message, signature):
    """True when `signature` is a valid signature of `message` by `public`:
    [S]B == R + [k]A with k = SHA-512(R || A || M) mod L, S < L, and both
    points canonically encoded on the curve. False otherwise."""
    if not (isinstance(public, (bytes, bytearray)) and len(public) == 32
            and isinstance(signature, (bytes, bytearray)) and len(signature) == 64):
        return False
    public, signature = bytes(public), bytes(signature)
    a_point = _decompress(public)
    if a_point is None:
        return False
    r_enc = signature[:32]
    r_point = _decompress(r_enc)
    if r_point is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = _sha512_mod_l(r_enc, public, bytes(message))
    return _equal(_mul(s, _G), _add(r_point, _mul(k, a_point)))


# -- did:key ------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
ED25519_MULTICODEC = b"\xed\x01"


def b58encode(raw):
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    zeros = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * zeros + out


def b58decode(text):
    """Bitcoin base58; ValueError on a character outside the alphabet."""
    n = 0
    for c in text:
        i = _B58_INDEX.get(c)
        if i is None:
            raise ValueError(f"not base58: {c!r}")
        n = n * 58 + i
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def multibase_of(public):
    """Multibase base58btc of the Ed25519 multicodec key: 'z6Mk...'."""
    if len(public) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return "z" + b58encode(ED25519_MULTICODEC + bytes(public))


def did_key(public):
    return "did:key:" + multibase_of(public)


def public_key_of_did_key(did):
    """The 32-byte key inside an Ed25519 did:key; ValueError otherwise."""
    if not isinstance(did, str) or not did.startswith("did:key:z"):
        raise ValueError("not a base58btc did:key")
    raw = b58decode(did[len("did:key:z"):])
    if not raw.startswith(ED25519_MULTICODEC) or len(raw) != 34:
        raise ValueError("not an Ed25519 did:key")
    return raw[2:]
