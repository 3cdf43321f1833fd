"""An article's facts placed in its text: the annotated page and W3C Web Annotations."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from app import queries
from app.anchors.annotated_page import render_page
from app.anchors.web_annotation import CONTEXT, MEDIA_TYPE, annotations
from app.api.examples import content
from app.api.pages import JSONResponse, cursor_key, encode_cursor, list_digest, refuse
from app.api.params import AnnotationsQuery, NoParams, PathId
from app.api.responses import INVALID, NOT_FOUND
from app.api.route import Db, Route
from app.errors import NotFound
from app.http import absolute_url, route_path

router = APIRouter(tags=["articles"], route_class=Route, responses=INVALID)


class LDResponse(JSONResponse):
    """JSON-LD in the W3C Web Annotation profile."""

    media_type = MEDIA_TYPE


HTML_EXAMPLE = (
    '<!doctype html>\n<html lang="en">…<h1 class="para" data-start="0" data-end="104">'
    '<span class="hl k-claim s-pending first" data-kind="claim" '
    'data-id="kursiv-2024-10-17-rosatom-meeting.rosatom-head-seeks-meeting" data-start="0" '
    'data-end="104" …><span class="hl k-event" …><span class="hl k-mention" data-kind="mention" '
    'data-id="alexey-likhachev" data-start="0" data-end="15" …>Head of Rosatom</span> seeks…'
)


@router.get(
    "/articles/{article_id}/annotated",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "A standalone HTML page (inline style and script, no external asset).",
            "content": {"text/html": {"schema": {"type": "string"}, "example": HTML_EXAMPLE}},
        },
        **NOT_FOUND,
    },
)
def annotated_article(
    request: Request, article_id: PathId, params: Annotated[NoParams, Query()], db: Db
) -> Response:
    """The article as a page, every fact highlighted where its anchors say.

    Claims are coloured by verification status; entity mentions, events, time expressions,
    attributions, hedging cues and evidence passages each have their style (see the legend).
    Selecting a highlight shows the facts there. Each highlight is an element with
    `data-kind`, `data-id`, and the code point offsets of its piece (`data-start`,
    `data-end`) and of its whole anchor (`data-anchor-start`, `data-anchor-end`): a
    highlight that crosses another is split into pieces.
    """
    conn = db.connection()
    article = queries.get_article(conn, article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id!r}")
    facts = queries.article_facts(conn, article_id)
    root = request.scope.get("root_path", "")
    page, headers = render_page(article, facts, root)
    return HTMLResponse(page, headers=headers)


@router.get(
    "/articles/{article_id}/annotations",
    response_class=LDResponse,
    responses={
        200: {
            "description": "A W3C Web Annotation `AnnotationPage`, part of the article's "
            "`AnnotationCollection`.",
            "content": content(MEDIA_TYPE, "article_annotations"),
        },
        **NOT_FOUND,
    },
)
def article_annotations(
    request: Request, article_id: PathId, params: Annotated[AnnotationsQuery, Query()], db: Db
) -> Response:
    """The article's anchors as W3C Web Annotations (JSON-LD), one per anchor of each fact.

    Each Annotation targets the article text with a TextQuoteSelector (`exact`, and up to
    32 code points of `prefix` and `suffix`) and a TextPositionSelector (`start`, `end`, in
    Unicode code points as the model requires); its body describes the fact and links to
    it. Pages follow the API's cursor contract (`limit`, `cursor`): the page's `next` is
    absent on the last page.
    """
    key = cursor_key(request, params.cursor, list_digest(request))
    if key is not None and len(key) != 1:
        raise refuse("cursor", "this cursor belongs to another list", params.cursor)
    conn = db.connection()
    article = queries.get_article(conn, article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id!r}")
    facts = queries.article_facts(conn, article_id)
    items = annotations(article, facts, absolute_url(request, ""))
    start = key[0] if key is not None else 0
    end = start + params.limit
    chunk = items[start:end]
    # The page names its size, so even the first page's IRI is not the collection's; the
    # parameters come in one order, so each page has one IRI however it was asked for.
    collection = absolute_url(request, route_path(request))
    first = f"{collection}?limit={params.limit}"
    page_url = f"{first}&cursor={params.cursor}" if params.cursor else first
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "id": page_url,
        "type": "AnnotationPage",
        "partOf": {
            "id": collection,
            "type": "AnnotationCollection",
            "label": f"Facts anchored in “{article['title']}”",
            "total": len(items),
            "first": first,
        },
        "startIndex": start,
        "items": chunk,
    }
    headers = {}
    if end < len(items):
        cursor = encode_cursor(list_digest(request), (end,))
        body["next"] = f"{first}&cursor={cursor}"
        headers["Link"] = f'<{body["next"]}>; rel="next"'
    return LDResponse(body, headers=headers)
