"""Trials, activation, usage, and what the org sees of its products (docs/rules.md, rules 1-5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from license_manager import clock
from license_manager.domain import licensing
from license_manager.domain.catalog import Product
from license_manager.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable, raises
from license_manager.domain.identity import Caller, Role
from license_manager.domain.licensing import Change, ProductState
from license_manager.domain.orgs import org_not_found
from license_manager.domain.systems import System
from license_manager.domain.views import ProductOverview, WalletLine, product_overview, wallet_line
from license_manager.services.catalog import get_product
from license_manager.services.unit_of_work import (
    JsonCodec,
    Remember,
    RequestKey,
    authorize,
    commit,
    once,
    retry_on_stale,
    settle_backlog,
)
from license_manager.store import licensing as store
from license_manager.store.catalog import load_catalog

Decide = Callable[[ProductState, datetime], Change]
T = TypeVar("T")
BUSY = "This product is being changed by others right now; retry in a moment."


def change_product(
    caller: Caller,
    org_id: str,
    product_id: str,
    decide: Decide,
    answer: Callable[[Change, datetime], T],
    *,
    remember: Remember[T] | None = None,
    dry_run: bool = False,
) -> T:
    """Authorize -> load -> decide -> commit, for one org's product; two changes at once never
    lose an update. `answer` builds the result from the change; a dry run writes nothing."""
    access = authorize(caller, org_id, Role.ADMIN)

    def attempt() -> T:
        loaded = store.load(org_id, caller.email, product_id)
        grant = access.admit(loaded.member)
        now = clock.now()
        before = loaded.state or licensing.empty(org_id, product_id)
        if not dry_run:
            before = settle_backlog(grant, before, now)
        change = decide(before, now)
        result = answer(change, now)
        if change.events and not dry_run:
            commit(grant, change, caller.email, now, also=remember(result) if remember else [])
        return result

    return retry_on_stale(attempt, busy=BUSY)


def product_in_body(product_id: str) -> Product:
    """A product named in a request body: unknown is the field's fault (422)."""
    product = load_catalog().product(product_id)
    if product is None:
        raise InvalidInput(f"There is no product '{product_id}' in the catalog.", field="product_id")
    return product


@raises(InvalidInput, NotFound, Forbidden, Conflict, Unavailable)
def start_trial(caller: Caller, org_id: str, product_id: str, key: RequestKey | None = None) -> ProductOverview:
    product = product_in_body(product_id)
    return once(
        key,
        JsonCodec(ProductOverview),
        lambda remember: change_product(
            caller,
            org_id,
            product_id,
            lambda state, now: licensing.start_trial(state, product, now),
            lambda change, now: product_overview(change.after, product, now),
            remember=remember,
        ),
    )


@dataclass(frozen=True)
class Activation:
    dry_run: bool
    covered_from_wallet: int
    still_needed: int
    product: ProductOverview


@raises(InvalidInput, NotFound, Forbidden, Conflict, Unavailable)
def activate(
    caller: Caller,
    org_id: str,
    product_id: str,
    *,
    accept_terms: bool,
    terms_version: str,
    dry_run: bool,
    key: RequestKey | None = None,
) -> Activation:
    """Rule 2. A dry run checks everything a real activation checks and writes nothing."""
    product = product_in_body(product_id)
    licensing.check_terms(product, accept_terms, terms_version)

    def answer(change: Change, now: datetime) -> Activation:
        activated = change.events[-1]
        return Activation(
            dry_run=dry_run,
            covered_from_wallet=activated.consumed or 0,
            still_needed=activated.shortfall or 0,
            product=product_overview(change.after, product, now),
        )

    def run(remember: Remember[Activation]) -> Activation:
        return change_product(
            caller,
            org_id,
            product_id,
            lambda state, now: licensing.activate(state, product, now, caller.email),
            answer,
            remember=remember,
            dry_run=dry_run,
        )

    return once(None if dry_run else key, JsonCodec(Activation), run)


@raises(InvalidInput, NotFound, Forbidden, Unavailable)
def set_usage(caller: Caller, org_id: str, product_id: str, devices: int) -> ProductOverview:
    product = get_product(product_id)
    return change_product(
        caller,
        org_id,
        product_id,
        lambda state, now: licensing.set_usage(state, devices, now),
        lambda change, now: product_overview(change.after, product, now),
    )


@dataclass(frozen=True)
class Overview:
    org_id: str
    name: str
    as_of: datetime
    products: list[ProductOverview]


@dataclass(frozen=True)
class Wallet:
    org_id: str
    as_of: datetime
    products: list[WalletLine]


def _org_states(
    caller: Caller, org_id: str, with_systems: bool = True
) -> tuple[str, list[ProductState], list[System], datetime]:
    """The org, its product states in catalog order and (if asked) its systems, from ONE query on
    its partition, which also says the caller's role."""
    access = authorize(caller, org_id, Role.VIEWER)
    view = store.read_org(org_id, caller.email, with_systems)
    access.admit_role(view.role)
    if view.org is None:
        raise org_not_found()
    catalog = load_catalog()
    order = {p.product_id: i for i, p in enumerate(catalog.products)}
    # catalog order; products withdrawn from the catalog stay visible, last
    states = sorted(view.states, key=lambda s: (order.get(s.product_id, len(order)), s.product_id))
    return view.org.name, states, view.systems, clock.now()


@raises(NotFound, Forbidden, Unavailable)
def overview(caller: Caller, org_id: str) -> Overview:
    name, states, systems, now = _org_states(caller, org_id)
    catalog = load_catalog()
    products = [product_overview(s, catalog.product(s.product_id), now, systems) for s in states]
    return Overview(org_id=org_id, name=name, as_of=now, products=products)


@raises(NotFound, Forbidden, Unavailable)
def wallet(caller: Caller, org_id: str) -> Wallet:
    _name, states, _systems, now = _org_states(caller, org_id, with_systems=False)
    catalog = load_catalog()
    return Wallet(
        org_id=org_id, as_of=now, products=[wallet_line(s, catalog.product(s.product_id), now) for s in states]
    )
