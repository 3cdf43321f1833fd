"""HTTP around the routes: validators and conditional requests, HEAD, gzip, CORS.

Every successful GET carries a strong ``ETag`` and a ``Last-Modified`` derived from the
data's revision, a counter that every ingest which changes something increments (see
``app.ingest.load.bump_revision``), instead of a hash of the body. The revision is read by
``read_revision`` as the request's database opens, inside the request's own transaction and
before the route's queries: a client whose copy is current gets its 304 without them.

``HTTPCache``, a plain ASGI middleware, does the rest: it answers HEAD as GET without the
body, adds ``ETag``, ``Last-Modified``, ``Cache-Control`` and ``Vary``, and evaluates
``If-None-Match`` and ``If-Modified-Since`` itself (the routes never see them). It sits
outside the gzip middleware, so it sees the content coding and gives a gzip body and an
identity body different tags.
"""

import base64
import datetime as dt
import gzip
import hashlib
from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import FastAPI, Request
from sqlalchemy import Connection, select
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem_response
from app.models import data_revision_t
from app.queries import remember_revision
from app.settings import Settings
from app.statements import Statement

GZIP_MINIMUM_SIZE = 1024  # bytes; smaller bodies gain little and cost CPU
GZIP_LEVEL = 6
# Health checks must reach the server every time: never stored, never revalidated.
NO_STORE_PATHS = frozenset({"/healthz", "/readyz"})
NO_STORE = b"no-store"
VARY = (b"Accept", b"Accept-Encoding")
VARY_CORS = (*VARY, b"Origin")  # with CORS on, whether a request has an Origin matters too
EXPOSED_HEADERS = ("ETag", "Link", "Last-Modified", "Content-Disposition")
CORS_METHODS = ("GET", "HEAD", "OPTIONS")
# For the origins APP_CORS_WRITE_ORIGINS names: writes too, and what their answers carry.
CORS_WRITE_METHODS = (*CORS_METHODS, "POST", "DELETE")
EXPOSED_WRITE_HEADERS = (*EXPOSED_HEADERS, "Location", "Content-Location", "WWW-Authenticate")
# Headers a 304 keeps from the 200 it stands for (RFC 9110, section 15.4.5).
KEPT_ON_304 = frozenset({b"cache-control", b"content-location", b"date", b"expires", b"vary"})
CONDITIONAL = frozenset({b"if-none-match", b"if-modified-since"})
SCOPE_KEY = "app.http.validators"

_REVISION = Statement(
    select(data_revision_t.c.revision, data_revision_t.c.changed_at).where(
        data_revision_t.c.id == 1
    )
)


def quality_values(header: str) -> list[tuple[str, float]]:
    """The items of a list header (Accept, Accept-Encoding) with their ``q`` weights.

    RFC 9110, section 12.4.2: an item without ``q`` weighs 1; a ``q`` that is not a
    number weighs -1, which no caller accepts.
    """
    items = []
    for part in header.split(","):
        item, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        items.append((item, q))
    return items


def absolute_url(request: Request, path: str) -> str:
    """The absolute URL of ``path`` (a path of this API, query string included).

    Built on ``APP_PUBLIC_URL`` when it is set, so that links never carry whatever ``Host``
    a client sent; otherwise on the request's own base URL (with its root path).
    """
    settings = getattr(request.app.state, "settings", None)
    public = getattr(settings, "public_url", "")
    base = public if public else str(request.base_url).rstrip("/")
    return base + path


def route_path(request: Request) -> str:
    """The request's path within the API, without the root path a proxy serves it under."""
    path: str = request.scope["path"]
    root = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back the stored UTC time without its zone.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _http_date(value: dt.datetime) -> bytes:
    return format_datetime(value, usegmt=True).encode("latin-1")


def _parse_http_date(value: bytes) -> dt.datetime | None:
    try:
        return _utc(parsedate_to_datetime(value.decode("latin-1")))
    except (TypeError, ValueError, IndexError):
        return None  # not an HTTP-date: the field is ignored (RFC 9110, section 13.1.3)


def _opaque(tag: bytes) -> bytes:
    """The tag without its weakness mark: If-None-Match compares tags weakly."""
    return tag[2:] if tag.startswith(b"W/") else tag


