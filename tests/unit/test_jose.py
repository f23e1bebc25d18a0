"""The JOSE pieces of signed licenses, against the standards' own examples and a real library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from license_manager.domain.catalog import Product
from license_manager.domain.jose import compact, der_to_raw, p256_jwk, signing_input, thumbprint
from license_manager.domain.licenses import MAX_VALIDITY, expires_at, next_change
from license_manager.domain.licensing import activate, empty, set_usage, start_trial

PRODUCT = Product(product_id="cam", name="Cam", trial_days=30, terms_version="1", term_months=12)


def test_the_rfc_7638_thumbprint_of_rfc_7517s_example_ec_key() -> None:
    # RFC 7517, appendix A.1's P-256 key; its RFC 7638 thumbprint as JOSE libraries compute it
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    }
    assert thumbprint(jwk) == "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"


def test_a_license_signed_as_kms_signs_verifies_with_a_standard_library() -> None:
    # Given a P-256 key: its public half as KMS gives it (DER SubjectPublicKeyInfo)
    private = ec.generate_private_key(ec.SECP256R1())
    spki = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = p256_jwk(spki)
    # When a license is signed with a DER signature (as KMS answers) and converted to R || S
    message = signing_input({"alg": "ES256", "kid": jwk["kid"]}, {"sub": "sys_x", "exp": 2_000_000_000, "iat": 1})
    token = compact(message, der_to_raw(private.sign(message, ec.ECDSA(hashes.SHA256()))))
    # Then PyJWT verifies it with the published JWK
    claims = jwt.decode(token, key=jwt.PyJWK(jwk).key, algorithms=["ES256"], options={"verify_iat": False})
    assert claims["sub"] == "sys_x"


def test_a_license_ends_when_its_status_can_change_or_in_30_days() -> None:
    t0 = datetime(2027, 1, 15, 10, tzinfo=UTC)
    trial = start_trial(empty("org_x", "cam"), PRODUCT, t0).after
    assert expires_at(trial, t0) == t0 + timedelta(days=30)  # the trial's end
    uncovered = activate(set_usage(empty("org_x", "cam"), 3, t0).after, PRODUCT, t0, "a@b.co").after
    assert next_change(uncovered, t0 + timedelta(days=1)) == t0 + timedelta(days=30)  # the grace end
    assert expires_at(uncovered, t0 + timedelta(days=40)) == t0 + timedelta(days=40) + MAX_VALIDITY
    covered = activate(empty("org_x", "cam"), PRODUCT, t0, "a@b.co").after  # 0 devices: licensed
    near_renewal = datetime(2028, 1, 1, tzinfo=UTC)
    assert expires_at(covered, near_renewal) == datetime(2028, 1, 15, 10, tzinfo=UTC)  # the period's end
