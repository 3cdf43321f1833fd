"""Claims: what was claimed, by whom, and how far it has been verified."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app import queries
from app.api.deps import INVALID, NOT_FOUND, ClaimPageDep, StrictQueryRoute, on_loop, page
from app.api.examples import example
from app.api.filters import ArticleId, ClaimFilters, EntityId, EventId, PathId, Role
from app.api.options import ClaimOptions
from app.db import SessionDep
from app.errors import NotFound
from app.formats import ClaimFormatDep, Format, render_claim
from app.offsets import OffsetUnitQuery, in_unit
from app.schemas import ClaimDetail, ClaimOut, Page
from app.statements import serialised_json

router = APIRouter(
    prefix="/claims", tags=["claims"], route_class=StrictQueryRoute, responses=INVALID
)


@router.get("", response_model=Page[ClaimOut], responses=example("list_claims"))
def list_claims(
    request: Request,
    session: SessionDep,
    paging: ClaimPageDep,
    options: ClaimOptions,
    filters: Annotated[ClaimFilters, Depends(on_loop(ClaimFilters))],
    entity: EntityId = None,
    role: Role = "any",
    event: EventId = None,
    article: ArticleId = None,
) -> Response:
    """List claims, oldest first; filter by status, kind, claimant, entity, article, text…"""
    result = paging.run(
        queries.list_claims,
        session,
        **filters.kwargs,
        entity=entity,
        role=role,
        event=event,
        article=article,
        extension=options.extension,
    )
    return page(request, result, paging, options)


@router.get(
    "/{claim_id}", response_model=ClaimDetail, responses={**example("get_claim"), **NOT_FOUND}
)
def get_claim(
    request: Request,
    claim_id: PathId,
    session: SessionDep,
    chosen: ClaimFormatDep,
    offset_unit: OffsetUnitQuery = "codepoint",
) -> Response:
    """One claim with its claimant, subjects, anchors, evidence and full status history."""
    conn = session.connection()
    if chosen.format is Format.json and offset_unit == "codepoint":
        with serialised_json():  # rendered as read
            claim = queries.get_claim(conn, claim_id)
    else:
        claim = queries.get_claim(conn, claim_id)
    if claim is None:
        raise NotFound(f"no claim with id {claim_id!r}")
    return render_claim(request, conn, in_unit(conn, claim, offset_unit), chosen)
