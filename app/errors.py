"""The API's few errors, and the one way they are rendered: RFC 9457 problem details."""

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("app")

# RFC 9110's names where Python's differ (422 was "Unprocessable Entity" in RFC 4918).
TITLES = {422: "Unprocessable Content", 413: "Content Too Large"}
# A 422 lists at most this many problems, each input cut to INPUT_CHARS: however many
# parameters a client sends, the answer stays small.
MAX_PROBLEMS = 50
INPUT_CHARS = 1000


class APIError(Exception):
    """An error with its HTTP status; ``detail`` is shown to the client."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(APIError):
    status_code = 404


def title(status: int) -> str:
    return TITLES.get(status) or HTTPStatus(status).phrase


def is_timeout(exc: BaseException) -> bool:
    """Whether a database error is a statement stopped by its time limit (``app.db``)."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) == "57014":  # PostgreSQL: query_canceled
        return True
    return type(orig).__name__ == "OperationalError" and str(orig) == "interrupted"


def problem_response(status: int, detail: str, instance: str, **extra: Any) -> Response:
    """A problem+json response (RFC 9457)."""
    body = {
        "type": "about:blank",
        "title": title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_JSON,
        # Also on the 500 that Starlette's outermost middleware sends on its own.
        headers={"X-Content-Type-Options": "nosniff"},
    )


def problem(request: Request, status: int, detail: str, **extra: Any) -> Response:
    return problem_response(status, detail, request.url.path, **extra)


def _describe(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
    where = (
        f"{loc[0]} parameter {'.'.join(loc[1:])!r}" if len(loc) > 1 else ".".join(loc) or "request"
    )
    return f"{where}: {error.get('msg', 'invalid')}"


def _input(value: Any) -> Any:
    if isinstance(value, str) and len(value) > INPUT_CHARS:
        return value[:INPUT_CHARS] + "…"
    if isinstance(value, list | tuple):
        return [_input(v) for v in value[:10]]
    if isinstance(value, dict | bytes):
        return None  # a whole model's (or body's) input: the other entries say what is wrong
    return value


def _unknown_parameter(request: Request, name: str) -> str:
    """What an unknown parameter's error says: what the route accepts instead."""
    route = request.scope.get("route")
    describe = getattr(route, "describe_unknown", None)
    if callable(describe):
        message: str = describe(name)
        return message
    return "unknown parameter"


def validation_problems(request: Request, exc: RequestValidationError) -> list[dict[str, Any]]:
    """The problems of a 422, as the body's ``errors`` lists them."""
    problems = []
    for e in exc.errors():
        loc = list(e.get("loc", ()))
        message = str(e.get("msg", "")).removeprefix("Value error, ")
        if e.get("type") == "extra_forbidden" and len(loc) == 2 and loc[0] == "query":
            message = _unknown_parameter(request, str(loc[1]))
        problems.append(
            {"loc": loc, "msg": message, "type": e.get("type", ""), "input": _input(e.get("input"))}
        )
    return problems


_TEMPLATE_PART = re.compile(r"{[^}]+}")


def _allowed(request: Request) -> list[str]:
    """Every method the API documents at the request's path, HEAD wherever GET; empty for a
    path outside the document."""
    path = request.url.path
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "[^/]+".join(re.escape(p) for p in _TEMPLATE_PART.split(template))
        if re.fullmatch(pattern, path):
            methods |= {m.upper() for m in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Render every error the app raises as problem+json."""

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, APIError)
        return problem(request, exc.status_code, exc.detail)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = validation_problems(request, exc)
        shown = errors[:MAX_PROBLEMS]
        detail = "; ".join(_describe(e) for e in shown)
        if len(errors) > len(shown):
            detail += f"; and {len(errors) - len(shown)} more problems"
        return problem(request, 422, detail, errors=shown)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route matches {request.url.path}; see /docs for the API"
        response = problem(request, exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405 and (allowed := _allowed(request)):
            # Starlette names the methods of the first route matching the path; a path may
            # have several (GET and DELETE of an article).
            response.headers["allow"] = ", ".join(allowed)
        return response

    async def database_error(request: Request, exc: Exception) -> Response:
        if is_timeout(exc):
            limit = getattr(getattr(request.app.state, "settings", None), "query_timeout_ms", 0)
            message = (
                f"answering this request took longer than the {limit:,} ms the server allows "
                "a request's queries (APP_QUERY_TIMEOUT_MS): counting, faceting, sorting or "
                "searching the whole list is too expensive with these filters. Narrow the "
                "list (by article, claimant, entity, status or a date window), or drop "
                "count=exact, facet= or sort=, or make the search words more specific"
            )
            error = {"loc": ["query"], "msg": message, "type": "too_expensive", "input": None}
            return problem(request, 422, message, errors=[error])
        return await internal_error(request, exc)

    async def internal_error(request: Request, exc: Exception) -> Response:
        # The traceback goes to the server log, never to the client.
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(request, 500, "internal error; the server log has the details")

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(Exception, internal_error)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
