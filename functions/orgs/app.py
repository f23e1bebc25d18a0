"""Organizations, members and the org's history: POST/GET /orgs, /orgs/{org_id}/members, /history."""

from __future__ import annotations

import gc

gc.disable()  # until loaded(), below: no garbage collection while the modules load

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from license_manager import loading, settings
from license_manager.api.resolver import (
    IdempotencyKey,
    answer,
    answer_with,
    current_caller,
    handler,
    make_resolver,
    request_key,
    responses,
)
from license_manager.api.schemas.orgs import CreateOrgIn, HistoryOut, MemberIn, MemberOut, MembersOut, OrgOut, OrgsOut
from license_manager.domain.paging import MAX_CURSOR_LENGTH
from license_manager.services import orgs

settings.load()
app = make_resolver()

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page")]


@app.post(
    "/orgs",
    status_code=201,
    summary="Create an organization; the caller becomes its owner",
    responses=responses(201, OrgOut, "Created; the caller is owner", orgs.create_org),
)
def create_org(body: CreateOrgIn, idempotency_key: IdempotencyKey = None) -> OrgOut:
    caller = current_caller(app)
    return answer(OrgOut, orgs.create_org(caller, body.name, request_key(app, caller, idempotency_key)))


@app.get(
    "/orgs",
    summary="The caller's organizations and roles, by name, a page at a time",
    responses=responses(200, OrgsOut, "A page of the caller's organizations", orgs.my_orgs),
)
def list_orgs(limit: Limit = 50, cursor: Cursor = None) -> OrgsOut:
    return answer(OrgsOut, orgs.my_orgs(current_caller(app), limit, cursor))


@app.get(
    "/orgs/<org_id>/members",
    summary="Members and roles (owner)",
    responses=responses(200, MembersOut, "Members", orgs.list_members),
)
def list_members(org_id: str) -> MembersOut:
    return answer(MembersOut, {"members": orgs.list_members(current_caller(app), org_id)})


@app.post(
    "/orgs/<org_id>/members",
    status_code=201,
    summary="Add a member (201), or change a member's role (200) (owner)",
    responses=responses(
        201,
        MemberOut,
        "Member added",
        orgs.put_member,
        also={200: {"description": "Role changed", "content": {"application/json": {"model": MemberOut}}}},
    ),
)
def put_member(org_id: str, body: MemberIn, idempotency_key: IdempotencyKey = None) -> Response[MemberOut]:
    caller = current_caller(app)
    change = orgs.put_member(caller, org_id, body.email, body.role, request_key(app, caller, idempotency_key))
    return answer_with(201 if change.created else 200, MemberOut, change.member)


@app.delete(
    "/orgs/<org_id>/members/<email>",
    status_code=204,
    summary="Remove a member (owner); never the last owner",
    responses=responses(204, None, "Removed", orgs.remove_member),
)
def remove_member(org_id: str, email: str) -> None:
    orgs.remove_member(current_caller(app), org_id, unquote(email))


@app.get(
    "/orgs/<org_id>/history",
    summary="The org's history, newest first (viewer)",
    responses=responses(200, HistoryOut, "A page of events", orgs.history),
)
def history(org_id: str, limit: Limit = 25, cursor: Cursor = None) -> HistoryOut:
    return answer(HistoryOut, orgs.history(current_caller(app), org_id, limit, cursor))


lambda_handler = handler(app)
loading.loaded()
