"""What every route shares: the JSON response, page parameters, cursors, strict query strings."""

import base64
import binascii
import functools
import hashlib
import inspect
from collections.abc import Callable, Coroutine, Sequence
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union, get_args, get_origin
from urllib.parse import urlencode

import orjson
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AfterValidator
from sqlalchemy import Connection, Table
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.responses import Response

from app import formats, queries
from app.api import solver
from app.db import DatabaseSession, blocking
from app.errors import PROBLEM_JSON, APIError, NotFound
from app.offsets import OffsetUnit, OffsetUnitQuery, in_unit
from app.schemas import Problem
from app.statements import serialised_json

if TYPE_CHECKING:
    from app.api.options import ListOptions


T = TypeVar("T")


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}},
    }


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _problem("No resource with this id.")}
INVALID: dict[int | str, dict[str, Any]] = {
    422: _problem("A parameter is invalid or unknown; `errors` lists each problem.")
}

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


class JSONResponse(_StarletteJSONResponse):
    """JSON rendered once by orjson (dates as ISO 8601, no re-validation)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def defer_problem(request: Request, name: str, message: str, value: Any) -> None:
    """Record a problem with a query parameter found while building parameters.

    Raising there would hide the problems FastAPI is still collecting; the route
    class reports deferred problems together with those (see StrictQueryRoute).
    """
    problem = {"type": "value_error", "loc": ("query", name), "msg": message, "input": value}
    request.state.deferred_problems = [*getattr(request.state, "deferred_problems", []), problem]


# A cursor carries a digest of the list it came from (path and filters, not limit) and
# the sort key of the last row it saw: on any other list it is refused, not misread.
MAX_KEY = 2**31 - 1  # keys are 32-bit integers on PostgreSQL


def list_digest(request: Request) -> str:
    params = sorted(
        (k, v)
        for k, v in request.query_params.multi_items()
        # What a page shows, not which list it is: these may change between pages.
        if k
        not in ("cursor", "limit", "format", "count", "facet", "fields", "include", "offset_unit")
    )
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


def _valid_cursor(cursor: str | None) -> str | None:
    if cursor is not None:
        decode_cursor(cursor)
    return cursor


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="Opaque cursor from the previous page's `next_cursor`, on the same "
        "list with the same filters.",
    ),
    # Checked as a parameter, so a bad cursor is reported with every other bad value.
    AfterValidator(_valid_cursor),
]


class PageParams:
    """``limit``, ``cursor`` and ``format``, shared by every list route."""

    allowed: tuple[formats.Format, ...] = formats.LIST_FORMATS

    def __init__(
        self,
        request: Request,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        format: formats.ListFormatQuery = None,
    ) -> None:
        self.chosen = formats.choose(request, format, self.allowed)
        # CSV and NDJSON export the whole list unless a page is asked for.
        self.export = self.chosen.format in formats.EXPORTS and not (
            {"limit", "cursor"} & set(request.query_params)
        )
        self.limit = limit
        self.unit: OffsetUnit = "codepoint"
        self.conn: Connection | None = None
        self.digest = list_digest(request)
        self.after: tuple[int, ...] | None = None
        if cursor is not None:
            digest, key = decode_cursor(cursor)
            if digest == self.digest:
                self.after = key
            else:
                message = "this cursor belongs to another list, or to other filters"
                defer_problem(request, "cursor", message, cursor)

    def run(
        self, query: formats.Fetch, conn: Connection | DatabaseSession, **filters: Any
    ) -> "queries.PageResult | formats.Export":
        """This page of ``query``; for an export, the query itself, run later by the stream."""
        if self.export:
            return formats.Export(query, filters)
        if isinstance(conn, DatabaseSession):
            conn = conn.connection()
        self.conn = conn
        if self.plain_json:
            with serialised_json():
                return query(conn, **filters, after=self.after, limit=self.limit)
        return query(conn, **filters, after=self.after, limit=self.limit)

    @property
    def plain_json(self) -> bool:
        """Whether the page is JSON as stored: offsets in code points, nothing to convert."""
        return self.chosen.format is formats.Format.json and self.unit == "codepoint"


class AnchoredPageParams(PageParams):
    """Page parameters of a list whose items carry anchors, with the unit of their offsets."""

    def __init__(
        self,
        request: Request,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        format: formats.ListFormatQuery = None,
        offset_unit: OffsetUnitQuery = "codepoint",
    ) -> None:
        super().__init__(request, limit, cursor, format)
        self.unit = offset_unit


class ClaimPageParams(AnchoredPageParams):
    """Page parameters of a list of claims, which can also be ClaimReview JSON-LD."""

    allowed = formats.CLAIM_LIST_FORMATS

    def __init__(
        self,
        request: Request,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        format: formats.ClaimListFormatQuery = None,
        offset_unit: OffsetUnitQuery = "codepoint",
    ) -> None:
        super().__init__(request, limit, cursor, format, offset_unit)  # type: ignore[arg-type]


def on_loop(call: Callable[..., T]) -> Callable[..., Coroutine[Any, Any, T]]:
    """``call`` as a dependency FastAPI runs on the event loop, not in its threadpool.

    For dependencies that only read the request (parameters, no I/O): a threadpool hop
    costs about 100 µs, more than such a dependency's own work.
    """

    async def run(*args: Any, **kwargs: Any) -> T:
        return call(*args, **kwargs)

    run.__signature__ = inspect.signature(call)  # type: ignore[attr-defined]
    run.__name__ = run.__qualname__ = getattr(call, "__name__", "dependency")
    run.__doc__ = call.__doc__
    for attribute in ("filter_grammar",):
        if hasattr(call, attribute):
            setattr(run, attribute, getattr(call, attribute))
    return run


PageDep = Annotated[PageParams, Depends(on_loop(PageParams))]
AnchoredPageDep = Annotated[AnchoredPageParams, Depends(on_loop(AnchoredPageParams))]
ClaimPageDep = Annotated[ClaimPageParams, Depends(on_loop(ClaimPageParams))]


def next_page_url(request: Request, cursor: str) -> str:
    """The request's URL with ``cursor`` as its last parameter, replacing any other cursor.

    What Starlette's ``URL.include_query_params`` gives, without parsing the URL again.
    """
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    query.append(("cursor", cursor))
    return str(request.url).partition("?")[0] + "?" + urlencode(query)


def page(
    request: Request,
    result: "queries.PageResult | formats.Export",
    params: PageParams,
    options: "ListOptions | None" = None,
    article: str | None = None,
) -> Response:
    """Render one page with its `next` link (also sent as `Link: <…>; rel="next"`).

    In the format negotiated (see ``app.formats``); a CSV or NDJSON export streams the
    whole list instead. Offsets are given in the page's unit; ``article`` is the article
    of anchors whose items do not name one.
    """
    fields = options.fields if options is not None else None
    unit = params.unit

    def convert(conn: Connection, items: list[Any]) -> list[Any]:
        converted: list[Any] = in_unit(conn, items, unit, article)
        return converted

    if isinstance(result, formats.Export):
        return formats.export(request, params.chosen, result, fields, convert)
    items, next_key = result
    if params.conn is not None:
        items = convert(params.conn, items)
    next_cursor = encode_cursor(params.digest, next_key) if next_key is not None else None
    next_url = None
    headers = {"Vary": "Accept"}
    if next_cursor is not None:
        next_url = next_page_url(request, next_cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    body: dict[str, Any] = {
        "items": items,
        "limit": params.limit,
        "next_cursor": next_cursor,
        "next": next_url,
    }
    if options is not None:
        body = options.render(body)
    if params.chosen.format is formats.Format.claimreview and params.conn is not None:
        graph = formats.claim_reviews(request, params.conn, items)
        return formats.claimreview_response(request, {"@graph": graph}, headers)
    if params.chosen.format is not formats.Format.json:
        return formats.render_page(request, params.chosen, body["items"], headers, fields)
    return JSONResponse(body, headers=headers)


def require(conn: Connection, table: Table, key: str, what: str) -> int:
    """The integer key of the row with public id ``key``; 404 when there is none."""
    pk = queries.row_id(conn, table, key)
    if pk is None:
        raise NotFound(f"no {what} with id {key!r}")
    return pk


def _grammar(dependant: Any) -> Any:
    """The resource whose ``field__op`` filters a route accepts (see app.api.options), if any."""
    found = getattr(dependant.call, "filter_grammar", None)
    for sub in dependant.dependencies:
        found = found or _grammar(sub)
    return found


def _query_fields(dependant: Any) -> dict[str, Any]:
    fields = {p.alias: p for p in dependant.query_params}
    for sub in dependant.dependencies:
        fields.update(_query_fields(sub))
    return fields


def _repeatable(field: Any) -> bool:
    annotation = field.field_info.annotation
    members = (
        get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    )
    return any(get_origin(m) is list for m in members)


def _database_endpoint(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A plain ``def`` route run where its database calls belong (see ``app.db.on_loop``).

    FastAPI runs a ``def`` route in its threadpool; over SQLite this runs it on the event
    loop instead, which saves the hop, and over PostgreSQL still in the threadpool.
    """
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await blocking(endpoint, *args, **kwargs)

    return run


