"""Encrypting what must not rest in the clear (KMS, the key named by ANSWERS_KMS_KEY_ID).

Used for the stored answer of a key issuance sent with an Idempotency-Key: the keys themselves
are encrypted under an encryption context that binds them to that answer, so a ciphertext copied
elsewhere does not decrypt.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError

from license_manager import settings
from license_manager.store import aws, dynamo


@lru_cache(maxsize=1)
def client() -> Any:
    return aws.client("kms", settings.current().kms_endpoint_url, attempts=3)


def reset_client() -> None:
    client.cache_clear()


def _kms(operation: str, context: Mapping[str, str], **params: Any) -> Any:
    key_id = settings.current().answers_key_id
    if key_id is None:
        raise settings.SettingsError("ANSWERS_KMS_KEY_ID must be set to remember answers that hold secrets")
    try:
        return getattr(client(), operation)(KeyId=key_id, EncryptionContext=dict(context), **params)
    except ClientError as err:
        raise dynamo.busy() from err


def encrypt(plaintext: bytes, context: Mapping[str, str]) -> bytes:
    return bytes(_kms("encrypt", context, Plaintext=plaintext)["CiphertextBlob"])


def decrypt(ciphertext: bytes, context: Mapping[str, str]) -> bytes:
    return bytes(_kms("decrypt", context, CiphertextBlob=ciphertext)["Plaintext"])
