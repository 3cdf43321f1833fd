"""How a request reaches its route: its query string, its database, and where it runs.

Every route of the API is a ``Route``, FastAPI's ``APIRoute`` with its documented
``get_route_handler`` extended. Routes are plain ``def`` functions of three kinds of
argument, which is all this layer needs to know about them:

- ``request: Request``;
- ``params: Annotated[SomeQuery, Query()]``, the whole query string as one model of
  ``app.api.params`` (extra fields forbidden), and path parameters;
- ``db: Db``, the request's ``Database`` (``app.db``), opened on first use.

FastAPI reads the signature for the OpenAPI document and can solve it itself. For speed,
the handler solves it directly instead: it validates the query string with one call of the
model's own validator (FastAPI's per-field bookkeeping costs about 0.4 ms on a list route)
and opens the database itself. A test runs a sample of requests on every route both ways
and requires the same status, headers and body (``tests/test_route.py``).

Beyond FastAPI, the handler refuses a single-valued parameter given more than once
(``?limit=1&limit=2`` must not silently mean 2) and a cursor issued by another list, with the
model's own problems in the same 422. An unknown parameter's message says what the route
accepts (``describe_unknown``).

Where the work runs: a request whose parameters ask for nothing costly (no count, facet,
sort, search or grammar filter) runs on the event loop when ``APP_DB_ON_LOOP`` allows it and
a connection is free at once; its connection is opened, used and closed without the loop
running anything else in between, so such requests never hold a connection across a wait
and never make the loop wait for one. Any other request runs in the threadpool, where
waiting for a connection (or for a slow statement, up to ``APP_QUERY_TIMEOUT_MS``) holds up
only its own thread.
"""

import inspect
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams as RawQuery
from starlette.requests import Request
from starlette.responses import Response

from app.api.pages import decode_cursor, list_digest
from app.api.params import QueryParams, grammar_fields, repeatable
from app.db import Database
from app.http import read_revision

_PATH_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def open_database(request: Request, *, entered: bool = False) -> Database:
    """The database of one request, on the app's engine, with its time limit and revision."""
    state = request.app.state
    return Database(
        state.engine,
        state.gate,
        limit_ms=state.settings.query_timeout_ms,
        on_open=partial(read_revision, request),
        entered=entered,
    )


async def get_database(request: Request) -> AsyncIterator[Database]:
    """The request's database, closed when the request is done (FastAPI's own solving)."""
    db = open_database(request)
    try:
        yield db
    finally:
        await run_in_threadpool(db.close)


Db = Annotated[Database, Depends(get_database)]


class Unsupported(Exception):
    """A route argument the direct handler does not provide; FastAPI solves the route."""


@dataclass(frozen=True, slots=True)
class _PathParam:
    name: str
    adapter: TypeAdapter[Any]


