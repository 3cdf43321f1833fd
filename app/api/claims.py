"""Claims: what was claimed, by whom, and how far it has been verified."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app import queries
from app.api.deps import INVALID, NOT_FOUND, JSONResponse, PageDep, StrictQueryRoute, page
from app.api.examples import example
from app.api.filters import ArticleId, ClaimFilters, EntityId, Role
from app.db import SessionDep
from app.errors import NotFound
from app.schemas import ClaimDetail, ClaimOut, Page

router = APIRouter(
    prefix="/claims", tags=["claims"], route_class=StrictQueryRoute, responses=INVALID
)


@router.get("", response_model=Page[ClaimOut], responses=example("list_claims"))
def list_claims(
    request: Request,
    session: SessionDep,
    paging: PageDep,
    filters: Annotated[ClaimFilters, Depends()],
    entity: EntityId = None,
    role: Role = "any",
    event: Annotated[str | None, Query(max_length=400, description="Event id.")] = None,
    article: ArticleId = None,
    published_from: Annotated[
        dt.date | None, Query(description="Article published on or after.")
    ] = None,
    published_to: Annotated[
        dt.date | None, Query(description="Article published on or before.")
    ] = None,
) -> Response:
    """List claims, oldest first; filter by status, kind, claimant, entity, article, text…"""
    items, nxt = queries.list_claims(
        session.connection(),
        status=filters.status,
        kind=filters.kind,
        claimant=filters.claimant,
        entity=entity,
        role=role,
        event=event,
        article=article,
        published_from=published_from,
        published_to=published_to,
        q=filters.q,
        after=paging.after,
        limit=paging.limit,
    )
    return page(request, items, paging, nxt)


@router.get(
    "/{claim_id}",
    response_model=ClaimDetail,
    responses={**example("get_claim"), **NOT_FOUND},
)
def get_claim(claim_id: str, session: SessionDep) -> Response:
    """One claim with its claimant, subjects, anchors, evidence and full status history."""
    claim = queries.get_claim(session.connection(), claim_id)
    if claim is None:
        raise NotFound(f"no claim with id {claim_id!r}")
    return JSONResponse(claim)
