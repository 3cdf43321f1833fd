"""What every route shares: the JSON response, page parameters, cursors, strict query strings."""

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AfterValidator
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.responses import Response

from app.errors import PROBLEM_JSON
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


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": key})).decode().rstrip("=")


MAX_KEY = 2**63 - 1  # the largest integer key SQLite and PostgreSQL store


def decode_cursor(cursor: str) -> int:
    """The key a cursor points after. Raises ValueError for anything this API did not issue."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = data["after"]
        if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= MAX_KEY:
            return key
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError):
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
        self.after = decode_cursor(cursor) if cursor else None


PageDep = Annotated[PageParams, Depends()]


def page(
    request: Request, items: list[dict[str, Any]], params: PageParams, next_key: int | None
) -> JSONResponse:
    """Render one page with its `next` link (also sent as `Link: <…>; rel="next"`)."""
    next_cursor = encode_cursor(next_key) if next_key is not None else None
    next_url = None
    headers = {}
    if next_cursor is not None:
        next_url = str(request.url.include_query_params(cursor=next_cursor))
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = {"items": items, "limit": params.limit, "next_cursor": next_cursor, "next": next_url}
    return JSONResponse(body, headers=headers)


def _query_names(dependant: Any) -> frozenset[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


class StrictQueryRoute(APIRoute):
    """A route that refuses query parameters it does not declare.

    A misspelt filter must not silently return everything. Unknown parameters are
    reported as validation errors, together with any invalid value.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        allowed = _query_names(self.dependant)
        accepted = ", ".join(sorted(allowed)) or "none"

        async def strict_handler(request: Request) -> Response:
            unknown = [
                {
                    "type": "unknown_parameter",
                    "loc": ("query", name),
                    "msg": f"unknown parameter; this route accepts: {accepted}",
                    "input": request.query_params[name],
                }
                for name in sorted(set(request.query_params) - allowed)
            ]
            if not unknown:
                return await handler(request)
            try:
                await handler(request)
            except RequestValidationError as exc:
                raise RequestValidationError([*unknown, *exc.errors()]) from None
            raise RequestValidationError(unknown)

        return strict_handler
