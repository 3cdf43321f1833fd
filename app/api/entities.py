"""Entities: the people, organisations, places, outlets and documents articles name."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app import queries
from app.anchors.offsets import in_unit
from app.api.examples import example
from app.api.pages import JSONResponse, ListPage
from app.api.params import (
    Anchored,
    EntityClaimList,
    EntityEventList,
    EntityList,
    MentionList,
    PathId,
    SuggestQuery,
    values,
)
from app.api.responses import INVALID, NOT_FOUND
from app.api.route import Db, Route
from app.db import Database
from app.errors import NotFound
from app.models import entity_t
from app.schemas import (
    ClaimListItem,
    EntityDetail,
    EntitySummary,
    EventOut,
    Mention,
    Page,
    Suggestions,
)

router = APIRouter(prefix="/entities", tags=["entities"], route_class=Route, responses=INVALID)


def require_entity(db: Database, entity_id: str) -> int:
    """The entity's integer key; 404 unless it exists."""
    pk = queries.row_id(db.connection(), entity_t, entity_id)
    if pk is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    return pk


@router.get("", response_model=Page[EntitySummary], responses=example("list_entities"))
def list_entities(request: Request, params: Annotated[EntityList, Query()], db: Db) -> Response:
    """List entities in the order first ingested; filter by kind, article, name or alias."""
    page = ListPage(request, params, db)
    extension = params.extension()
    result = page.run(queries.list_entities, **params.filters(), extension=extension)
    return page.render(result, extension, params.kept_fields)


@router.get("/suggest", response_model=Suggestions, responses=example("suggest_entities"))
def suggest_entities(params: Annotated[SuggestQuery, Query()], db: Db) -> Response:
    """Entities whose name, alias or a word of them starts with what was typed: best first.

    For as-you-type lookup (an author looking for the id to reference, a search box): any
    script, any case, accents and punctuation ignored. An exact name or alias comes first,
    then names starting with the text (shorter first), then aliases, then later words.
    """
    found = queries.suggest_entities(
        db.connection(), q=params.q, limit=params.limit, kinds=values(params.kind)
    )
    return JSONResponse({"items": found})


@router.get(
    "/{entity_id}", response_model=EntityDetail, responses={**example("get_entity"), **NOT_FOUND}
)
def get_entity(entity_id: PathId, params: Annotated[Anchored, Query()], db: Db) -> Response:
    """One entity with its aliases, external ids, first mentions, relations and fact counts."""
    conn = db.connection()
    entity = queries.get_entity(conn, entity_id)
    if entity is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    return JSONResponse(in_unit(conn, entity, params.offset_unit))


@router.get(
    "/{entity_id}/mentions",
    response_model=Page[Mention],
    responses={**example("entity_mentions"), **NOT_FOUND},
)
def entity_mentions(
    request: Request, entity_id: PathId, params: Annotated[MentionList, Query()], db: Db
) -> Response:
    """Every place any article names the entity, by article and position, as written."""
    page = ListPage(request, params, db)
    pk = require_entity(db, entity_id)
    return page.render(page.run(queries.list_mentions, entity_id=pk))


@router.get(
    "/{entity_id}/claims",
    response_model=Page[ClaimListItem],
    responses={**example("entity_claims"), **NOT_FOUND},
)
def entity_claims(
    request: Request, entity_id: PathId, params: Annotated[EntityClaimList, Query()], db: Db
) -> Response:
    """Claims the entity makes or is the subject of, oldest first."""
    page = ListPage(request, params, db)
    require_entity(db, entity_id)
    extension = params.extension()
    result = page.run(
        queries.list_claims,
        **params.filters(),
        entity=entity_id,
        role=params.role,
        extension=extension,
    )
    return page.render(result, extension, params.kept_fields)


@router.get(
    "/{entity_id}/events",
    response_model=Page[EventOut],
    responses={**example("entity_events"), **NOT_FOUND},
)
def entity_events(
    request: Request, entity_id: PathId, params: Annotated[EntityEventList, Query()], db: Db
) -> Response:
    """Events the entity takes part in or that happen at the place it names, oldest first."""
    page = ListPage(request, params, db)
    require_entity(db, entity_id)
    extension = params.extension()
    result = page.run(
        queries.list_events, **params.filters(), entity=entity_id, extension=extension
    )
    return page.render(result, extension, params.kept_fields)