def _encoded(tag: bytes, gzip: bool) -> bytes:
    """The tag of the gzip-encoded representation, distinct from the identity one's."""
    return tag[:-1] + b'-gzip"' if gzip and tag.endswith(b'"') else tag


class Validators:
    """One GET request's conditional headers, and the validators of its response."""

    __slots__ = (
        "any_tag",
        "gzip",
        "if_modified_since",
        "if_none_match",
        "key",
        "last_modified",
        "matched",
        "revision",
        "tag",
    )

    def __init__(self, key: bytes, gzip: bool) -> None:
        self.key = key  # everything the representation varies on, but the data
        self.gzip = gzip  # whether the client accepts gzip (as GZipMiddleware decides)
        self.if_none_match: frozenset[bytes] | None = None
        self.any_tag = False
        self.if_modified_since: dt.datetime | None = None
        self.tag: bytes | None = None  # identity tag, once the revision is known
        self.last_modified: dt.datetime | None = None
        self.matched: bytes | None = None  # the tag an early 304 confirmed
        self.revision: int | None = None

    def parse_if_none_match(self, values: list[bytes]) -> None:
        tags = {_opaque(t.strip()) for v in values for t in v.split(b",")}
        tags.discard(b"")
        self.any_tag = b"*" in tags
        self.if_none_match = frozenset(tags)

    def set_revision(self, revision: int, changed_at: dt.datetime | None) -> None:
        self.revision = revision
        self.last_modified = None if changed_at is None else _utc(changed_at)
        stamp = b"" if self.last_modified is None else self.last_modified.isoformat().encode()
        digest = hashlib.blake2b(b"\n".join((self.key, stamp)), digest_size=12).digest()
        self.tag = b'"%d-%s"' % (revision, base64.urlsafe_b64encode(digest))

    def current(self) -> bytes | None:
        """The tag If-None-Match names when the client's copy is current, before any query.

        `*` waits for the response: it must not turn a 404 into a 304.
        """
        if self.tag is None or not self.if_none_match:
            return None
        for tag in (self.tag, _encoded(self.tag, True)) if self.gzip else (self.tag,):
            if tag in self.if_none_match:
                return tag
        return None

    def not_modified(self, tag: bytes, last_modified: dt.datetime | None) -> bool:
        """RFC 9110, section 13.2.2: If-None-Match, or else If-Modified-Since."""
        if self.if_none_match is not None:
            return self.any_tag or _opaque(tag) in self.if_none_match
        if self.if_modified_since is not None and last_modified is not None:
            return last_modified.replace(microsecond=0) <= self.if_modified_since
        return False


class NotModified(Exception):
    """The client's copy is current: answer 304 without running the route."""


def read_revision(request: Request, conn: Connection) -> None:
    """Read the data's revision as a request's database opens, before the route's queries.

    Raises NotModified when If-None-Match names the response's tag.
    """
    validators = request.scope.get(SCOPE_KEY)
    if validators is None:
        return
    row = _REVISION.first(conn)
    remember_revision(conn, None if row is None else int(row[0]))
    validators.set_revision(*((row[0], row[1]) if row is not None else (0, None)))
    tag = validators.current()
    if tag is not None:
        validators.matched = tag
        raise NotModified


def data_revision(request: Request, conn: Connection) -> int:
    """The data's revision: the one ``read_revision`` read for this request, else read now."""
    validators = request.scope.get(SCOPE_KEY)
    if validators is not None and validators.revision is not None:
        return int(validators.revision)
    row = _REVISION.first(conn)
    return int(row[0]) if row is not None else 0


async def _not_modified(_request: Request, _exc: Exception) -> Response:
    return Response(status_code=304)


def _merge_vary(
    headers: list[tuple[bytes, bytes]], vary: tuple[bytes, ...] = VARY
) -> list[tuple[bytes, bytes]]:
    """``headers`` with one Vary naming the ``vary`` headers besides what it named."""
    names: list[bytes] = []
    kept = []
    for name, value in headers:
        if name == b"vary":
            names.extend(v.strip() for v in value.split(b",") if v.strip())
        else:
            kept.append((name, value))
    seen = {n.lower() for n in names}
    names.extend(v for v in vary if v.lower() not in seen)
    kept.append((b"vary", b", ".join(names)))
    return kept


