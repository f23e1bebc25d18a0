"""Installed systems (docs/systems.md): registration codes, registration, usage reports, signed
licenses, credentials, system files from offline sites, and what an org sees of its systems."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from license_manager import clock, settings
from license_manager.domain import licenses, licensing
from license_manager.domain import systems as rules
from license_manager.domain.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    StaleState,
    Throttled,
    Unauthenticated,
    Unavailable,
    raises,
)
from license_manager.domain.identity import Caller, Role
from license_manager.domain.jose import compact, der_to_raw, p256_jwk, signing_input
from license_manager.domain.licensing import Change, ProductState
from license_manager.domain.systems import Kind, RegistrationCode, System, SystemFile, SystemStatus
from license_manager.domain.text import clean_name
from license_manager.services.licensing import product_in_body
from license_manager.services.unit_of_work import (
    JsonCodec,
    Remember,
    RequestKey,
    SecretFieldCodec,
    authorize,
    commit,
    once,
    retry_on_stale,
)
from license_manager.store import dynamo, signing
from license_manager.store import licensing as licensing_store
from license_manager.store import orgs as orgs_store
from license_manager.store import systems as store
from license_manager.store.system_items import Stored

BUSY = "This system is being changed by others right now; retry in a moment."


def _random(count: int, alphabet: str = rules.ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(count))


def _actor(system_id: str) -> str:
    return f"system:{system_id}"


# -- registration codes (admins) ----------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


@raises(NotFound, Forbidden, InvalidInput, Unavailable)
def create_code(caller: Caller, org_id: str, key: RequestKey | None = None) -> IssuedCode:
    """A one-time code, valid 24 h, shown this once; only its hash is stored."""
    access = authorize(caller, org_id, Role.ADMIN)

    def run(remember: Remember[IssuedCode]) -> IssuedCode:
        grant = access.admit(orgs_store.get_member(org_id, caller.email))
        now = clock.now()
        symbols = _random(20, "0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        code = RegistrationCode(rules.secret_hash(symbols), org_id, caller.email, now, now + rules.CODE_TTL)
        issued = IssuedCode(rules.display_code(symbols), code.expires_at)
        store.code_put(code, also=[grant.still_held(), *remember(issued)])
        return issued

    return once(key, SecretFieldCodec(IssuedCode, "code"), run)


# -- the software itself -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    system_id: str
    org_id: str
    product_id: str
    name: str
    credential: str


@raises(Unauthenticated, Gone, InvalidInput, Unavailable)
def register(typed_code: str, name: str, product_id: str, key: RequestKey | None = None) -> Registration:
    """Exchange a registration code for a system id and its credential (shown this once). The
    org's trial of the product starts if it has neither tried nor activated it."""
    symbols = rules.code_symbols(typed_code)
    product = product_in_body(product_id)
    name = clean_name(name) if name.strip() else ""
    if not name or len(name) > rules.MAX_NAME:
        raise InvalidInput(f"name: 1 to {rules.MAX_NAME} visible characters.", field="name")

    def run(remember: Remember[Registration]) -> Registration:
        now = clock.now()
        code = rules.usable_code(store.get_code(rules.secret_hash(symbols)), now)
        credential = secrets.token_urlsafe(32)
        system = System(
            system_id=rules.system_id_for(code.org_id, _random(12)),
            org_id=code.org_id,
            product_id=product.product_id,
            name=name,
            kind=Kind.ONLINE,
            devices=0,
            created_at=now,
            created_by=code.created_by,
            last_seen_at=now,
            credential_hash=rules.secret_hash(credential),
        )
        result = Registration(system.system_id, system.org_id, system.product_id, name, credential)

        def attempt() -> Registration:
            state = licensing_store.get_state(code.org_id, product.product_id)
            before = state or licensing.empty(code.org_id, product.product_id)
            change = licensing.system_joins(before, product, now, system.system_id, name)
            also = [
                store.code_use(code, system.system_id, now, lambda now_code: rules.code_refusal(now_code, now)),
                store.system_put(None, system, lambda _now: StaleState("this system id was just taken")),
                *remember(result),
            ]
            commit(None, change, _actor(system.system_id), now, also=also)
            return result

        return retry_on_stale(attempt, busy=BUSY)

    return once(key, SecretFieldCodec(Registration, "credential"), run)


def _authenticated(system_id: str, credential: str) -> tuple[Stored, ProductState]:
    """The system the credential belongs to, and the org's state of its product; 401 otherwise
    (an unknown system, a wrong or replaced credential, and a removed system look alike)."""
    org_id = rules.org_of(system_id)
    if org_id is None:
        raise rules.not_signed_in()
    stored = store.get_system(org_id, system_id)
    if stored is None or not rules.credential_matches(stored.system, credential):
        raise rules.not_signed_in()
    state = licensing_store.get_state(org_id, stored.system.product_id)
    return stored, state or licensing.empty(org_id, stored.system.product_id)


