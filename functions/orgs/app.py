"""Organizations, members and the org's history: POST/GET /orgs, /orgs/{org_id}/members, /history."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from license_manager.api.resolver import current_caller, make_resolver, responses, serve
from license_manager.api.schemas import CreateOrgIn, HistoryOut, MemberIn, MemberOut, MembersOut, OrgOut, OrgsOut
from license_manager.observability import logger
from license_manager.services import orgs

app = make_resolver()


@app.post(
    "/orgs",
    status_code=201,
    summary="Create an organization; the caller becomes its owner",
    responses=responses(201, OrgOut, "Created; the caller is owner", 400, 415),
)
def create_org(body: CreateOrgIn) -> OrgOut:
    return OrgOut.of(orgs.create_org(current_caller(app), body.name))


@app.get(
    "/orgs",
    summary="The caller's organizations and roles",
    responses=responses(200, OrgsOut, "The caller's organizations"),
)
def list_orgs() -> OrgsOut:
    return OrgsOut(orgs=[OrgOut.of(m) for m in orgs.my_orgs(current_caller(app))])


@app.get(
    "/orgs/<org_id>/members",
    summary="Members and roles (owner)",
    responses=responses(200, MembersOut, "Members", 403, 404),
)
def list_members(org_id: str) -> MembersOut:
    return MembersOut(members=[MemberOut.of(m) for m in orgs.list_members(current_caller(app), org_id)])


@app.post(
    "/orgs/<org_id>/members",
    status_code=201,
    summary="Add a member (201), or change a member's role (200) (owner)",
    responses=responses(
        201,
        MemberOut,
        "Member added",
        400,
        403,
        404,
        409,
        415,
        also={200: {"description": "Role changed", "content": {"application/json": {"model": MemberOut}}}},
    ),
)
def put_member(org_id: str, body: MemberIn) -> Response[MemberOut]:
    change = orgs.put_member(current_caller(app), org_id, body.email, body.role)
    return Response(
        status_code=201 if change.created else 200,
        content_type="application/json",
        body=MemberOut.of(change.member),
    )


@app.delete(
    "/orgs/<org_id>/members/<email>",
    status_code=204,
    summary="Remove a member (owner); never the last owner",
    responses=responses(204, None, "Removed", 403, 404, 409),
)
def remove_member(org_id: str, email: str) -> None:
    orgs.remove_member(current_caller(app), org_id, unquote(email))


@app.get(
    "/orgs/<org_id>/history",
    summary="The org's history, newest first (viewer)",
    responses=responses(200, HistoryOut, "A page of events", 403, 404),
)
def history(
    org_id: str,
    limit: Annotated[int, Query(ge=1, le=100, description="Events per page")] = 25,
    cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page")] = None,
) -> HistoryOut:
    page = orgs.history(current_caller(app), org_id, limit, cursor)
    return HistoryOut(events=page.events, next_cursor=page.next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
