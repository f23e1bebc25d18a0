"""Just enough JOSE for ES256 licenses, with the standard library only (no I/O).

A license is a compact JWS (RFC 7515) signed with ECDSA P-256 and SHA-256 (RFC 7518, "ES256").
KMS returns an ECDSA signature DER-encoded; a JWS carries it as the 64 bytes R || S. KMS gives
the public key as DER SubjectPublicKeyInfo; the JWKS publishes it as a JWK (RFC 7517) whose `kid`
is its RFC 7638 thumbprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

# DER SubjectPublicKeyInfo of a P-256 key, up to the uncompressed point: id-ecPublicKey, prime256v1
_P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def signing_input(header: dict[str, Any], payload: dict[str, Any]) -> bytes:
    return f"{b64url(_json(header))}.{b64url(_json(payload))}".encode()


def compact(signed: bytes, raw_signature: bytes) -> str:
    return f"{signed.decode()}.{b64url(raw_signature)}"


def _der_integer(data: bytes, at: int) -> tuple[int, int]:
    if data[at] != 0x02:
        raise ValueError("not a DER INTEGER")
    length = data[at + 1]
    start = at + 2
    return int.from_bytes(data[start : start + length], "big"), start + length


def der_to_raw(signature: bytes, size: int = 32) -> bytes:
    """ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r || s, each `size` bytes."""
    if signature[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    at = 3 if signature[1] & 0x80 else 2  # P-256 signatures are short: one length byte at most
    r, at = _der_integer(signature, at)
    s, _ = _der_integer(signature, at)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def p256_jwk(spki: bytes) -> dict[str, str]:
    """The public JWK of a P-256 key given as DER SubjectPublicKeyInfo."""
    if not spki.startswith(_P256_SPKI_PREFIX) or len(spki) != len(_P256_SPKI_PREFIX) + 65 or spki[26] != 0x04:
        raise ValueError("not an uncompressed P-256 public key")
    point = spki[len(_P256_SPKI_PREFIX) + 1 :]
    jwk = {"kty": "EC", "crv": "P-256", "x": b64url(point[:32]), "y": b64url(point[32:])}
    return {**jwk, "kid": thumbprint(jwk), "use": "sig", "alg": "ES256"}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members, in lexicographic order, without spaces."""
    required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(json.dumps(required, separators=(",", ":"), sort_keys=True).encode()).digest())