def _still(stored: Stored) -> Callable[[System | None], Exception]:
    """A system write refused: removed or re-credentialed meanwhile (401), or just changed by a
    concurrent request of its own (read and decide again)."""
    credential = stored.system.credential_hash

    def refused(now_system: System | None) -> Exception:
        if now_system is None or not now_system.active or now_system.credential_hash != credential:
            return rules.not_signed_in()
        return StaleState("system changed since it was read")

    return refused


@dataclass(frozen=True)
class Report:
    system_id: str
    devices: int
    org_devices: int
    status: str | None


@raises(Unauthenticated, InvalidInput, Unavailable)
def report_usage(system_id: str, credential: str, devices: int) -> Report:
    """The system runs the product on `devices` devices: the org's devices follow, with the wallet
    covering a rise as the rules say, in one transaction with its history event."""
    licensing.check_devices(devices)

    def attempt() -> Report:
        stored, state = _authenticated(system_id, credential)
        system = stored.system
        now = clock.now()
        change = licensing.report_usage(
            state, system.devices, devices, now, system_id=system_id, system_name=system.name
        )
        seen = store.system_put(stored, replace(system, devices=devices, last_seen_at=now), _still(stored))
        if change.events:
            commit(None, change, _actor(system_id), now, also=[seen])
        else:
            dynamo.write(seen)
        status = licensing.status_at(change.after, now)
        return Report(system_id, devices, change.after.devices, status.value if status else None)

    return retry_on_stale(attempt, busy=BUSY)


@dataclass(frozen=True)
class Credential:
    system_id: str
    credential: str


@raises(Unauthenticated, Unavailable)
def rotate_credential(system_id: str, credential: str, key: RequestKey | None = None) -> Credential:
    """A new credential for the system; the one it replaces stops working at once."""

    def run(remember: Remember[Credential]) -> Credential:
        def attempt() -> Credential:
            stored, _state = _authenticated(system_id, credential)
            fresh = secrets.token_urlsafe(32)
            rotated = replace(
                stored.system,
                credential_hash=rules.secret_hash(fresh),
                credential_version=stored.system.credential_version + 1,
                last_seen_at=clock.now(),
            )
            result = Credential(system_id, fresh)
            dynamo.transact([store.system_put(stored, rotated, _still(stored)), *remember(result)])
            return result

        return retry_on_stale(attempt, busy=BUSY)

    return once(key, SecretFieldCodec(Credential, "credential"), run)


@dataclass(frozen=True)
class SignedLicense:
    license: str
    expires_at: datetime


def _signed(system: System, state: ProductState, now: datetime) -> SignedLicense:
    payload = licenses.claims(system, state, settings.current().license_issuer, now, secrets.token_hex(8))
    key_id = signing.public_keys()[0][0]
    header = {"alg": "ES256", "typ": licenses.TYPE, "kid": p256_jwk(signing.public_key(key_id))["kid"]}
    message = signing_input(header, payload)
    _signed_by, signature = signing.sign(message)
    return SignedLicense(compact(message, der_to_raw(signature)), licenses.expires_at(state, now))


@raises(Unauthenticated, Throttled, Unavailable)
def license_of(system_id: str, credential: str) -> SignedLicense:
    """The system's license, signed: what it may run, until when. Fetched at most every 10 s."""

    def attempt() -> SignedLicense:
        stored, state = _authenticated(system_id, credential)
        now = clock.now()
        too_soon = rules.license_too_soon(stored.system, now)
        if too_soon is not None:
            raise too_soon
        seen = replace(stored.system, last_seen_at=now, last_license_at=now)
        dynamo.write(store.system_put(stored, seen, _still(stored)))
        return _signed(seen, state, now)

    return retry_on_stale(attempt, busy=BUSY)


@raises(Unavailable)
def jwks() -> dict[str, Any]:
    """The public keys that verify licenses (RFC 7517): the current one first."""
    return {"keys": [p256_jwk(der) for _key_id, der in signing.public_keys()]}


# -- what the org sees and does ------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemLine:
    system_id: str
    name: str
    product_id: str
    kind: Kind
    status: SystemStatus
    devices: int
    created_at: datetime
    last_seen_at: datetime
    stale: bool


