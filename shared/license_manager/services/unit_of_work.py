"""How every use case changes state: authorize -> load -> decide -> commit.

- `authorize(caller, org_id, min_role)` gives an `Access`: impossible org ids are refused here
  (404, no database call). `Access.admit(member)` is the check made on the membership as read
  (404 for non-members, 403 for a weaker role) and gives a `Grant`, whose `still_held()` is the
  SAME rule as a condition inside the transaction of the change, so a member removed or demoted
  while their request runs changes nothing. Both come from `identity.roles_at_least`.
- `commit()` writes a licensing change: the new state on the version it was read at, its history
  events and its notifications, numbered in the order they happened, in one transaction.
- `retry_on_stale()` runs a read-decide-write again when someone changed the state between the
  read and the write (optimistic locking), a bounded number of times within the time budget.
- `once()` makes a request sent with an Idempotency-Key happen once: its answer is written in the
  same transaction as its change, and a retry gets that answer back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar, cast

from pydantic import TypeAdapter

from license_manager import clock, deadline, ids, settings
from license_manager.domain import licensing
from license_manager.domain.errors import DomainError, InvalidInput, StaleState, Unavailable
from license_manager.domain.history import SYSTEM_ACTOR, HistoryEvent
from license_manager.domain.identity import Caller, Role, role_allows, role_refused, roles_at_least
from license_manager.domain.licensing import Change, Figures, ProductState
from license_manager.domain.orgs import Member, org_not_found, possible_org_id
from license_manager.domain.renewals import Notification, renewal_notifications
from license_manager.services import signals
from license_manager.store import answers, dynamo, encryption, outbox
from license_manager.store import licensing as store
from license_manager.store.orgs import membership_check

T = TypeVar("T")

MAX_ATTEMPTS = 8
# A transaction holds at most 100 actions: a change that must first process more renewals than
# this (after a long outage, or a dev clock moved years ahead) processes them in steps first.
MAX_RENEWALS_PER_WRITE = 20


# -- who may do it ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """A member allowed to act; `still_held()` re-checks it inside the transaction."""

    member: Member
    min_role: Role

    def refusal(self, now: Member | None) -> Exception:
        return org_not_found() if now is None else role_refused(now.role, self.min_role)

    def still_held(self) -> dynamo.TxAction:
        return membership_check(self.member, roles_at_least(self.min_role), self.refusal)


@dataclass(frozen=True)
class Access:
    caller: Caller
    org_id: str
    min_role: Role

    def admit(self, member: Member | None) -> Grant:
        """The check on the membership as read: 404 for non-members (no hint the org exists),
        403 for a role too weak."""
        if member is None or member.org_id != self.org_id:
            raise org_not_found()
        self.admit_role(member.role)
        return Grant(member, self.min_role)

    def admit_role(self, role: Role | None) -> None:
        """The same check for a read that knows only the caller's role in this org (the org
        item's copy): nothing is written with it, so no Grant."""
        if role is None:
            raise org_not_found()
        if not role_allows(role, self.min_role):
            raise role_refused(role, self.min_role)


def authorize(caller: Caller, org_id: str, min_role: Role) -> Access:
    if not possible_org_id(org_id):
        raise org_not_found()
    return Access(caller, org_id, min_role)


# -- what is written ------------------------------------------------------------------------------


def history_events(change: Change, actor: str, now: datetime) -> list[HistoryEvent]:
    """The history events of a change, in order (their ids sort in that order); renewal steps are
    done by `system`, whoever triggered them. A history event carries the figures by name."""
    return [
        HistoryEvent(
            event_id=ids.new_event_id(now, seq),
            at=now,
            actor=SYSTEM_ACTOR if figures.system else actor,
            action=figures.action,
            product_id=change.after.product_id,
            **_figures(figures),
        )
        for seq, figures in enumerate(change.events)
    ]


def _figures(figures: Figures) -> dict[str, object]:
    return {k: v for k, v in asdict(figures).items() if k not in ("action", "system")}


def notification_records(notifications: Sequence[Notification], now: datetime) -> list[outbox.Pending]:
    """Outbox records, in order (their ids sort in that order)."""
    return [outbox.record(n, ids.new_event_id(now, seq), now) for seq, n in enumerate(notifications)]


def commit(
    grant: Grant | None,
    change: Change,
    actor: str,
    now: datetime,
    *,
    notices: Sequence[Notification] = (),
    also: Sequence[dynamo.TxAction] = (),
    written: Callable[[list[outbox.Pending]], None] | None = None,
) -> ProductState:
    """Write a licensing change in one transaction: the grant re-checked (None: the system), the
    state on the version it was read at, its history events, the notifications its renewals call
    for plus `notices`, and `also`. Returns the state as written (its new version). `written`
    gets the outbox records once they are committed (the sweep publishes them without reading
    them back)."""
    records = notification_records([*renewal_notifications(change), *notices], now)
    store.write(
        [grant.still_held()] if grant is not None else [],
        change.before.version,
        change.after,
        history_events(change, actor, now),
        [*(outbox.put_record(r, now) for r in records), *also],
    )
    signals.change_committed(change, notices)
    if written is not None:
        written(records)
    return replace(change.after, version=change.before.version + 1)


