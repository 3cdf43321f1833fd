"""Claims: what was claimed, by whom, and how far it has been verified."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app import queries
from app.anchors.offsets import in_unit
from app.api.examples import example
from app.api.pages import ListPage
from app.api.params import ClaimDetailQuery, ClaimList, PathId
from app.api.responses import INVALID, NOT_FOUND
from app.api.route import Db, Route
from app.errors import NotFound
from app.formats import CLAIM_FORMATS, Format, choose, render_claim
from app.schemas import ClaimDetail, ClaimListItem, Page
from app.statements import serialised_json

router = APIRouter(prefix="/claims", tags=["claims"], route_class=Route, responses=INVALID)


@router.get("", response_model=Page[ClaimListItem], responses=example("list_claims"))
def list_claims(request: Request, params: Annotated[ClaimList, Query()], db: Db) -> Response:
    """List claims, oldest first; filter by status, kind, claimant, entity, article, text…"""
    page = ListPage(request, params, db)
    extension = params.extension()
    result = page.run(
        queries.list_claims,
        **params.filters(),
        entity=params.entity,
        role=params.role,
        event=params.event,
        article=params.article,
        extension=extension,
    )
    return page.render(result, extension, params.kept_fields)


@router.get(
    "/{claim_id}", response_model=ClaimDetail, responses={**example("get_claim"), **NOT_FOUND}
)
def get_claim(
    request: Request, claim_id: PathId, params: Annotated[ClaimDetailQuery, Query()], db: Db
) -> Response:
    """One claim with its claimant, subjects, anchors, evidence and full status history."""
    chosen = choose(request, params.format, CLAIM_FORMATS)
    conn = db.connection()
    if chosen.format is Format.json and params.offset_unit == "codepoint":
        with serialised_json():  # rendered as read
            claim = queries.get_claim(conn, claim_id)
    else:
        claim = queries.get_claim(conn, claim_id)
    if claim is None:
        raise NotFound(f"no claim with id {claim_id!r}")
    return render_claim(request, conn, in_unit(conn, claim, params.offset_unit), chosen)
