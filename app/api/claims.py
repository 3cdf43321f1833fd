"""Claims: what was claimed, by whom, and how far it has been verified."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app import queries
from app.api.deps import INVALID, NOT_FOUND, JSONResponse, PageDep, StrictQueryRoute, page
from app.api.examples import example
from app.api.filters import ArticleId, ClaimFilters, EntityId, EventId, PathId, Role
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
    event: EventId = None,
    article: ArticleId = None,
) -> Response:
    """List claims, oldest first; filter by status, kind, claimant, entity, article, text…"""
    result = queries.list_claims(
        session.connection(),
        **filters.kwargs,
        entity=entity,
        role=role,
        event=event,
        article=article,
        after=paging.after,
        limit=paging.limit,
    )
    return page(request, result, paging)


@router.get(
    "/{claim_id}", response_model=ClaimDetail, responses={**example("get_claim"), **NOT_FOUND}
)
def get_claim(claim_id: PathId, session: SessionDep) -> Response:
    """One claim with its claimant, subjects, anchors, evidence and full status history."""
    claim = queries.get_claim(session.connection(), claim_id)
    if claim is None:
        raise NotFound(f"no claim with id {claim_id!r}")
    return JSONResponse(claim)
