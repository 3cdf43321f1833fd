"""What every route shares: the JSON response, page parameters, cursors, strict query strings."""

import base64
import binascii
from collections.abc import Callable, Coroutine, Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import orjson
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AfterValidator
from sqlalchemy import Connection, Table
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.responses import Response

from app import queries
from app.errors import PROBLEM_JSON, APIError, InvalidCursor, NotFound
from app.schemas import Problem


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


# A cursor names the list it belongs to and the sort key of the last row it saw, so
# a cursor from one list is refused by another instead of giving a wrong page.
CURSOR_ARITY = {"mentions": 3}
MAX_KEY = 2**31 - 1  # keys are 32-bit integers on PostgreSQL


def encode_cursor(scope: str, key: Sequence[int]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([scope, *key])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, tuple[int, ...]]:
    """The list a cursor belongs to and the key it points after.

    Raises ValueError for anything this API did not issue.
    """
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(data, list) and data and isinstance(data[0], str):
            scope, key = data[0], tuple(data[1:])
            valid = all(
                isinstance(k, int) and not isinstance(k, bool) and 0 <= k <= MAX_KEY for k in key
            )
            if valid and len(key) == CURSOR_ARITY.get(scope, 1):
                return scope, key
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        pass
    raise ValueError("not a cursor this API issued; use the `next_cursor` of a page")


def _valid_cursor(cursor: str | None) -> str | None:
    if cursor:
        decode_cursor(cursor)
    return cursor


class PageParams:
    """``limit`` and ``cursor``, shared by every list route."""

    def __init__(
        self,
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")
        ] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(
                max_length=200, description="Opaque cursor from the previous page's `next_cursor`."
            ),
            # Checked as a parameter, so a bad cursor is reported with every other bad value.
            AfterValidator(_valid_cursor),
        ] = None,
    ) -> None:
        self.limit = limit
        self._cursor = decode_cursor(cursor) if cursor else None

    def after(self, scope: str) -> tuple[int, ...] | None:
        """The key to start after, for the list called ``scope``."""
        if self._cursor is None:
            return None
        if self._cursor[0] != scope:
            raise InvalidCursor("cursor: this cursor belongs to another list")
        return self._cursor[1]


PageDep = Annotated[PageParams, Depends()]


def page(
    request: Request,
    scope: str,
    result: tuple[list[dict[str, Any]], tuple[int, ...] | None],
    params: PageParams,
) -> JSONResponse:
    """Render one page with its `next` link (also sent as `Link: <…>; rel="next"`)."""
    items, next_key = result
    next_cursor = encode_cursor(scope, next_key) if next_key is not None else None
    next_url = None
    headers = {}
    if next_cursor is not None:
        next_url = str(request.url.include_query_params(cursor=next_cursor))
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = {"items": items, "limit": params.limit, "next_cursor": next_cursor, "next": next_url}
    return JSONResponse(body, headers=headers)


def require(conn: Connection, table: Table, key: str, what: str) -> int:
    """The integer key of the row with public id ``key``; 404 when there is none."""
    pk = queries.row_id(conn, table, key)
    if pk is None:
        raise NotFound(f"no {what} with id {key!r}")
    return pk


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


class StrictQueryRoute(APIRoute):
    """A route that refuses query parameters it does not declare, or repeats of single ones.

    A misspelt filter must not silently return everything, and `?entity=a&entity=b`
    must not silently mean `b`. These are reported as validation errors, together
    with any invalid value: the handler still runs to collect those, which costs its
    queries on a request that is refused anyway, and only then.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        fields = _query_fields(self.dependant)
        single = frozenset(name for name, field in fields.items() if not _repeatable(field))
        accepted = ", ".join(sorted(fields)) or "none"

        def problems(request: Request) -> list[dict[str, Any]]:
            found = []
            for name in sorted(set(request.query_params)):
                given = request.query_params.getlist(name)
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
            if not refused:
                return await handler(request)
            try:
                await handler(request)
            except RequestValidationError as exc:
                raise RequestValidationError([*refused, *exc.errors()]) from None
            except (APIError, HTTPException):
                pass  # a 404 for an id is less useful than the parameter problem
            raise RequestValidationError(refused)

        return strict_handler
