"""Events: what happened, is planned, proposed or requested, and when."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app import queries
from app.api.deps import (
    INVALID,
    NOT_FOUND,
    AnchoredPageDep,
    JSONResponse,
    StrictQueryRoute,
    on_loop,
    page,
)
from app.api.examples import example
from app.api.filters import ArticleId, EntityId, EventFilters, PathId
from app.api.options import EventOptions
from app.db import SessionDep
from app.errors import NotFound
from app.offsets import OffsetUnitQuery, in_unit
from app.schemas import EventDetail, EventOut, Page

router = APIRouter(
    prefix="/events", tags=["events"], route_class=StrictQueryRoute, responses=INVALID
)


@router.get("", response_model=Page[EventOut], responses=example("list_events"))
def list_events(
    request: Request,
    session: SessionDep,
    paging: AnchoredPageDep,
    options: EventOptions,
    filters: Annotated[EventFilters, Depends(on_loop(EventFilters))],
    entity: EntityId = None,
    article: ArticleId = None,
) -> Response:
    """List events, oldest first; filter by status, kind, modality, entity, date window…"""
    result = paging.run(
        queries.list_events,
        session,
        **filters.kwargs,
        entity=entity,
        article=article,
        extension=options.extension,
    )
    return page(request, result, paging, options)


@router.get(
    "/{event_id}", response_model=EventDetail, responses={**example("get_event"), **NOT_FOUND}
)
def get_event(
    event_id: PathId, session: SessionDep, offset_unit: OffsetUnitQuery = "codepoint"
) -> Response:
    """One event with its time, place, participants, anchors and the claims about it."""
    conn = session.connection()
    event = queries.get_event(conn, event_id)
    if event is None:
        raise NotFound(f"no event with id {event_id!r}")
    return JSONResponse(in_unit(conn, event, offset_unit))
