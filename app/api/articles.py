"""Articles: the exact text every anchor points into, and the facts taken from each."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
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
    defer_problem,
    on_loop,
    page,
    require,
)
from app.api.examples import example
from app.api.filters import (
    ArticleFilters,
    ClaimFilters,
    EntityId,
    EntityKinds,
    EventFilters,
    PathId,
    values,
)
from app.api.options import ArticleOptions, ClaimOptions, EventOptions
from app.db import SessionDep
from app.errors import NotFound
from app.models import article_t
from app.offsets import OffsetUnitQuery, article_texts, codepoint_offset, in_unit
from app.positions import overlapping
from app.schemas import (
    ArticleDetail,
    ArticleEntity,
    ArticleFacts,
    ArticleSummary,
    ClaimOut,
    EventOut,
    Page,
)

router = APIRouter(
    prefix="/articles", tags=["articles"], route_class=StrictQueryRoute, responses=INVALID
)


@router.get("", response_model=Page[ArticleSummary], responses=example("list_articles"))
def list_articles(
    request: Request,
    session: SessionDep,
    paging: PageDep,
    options: ArticleOptions,
    filters: Annotated[ArticleFilters, Depends(on_loop(ArticleFilters))],
) -> Response:
    """List articles in ingest order; filter by publisher, language, date, entity or title."""
    result = paging.run(
        queries.list_articles,
        session,
        **filters.kwargs,
        extension=options.extension,
    )
    return page(request, result, paging, options)


@router.get(
    "/{article_id}", response_model=ArticleDetail, responses={**example("get_article"), **NOT_FOUND}
)
def get_article(article_id: PathId, session: SessionDep) -> Response:
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
    article_id: PathId,
    session: SessionDep,
    paging: AnchoredPageDep,
    kind: EntityKinds = None,
) -> Response:
    """The entities the article names, in fact-file order, each with its mentions here."""
    conn = session.connection()
    require(conn, article_t, article_id, "article")
    result = paging.run(queries.list_article_entities, conn, article=article_id, kind=values(kind))
    return page(request, result, paging, article=article_id)


@router.get(
    "/{article_id}/events",
    response_model=Page[EventOut],
    responses={**example("article_events"), **NOT_FOUND},
)
def article_events(
    request: Request,
    article_id: PathId,
    session: SessionDep,
    paging: AnchoredPageDep,
    options: EventOptions,
    filters: Annotated[EventFilters, Depends(on_loop(EventFilters))],
    entity: EntityId = None,
) -> Response:
    """The article's events, in fact-file order."""
    conn = session.connection()
    require(conn, article_t, article_id, "article")
    result = paging.run(
        queries.list_events,
        conn,
        **filters.kwargs,
        article=article_id,
        entity=entity,
        in_article_order=True,
        extension=options.extension,
    )
    return page(request, result, paging, options)


@router.get(
    "/{article_id}/claims",
    response_model=Page[ClaimOut],
    responses={**example("article_claims"), **NOT_FOUND},
)
def article_claims(
    request: Request,
    article_id: PathId,
    session: SessionDep,
    paging: ClaimPageDep,
    options: ClaimOptions,
    filters: Annotated[ClaimFilters, Depends(on_loop(ClaimFilters))],
    entity: EntityId = None,
) -> Response:
    """The article's claims, in fact-file order."""
    conn = session.connection()
    require(conn, article_t, article_id, "article")
    result = paging.run(
        queries.list_claims,
        conn,
        **filters.kwargs,
        article=article_id,
        entity=entity,
        in_article_order=True,
        extension=options.extension,
    )
    return page(request, result, paging, options)


Overlaps = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{1,9},[0-9]{1,9}$",
        description="`start,end`: keep the facts with an anchor overlapping this half-open "
        "range of the text, e.g. `400,520`, in the `offset_unit`; each then lists those anchors "
        "in `overlapping`.",
    ),
]


@router.get(
    "/{article_id}/facts",
    response_model=ArticleFacts,
    responses={**example("article_facts"), **NOT_FOUND},
)
def article_facts(
    request: Request,
    article_id: PathId,
    session: SessionDep,
    overlaps: Overlaps = None,
    offset_unit: OffsetUnitQuery = "codepoint",
) -> Response:
    """Every entity (with its mentions), event and claim (with its evidence) of the article,
    in fact-file order; with `overlaps`, only those tied to words in that range of the text."""
    conn = session.connection()
    require(conn, article_t, article_id, "article")
    facts = queries.article_facts(conn, article_id)
    span = None
    if overlaps is not None:
        start, end = (int(n) for n in overlaps.split(","))
        if start >= end:
            defer_problem(request, "overlaps", "start must be less than end", overlaps)
        if offset_unit == "utf16":
            text = article_texts(conn, [article_id])[article_id]
            bounds = codepoint_offset(text, start), codepoint_offset(text, end)
            if None in bounds:
                message = "an offset falls inside a character (between its two UTF-16 units)"
                defer_problem(request, "overlaps", message, overlaps)
            start, end = (b or 0 for b in bounds)
        facts = overlapping(facts, start, end)
        span = {"start": start, "end": end}
    body = {"article": article_id, "overlaps": span, **facts}
    return JSONResponse(in_unit(conn, body, offset_unit, article_id))
