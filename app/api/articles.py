"""Articles: the exact text every anchor points into, and the facts taken from each."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app import queries
from app.anchors.offsets import article_texts, codepoint_offset, in_unit
from app.anchors.overlap import overlapping
from app.api.examples import example
from app.api.pages import JSONResponse, ListPage, refuse
from app.api.params import (
    ArticleClaimList,
    ArticleEntityList,
    ArticleEventList,
    ArticleList,
    FactsQuery,
    NoParams,
    PathId,
    values,
)
from app.api.responses import INVALID, NOT_FOUND
from app.api.route import Db, Route
from app.db import Database
from app.errors import NotFound
from app.models import article_t
from app.schemas import (
    ArticleDetail,
    ArticleEntity,
    ArticleFacts,
    ArticleSummary,
    ClaimListItem,
    EventOut,
    Page,
)

router = APIRouter(prefix="/articles", tags=["articles"], route_class=Route, responses=INVALID)


def require_article(db: Database, article_id: str) -> None:
    """404 unless the article exists."""
    if queries.row_id(db.connection(), article_t, article_id) is None:
        raise NotFound(f"no article with id {article_id!r}")


@router.get("", response_model=Page[ArticleSummary], responses=example("list_articles"))
def list_articles(request: Request, params: Annotated[ArticleList, Query()], db: Db) -> Response:
    """List articles in ingest order; filter by publisher, language, date, entity or title."""
    page = ListPage(request, params, db)
    extension = params.extension()
    result = page.run(queries.list_articles, **params.filters(), extension=extension)
    return page.render(result, extension, params.kept_fields)


@router.get(
    "/{article_id}", response_model=ArticleDetail, responses={**example("get_article"), **NOT_FOUND}
)
def get_article(article_id: PathId, params: Annotated[NoParams, Query()], db: Db) -> Response:
    """One article with its full text, exactly as received, and how many facts it holds."""
    article = queries.get_article(db.connection(), article_id)
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
    article_id: PathId,
    params: Annotated[ArticleEntityList, Query()],
    db: Db,
) -> Response:
    """The entities the article names, in fact-file order, each with its mentions here."""
    page = ListPage(request, params, db)
    require_article(db, article_id)
    result = page.run(queries.list_article_entities, article=article_id, kind=values(params.kind))
    return page.render(result, article=article_id)


@router.get(
    "/{article_id}/events",
    response_model=Page[EventOut],
    responses={**example("article_events"), **NOT_FOUND},
)
def article_events(
    request: Request,
    article_id: PathId,
    params: Annotated[ArticleEventList, Query()],
    db: Db,
) -> Response:
    """The article's events, in fact-file order."""
    page = ListPage(request, params, db)
    require_article(db, article_id)
    extension = params.extension()
    result = page.run(
        queries.list_events,
        **params.filters(),
        article=article_id,
        entity=params.entity,
        in_article_order=True,
        extension=extension,
    )
    return page.render(result, extension, params.kept_fields)


@router.get(
    "/{article_id}/claims",
    response_model=Page[ClaimListItem],
    responses={**example("article_claims"), **NOT_FOUND},
)
def article_claims(
    request: Request,
    article_id: PathId,
    params: Annotated[ArticleClaimList, Query()],
    db: Db,
) -> Response:
    """The article's claims, in fact-file order."""
    page = ListPage(request, params, db)
    require_article(db, article_id)
    extension = params.extension()
    result = page.run(
        queries.list_claims,
        **params.filters(),
        article=article_id,
        entity=params.entity,
        in_article_order=True,
        extension=extension,
    )
    return page.render(result, extension, params.kept_fields)


@router.get(
    "/{article_id}/facts",
    response_model=ArticleFacts,
    responses={**example("article_facts"), **NOT_FOUND},
)
def article_facts(article_id: PathId, params: Annotated[FactsQuery, Query()], db: Db) -> Response:
    """Every entity (with its mentions), event and claim (with its evidence) of the article,
    in fact-file order; with `overlaps`, only those tied to words in that range of the text."""
    conn = db.connection()
    require_article(db, article_id)
    facts = queries.article_facts(conn, article_id)
    span = None
    if params.span is not None:
        start, end = params.span
        if params.offset_unit == "utf16":
            text = article_texts(conn, [article_id])[article_id]
            bounds = codepoint_offset(text, start), codepoint_offset(text, end)
            if None in bounds:
                message = "an offset falls inside a character (between its two UTF-16 units)"
                raise refuse("overlaps", message, params.overlaps)
            start, end = (b or 0 for b in bounds)
        facts = overlapping(facts, start, end)
        span = {"start": start, "end": end}
    body = {"article": article_id, "overlaps": span, **facts}
    return JSONResponse(in_unit(conn, body, params.offset_unit, article_id))
