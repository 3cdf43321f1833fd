"""Articles: the exact text every anchor points into, and the facts taken from each."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection
from starlette.responses import Response

from app import queries
from app.api.deps import INVALID, NOT_FOUND, JSONResponse, PageDep, StrictQueryRoute, page
from app.api.examples import example
from app.api.filters import ClaimFilters, EntityId, EntityKinds, EventFilters, Text, values
from app.db import SessionDep
from app.errors import NotFound
from app.models import article_t
from app.schemas import ArticleDetail, ArticleEntity, ArticleSummary, ClaimOut, EventOut, Page

router = APIRouter(
    prefix="/articles", tags=["articles"], route_class=StrictQueryRoute, responses=INVALID
)


def _require(conn: Connection, article_id: str) -> None:
    if not queries.exists(conn, article_t, article_id):
        raise NotFound(f"no article with id {article_id!r}")


@router.get("", response_model=Page[ArticleSummary], responses=example("list_articles"))
def list_articles(
    request: Request,
    session: SessionDep,
    paging: PageDep,
    publisher: Annotated[
        str | None, Query(max_length=200, description="Publisher, exactly.")
    ] = None,
    language: Annotated[
        str | None, Query(max_length=35, description="Language tag, e.g. `en`.")
    ] = None,
    published_from: Annotated[
        dt.date | None, Query(description="Published on or after (ISO 8601).")
    ] = None,
    published_to: Annotated[
        dt.date | None, Query(description="Published on or before (ISO 8601).")
    ] = None,
    entity: EntityId = None,
    q: Text = None,
) -> Response:
    """List articles in ingest order; filter by publisher, language, date, entity or title."""
    items, nxt = queries.list_articles(
        session.connection(),
        publisher=publisher,
        language=language,
        published_from=published_from,
        published_to=published_to,
        entity=entity,
        q=q,
        after=paging.after,
        limit=paging.limit,
    )
    return page(request, items, paging, nxt)


@router.get(
    "/{article_id}", response_model=ArticleDetail, responses={**example("get_article"), **NOT_FOUND}
)
def get_article(article_id: str, session: SessionDep) -> Response:
    """One article with its full text, exactly as received, and how many facts it holds."""
    article = queries.get_article(session.connection(), article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id!r}")
    return JSONResponse(article)


@router.get(
    "/{article_id}/entities",
    response_model=Page[ArticleEntity],
    responses={**example("article_entities"), **NOT_FOUND},
)
def article_entities(
    request: Request,
    article_id: str,
    session: SessionDep,
    paging: PageDep,
    kind: EntityKinds = None,
) -> Response:
    """The entities the article names, in fact-file order, each with its mentions here."""
    conn = session.connection()
    _require(conn, article_id)
    items, nxt = queries.list_article_entities(
        conn, article_id, kind=values(kind), after=paging.after, limit=paging.limit
    )
    return page(request, items, paging, nxt)


@router.get(
    "/{article_id}/events",
    response_model=Page[EventOut],
    responses={**example("article_events"), **NOT_FOUND},
)
def article_events(
    request: Request,
    article_id: str,
    session: SessionDep,
    paging: PageDep,
    filters: Annotated[EventFilters, Depends()],
    entity: EntityId = None,
) -> Response:
    """The article's events, in ingest order."""
    conn = session.connection()
    _require(conn, article_id)
    items, nxt = queries.list_events(
        conn,
        article=article_id,
        entity=entity,
        status=filters.status,
        kind=filters.kind,
        modality=filters.modality,
        date_from=filters.date_from,
        date_to=filters.date_to,
        q=filters.q,
        after=paging.after,
        limit=paging.limit,
    )
    return page(request, items, paging, nxt)


@router.get(
    "/{article_id}/claims",
    response_model=Page[ClaimOut],
    responses={**example("article_claims"), **NOT_FOUND},
)
def article_claims(
    request: Request,
    article_id: str,
    session: SessionDep,
    paging: PageDep,
    filters: Annotated[ClaimFilters, Depends()],
    entity: EntityId = None,
) -> Response:
    """The article's claims, in ingest order."""
    conn = session.connection()
    _require(conn, article_id)
    items, nxt = queries.list_claims(
        conn,
        article=article_id,
        entity=entity,
        status=filters.status,
        kind=filters.kind,
        claimant=filters.claimant,
        q=filters.q,
        after=paging.after,
        limit=paging.limit,
    )
    return page(request, items, paging, nxt)
