"""Who may write, and, with ``APP_READ_REQUIRES_TOKEN``, who may read: bearer tokens.

Write routes declare the scope they need with FastAPI's documented security utilities
(``HTTPBearer`` in a ``Depends``): ``WriteToken`` or ``ReviewToken``. The OpenAPI document
then lists the bearer scheme and each write's security requirement, so Swagger UI's
"Authorize" button sends the token. A request without a valid token is a 401 with a
``WWW-Authenticate: Bearer`` challenge; a token without the scope, a 403 naming the scope
needed; both problem+json. Every request looks its token up, so a revocation takes effect
on the next request; the token itself appears in no log line, error or response.

Reads stay public and on their fast path: ``ReadToken``, a plain ASGI middleware, is
installed only when ``APP_READ_REQUIRES_TOKEN`` is true, and then asks every request but the
health checks and the API documentation for a token of any scope.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from app import tokens
from app.db import Database
from app.errors import problem_response
from app.settings import Settings
from app.tokens import Scope as TokenScope
from app.tokens import Token

logger = logging.getLogger("article_facts")

SCHEME = "token"
bearer = HTTPBearer(
    scheme_name=SCHEME,
    bearerFormat="af_<key>_<secret>",
    description="A token made with `article-facts tokens create NAME --scope "
    "write|review|admin` (shown once). Writes need `write` (fact files, deletions, drafts) or "
    "`review` (claim statuses); `admin` may do both.",
    auto_error=False,
)
REALM = 'Bearer realm="article-facts"'
MISSING = (
    "this request needs a token: send `Authorization: Bearer <token>` "
    "(made with `article-facts tokens create NAME --scope …`)"
)
INVALID = "the token is not valid, or has been revoked"
# Reachable without a token even when reads need one: health checks for orchestrators, and
# the documentation, whose Authorize button is how a person gives Swagger UI the token.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/redoc", "/openapi.json"})
OPEN_PREFIXES = ("/static/",)


def challenge(error: str | None = None, scope: str | None = None) -> str:
    """A ``WWW-Authenticate`` value (RFC 6750, section 3)."""
    value = REALM
    if error is not None:
        value += f', error="{error}"'
    if scope is not None:
        value += f', scope="{scope}"'
    return value


def verify(db: Database, secret: str) -> Token | None:
    """The valid token ``secret`` is, or None, read with ``db``, which is then closed."""
    try:
        return tokens.verify(db.connection(), secret)
    finally:
        db.close()


def authenticate(engine: Engine, db: Database, secret: str) -> Token | None:
    """The valid token ``secret`` is, or None; its last use is recorded now and then."""
    token = verify(db, secret)
    if token is not None:
        note_use(engine, token)
    return token


def note_use(engine: Engine, token: Token) -> None:
    """Record a token's use when the recorded one is stale (at most once a minute)."""
    now = dt.datetime.now(dt.UTC)
    if not tokens.stale(token, now):
        return
    try:
        with engine.begin() as conn:
            tokens.touch(conn, token, now=now)
    except SQLAlchemyError as exc:
        # Its last use is a convenience for `tokens list`; the request goes on.
        logger.warning("could not record the use of token %r: %s", token.name, type(exc).__name__)


def _database(request: Request) -> Database:
    state = request.app.state
    return Database(state.engine, state.gate, limit_ms=state.settings.query_timeout_ms)


def require(scope: TokenScope) -> Callable[..., Token]:
    """A dependency that admits a request whose bearer token has ``scope`` (or admin)."""

    def admitted(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Token:
        if credentials is None:
            raise HTTPException(401, MISSING, headers={"WWW-Authenticate": challenge()})
        token = authenticate(request.app.state.writer, _database(request), credentials.credentials)
        if token is None:
            raise HTTPException(
                401, INVALID, headers={"WWW-Authenticate": challenge("invalid_token")}
            )
        if not token.allows(scope):
            raise HTTPException(
                403,
                f"token {token.name!r} has scope {token.scope.value!r}; this request needs "
                f"{scope.value!r} (or 'admin')",
                headers={"WWW-Authenticate": challenge("insufficient_scope", scope.value)},
            )
        return token

    admitted.__name__ = f"{scope.value}_token"
    return admitted


WriteToken = Annotated[Token, Depends(require(TokenScope.write))]
ReviewToken = Annotated[Token, Depends(require(TokenScope.review))]


def document(openapi: dict[str, Any], settings: Settings) -> None:
    """With reads behind tokens, say so on every operation, so Swagger UI sends the token."""
    if not settings.read_requires_token:
        return
    for path, operations in openapi.get("paths", {}).items():
        if path in OPEN_PATHS:
            continue
        for operation in operations.values():
            operation.setdefault("security", [{SCHEME: []}])
            operation.setdefault("responses", {}).setdefault(
                "401", {"description": "No token, or one that is not valid (or revoked)."}
            )


class ReadToken:
    """Refuse every request without a valid token of any scope, but ``OPEN_PATHS``.

    Installed only with ``APP_READ_REQUIRES_TOKEN=true``. It sits inside CORS, so a
    browser's preflight is answered without a token (browsers never send one there) and a
    401 still carries the CORS headers a page needs to read it. Writes are let through:
    their routes ask for their own scope.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._pending: set[asyncio.Future[Any]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        secret = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                kind, _, given = value.decode("latin-1").strip().partition(" ")
                if kind.lower() == "bearer" and given.strip():
                    secret = given.strip()
                break
        token = None if secret is None else await self._check(scope["app"], secret)
        if token is None:
            detail, header = (
                (MISSING, challenge()) if secret is None else (INVALID, challenge("invalid_token"))
            )
            refused = problem_response(401, detail, scope["path"])
            refused.headers["www-authenticate"] = header
            refused.headers["cache-control"] = "no-store"
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check(self, app: FastAPI, secret: str) -> Token | None:
        state = app.state
        now = dt.datetime.now(dt.UTC)
        entered = state.db_on_loop and state.gate.try_enter()
        db = Database(
            state.engine, state.gate, limit_ms=state.settings.query_timeout_ms, entered=entered
        )
        # A cheap indexed read: on the event loop when the route class would run one there
        # (see app.api.route), else in a thread.
        token = verify(db, secret) if entered else await run_in_threadpool(verify, db, secret)
        if token is not None and tokens.stale(token, now):
            # Written off the request's path: a read never waits for the write lock.
            task = asyncio.ensure_future(run_in_threadpool(note_use, state.writer, token))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return token
