"""Events: what happened, is planned, proposed or requested, and when."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app import queries
from app.anchors.offsets import in_unit
from app.api.examples import example
from app.api.pages import JSONResponse, ListPage
from app.api.params import Anchored, EventList, PathId
from app.api.responses import INVALID, NOT_FOUND
from app.api.route import Db, Route
from app.errors import NotFound
from app.schemas import EventDetail, EventOut, Page

router = APIRouter(prefix="/events", tags=["events"], route_class=Route, responses=INVALID)


@router.get("", response_model=Page[EventOut], responses=example("list_events"))
def list_events(request: Request, params: Annotated[EventList, Query()], db: Db) -> Response:
    """List events, oldest first; filter by status, kind, modality, entity, date window…"""
    page = ListPage(request, params, db)
    extension = params.extension()
    result = page.run(
        queries.list_events,
        **params.filters(),
        entity=params.entity,
        article=params.article,
        extension=extension,
    )
    return page.render(result, extension, params.kept_fields)


@router.get(
    "/{event_id}", response_model=EventDetail, responses={**example("get_event"), **NOT_FOUND}
)
def get_event(event_id: PathId, params: Annotated[Anchored, Query()], db: Db) -> Response:
    """One event with its time, place, participants, anchors and the claims about it."""
    conn = db.connection()
    event = queries.get_event(conn, event_id)
    if event is None:
        raise NotFound(f"no event with id {event_id!r}")
    return JSONResponse(in_unit(conn, event, params.offset_unit))