def settle_backlog(grant: Grant | None, state: ProductState, now: datetime) -> ProductState:
    """Process due renewals in steps of MAX_RENEWALS_PER_WRITE until what is left fits in one
    transaction with the change to come. Each step is atomic on its own, like the sweep's."""
    while licensing.renewals_due(state, now) > MAX_RENEWALS_PER_WRITE:
        state = commit(grant, licensing.catch_up(state, now, limit=MAX_RENEWALS_PER_WRITE), SYSTEM_ACTOR, now)
    return state


def retry_on_stale(attempt: Callable[[], T], *, busy: str) -> T:
    """Run read-decide-write `attempt` until its write is not refused as stale. Bounded, jittered,
    within the time budget; then the client gets 503 with Retry-After."""
    attempt_number = 0
    while True:
        attempt_number += 1
        try:
            return attempt()
        except StaleState:
            wait = dynamo.backoff(attempt_number)
            if not dynamo.may_retry(attempt_number, wait, MAX_ATTEMPTS):
                raise Unavailable(busy, retry_after=1) from None
            deadline.sleep(wait)


# -- once: idempotency keys -------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestKey:
    """A request's Idempotency-Key, made by the API layer: `scope` identifies the key of this
    caller, `fingerprint` the request (method, path, body)."""

    scope: str
    fingerprint: str


class Codec(Protocol[T]):
    """How a result is remembered: JSON, plus a secret part to keep encrypted (or None)."""

    def dump(self, result: T) -> tuple[str, bytes | None]: ...

    def load(self, payload: str, secret: bytes | None) -> T: ...


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    """One adapter per type, built when an answer is first remembered or replayed (building one
    costs milliseconds; most requests carry no Idempotency-Key and never need it)."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


class JsonCodec(Generic[T]):
    def __init__(self, kind: type[T]) -> None:
        self._kind = kind

    def dump(self, result: T) -> tuple[str, bytes | None]:
        return _adapter(self._kind).dump_json(result).decode(), None

    def load(self, payload: str, secret: bytes | None) -> T:
        return cast(T, _adapter(self._kind).validate_json(payload))


class SecretFieldCodec(Generic[T]):
    """Remembers a result whose `field` is a secret (a credential, a code): that field is kept
    apart, to be encrypted, and put back when the answer is replayed."""

    def __init__(self, kind: type[T], field: str) -> None:
        self._json = JsonCodec(kind)
        self._field = field

    def dump(self, result: T) -> tuple[str, bytes | None]:
        bare = replace(result, **{self._field: ""})  # type: ignore[type-var]
        return self._json.dump(bare)[0], str(getattr(result, self._field)).encode()

    def load(self, payload: str, secret: bytes | None) -> T:
        return replace(self._json.load(payload, None), **{self._field: (secret or b"").decode()})  # type: ignore[type-var]


Remember = Callable[[T], list[dynamo.TxAction]]


class _Taken(Exception):
    def __init__(self, answer: answers.Answer) -> None:
        super().__init__("answer already remembered")
        self.answer = answer


def _context(key: RequestKey) -> dict[str, str]:
    return {"purpose": "idempotent-answer", "scope": key.scope}


def _replay(key: RequestKey, codec: Codec[T], answer: answers.Answer) -> T:
    if answer.fingerprint != key.fingerprint:
        raise InvalidInput(
            "This Idempotency-Key was already used for a different request; use a new key for a new request.",
            field="Idempotency-Key",
            code="idempotency_key_reused",
        )
    secret = encryption.decrypt(answer.sealed, _context(key)) if answer.sealed is not None else None
    return codec.load(answer.payload, secret)


def once(key: RequestKey | None, codec: Codec[T], run: Callable[[Remember[T]], T]) -> T:
    """Run `run` once per Idempotency-Key. `run` gets `remember`, which turns its result into the
    actions to add to the transaction of its change. A retry with the same key (within the
    settings' idempotency hours) gets the first result back and changes nothing; the same key
    with another request is 422. Without a key, `run` simply runs.

    The remembered answer is not read first (that would be one more call on every request): a
    retry runs again, and either its transaction finds the answer already there (the answer's own
    condition: `_Taken`, replayed), or its decision is refused now that the first request has
    happened (already a member, key already redeemed, ...): only then is the answer looked up,
    and replayed if there is one."""
    if key is None:
        return run(lambda _result: [])

    def remember(result: T) -> list[dynamo.TxAction]:
        payload, secret = codec.dump(result)
        sealed = encryption.encrypt(secret, _context(key)) if secret is not None else None
        now = clock.now()
        expires = now + timedelta(hours=settings.current().idempotency_hours)
        return [answers.put(key.scope, answers.Answer(key.fingerprint, payload, sealed), now, expires, _Taken)]

    try:
        return run(remember)
    except _Taken as taken:  # the same request committed first (earlier, or at the same time)
        return _replay(key, codec, taken.answer)
    except Unavailable:
        raise
    except DomainError:
        earlier = answers.get(key.scope, clock.now())
        if earlier is None:
            raise
        return _replay(key, codec, earlier)
