"""Views of an article for people and annotation clients, and the methodology behind them."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator
from starlette.responses import HTMLResponse, Response

from app import queries
from app.annotate import render_page
from app.api.deps import (
    DEFAULT_LIMIT,
    INVALID,
    MAX_LIMIT,
    NOT_FOUND,
    JSONResponse,
    StrictQueryRoute,
    decode_cursor,
    defer_problem,
    encode_cursor,
    list_digest,
    on_loop,
)
from app.api.examples import example
from app.api.filters import PathId
from app.db import SessionDep
from app.errors import NotFound
from app.formats import quality_values
from app.methodology import methodology, methodology_html
from app.offsets import OffsetUnitQuery
from app.web_annotation import CONTEXT, MEDIA_TYPE, annotations

router = APIRouter(route_class=StrictQueryRoute, responses=INVALID)


class LDResponse(JSONResponse):
    """JSON-LD in the W3C Web Annotation profile."""

    media_type = MEDIA_TYPE


def _content(media_type: str, name: str) -> dict[str, Any]:
    """The example called ``name`` (see ``examples.json``), shown for ``media_type``."""
    body = example(name).get(200, {}).get("content", {}).get("application/json", {})
    return {media_type: body}


HTML_EXAMPLE = (
    '<!doctype html>\n<html lang="en">…<h1 class="para" data-start="0" data-end="104">'
    '<span class="hl k-claim s-pending first" data-kind="claim" '
    'data-id="kursiv-2024-10-17-rosatom-meeting.rosatom-head-seeks-meeting" data-start="0" '
    'data-end="104" …><span class="hl k-event" …><span class="hl k-mention" data-kind="mention" '
    'data-id="alexey-likhachev" data-start="0" data-end="15" …>Head of Rosatom</span> seeks…'
)


@router.get(
    "/articles/{article_id}/annotated",
    tags=["articles"],
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "A standalone HTML page (inline style and script, no external asset).",
            "content": {"text/html": {"schema": {"type": "string"}, "example": HTML_EXAMPLE}},
        },
        **NOT_FOUND,
    },
)
def annotated_article(request: Request, article_id: PathId, session: SessionDep) -> Response:
    """The article as a page, every fact highlighted where its anchors say.

    Claims are coloured by verification status; entity mentions, events, time expressions,
    attributions, hedging cues and evidence passages each have their style (see the legend).
    Selecting a highlight shows the facts there. Each highlight is an element with
    `data-kind`, `data-id`, and the code point offsets of its piece (`data-start`,
    `data-end`) and of its whole anchor (`data-anchor-start`, `data-anchor-end`): a
    highlight that crosses another is split into pieces.
    """
    conn = session.connection()
    article = queries.get_article(conn, article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id!r}")
    facts = queries.article_facts(conn, article_id)
    root = request.scope.get("root_path", "")
    page, headers = render_page(article, facts, root)
    return HTMLResponse(page, headers=headers)


def _valid_cursor(cursor: str | None) -> str | None:
    if cursor is not None:
        decode_cursor(cursor)
    return cursor


class AnnotationPaging:
    """``limit`` and ``cursor`` over an article's annotations, as on every list."""

    def __init__(
        self,
        request: Request,
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")
        ] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=200,
                description="Opaque cursor from the previous page's `next`, on the same "
                "article with the same `offset_unit`.",
            ),
            AfterValidator(_valid_cursor),
        ] = None,
    ) -> None:
        self.limit = limit
        self.digest = list_digest(request)
        self.start = 0
        if cursor is not None:
            digest, key = decode_cursor(cursor)
            if digest == self.digest and len(key) == 1:
                self.start = key[0]
            else:
                message = "this cursor belongs to another list, or to other parameters"
                defer_problem(request, "cursor", message, cursor)


