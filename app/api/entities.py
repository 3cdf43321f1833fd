"""Entities: the people, organisations, places, outlets and documents articles name."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app import queries
from app.api.deps import (
    INVALID,
    NOT_FOUND,
    AnchoredPageDep,
    ClaimPageDep,
    JSONResponse,
    PageDep,
    StrictQueryRoute,
    on_loop,
    page,
    require,
)
from app.api.examples import example
from app.api.filters import (
    ArticleId,
    ClaimFilters,
    EntityKinds,
    EventFilters,
    PathId,
    Role,
    Text,
    values,
)
from app.api.options import ClaimOptions, EntityOptions, EventOptions
from app.db import SessionDep
from app.errors import NotFound
from app.models import entity_t
from app.offsets import OffsetUnitQuery, in_unit
from app.schemas import ClaimOut, EntityDetail, EntitySummary, EventOut, Mention, Page

router = APIRouter(
    prefix="/entities", tags=["entities"], route_class=StrictQueryRoute, responses=INVALID
)


@router.get("", response_model=Page[EntitySummary], responses=example("list_entities"))
def list_entities(
    request: Request,
    session: SessionDep,
    paging: PageDep,
    options: EntityOptions,
    kind: EntityKinds = None,
    article: ArticleId = None,
    q: Text = None,
) -> Response:
    """List entities in the order first ingested; filter by kind, article, name or alias."""
    result = paging.run(
        queries.list_entities,
        session,
        kind=values(kind),
        article=article,
        q=q,
        extension=options.extension,
    )
    return page(request, result, paging, options)


@router.get(
    "/{entity_id}", response_model=EntityDetail, responses={**example("get_entity"), **NOT_FOUND}
)
def get_entity(
    entity_id: PathId, session: SessionDep, offset_unit: OffsetUnitQuery = "codepoint"
) -> Response:
    """One entity with its aliases, external ids, first mentions, relations and fact counts."""
    conn = session.connection()
    entity = queries.get_entity(conn, entity_id)
    if entity is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    return JSONResponse(in_unit(conn, entity, offset_unit))


@router.get(
    "/{entity_id}/mentions",
    response_model=Page[Mention],
    responses={**example("entity_mentions"), **NOT_FOUND},
)
def entity_mentions(
    request: Request, entity_id: PathId, session: SessionDep, paging: AnchoredPageDep
) -> Response:
    """Every place any article names the entity, by article and position, as written."""
    conn = session.connection()
    pk = require(conn, entity_t, entity_id, "entity")
    result = paging.run(queries.list_mentions, conn, entity_id=pk)
    return page(request, result, paging)


@router.get(
    "/{entity_id}/claims",
    response_model=Page[ClaimOut],
    responses={**example("entity_claims"), **NOT_FOUND},
)
def entity_claims(
    request: Request,
    entity_id: PathId,
    session: SessionDep,
    paging: ClaimPageDep,
    options: ClaimOptions,
    filters: Annotated[ClaimFilters, Depends(on_loop(ClaimFilters))],
    role: Role = "any",
) -> Response:
    """Claims the entity makes or is the subject of, oldest first."""
    conn = session.connection()
    require(conn, entity_t, entity_id, "entity")
    result = paging.run(
        queries.list_claims,
        conn,
        **filters.kwargs,
        entity=entity_id,
        role=role,
        extension=options.extension,
    )
    return page(request, result, paging, options)


@router.get(
    "/{entity_id}/events",
    response_model=Page[EventOut],
    responses={**example("entity_events"), **NOT_FOUND},
)
def entity_events(
    request: Request,
    entity_id: PathId,
    session: SessionDep,
    paging: AnchoredPageDep,
    options: EventOptions,
    filters: Annotated[EventFilters, Depends(on_loop(EventFilters))],
) -> Response:
    """Events the entity takes part in or that happen at the place it names, oldest first."""
    conn = session.connection()
    require(conn, entity_t, entity_id, "entity")
    result = paging.run(
        queries.list_events,
        conn,
        **filters.kwargs,
        entity=entity_id,
        extension=options.extension,
    )
    return page(request, result, paging, options)
