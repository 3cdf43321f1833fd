"""What every route shares: the JSON response, page parameters, cursors, strict query strings."""

import base64
import binascii
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from starlette.responses import JSONResponse as _StarletteJSONResponse

from app.errors import PROBLEM_JSON, InvalidParameter
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


def decode_cursor(cursor: str) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = data["after"]
        if isinstance(key, int) and not isinstance(key, bool) and key >= 0:
            return key
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError):
        pass
    raise InvalidParameter(
        "cursor", "not a cursor this API issued; use the `next_cursor` of a page", cursor
    )


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


_allowed_by_route: dict[int, frozenset[str]] = {}


def _allowed_parameters(route: Any) -> frozenset[str]:
    # Routes live as long as the app and are not hashable: keyed by identity.
    key = id(route)
    if key not in _allowed_by_route:
        _allowed_by_route[key] = _query_names(route.dependant)
    return _allowed_by_route[key]


def reject_unknown_parameters(request: Request) -> None:
    """A misspelt filter must not silently return everything: unknown parameters are a 422."""
    route = request.scope.get("route")
    if route is None:
        return
    allowed = _allowed_parameters(route)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        allowed_list = ", ".join(sorted(allowed)) or "none"
        raise InvalidParameter(
            unknown[0],
            f"unknown parameter; this route accepts: {allowed_list}",
            request.query_params[unknown[0]],
        )


STRICT_QUERY = Depends(reject_unknown_parameters)
