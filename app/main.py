"""The FastAPI application."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from app import errors, http
from app.api import (
    annotations,
    articles,
    auth,
    changes,
    claims,
    entities,
    events,
    meta,
    search,
    writes,
)
from app.api.responses import problem
from app.db import create_db_engine, gate_for, on_loop
from app.formats import document_formats
from app.logs import AccessLog
from app.settings import Settings, get_settings

logger = logging.getLogger("article_facts")

DESCRIPTION = """
Facts extracted from news articles: **entities**, **events** and **claims**, each tied to the
exact words of its article by an anchor (`start`/`end` in Unicode code points, and the `exact`
text), and each claim with a **verification status** from one closed vocabulary
(see `/verification-statuses`) and its append-only history.

**Lists** are paginated by cursor: pass `limit` (1–500, default 50) and follow `next`
(also sent as a `Link: <…>; rel="next"` header) until it is `null`. Order is stable.

**Errors** are `application/problem+json` (RFC 9457) with a `detail` a person can read;
an unknown id is a 404, an invalid or unknown query parameter a 422 listing each problem.
"""

STATIC_URL = "/static"
# Off in a process that builds many apps (the tests), where collecting costs more than it saves.
FREEZE_AT_STARTUP = True


def create_app(settings: Settings | None = None, *, direct_routes: bool = True) -> FastAPI:
    """Build the application for ``settings`` (by default, from the environment).

    With ``direct_routes`` off, FastAPI solves every route's arguments itself instead of
    ``app.api.route``'s direct handler: the tests compare the two.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_db_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            pool_recycle=settings.db_pool_recycle,
            statement_timeout_ms=settings.query_timeout_ms,
        )
        app.state.gate = gate_for(
            app.state.engine,
            settings.db_pool_size,
            settings.db_max_overflow,
            settings.db_pool_timeout,
        )
        app.state.db_on_loop = on_loop(app.state.engine, settings.db_on_loop)
        # Writes: their own engine, whose transactions hold the database's write lock.
        app.state.writer = create_db_engine(
            settings.database_url,
            writer=True,
            pool_size=writes.WRITE_THREADS,
            max_overflow=0,
            pool_timeout=settings.db_pool_timeout,
            pool_recycle=settings.db_pool_recycle,
        )
        app.state.write_limiter = anyio.CapacityLimiter(writes.WRITE_THREADS)
        loop = type(asyncio.get_running_loop())
        logger.info("Event loop: %s.%s", loop.__module__, loop.__qualname__)
        # What start-up built (routes, models, compiled statements) lives as long as the
        # process: moved out of the collector's view, a full collection no longer walks it
        # (it took 66-96 ms once every few hundred requests, stalling every request in flight).
        if FREEZE_AT_STARTUP:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if FREEZE_AT_STARTUP:
                gc.unfreeze()
            app.state.engine.dispose()
            app.state.writer.dispose()

    app = FastAPI(
        title="article-facts",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "articles", "description": "Articles and the facts taken from each."},
            {
                "name": "entities",
                "description": "People, organisations, places, outlets, documents.",
            },
            {"name": "events", "description": "What happened, or is planned, proposed, requested."},
            {"name": "claims", "description": "Who claimed what, and how far it is verified."},
            {"name": "vocabulary", "description": "Closed vocabularies and the fact file format."},
            {"name": "operations", "description": "Health checks."},
            {"name": "search", "description": "Full-text search across every kind of fact."},
            {
                "name": "changes",
                "description": "What changed after a data revision, also as an Atom feed.",
            },
            {
                "name": "writes",
                "description": "Uploads, deletions, status changes and drafts, each with a "
                "bearer token (use Authorize).",
            },
        ],
    )
    app.state.settings = settings
    app.state.direct_routes = direct_routes
    errors.install(app)
    http.install(app, settings, auth.ReadToken if settings.read_requires_token else None)
    if settings.access_log:
        app.add_middleware(AccessLog)
    # Their paths do not overlap, so the order only says which are tried first: the busiest.
    for module in (claims, entities, events, articles, annotations, search, meta, changes, writes):
        app.include_router(module.router)
    _offline_docs(app)
    _document_formats(app)
    return app


# How a route's parameters are listed in the document: what it filters on first, then how
# a page shows (PAGE_OPTIONS), then the field__operator filters.
PAGE_OPTIONS = (
    "limit",
    "cursor",
    "format",
    "offset_unit",
    "count",
    "facet",
    "sort",
    "include",
    "fields",
)


def _parameter_order(parameter: dict[str, Any]) -> tuple[int, int]:
    name = parameter.get("name", "")
    if parameter.get("in") == "path":
        return 0, 0
    if name in PAGE_OPTIONS:
        return 2, PAGE_OPTIONS.index(name)
    return (3, 0) if "__" in name else (1, 0)


def _document_formats(app: FastAPI) -> None:
    """Generate the OpenAPI document once, then add the non-JSON representations, the
    responses every route may give, and an order of parameters that reads well."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            document_formats(document)
            writes.document(document)
            auth.document(document, app.state.settings)
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("parameters", []).sort(key=_parameter_order)
                    operation.setdefault("responses", {}).setdefault(
                        "414", problem("The request target is longer than the server accepts.")
                    )
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc with their assets served by the app: no CDN, works offline."""
    assets = files("fastapi_offline") / "static"
    app.mount(STATIC_URL, StaticFiles(directory=str(assets)), name="static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="article-facts – Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title="article-facts – ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
