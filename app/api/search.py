"""Search: one query across articles, entities, events and claims, with offsets to highlight."""

from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from app import search
from app.api.pages import ListPage, refuse
from app.api.params import HitType, SearchQuery
from app.api.responses import INVALID
from app.api.route import Db, Route
from app.http import data_revision
from app.schemas import Mention, Page, Schema

router = APIRouter(tags=["search"], route_class=Route, responses=INVALID)

# A real response on the seed (SQLite): tests/test_search.py checks it, and rewrites it when
# run with UPDATE_EXAMPLES=1. Scores differ by database, so it is not in examples.json.
EXAMPLE_FILE = Path(__file__).with_name("search_example.json")
EXAMPLE_REQUEST = "/search?q=Likhachev&limit=2"


def _example() -> dict[int | str, dict[str, Any]]:
    body = orjson.loads(EXAMPLE_FILE.read_bytes()) if EXAMPLE_FILE.is_file() else None
    return {200: {"content": {"application/json": {"example": body}}}} if body else {}


class SearchHit(Schema):
    """One search result: a typed fact or article, and where the query's words are in the text."""

    type: HitType = Field(description="What the hit is: article, entity, event or claim.")
    id: str = Field(description="Its public id (`/articles/{id}`, `/entities/{id}`, …).")
    label: str = Field(description="Title, name, summary or claim text (shortened).")
    snippet: str = Field(description="The text that matched, around its first matched word.")
    score: float = Field(
        description="Relevance (higher is better): bm25 on SQLite, ts_rank on PostgreSQL; "
        "comparable within one response only."
    )
    article: str | None = Field(description="The article the hit belongs to; null for entities.")
    matches: list[Mention] = Field(
        description="Offsets in an article's text of the matched words (at most 50): in the "
        "text for an article; within the anchors for a claim or event; within the mentions, "
        "in every article, for an entity."
    )


@router.get("/search", response_model=Page[SearchHit], responses=_example())
def search_all(request: Request, params: Annotated[SearchQuery, Query()], db: Db) -> Response:
    """Search everything, best match first; each hit carries the offsets of the matched words.

    The newest 1,000 matches of each type are ranked; pages follow by cursor. Scores depend
    on the whole corpus, so a cursor is only valid until the data changes."""
    page = ListPage(request, params, db)
    conn = page.conn = db.connection()
    revision = data_revision(request, conn)
    after = page.after
    if after is not None and after[0] != revision:
        message = "the data changed since this cursor was issued; start again from page one"
        raise refuse("cursor", message, params.cursor)
    items, next_key = search.search(
        conn, params.q, types=params.type, after=after[1:] if after else None, limit=page.limit
    )
    return page.render((items, None if next_key is None else (revision, *next_key)))