def line(system: System, now: datetime) -> SystemLine:
    return SystemLine(
        system_id=system.system_id,
        name=system.name,
        product_id=system.product_id,
        kind=system.kind,
        status=system.status,
        devices=system.devices,
        created_at=system.created_at,
        last_seen_at=system.last_seen_at,
        stale=system.stale(now),
    )


@raises(NotFound, Forbidden, Unavailable)
def list_systems(caller: Caller, org_id: str) -> list[SystemLine]:
    access = authorize(caller, org_id, Role.VIEWER)
    access.admit(orgs_store.get_member(org_id, caller.email))
    now = clock.now()
    systems = sorted(store.list_systems(org_id), key=lambda s: (not s.active, s.name.lower(), s.system_id))
    return [line(s, now) for s in systems]


@raises(NotFound, Forbidden, Unavailable)
def remove(caller: Caller, org_id: str, system_id: str) -> None:
    """The system is removed: its credential stops working at once and its devices leave the
    org's usage; the history says who did it."""
    access = authorize(caller, org_id, Role.ADMIN)
    if rules.org_of(system_id) != org_id and not rules.possible_offline_id(system_id):
        raise rules.system_not_found()

    def attempt() -> None:
        grant = access.admit(orgs_store.get_member(org_id, caller.email))
        stored, state = store.load(org_id, system_id, None)
        if stored is None or not stored.system.active:
            raise rules.system_not_found()
        system = stored.system
        state = licensing_store.get_state(org_id, system.product_id) or licensing.empty(org_id, system.product_id)
        now = clock.now()
        change = licensing.system_leaves(state, system.devices, now, system_id, system.name)
        removed = replace(system, status=SystemStatus.REMOVED, devices=0)
        gone = store.system_put(stored, removed, lambda _now: StaleState("system changed since it was read"))
        commit(grant, change, caller.email, now, also=[gone])

    retry_on_stale(attempt, busy=BUSY)


@raises(NotFound, Forbidden, InvalidInput, Conflict, Gone, Unavailable)
def upload_system_file(
    caller: Caller, org_id: str, request: SystemFile, key: RequestKey | None = None
) -> SignedLicense:
    """An admin uploads a system file from an offline site and gets back its license file. The
    admin's sign-in is the trust anchor: the system joins the org (its trial starts if the org
    has neither tried nor activated the product) or, for a newer file, its devices change."""
    access = authorize(caller, org_id, Role.ADMIN)
    if not rules.possible_offline_id(request.system_id):
        raise InvalidInput("system_id: an offline system's id (off_...).", field="system_id")
    product = product_in_body(request.product_id)

    def run(remember: Remember[SignedLicense]) -> SignedLicense:
        def attempt() -> SignedLicense:
            grant = access.admit(orgs_store.get_member(org_id, caller.email))
            stored, state = store.load(org_id, request.system_id, product.product_id)
            before = state or licensing.empty(org_id, product.product_id)
            now = clock.now()
            if stored is not None and stored.system.product_id != product.product_id:
                raise InvalidInput("This system was registered for another product.", field="product_id")
            if stored is not None and not stored.system.active:
                raise Gone("This system was removed from the organization.", code="system_removed")
            if stored is not None and (stale := rules.stale_file(stored.system, request.created_at)) is not None:
                raise stale
            if stored is not None:
                system, same_file = stored.system, stored.system.file_nonce == request.nonce
                change = Change(before, before, [])
            else:
                system, same_file = _offline_system(request, org_id, caller.email, now), False
                change = licensing.system_joins(before, product, now, system.system_id, system.name)
            if not same_file:
                usage = licensing.report_usage(
                    change.after,
                    system.devices,
                    request.devices,
                    now,
                    system_id=system.system_id,
                    system_name=system.name,
                )
                change = Change(before, usage.after, [*change.events, *usage.events])
            updated = replace(
                system,
                name=request.name,
                devices=request.devices,
                last_seen_at=now,
                file_created_at=request.created_at,
                file_nonce=request.nonce,
            )
            signed = _signed(updated, change.after, now)
            also = [store.system_put(stored, updated, lambda _now: StaleState("system changed")), *remember(signed)]
            if change.events:
                commit(grant, change, caller.email, now, also=also)
            else:
                dynamo.transact([grant.still_held(), *also])
            return signed

        return retry_on_stale(attempt, busy=BUSY)

    return once(key, JsonCodec(SignedLicense), run)


def _offline_system(request: SystemFile, org_id: str, admin: str, now: datetime) -> System:
    return System(
        system_id=request.system_id,
        org_id=org_id,
        product_id=request.product_id,
        name=request.name,
        kind=Kind.OFFLINE,
        devices=0,
        created_at=now,
        created_by=admin,
        last_seen_at=now,
    )