@router.get(
    "/articles/{article_id}/annotations",
    tags=["articles"],
    response_class=LDResponse,
    responses={
        200: {
            "description": "A W3C Web Annotation `AnnotationPage`, part of the article's "
            "`AnnotationCollection`.",
            "content": _content(MEDIA_TYPE, "article_annotations"),
        },
        **NOT_FOUND,
    },
)
def article_annotations(
    request: Request,
    article_id: PathId,
    session: SessionDep,
    paging: Annotated[AnnotationPaging, Depends(on_loop(AnnotationPaging))],
    offset_unit: OffsetUnitQuery = "codepoint",
) -> Response:
    """The article's anchors as W3C Web Annotations (JSON-LD), one per anchor of each fact.

    Each Annotation targets the article text with a TextQuoteSelector (`exact`, and up to
    32 code points of `prefix` and `suffix`) and a TextPositionSelector (`start`, `end`);
    its body describes the fact and links to it. Pages follow the API's cursor contract
    (`limit`, `cursor`): the page's `next` is absent on the last page.
    """
    conn = session.connection()
    article = queries.get_article(conn, article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id!r}")
    facts = queries.article_facts(conn, article_id)
    base = str(request.base_url).rstrip("/")
    items = annotations(article, facts, base, offset_unit)
    start, end = paging.start, paging.start + paging.limit
    chunk = items[start:end]
    collection_url = request.url.remove_query_params(["cursor", "limit"])
    collection = str(collection_url)
    # The page names its size, so even the first page's IRI is not the collection's; the
    # parameters come in one order, so each page has one IRI however it was asked for.
    first_url = collection_url.include_query_params(limit=paging.limit)
    cursor_given = request.query_params.get("cursor")
    page_url = first_url.include_query_params(cursor=cursor_given) if cursor_given else first_url
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "id": str(page_url),
        "type": "AnnotationPage",
        "partOf": {
            "id": collection,
            "type": "AnnotationCollection",
            "label": f"Facts anchored in “{article['title']}”",
            "total": len(items),
            "first": str(first_url),
        },
        "startIndex": start,
        "items": chunk,
    }
    headers = {}
    if end < len(items):
        cursor = encode_cursor(paging.digest, (end,))
        body["next"] = str(first_url.include_query_params(cursor=cursor))
        headers["Link"] = f'<{body["next"]}>; rel="next"'
    return LDResponse(body, headers=headers)


def _quality(accept: str, media_types: tuple[str, ...]) -> float:
    """The highest quality ``accept`` gives any of ``media_types``."""
    qualities = [q for media, q in quality_values(accept) if media.lower() in media_types]
    return max([0.0, *qualities])


def wants_html(accept: str) -> bool:
    """Whether an Accept header prefers an HTML page to JSON."""
    html = _quality(accept, ("text/html", "application/xhtml+xml"))
    json = _quality(accept, ("application/json", "application/*", "*/*"))
    return html > json


FormatParam = Annotated[
    Literal["json", "html"] | None,
    Query(
        alias="format",
        description="`json` or `html`; without it, the Accept header decides (JSON unless "
        "it prefers `text/html`).",
    ),
]


@router.get(
    "/methodology",
    tags=["vocabulary"],
    responses={
        200: {
            "description": "The methodology: JSON, or a page for a client that asks for HTML.",
            "content": {
                **_content("application/json", "methodology"),
                "text/html": {"schema": {"type": "string"}, "example": "<!doctype html>…"},
            },
        }
    },
)
def get_methodology(request: Request, output: FormatParam = None) -> Response:
    """How claims are assessed and facts anchored.

    The verification statuses with their ClaimReview and FEVER crosswalks, how anchor
    offsets are counted (Unicode code points; quotes resolved by occurrence; `exact`
    always equals the text between `start` and `end`), the `offset_unit` option, and how
    anchors map onto W3C Web Annotations.
    """
    data = methodology()
    html = output == "html" or (output is None and wants_html(request.headers.get("accept", "")))
    headers = {"Vary": "Accept"}
    if html:
        return HTMLResponse(methodology_html(data), headers=headers)
    return JSONResponse(data, headers=headers)
