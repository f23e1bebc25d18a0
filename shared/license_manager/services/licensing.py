"""Trials, activation, usage, and what the org sees of its products."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TypeVar

from license_manager import clock, ids
from license_manager.domain import licensing
from license_manager.domain.catalog import Product
from license_manager.domain.errors import InvalidInput, NotFound, StaleState, Unavailable
from license_manager.domain.history import SYSTEM_ACTOR, HistoryEvent
from license_manager.domain.identity import Caller, Role, require_role
from license_manager.domain.licensing import Change, Figures, ProductState
from license_manager.domain.orgs import Member
from license_manager.domain.renewals import renewal_notifications
from license_manager.domain.views import ProductOverview, WalletLine, product_overview, wallet_line
from license_manager.services.catalog import get_product
from license_manager.services.orgs import valid_org_id
from license_manager.store import dynamo, outbox
from license_manager.store import licensing as store
from license_manager.store.catalog import load_catalog

WRITE_ROLES = (Role.OWNER, Role.ADMIN)
MAX_ATTEMPTS = 8

Decide = Callable[[ProductState, datetime], Change]
T = TypeVar("T")


def events_of(change: Change, actor: str, now: datetime) -> list[HistoryEvent]:
    """History events of a change, in order; renewal steps are done by `system` whoever triggered them."""
    return [_event(f, actor, change.after.product_id, now, seq) for seq, f in enumerate(change.events)]


def outbox_of(change: Change, now: datetime) -> list[dynamo.TxAction]:
    """Notifications a change calls for (renewals it processed), written in its transaction."""
    return [outbox.put(n, ids.new_event_id(now, 50 + seq), now) for seq, n in enumerate(renewal_notifications(change))]


def _event(figures: Figures, actor: str, product_id: str, now: datetime, seq: int) -> HistoryEvent:
    """A history event carries the figures under the same names."""
    figures_of = {k: v for k, v in asdict(figures).items() if k not in ("action", "system")}
    return HistoryEvent(
        event_id=ids.new_event_id(now, seq),
        at=now,
        actor=SYSTEM_ACTOR if figures.system else actor,
        action=figures.action,
        product_id=product_id,
        **figures_of,
    )


def retry_on_stale(attempt: Callable[[], T], *, busy: str, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run read-decide-write `attempt` until its write is not refused as stale (optimistic locking:
    someone changed the state between the read and the write, so read and decide again). Bounded
    and jittered; past MAX_ATTEMPTS the client gets 503 with Retry-After."""
    for attempt_number in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except StaleState:
            sleep(dynamo.backoff(attempt_number))
    raise Unavailable(busy, retry_after=1)


def _load(caller: Caller, org_id: str, product_id: str) -> tuple[Member, ProductState]:
    loaded = store.load(org_id, caller.email, product_id) if valid_org_id(org_id) else store.Loaded(None, None)
    if loaded.member is None:
        raise NotFound("Organization not found.")
    require_role(loaded.member.role, Role.ADMIN)
    return loaded.member, loaded.state or licensing.empty(org_id, product_id)


def preview(caller: Caller, org_id: str, product_id: str, decide: Decide) -> tuple[Change, datetime]:
    """What `mutate` would do, with the same checks, writing nothing."""
    _member, before = _load(caller, org_id, product_id)
    now = clock.now()
    return decide(before, now), now


def mutate(caller: Caller, org_id: str, product_id: str, decide: Decide) -> tuple[Change, datetime]:
    """Read the state, decide, write it with its events; two changes at once never lose an update."""

    def attempt() -> tuple[Change, datetime]:
        member, before = _load(caller, org_id, product_id)
        now = clock.now()
        change = decide(before, now)
        if change.events:  # nothing changed: nothing to write
            store.write(
                member,
                before.version,
                change.after,
                events_of(change, caller.email, now),
                roles=WRITE_ROLES,
                outbox=outbox_of(change, now),
            )
        return change, now

    return retry_on_stale(attempt, busy="This product is being changed by others right now; retry in a moment.")


def _product_in_body(product_id: str) -> Product:
    product = load_catalog().product(product_id)
    if product is None:
        raise InvalidInput(f"There is no product '{product_id}' in the catalog.", field="product_id")
    return product


def start_trial(caller: Caller, org_id: str, product_id: str) -> ProductOverview:
    product = _product_in_body(product_id)
    change, now = mutate(caller, org_id, product_id, lambda s, n: licensing.start_trial(s, product, n))
    return product_overview(change.after, product, now)


@dataclass(frozen=True)
class Activation:
    summary: ProductOverview
    consumed: int
    still_needed: int
    dry_run: bool


def activate(
    caller: Caller, org_id: str, product_id: str, *, accept_terms: bool, terms_version: str, dry_run: bool
) -> Activation:
    """Rule 2. A dry run checks everything a real activation checks and writes nothing."""
    product = _product_in_body(product_id)
    licensing.check_terms(product, accept_terms, terms_version)

    def decide(state: ProductState, now: datetime) -> Change:
        return licensing.activate(state, product, now, caller.email)

    change, now = (preview if dry_run else mutate)(caller, org_id, product_id, decide)
    (activated,) = change.events
    return Activation(
        summary=product_overview(change.after, product, now),
        consumed=activated.consumed or 0,
        still_needed=activated.shortfall or 0,
        dry_run=dry_run,
    )


def set_usage(caller: Caller, org_id: str, product_id: str, devices: int) -> ProductOverview:
    product = get_product(product_id)
    change, now = mutate(caller, org_id, product_id, lambda s, n: licensing.set_usage(s, devices, n))
    return product_overview(change.after, product, now)


@dataclass(frozen=True)
class Overview:
    org_id: str
    name: str
    as_of: datetime
    products: list[ProductOverview]


def _org_states(caller: Caller, org_id: str) -> tuple[str, list[ProductState], datetime]:
    """The org's name and product states, from ONE query on its partition (membership included)."""
    view = store.read_org(org_id, caller.email) if valid_org_id(org_id) else store.OrgView(None, None, [])
    if view.member is None or view.org is None:
        raise NotFound("Organization not found.")
    require_role(view.member.role, Role.VIEWER)
    catalog = load_catalog()
    order = {p.product_id: i for i, p in enumerate(catalog.products)}
    # catalog order; products withdrawn from the catalog stay visible, last
    states = sorted(view.states, key=lambda s: (order.get(s.product_id, len(order)), s.product_id))
    return view.org.name, states, clock.now()


def overview(caller: Caller, org_id: str) -> Overview:
    name, states, now = _org_states(caller, org_id)
    catalog = load_catalog()
    products = [product_overview(s, catalog.product(s.product_id), now) for s in states]
    return Overview(org_id=org_id, name=name, as_of=now, products=products)


def wallet(caller: Caller, org_id: str) -> tuple[list[WalletLine], datetime]:
    _name, states, now = _org_states(caller, org_id)
    return [wallet_line(s, load_catalog().product(s.product_id)) for s in states], now
