"""Pages of a list: cursors, `next` links, and rendering a page in the format asked for.

A cursor carries a digest of the list it came from (path and filters, not limit) and the
sort key of the last row it saw: on any other list it is refused, not misread.
"""

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.responses import Response

from app import formats, queries
from app.anchors.offsets import OffsetUnit, in_unit
from app.db import Database
from app.filters import ListExtension
from app.http import absolute_url, route_path
from app.statements import serialised_json

if TYPE_CHECKING:
    from app.api.params import Paging

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_KEY = 2**31 - 1  # keys are 32-bit integers on PostgreSQL
# What a page shows, not which list it is: these may change between pages.
NOT_IN_DIGEST = frozenset(
    ("cursor", "limit", "format", "count", "facet", "fields", "include", "offset_unit")
)


class JSONResponse(_StarletteJSONResponse):
    """JSON rendered once by orjson (dates as ISO 8601, no re-validation)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def refuse(name: str, message: str, value: Any) -> RequestValidationError:
    """A 422 for query parameter ``name``, found once the parameters were read."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": message, "input": value}]
    )


def list_digest(request: Request) -> str:
    """Which list a request asks for: its path and filters, not how a page shows it."""
    params = sorted((k, v) for k, v in request.query_params.multi_items() if k not in NOT_IN_DIGEST)
    raw = orjson.dumps([request.url.path, params])
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:9]).decode()


def encode_cursor(digest: str, key: Sequence[int]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([digest, *key])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, tuple[int, ...]]:
    """The list digest a cursor carries and the key it points after.

    Raises ValueError for anything this API did not issue.
    """
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(data, list) and len(data) >= 2 and isinstance(data[0], str):
            digest, key = data[0], tuple(data[1:])
            if all(
                isinstance(k, int) and not isinstance(k, bool) and 0 <= k <= MAX_KEY for k in key
            ):
                return digest, key
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        pass
    raise ValueError("not a cursor this API issued; use the `next_cursor` of a page")


def cursor_key(request: Request, cursor: str | None, digest: str) -> tuple[int, ...] | None:
    """The key ``cursor`` points after, if it belongs to the list of ``digest``; else a 422."""
    if cursor is None:
        return None
    found, key = decode_cursor(cursor)
    if found != digest:
        raise refuse("cursor", "this cursor belongs to another list, or to other filters", cursor)
    return key


def next_page_url(request: Request, cursor: str) -> str:
    """The request's URL with ``cursor`` as its last parameter, replacing any other cursor."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    query.append(("cursor", cursor))
    return absolute_url(request, route_path(request) + "?" + urlencode(query))


class ListPage:
    """One list request: its format, where its page starts, and how to render it.

    CSV and NDJSON of a whole list are exports (unless a page is asked for with ``limit`` or
    ``cursor``): the route then hands the query to the export stream instead of running it.
    """

    def __init__(self, request: Request, params: "Paging", db: Database) -> None:
        self.request = request
        self.db = db
        self.chosen = formats.choose(request, params.format, params.formats)
        self.export = self.chosen.format in formats.EXPORTS and not (
            {"limit", "cursor"} & set(request.query_params)
        )
        self.limit = params.limit
        self.unit: OffsetUnit = getattr(params, "offset_unit", "codepoint")
        self.digest = list_digest(request)
        self.after = cursor_key(request, params.cursor, self.digest)
        self.conn: Connection | None = None

    @property
    def plain_json(self) -> bool:
        """Whether the page is JSON as stored: offsets in code points, nothing to convert."""
        return self.chosen.format is formats.Format.json and self.unit == "codepoint"

    def run(self, query: formats.Fetch, **filters: Any) -> "queries.PageResult | formats.Export":
        """This page of ``query``; for an export, the query itself, run later by the stream."""
        if self.export:
            extension = filters.get("extension")
            if extension is not None:
                # A count or facets are not part of an export: nothing to compute them for.
                extension.count, extension.facets = False, []
            return formats.Export(query, filters)
        conn = self.conn = self.db.connection()
        if self.plain_json:
            with serialised_json():
                return query(conn, **filters, after=self.after, limit=self.limit)
        return query(conn, **filters, after=self.after, limit=self.limit)

    def render(
        self,
        result: "queries.PageResult | formats.Export",
        extension: ListExtension | None = None,
        fields: Sequence[str] | None = None,
        article: str | None = None,
    ) -> Response:
        """Render one page with its `next` link (also sent as `Link: <…>; rel="next"`).

        In the format negotiated (see ``app.formats``); a CSV or NDJSON export streams the
        whole list instead. ``extension`` adds its count and facets to the page, ``fields``
        narrows each item. Offsets are given in the page's unit; ``article`` is the article
        of anchors whose items do not name one.
        """
        request = self.request
        unit = self.unit

        def convert(conn: Connection, items: list[Any]) -> list[Any]:
            converted: list[Any] = in_unit(conn, items, unit, article)
            return converted

        if isinstance(result, formats.Export):
            return formats.export(request, self.chosen, result, fields, convert)
        items, next_key = result
        if self.conn is not None:
            items = convert(self.conn, items)
        next_cursor = encode_cursor(self.digest, next_key) if next_key is not None else None
        next_url = None
        headers = {"Vary": "Accept"}
        if next_cursor is not None:
            next_url = next_page_url(request, next_cursor)
            headers["Link"] = f'<{next_url}>; rel="next"'
        body: dict[str, Any] = {
            "items": items,
            "limit": self.limit,
            "next_cursor": next_cursor,
            "next": next_url,
        }
        if fields is not None:
            body["items"] = [{k: item[k] for k in fields if k in item} for item in items]
        if extension is not None:
            body.update(extension.summary())
        if self.chosen.format is formats.Format.claimreview and self.conn is not None:
            graph = formats.claim_reviews(request, self.conn, items)
            return formats.claimreview_response(request, {"@graph": graph}, headers)
        if self.chosen.format is not formats.Format.json:
            return formats.render_page(request, self.chosen, body["items"], headers, fields)
        return JSONResponse(body, headers=headers)
