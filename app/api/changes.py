"""What changed: articles added, updated and deleted, and claim status changes.

``GET /changes?since=<revision>`` lists the changes after a data revision, oldest first, in
the API's cursor contract; ``revision`` in the answer is the revision to ask from next time.
Every ETag starts with the data revision it shows (``"<revision>-…"``), so any earlier
response tells a client where it stands. ``GET /changes.atom`` (or ``/changes`` with
``Accept: application/atom+xml``) gives the newest status changes as an Atom feed.
Both are reads, solved by the route class like every other read (``app.api.route``).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from app import atom, changes
from app.api.examples import content
from app.api.pages import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    JSONResponse,
    cursor_key,
    encode_cursor,
    list_digest,
    next_page_url,
    refuse,
)
from app.api.params import Cursor, QueryParams
from app.api.responses import INVALID, problem
from app.api.route import Db, Route
from app.errors import APIError
from app.http import absolute_url, data_revision, quality_values
from app.models import STATUS_DEFINITIONS, VerificationStatus
from app.schemas import Schema

router = APIRouter(route_class=Route, tags=["changes"], responses=INVALID)

MAX_REVISION = 2**31 - 1
SINCE_HELP = (
    "Changes after this data revision (0: all). Take it from the `revision` of your last "
    "page, or from any earlier response's ETag (the number before the dash)."
)
ATOM_EXAMPLE = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:…</id>'
    "<title>article-facts: claim status changes</title>…"
    "<entry><id>urn:uuid:…</id><title>Confirmed: …</title><updated>…</updated>"
    "<published>…</published><author><name>alice</name></author>"
    '<link rel="alternate" type="text/html" href="…/articles/…/annotated"/>'
    '<link rel="related" type="application/json" href="…/claims/…"/>'
    '<category term="confirmed"/><summary type="text">…</summary></entry></feed>'
)


class NotAcceptable(APIError):
    status_code = 406


class ChangeList(QueryParams):
    since: int = Field(0, ge=0, le=MAX_REVISION, description=SINCE_HELP)
    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT})."
    )
    cursor: Cursor | None = Field(
        None, description="Opaque cursor from the previous page's `next_cursor`."
    )


class FeedQuery(QueryParams):
    since: int = Field(0, ge=0, le=MAX_REVISION, description=SINCE_HELP)
    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many of the newest status changes."
    )


class Change(Schema):
    revision: int = Field(description="The data revision that made the change.")
    kind: str = Field(
        description="`article_added`, `article_updated`, `article_deleted` or `status_changed`."
    )
    article: str
    claim: str | None = Field(description="The claim whose status changed.")
    from_: VerificationStatus | None = Field(alias="from", description="Its status before.")
    to: VerificationStatus | None = Field(description="Its status after.")
    rationale: str | None = Field(description="Why it has its new status.")
    actor: str = Field(
        description="`ingest` for what `article-facts ingest` loaded, else the name of the "
        "token that wrote it."
    )
    recorded_at: Any = Field(description="When the change was made (UTC).")


class ChangePage(Schema):
    """A page of changes, oldest first; follow `next` until it is null."""

    items: list[Change]
    limit: int
    next_cursor: str | None
    next: str | None
    revision: int = Field(description="The data revision this page was read at: `since` next.")


def wants_atom(accept: str | None) -> bool:
    """Whether an Accept header prefers the Atom feed to JSON; 406 when it allows neither."""
    if not accept:
        return False
    best = {"json": 0.0, "atom": 0.0}
    exact = {"json": False, "atom": False}
    for media, q in quality_values(accept):
        media = media.lower()
        for name, own in (("json", "application/json"), ("atom", atom.MEDIA_TYPE)):
            if media == own:
                best[name], exact[name] = q, True
            elif media in ("*/*", "application/*") and not exact[name]:
                best[name] = max(best[name], q)
    if best["json"] <= 0 and best["atom"] <= 0:
        raise NotAcceptable(
            f"/changes is available as application/json and {atom.MEDIA_TYPE}; the Accept "
            "header allows neither"
        )
    return best["atom"] > best["json"]


@router.get(
    "/changes",
    response_model=ChangePage,
    responses={
        200: {
            "content": {
                **content("application/json", "list_changes"),
                atom.MEDIA_TYPE: {"example": ATOM_EXAMPLE},
            }
        },
        406: problem("The Accept header allows neither JSON nor Atom."),
    },
)
def list_changes(request: Request, params: Annotated[ChangeList, Query()], db: Db) -> Response:
    """What changed after a data revision, oldest first: articles and claim statuses."""
    if wants_atom(request.headers.get("accept")):
        if params.cursor is not None:
            raise refuse("cursor", "the Atom feed has no pages: it gives the newest changes", None)
        return _feed(request, db, params.since, params.limit)
    digest = list_digest(request)
    after = cursor_key(request, params.cursor, digest)
    if after is not None and len(after) != 2:
        raise refuse("cursor", "this cursor belongs to another list", params.cursor)
    conn = db.connection()
    items, following = changes.list_changes(
        conn,
        since=params.since,
        after=(after[0], after[1]) if after is not None else None,
        limit=params.limit,
    )
    next_cursor = encode_cursor(digest, following) if following is not None else None
    next_url = next_page_url(request, next_cursor) if next_cursor is not None else None
    body = {
        "items": items,
        "limit": params.limit,
        "next_cursor": next_cursor,
        "next": next_url,
        "revision": data_revision(request, conn),
    }
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url is not None else None
    return JSONResponse(body, headers=headers)


@router.get(
    "/changes.atom",
    response_class=Response,
    responses={200: {"content": {atom.MEDIA_TYPE: {"example": ATOM_EXAMPLE}}}},
)
def changes_feed(request: Request, params: Annotated[FeedQuery, Query()], db: Db) -> Response:
    """The newest claim status changes as an Atom feed: who changed which status, and why."""
    return _feed(request, db, params.since, params.limit)


def _feed(request: Request, db: Db, since: int, limit: int) -> Response:
    conn = db.connection()
    found = changes.latest_status_changes(conn, since=since, limit=limit)
    entries = []
    for change in found:
        label = STATUS_DEFINITIONS[VerificationStatus(change["to"])]["label"]
        before = STATUS_DEFINITIONS[VerificationStatus(change["from"])]["label"]
        claim = change["claim"]
        what = change["text"] or claim
        entries.append(
            atom.Entry(
                id=atom.urn(absolute_url(request, f"/changes#{change['id']}")),
                title=f"{label}: {what}",
                updated=change["recorded_at"],
                link=absolute_url(request, f"/claims/{claim}"),
                page=absolute_url(request, f"/articles/{change['article']}/annotated"),
                author=change["actor"],
                summary=f"{change['actor']} changed the status of claim {claim} from "
                f"{before.lower()} to {label.lower()}: {change['rationale']}",
                categories=(change["to"],),
            )
        )
    query = request.url.query
    settings = request.app.state.settings
    updated = entries[0].updated if entries else changes.revision_time(conn)
    body = atom.feed(
        id=atom.urn(absolute_url(request, "/changes.atom")),
        title="article-facts: claim status changes",
        subtitle="Each entry is one change of a claim's verification status: who made it, "
        "when, and why.",
        updated=updated,
        self_url=absolute_url(request, "/changes.atom" + (f"?{query}" if query else "")),
        alternate_url=absolute_url(request, "/changes"),
        author=settings.claimreview_author,
        entries=entries,
    )
    return Response(body, media_type=f"{atom.MEDIA_TYPE}; charset=utf-8")
