"""Installed systems: registration codes, the org's systems, offline system files (admins, with a
user token); registration, usage, licenses and credentials (the software, with its own
credential); and the public keys that verify licenses."""

from __future__ import annotations

import gc

gc.disable()  # until loaded(), below: no garbage collection while the modules load

from aws_lambda_powertools.event_handler import Response

from license_manager import loading, settings
from license_manager.api.resolver import (
    IdempotencyKey,
    answer,
    current_caller,
    handler,
    make_resolver,
    request_key,
    responses,
    system_credential,
)
from license_manager.api.schemas.systems import (
    CredentialOut,
    IssuedCodeOut,
    JwksOut,
    LicenseOut,
    RegisterIn,
    RegistrationOut,
    ReportOut,
    SystemFileIn,
    SystemsOut,
    SystemUsageIn,
)
from license_manager.domain.systems import SystemFile, code_symbols, secret_hash
from license_manager.services import systems

settings.load(require=["signing_key_ids", "answers_key_id"])
app = make_resolver()
SYSTEM: list[dict[str, list[str]]] = [{"systemCredential": []}]  # the system's credential, not a user token
PUBLIC: list[dict[str, list[str]]] = []


@app.post(
    "/orgs/<org_id>/systems/registration-codes",
    status_code=201,
    summary="A one-time code (24 h) for installed software to register with the org (admin)",
    responses=responses(201, IssuedCodeOut, "Created; shown this once", systems.create_code),
)
def create_code(org_id: str, idempotency_key: IdempotencyKey = None) -> IssuedCodeOut:
    caller = current_caller(app)
    return answer(IssuedCodeOut, systems.create_code(caller, org_id, request_key(app, caller, idempotency_key)))


@app.get(
    "/orgs/<org_id>/systems",
    summary="The org's installed systems: product, devices, last seen, online/offline, active/removed (viewer)",
    responses=responses(200, SystemsOut, "The org's systems", systems.list_systems),
)
def list_systems(org_id: str) -> SystemsOut:
    return answer(SystemsOut, {"systems": systems.list_systems(current_caller(app), org_id)})


@app.delete(
    "/orgs/<org_id>/systems/<system_id>",
    status_code=204,
    summary="Remove a system (admin): its credential stops working, its devices leave the org's usage",
    responses=responses(204, None, "Removed", systems.remove),
)
def remove(org_id: str, system_id: str) -> None:
    systems.remove(current_caller(app), org_id, system_id)


@app.post(
    "/orgs/<org_id>/systems/offline",
    summary="Upload a system file from a site with no internet; get back its license file (admin)",
    responses=responses(200, LicenseOut, "The system's license file", systems.upload_system_file),
)
def upload_system_file(org_id: str, body: SystemFileIn, idempotency_key: IdempotencyKey = None) -> LicenseOut:
    caller = current_caller(app)
    file = SystemFile(**body.model_dump())
    return answer(
        LicenseOut, systems.upload_system_file(caller, org_id, file, request_key(app, caller, idempotency_key))
    )


@app.post(
    "/systems/register",
    status_code=201,
    summary="Installed software registers with a registration code; gets its id and credential (shown once)",
    responses=responses(201, RegistrationOut, "Registered", systems.register),
    security=PUBLIC,
)
def register(body: RegisterIn, idempotency_key: IdempotencyKey = None) -> RegistrationOut:
    key = request_key(app, "code:" + secret_hash(code_symbols(body.code)), idempotency_key)
    return answer(RegistrationOut, systems.register(body.code, body.name, body.product_id, key))


@app.put(
    "/systems/<system_id>/usage",
    summary="The system reports the devices it runs the product on (system credential)",
    responses=responses(200, ReportOut, "Reported", systems.report_usage),
    security=SYSTEM,
)
def report_usage(system_id: str, body: SystemUsageIn) -> ReportOut:
    return answer(ReportOut, systems.report_usage(system_id, system_credential(app), body.devices))


@app.get(
    "/systems/<system_id>/license",
    summary="The system's signed license (ES256 JWS), verifiable offline with the JWKS (system credential)",
    responses=responses(200, LicenseOut, "The signed license", systems.license_of),
    security=SYSTEM,
)
def license_of(system_id: str) -> LicenseOut:
    return answer(LicenseOut, systems.license_of(system_id, system_credential(app)))


@app.post(
    "/systems/<system_id>/credential",
    summary="A new credential for the system; the old one stops working (system credential)",
    responses=responses(200, CredentialOut, "The new credential, shown once", systems.rotate_credential),
    security=SYSTEM,
)
def rotate_credential(system_id: str, idempotency_key: IdempotencyKey = None) -> CredentialOut:
    credential = system_credential(app)
    key = request_key(app, "system:" + system_id, idempotency_key)
    return answer(CredentialOut, systems.rotate_credential(system_id, credential, key))


@app.get(
    "/.well-known/jwks.json",
    summary="The public keys that verify licenses (JWKS, RFC 7517); the current key first",
    responses=responses(200, JwksOut, "The keys", systems.jwks),
    security=PUBLIC,
)
def jwks() -> Response[JwksOut]:
    keys = answer(JwksOut, systems.jwks())
    return Response(200, content_type="application/json", body=keys, headers={"Cache-Control": "max-age=300"})


lambda_handler = handler(app)
loading.loaded()
