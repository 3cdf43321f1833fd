"""A route's dependencies solved by a plan built once, not by re-reading the route per request.

On every request FastAPI walks the dependency tree and works out again, for each parameter,
whether it is a model, a sequence or JSON and which names it answers to; for a list route
with seven dependencies and twenty parameters that is about 300 µs, a quarter of the
request. A plan does that analysis when the route is built and keeps, per request, only
what depends on the request: reading and validating the values, and calling the
dependencies in FastAPI's order, with its caching and its exit stacks.

A plan covers what this API's routes use: path and query parameters, the request, and
dependencies that are plain functions, coroutines or async generators, with a route that
returns a Response. It only answers the valid case. A request with a missing or invalid
value, an app with dependency overrides, and any route using something else are solved by
FastAPI itself, so every error is FastAPI's own.
"""

import contextlib
import copy
import enum
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, get_type_hints

import fastapi.routing
from fastapi._compat import ModelField, field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel, Json
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Awaitable[Response]]

# Defaults that are safe to hand out without the deep copy FastAPI makes of each.
_IMMUTABLE = (type(None), bool, int, float, str, bytes, enum.Enum)


class Unsupported(Exception):
    """The route uses something a plan does not cover; FastAPI solves it."""


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    alias: str
    source: Literal["path", "query"]
    field: ModelField
    sequence: bool
    required: bool
    default: Any
    copy_default: bool
    validate_default: bool


@dataclass(frozen=True, slots=True)
class _Step:
    """One call: a dependency or, last, the endpoint itself."""

    call: Callable[..., Any]
    kind: Literal["coroutine", "function", "context"]
    key: Any  # what FastAPI's per-request dependency cache knows this call by
    use_cache: bool
    function_scope: bool
    request_name: str | None
    params: tuple[tuple[str, int], ...]  # keyword, index into the validated values
    subs: tuple[tuple[str, Any], ...]  # keyword, key of a step before this one


def _param(field: ModelField, source: Literal["path", "query"]) -> _Param:
    info = field.field_info
    annotation = info.annotation
    if (
        not isinstance(info.validation_alias, str | None)
        or info.default_factory is not None
        or any(type(item) is Json for item in info.metadata)
        or (isinstance(annotation, type) and issubclass(annotation, BaseModel))
    ):
        raise Unsupported(f"parameter {field.name!r}")
    required = info.is_required()
    default = None if required else info.default
    return _Param(
        name=field.name,
        alias=field.validation_alias or field.alias,
        source=source,
        field=field,
        sequence=source == "query" and field_annotation_is_sequence(annotation),
        required=required,
        default=default,
        copy_default=not isinstance(default, _IMMUTABLE),
        validate_default=bool(info.validate_default),
    )


def _kind(call: Callable[..., Any]) -> Literal["coroutine", "function", "context"]:
    if inspect.isasyncgenfunction(call):
        return "context"
    if inspect.isgeneratorfunction(call):
        raise Unsupported("a generator dependency")
    if inspect.isclass(call):
        return "function"  # instantiating a class, as FastAPI does, in the threadpool
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 (a callable instance)
    ):
        return "coroutine"
    return "function"


class Plan:
    """How to solve one route's dependencies and call its endpoint; see the module text."""

    def __init__(self, dependant: Dependant, endpoint: Callable[..., Any]) -> None:
        hints = get_type_hints(inspect.unwrap(endpoint))
        returned = hints.get("return")
        if not (isinstance(returned, type) and issubclass(returned, Response)):
            raise Unsupported("the endpoint does not return a Response")
        self.params: list[_Param] = []
        self.steps: list[_Step] = []
        self._add(dependant, is_endpoint=True)

    def _add(self, dependant: Dependant, is_endpoint: bool = False) -> Any:
        if (
            dependant.call is None
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
            or dependant.websocket_param_name
            or dependant.http_connection_param_name
            or dependant.response_param_name
            or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name
            or dependant.own_oauth_scopes
            or dependant.parent_oauth_scopes
            or getattr(dependant, "concurrency", None) is not None
        ):
            raise Unsupported(f"dependency {dependant.call!r}")
        subs = []
        for sub in dependant.dependencies:
            sub_key = self._add(sub)
            if sub.name is not None:
                subs.append((sub.name, sub_key))
        params = []
        for source, fields in (("path", dependant.path_params), ("query", dependant.query_params)):
            for field in fields:
                params.append((field.name, len(self.params)))
                self.params.append(_param(field, source))  # type: ignore[arg-type]
        key: Any = dependant.call if dependant.use_cache else object()
        self.steps.append(
            _Step(
                call=dependant.call,
                kind=_kind(dependant.call),
                key=key,
                use_cache=dependant.use_cache and not is_endpoint,
                function_scope=dependant.scope == "function",
                request_name=dependant.request_param_name,
                params=tuple(params),
                subs=tuple(subs),
            )
        )
        return key

    def values(self, request: Request) -> list[Any] | None:
        """Every parameter's value, validated; None if any is missing or invalid."""
        query = request.query_params
        path = request.path_params
        values: list[Any] = []
        for param in self.params:
            if param.sequence:
                raw: Any = query.getlist(param.alias) or None
            elif param.source == "query":
                raw = query.get(param.alias)
            else:
                raw = path.get(param.alias)
            if raw is None:
                if param.required:
                    return None
                raw = copy.deepcopy(param.default) if param.copy_default else param.default
                if not param.validate_default:
                    values.append(raw)
                    continue
            value, errors = param.field.validate(raw, loc=(param.source, param.alias))
            if errors:
                return None
            values.append(value)
        return values

    async def run(self, request: Request, fallback: Handler) -> Response:
        """The endpoint's response, or FastAPI's own handling of anything but the valid case."""
        provider = request.app
        values = self.values(request)
        if values is None or getattr(provider, "dependency_overrides", None):
            return await fallback(request)
        solved: dict[Any, Any] = {}
        result: Any = None
        for step in self.steps:
            if step.use_cache and step.key in solved:
                continue
            kwargs = {name: values[index] for name, index in step.params}
            for name, key in step.subs:
                kwargs[name] = solved[key]
            if step.request_name is not None:
                kwargs[step.request_name] = request
            if step.kind == "coroutine":
                result = await step.call(**kwargs)
            elif step.kind == "context":
                stack_name = (
                    "fastapi_function_astack" if step.function_scope else "fastapi_inner_astack"
                )
                stack: contextlib.AsyncExitStack = request.scope[stack_name]
                manager = contextlib.asynccontextmanager(step.call)(**kwargs)
                result = await stack.enter_async_context(manager)
            else:
                result = await run_in_threadpool(step.call, **kwargs)
            solved[step.key] = result
        if not isinstance(result, Response):
            raise TypeError(f"{self.steps[-1].call!r} returned {type(result).__name__}")
        return result


def _effective_dependant(route: fastapi.routing.APIRoute) -> Dependant:
    """What FastAPI solves for ``route`` while it builds the route's handler.

    FastAPI builds a route of an included router once per inclusion, with the app's and
    the including routers' dependencies added, and holds that context while it builds the
    handler; versions before that copied the route, dependencies included.
    """
    holder = getattr(fastapi.routing, "_effective_route_context_var", None)
    context = holder.get() if holder is not None else None
    if context is not None and getattr(context, "original_route", None) is route:
        dependant: Dependant = context.dependant
        return dependant
    return route.dependant


def plan(route: fastapi.routing.APIRoute) -> Plan | None:
    """A plan for ``route`` as it is being built, or None where FastAPI must solve it."""
    try:
        return Plan(_effective_dependant(route), route.endpoint)
    except Unsupported:
        return None
