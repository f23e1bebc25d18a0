"""Encrypting what must not rest in the clear (KMS, the key named by ANSWERS_KMS_KEY_ID).

Used for the stored answer of a key issuance sent with an Idempotency-Key: the keys themselves
are encrypted under an encryption context that binds them to that answer, so a ciphertext copied
elsewhere does not decrypt.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from license_manager import settings
from license_manager.store import dynamo


@lru_cache(maxsize=1)
def client() -> Any:
    config = settings.current()
    return boto3.client(
        "kms",
        endpoint_url=config.kms_endpoint_url,
        config=Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=config.connect_timeout_s,
            read_timeout=config.read_timeout_s,
        ),
    )


def reset_client() -> None:
    client.cache_clear()


def _key_id() -> str:
    key_id = settings.current().answers_key_id
    if key_id is None:
        raise settings.SettingsError("ANSWERS_KMS_KEY_ID must be set to remember answers that hold secrets")
    return key_id


def encrypt(plaintext: bytes, context: Mapping[str, str]) -> bytes:
    try:
        resp = client().encrypt(KeyId=_key_id(), Plaintext=plaintext, EncryptionContext=dict(context))
    except ClientError as err:
        raise dynamo.busy() from err
    return bytes(resp["CiphertextBlob"])


def decrypt(ciphertext: bytes, context: Mapping[str, str]) -> bytes:
    try:
        resp = client().decrypt(KeyId=_key_id(), CiphertextBlob=ciphertext, EncryptionContext=dict(context))
    except ClientError as err:
        raise dynamo.busy() from err
    return bytes(resp["Plaintext"])