def accepts_gzip(accept_encoding: bytes) -> bool:
    """Whether an Accept-Encoding header accepts gzip (RFC 9110, section 12.5.3).

    ``gzip;q=0`` refuses it; a coding not listed is refused unless ``*`` accepts it.
    """
    star = None
    for coding, q in quality_values(accept_encoding.decode("latin-1")):
        coding = coding.lower()
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return bool(star)


class GZip(GZipMiddleware):
    """Starlette's gzip, given the body only when Accept-Encoding really accepts gzip.

    Starlette compresses whenever the header contains "gzip", ``gzip;q=0`` included.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = [v for n, v in scope["headers"] if n == b"accept-encoding"]
            if not given or not accepts_gzip(b",".join(given)):
                # Nothing to compress. Starlette's identity responder would only add
                # `Vary: Accept-Encoding`, which HTTPCache adds to every response.
                await self.app(scope, receive, send)
                return
            headers = [(n, v) for n, v in scope["headers"] if n != b"accept-encoding"]
            scope = {**scope, "headers": [*headers, (b"accept-encoding", b"gzip")]}
        await super().__call__(scope, receive, send)


class CORS(CORSMiddleware):
    """Starlette's CORS, stepping aside for requests that are not cross-origin.

    Without an Origin header there is nothing to allow: Starlette would only add
    `Vary: Origin`, which HTTPCache adds to every response when CORS is on.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(n == b"origin" for n, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class CORSByOrigin:
    """CORS for reads from ``read_origins``, and for reads and writes from ``write_origins``.

    A request from an origin allowed to write is answered by a CORS layer that allows POST and
    DELETE (a write still needs its token); any other request by the read layer, which
    allows only GET and HEAD, so a browser's preflight for a write from elsewhere fails.
    """

    def __init__(
        self, app: ASGIApp, *, read_origins: tuple[str, ...], write_origins: tuple[str, ...]
    ) -> None:
        self.read: ASGIApp = (
            CORS(
                app,
                allow_origins=read_origins,
                allow_methods=CORS_METHODS,
                allow_headers=("*",),
                expose_headers=EXPOSED_HEADERS,
            )
            if read_origins
            else app
        )
        self.write = CORS(
            app,
            allow_origins=write_origins,
            allow_methods=CORS_WRITE_METHODS,
            allow_headers=("*",),
            expose_headers=EXPOSED_WRITE_HEADERS,
        )
        self.write_origins = frozenset(o.encode("latin-1") for o in write_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"origin":
                    if value in self.write_origins:
                        await self.write(scope, receive, send)
                        return
                    break
        await self.read(scope, receive, send)


class HTTPCache:
    """HEAD as GET without the body; validators, conditional requests and Cache-Control.

    ``salt`` (the application's version) is part of every tag, so a new release, whose
    representations may differ, never confirms a copy made by an older one.
    """

    def __init__(
        self, app: ASGIApp, *, max_age: int, salt: str, vary: tuple[bytes, ...] = VARY
    ) -> None:
        self.app = app
        self.cache_control = b"public, max-age=%d" % max_age
        self.salt = salt.encode()
        self.vary = vary  # what every response's Vary names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, _allow_head(send, self.vary))
            return
        head = scope["method"] == "HEAD"
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        inner = dict(scope)
        inner["method"] = "GET"
        if path in NO_STORE_PATHS:
            await self.app(inner, receive, _no_store(send, head, self.vary))
            return

        host = accept = accept_encoding = modified_since = b""
        none_match: list[bytes] = []
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"accept":
                accept = value
            elif name == b"accept-encoding":
                accept_encoding = value
            elif name == b"if-none-match":
                none_match.append(value)
            elif name == b"if-modified-since":
                modified_since = value
        key = b"\n".join(
            (
                self.salt,
                scope.get("scheme", "http").encode(),
                host,
                root.encode(),
                scope["path"].encode(),
                scope.get("query_string", b""),
                accept.strip(),
            )
        )
        validators = Validators(key, accepts_gzip(accept_encoding))
        if none_match:
            validators.parse_if_none_match(none_match)
        elif modified_since:
            validators.if_modified_since = _parse_http_date(modified_since)
        if none_match or modified_since:
            # Conditions are evaluated here, on the final representation, never by a route.
            inner["headers"] = [(n, v) for n, v in scope["headers"] if n not in CONDITIONAL]
        inner[SCOPE_KEY] = validators
        await self.app(inner, receive, _Responder(self, validators, head, send).send)


class _Responder:
    """The send function of one GET: decorates the start, drops or holds the body."""

    __slots__ = ("buffer", "cache", "drop", "gzip", "hold", "send_", "start", "validators")

    def __init__(self, cache: HTTPCache, validators: Validators, head: bool, send: Send) -> None:
        self.cache = cache
        self.validators = validators
        self.send_ = send
        self.drop = head  # body messages are swallowed (HEAD, 304)
        self.hold = False  # body messages are kept until the tag is known
        self.gzip = False
        self.start: Message = {}
        self.buffer: list[bytes] = []

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            await self._start(message)
        elif kind in ("http.response.body", "http.response.pathsend"):
            last = kind == "http.response.pathsend" or not message.get("more_body", False)
            if self.hold:
                self.buffer.append(message.get("body", b""))
                if last:
                    await self._release()
            elif self.drop:
                if last:
                    await self.send_({"type": "http.response.body", "body": b""})
            else:
                await self.send_(message)
        elif not self.drop:
            await self.send_(message)

    async def _start(self, message: Message) -> None:
        status = message["status"]
        headers = list(message.get("headers", ()))
        v = self.validators
        if status == 304 and v.matched is not None:
            self.drop = True
            await self._send_start(304, headers, v.matched, v.last_modified)
            return
        if status != 200:
            headers = _merge_vary(headers, self.cache.vary)
            if status >= 400 and not any(n == b"cache-control" for n, _ in headers):
                headers.append((b"cache-control", NO_STORE))
            await self.send_({**message, "headers": headers})
            return
        etag = last_modified = None
        for name, value in headers:
            if name == b"etag":
                etag = value
            elif name == b"last-modified":
                last_modified = _parse_http_date(value)
            elif name == b"content-encoding":
                self.gzip = value == b"gzip"
        if etag is None and v.tag is not None:
            # A route's own validator (a static file's) wins over the data's.
            etag, last_modified = v.tag, v.last_modified
        if etag is None:
            # Neither the route nor the data gives a validator (/openapi.json): hash the body.
            self.hold = True
            self.start = {**message, "headers": headers}
            return
        await self._send_start(status, headers, _encoded(etag, self.gzip), last_modified)

    async def _release(self) -> None:
        body = b"".join(self.buffer)
        # The tag names the representation, not the bytes of one compression of it: a gzip
        # stream may carry the time it was made.
        digest = hashlib.blake2b(
            gzip.decompress(body) if self.gzip else body, digest_size=12
        ).digest()
        etag = _encoded(b'"%s"' % base64.urlsafe_b64encode(digest), self.gzip)
        self.hold = False
        await self._send_start(200, self.start["headers"], etag)
        await self.send_({"type": "http.response.body", "body": b"" if self.drop else body})

    async def _send_start(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        etag: bytes,
        last_modified: dt.datetime | None = None,
    ) -> None:
        if status == 200 and self.validators.not_modified(etag, last_modified):
            status, self.drop = 304, True
        if status == 304:
            headers = [(n, v) for n, v in headers if n in KEPT_ON_304]
        headers = [
            (n, v)
            for n, v in _merge_vary(headers, self.cache.vary)
            if n not in (b"etag", b"last-modified")
        ]
        headers.append((b"etag", etag))
        if last_modified is not None:
            headers.append((b"last-modified", _http_date(last_modified)))
        if not any(n == b"cache-control" for n, _ in headers):
            headers.append((b"cache-control", self.cache.cache_control))
        await self.send_({"type": "http.response.start", "status": status, "headers": headers})


def _no_store(send: Send, head: bool, vary: tuple[bytes, ...]) -> Send:
    """Health checks: `Cache-Control: no-store`, no validator; HEAD drops the body."""

    async def send_no_store(message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = [(n, v) for n, v in message.get("headers", ()) if n != b"cache-control"]
            headers.append((b"cache-control", NO_STORE))
            message = {**message, "headers": _merge_vary(headers, vary)}
        elif head and kind == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return send_no_store


def _allow_head(send: Send, vary: tuple[bytes, ...]) -> Send:
    """A 405's Allow lists HEAD wherever it lists GET: HEAD is answered wherever GET is.

    Errors are not stored, as on GET.
    """

    async def send_allow(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = []
            for name, value in message.get("headers", ()):
                methods = [m.strip() for m in value.split(b",")] if name == b"allow" else []
                if b"GET" in methods and b"HEAD" not in methods:
                    value += b", HEAD"
                headers.append((name, value))
            if message["status"] >= 400 and not any(n == b"cache-control" for n, _ in headers):
                headers.append((b"cache-control", NO_STORE))
            message = {**message, "headers": _merge_vary(headers, vary)}
        await send(message)

    return send_allow


# A request target longer than this is refused with a 414, one with more query parameters
# than this with a 422, before anything else reads it: parsing and validating a query string
# costs time and memory in proportion to it, on every route.
MAX_TARGET_BYTES = 16384
MAX_QUERY_PARAMETERS = 100
NOSNIFF = (b"x-content-type-options", b"nosniff")


class RequestGuard:
    """The outermost middleware: bounds the request target, and marks every response
    ``X-Content-Type-Options: nosniff`` so that no browser reads a body as another type."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        length = len(scope["path"]) + len(query)
        refused = None
        if length > MAX_TARGET_BYTES:
            refused = problem_response(
                414,
                f"the request target is {length:,} bytes long; this server accepts at most "
                f"{MAX_TARGET_BYTES:,}",
                scope["path"],
            )
        elif query and query.count(b"&") >= MAX_QUERY_PARAMETERS:
            refused = problem_response(
                422,
                f"the query string has more than {MAX_QUERY_PARAMETERS} parameters; "
                f"this server accepts at most {MAX_QUERY_PARAMETERS}",
                scope["path"],
                errors=[
                    {
                        "loc": ["query"],
                        "msg": f"at most {MAX_QUERY_PARAMETERS} parameters",
                        "type": "too_many_parameters",
                        "input": None,
                    }
                ],
            )
        if refused is not None:
            refused.headers["cache-control"] = NO_STORE.decode()
            await refused(scope, receive, _nosniff(send))
            return
        await self.app(scope, receive, _nosniff(send))


def _nosniff(send: Send) -> Send:
    async def send_nosniff(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", ())
            if not any(name == NOSNIFF[0] for name, _ in headers):
                message = {**message, "headers": [*headers, NOSNIFF]}
        await send(message)

    return send_nosniff


def install(
    app: FastAPI, settings: Settings, read_guard: Callable[[ASGIApp], ASGIApp] | None = None
) -> None:
    """Add validators and HEAD, gzip, and CORS when origins are configured, to ``app``.

    The routes' validators also need ``read_revision`` to run as their database opens.
    ``read_guard``, a middleware that asks reads for a token, goes inside CORS.
    """
    app.add_exception_handler(NotModified, _not_modified)
    # Added innermost first: RequestGuard → CORS → HTTPCache → GZip → routes.
    app.add_middleware(GZip, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    # Representations depend on the release and on the configured ClaimReview author.
    salt = f"{app.version}\n{settings.claimreview_author}"
    vary = VARY_CORS if settings.cors_origins or settings.cors_write_origins else VARY
    app.add_middleware(HTTPCache, max_age=settings.cache_max_age, salt=salt, vary=vary)
    if read_guard is not None:
        app.add_middleware(read_guard)
    if settings.cors_write_origins:
        app.add_middleware(
            CORSByOrigin,
            read_origins=settings.cors_origins,
            write_origins=settings.cors_write_origins,
        )
    elif settings.cors_origins:
        # No credentials: the API is public and reads need no cookie.
        app.add_middleware(
            CORS,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=("*",),
            expose_headers=EXPOSED_HEADERS,
        )
    app.add_middleware(RequestGuard)