class StrictQueryRoute(APIRoute):
    """A route that refuses query parameters it does not declare, or repeats of single ones.

    A misspelt filter must not silently return everything, and `?entity=a&entity=b`
    must not silently mean `b`. These are reported as validation errors, together
    with any invalid value and any problem deferred while building parameters: the
    handler still runs to collect those, which costs its queries on a request that is
    refused anyway, and only then.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _database_endpoint(endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        route_plan = solver.plan(self)

        async def handler(request: Request) -> Response:
            if route_plan is None:
                return await standard(request)
            return await route_plan.run(request, standard)

        fields = _query_fields(self.dependant)
        single = frozenset(name for name, field in fields.items() if not _repeatable(field))
        grammar = _grammar(self.dependant)
        accepted = ", ".join(sorted(fields)) or "none"
        if grammar is not None:
            accepted += f", and field__operator filters on: {grammar.describe()}"

        def problems(request: Request) -> list[dict[str, Any]]:
            found = []
            for name in sorted(set(request.query_params)):
                given = request.query_params.getlist(name)
                if grammar is not None and "__" in name:
                    continue  # checked by the filter grammar itself
                if name not in fields:
                    msg = f"unknown parameter; this route accepts: {accepted}"
                elif name in single and len(given) > 1:
                    msg = f"given {len(given)} times; it takes one value"
                else:
                    continue
                found.append(
                    {
                        "type": "query_parameter",
                        "loc": ("query", name),
                        "msg": msg,
                        "input": given[-1],
                    }
                )
            return found

        async def strict_handler(request: Request) -> Response:
            refused = problems(request)
            try:
                response = await handler(request)
            except RequestValidationError as exc:
                refused += getattr(request.state, "deferred_problems", [])
                raise RequestValidationError([*refused, *exc.errors()]) from None
            except (APIError, HTTPException):
                refused += getattr(request.state, "deferred_problems", [])
                if not refused:
                    raise
                # A 404 for an id is less useful than the parameter problem.
            else:
                refused += getattr(request.state, "deferred_problems", [])
                if not refused:
                    return response
            raise RequestValidationError(refused)

        return strict_handler
