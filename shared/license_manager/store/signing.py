"""Signing licenses with KMS: the private key never leaves it (ECC_NIST_P256, SIGN_VERIFY).

The keys are the settings' LICENSE_SIGNING_KEY_IDS: the first signs; all are published, so a key
can be rotated in (first) while licenses signed by the old one (listed after it) still verify.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError

from license_manager import settings
from license_manager.store import aws, dynamo


@lru_cache(maxsize=1)
def client() -> Any:
    return aws.client("kms", settings.current().kms_endpoint_url, attempts=3)


def reset() -> None:
    client.cache_clear()
    public_key.cache_clear()


def _keys() -> list[str]:
    keys = settings.current().signing_keys
    if not keys:
        raise settings.SettingsError("LICENSE_SIGNING_KEY_IDS must name the KMS key that signs licenses")
    return keys


def sign(message: bytes) -> tuple[str, bytes]:
    """(key id, DER ECDSA signature) of `message` by the current key. RAW: KMS hashes it (SHA-256)."""
    key_id = _keys()[0]
    try:
        resp = client().sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    except ClientError as err:
        raise dynamo.busy() from err
    return key_id, bytes(resp["Signature"])


@lru_cache(maxsize=8)
def public_key(key_id: str) -> bytes:
    """DER SubjectPublicKeyInfo (public keys do not change: kept for the life of the process)."""
    try:
        return bytes(client().get_public_key(KeyId=key_id)["PublicKey"])
    except ClientError as err:
        raise dynamo.busy() from err


def public_keys() -> list[tuple[str, bytes]]:
    return [(key_id, public_key(key_id)) for key_id in _keys()]