class Plan:
    """What a route's arguments are, read once from its signature."""

    def __init__(self, path: str, endpoint: Callable[..., Any]) -> None:
        if inspect.iscoroutinefunction(endpoint):
            raise Unsupported("a coroutine route")
        hints = get_type_hints(endpoint, include_extras=True)
        in_path = set(_PATH_PARAMETER.findall(path))
        self.endpoint = endpoint
        self.request: str | None = None
        self.database: str | None = None
        self.query: str | None = None
        self.model: type[QueryParams] | None = None
        self.path: list[_PathParam] = []
        for name, parameter in inspect.signature(endpoint).parameters.items():
            annotation = hints.get(name)
            if parameter.default is not inspect.Parameter.empty:
                raise Unsupported(f"a default for {name!r}")
            if annotation is Request:
                self.request = name
            elif annotation == Db:
                self.database = name
            elif name in in_path and annotation is not None:
                self.path.append(_PathParam(name, TypeAdapter(annotation)))
            elif (
                get_origin(annotation) is Annotated
                and isinstance(model := get_args(annotation)[0], type)
                and issubclass(model, QueryParams)
                and self.model is None
            ):
                self.query, self.model = name, model
            else:
                raise Unsupported(f"argument {name!r}")
        self.repeatable = repeatable(self.model) if self.model is not None else frozenset()
        self.single = (
            frozenset(self.model.model_fields) - self.repeatable
            if self.model is not None
            else frozenset()
        )

    def query_data(self, query: RawQuery) -> dict[str, Any]:
        """The query string as the model reads it: lists for its list fields, else the last
        value, as FastAPI reads a query-parameter model."""
        data: dict[str, Any] = {}
        lists = self.repeatable
        for key, value in query.multi_items():
            if key in lists:
                data.setdefault(key, []).append(value)
            else:
                data[key] = value
        return data

    def arguments(self, request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The route's arguments but the database, and every problem with them, in FastAPI's
        order (path parameters, then the query string)."""
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        path_params = request.path_params
        for param in self.path:
            try:
                kwargs[param.name] = param.adapter.validate_python(path_params[param.name])
            except ValidationError as exc:
                errors.extend(_located(exc, ("path", param.name)))
        if self.model is not None and self.query is not None:
            try:
                kwargs[self.query] = self.model.model_validate(
                    self.query_data(request.query_params)
                )
            except ValidationError as exc:
                errors.extend(_located(exc, ("query",)))
        if self.request is not None:
            kwargs[self.request] = request
        return kwargs, errors

    def request_problems(self, request: Request) -> list[dict[str, Any]] | None:
        """What the query string's model cannot see: single-valued parameters given more
        than once, and a cursor issued by another list. None when there is nothing to check
        (the common case): the query string is then the model's alone to judge."""
        query = request.query_params
        found = self.repeated(query)
        cursor = query.get("cursor")
        if cursor is not None and "cursor" in self.single:
            try:
                digest, _ = decode_cursor(cursor)
            except ValueError:
                pass  # the model says so
            else:
                if digest != list_digest(request):
                    message = "this cursor belongs to another list, or to other filters"
                    found = [
                        *(found or ()),
                        {
                            "type": "value_error",
                            "loc": ("query", "cursor"),
                            "msg": message,
                            "input": cursor,
                        },
                    ]
        return found

    def repeated(self, query: RawQuery) -> list[dict[str, Any]] | None:
        """Problems with single-valued parameters given more than once; None when no
        parameter but the repeatable ones is repeated."""
        items = query.multi_items()
        names = query.keys()
        if len(items) == len(names):
            return None
        found = []
        forced = False
        for name in sorted(names):
            if name in self.repeatable:
                continue
            given = query.getlist(name)
            if len(given) < 2:
                continue
            forced = True  # an unknown parameter given twice is reported as unknown
            if name in self.single:
                found.append(
                    {
                        "type": "query_parameter",
                        "loc": ("query", name),
                        "msg": f"given {len(given)} times; it takes one value",
                        "input": given[-1],
                    }
                )
        return found if forced else None

    async def call(self, request: Request, kwargs: dict[str, Any]) -> Response:
        """Run the route with its database, on the event loop or in the threadpool."""
        endpoint = self.endpoint
        if self.database is None:
            result: Response = endpoint(**kwargs)
            return result
        state = request.app.state
        params = kwargs.get(self.query) if self.query is not None else None
        cheap = params is None or not params.costly
        entered = cheap and state.db_on_loop and state.gate.try_enter()
        db = kwargs[self.database] = open_database(request, entered=entered)

        def run() -> Response:
            try:
                response: Response = endpoint(**kwargs)
                return response
            finally:
                db.close()

        if entered:
            return run()
        return await run_in_threadpool(run)


def _located(exc: ValidationError, prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    # As FastAPI reports a parameter's errors: the pydantic error, located in the request.
    return [{**e, "loc": (*prefix, *e["loc"])} for e in exc.errors(include_url=False)]


class Route(APIRoute):
    """A route of this API: strict query strings, and solved directly (see the module text)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        try:
            # Dependencies declared on the route or its router are FastAPI's to run.
            self.plan: Plan | None = None if kwargs.get("dependencies") else Plan(path, endpoint)
        except Unsupported:
            self.plan = None
        super().__init__(path, endpoint, **kwargs)

    @property
    def query_model(self) -> type[QueryParams] | None:
        return self.plan.model if self.plan is not None else None

    def describe_unknown(self, name: str) -> str:
        """What the 422 for the unknown query parameter ``name`` says."""
        model = self.query_model
        if model is None:
            return "unknown parameter"
        resource = model.resource
        if resource is not None and "__" in name:
            field, _, operator = name.partition("__")
            spec = resource.fields.get(field)
            if spec is None:
                return (
                    f"unknown filter field {field!r}; {resource.name} filter on: "
                    f"{resource.describe()}"
                )
            return f"unknown operator {operator!r} for {field}; use one of: " + ", ".join(
                spec.operators
            )
        grammar = set(grammar_fields(model))
        accepted = ", ".join(sorted(set(model.model_fields) - grammar)) or "none"
        message = f"unknown parameter; this route accepts: {accepted}"
        if resource is not None:
            message += f", and field__operator filters on: {resource.describe()}"
        return message

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        plan = self.plan

        async def handler(request: Request) -> Response:
            if plan is None:
                return await standard(request)
            found = plan.request_problems(request)
            if found is not None:
                # Refused with every other problem the request has, whoever solves routes
                # (FastAPI would take the last of repeated values).
                _, errors = plan.arguments(request)
                if errors or found:
                    raise RequestValidationError([*errors, *found])
            app = request.app
            if (
                app.dependency_overrides
                or app.router.dependencies
                or not getattr(app.state, "direct_routes", True)
            ):
                return await standard(request)
            kwargs, errors = plan.arguments(request)
            if errors:
                raise RequestValidationError(errors)
            return await plan.call(request, kwargs)

        return handler
