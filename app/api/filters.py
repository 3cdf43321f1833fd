"""Query-string parameters shared by the routes that list the same resource.

Every text parameter refuses NUL characters (SQLite ends a LIKE pattern there and
PostgreSQL refuses them), ids refuse the empty string, and dates must be written
YYYY-MM-DD: a filter either means what it says or is a 422.
"""

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request
from pydantic import AfterValidator, BeforeValidator

from app import fts
from app.api.deps import defer_problem
from app.models import ClaimKind, EntityKind, EventKind, EventModality, VerificationStatus


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _id(description: str) -> Any:
    return Query(min_length=1, max_length=400, description=description)


PathId = Annotated[
    str, Path(min_length=1, max_length=400, description="Public id."), AfterValidator(_no_nul)
]
SEARCH_GRAMMAR = (
    'words (all must occur, any case), "quoted phrases", prefix* words, OR between '
    "alternatives; see /search"
)
Text = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description=f"Full-text query: {SEARCH_GRAMMAR}."),
    AfterValidator(_no_nul),
    AfterValidator(fts.check),
]
EntityId = Annotated[str | None, _id("Entity id."), AfterValidator(_no_nul)]
ArticleId = Annotated[str | None, _id("Article id."), AfterValidator(_no_nul)]
ClaimantId = Annotated[str | None, _id("Entity id of the claimant."), AfterValidator(_no_nul)]
EventId = Annotated[str | None, _id("Event id."), AfterValidator(_no_nul)]


def _date(description: str) -> Any:
    return Query(description=f"{description} (YYYY-MM-DD).")


DateFrom = Annotated[dt.date | None, _date("From this day on"), BeforeValidator(_iso_date)]
DateTo = Annotated[dt.date | None, _date("Up to this day"), BeforeValidator(_iso_date)]

Statuses = Annotated[
    list[VerificationStatus] | None, Query(description="Verification status (repeatable).")
]
EntityKinds = Annotated[list[EntityKind] | None, Query(description="Entity kind (repeatable).")]
Role = Annotated[
    Literal["any", "claimant", "subject"],
    Query(description="Claims the entity makes (claimant), is the subject of, or either (any)."),
]


def _window(
    request: Request, first: str, last: str, start: dt.date | None, end: dt.date | None
) -> None:
    if start is not None and end is not None and start > end:
        message = f"must not be before {first} ({start.isoformat()})"
        defer_problem(request, last, message, end.isoformat())


def values(items: list[Any] | None) -> list[str] | None:
    """Enum members as the strings stored in the database; None when not filtering."""
    return [item.value for item in items] if items else None


class ClaimFilters:
    """Filters for claim lists. Repeat `status` or `kind` to match any of several values."""

    def __init__(
        self,
        request: Request,
        status: Statuses = None,
        kind: Annotated[
            list[ClaimKind] | None, Query(description="Claim kind (repeatable).")
        ] = None,
        claimant: ClaimantId = None,
        published_from: Annotated[
            dt.date | None, _date("Article published on or after"), BeforeValidator(_iso_date)
        ] = None,
        published_to: Annotated[
            dt.date | None, _date("Article published on or before"), BeforeValidator(_iso_date)
        ] = None,
        q: Text = None,
    ) -> None:
        _window(request, "published_from", "published_to", published_from, published_to)
        self.kwargs: dict[str, Any] = {
            "status": values(status),
            "kind": values(kind),
            "claimant": claimant,
            "published_from": published_from,
            "published_to": published_to,
            "q": q,
        }


class EventFilters:
    """Filters for event lists. A date window keeps the events whose time overlaps it."""

    def __init__(
        self,
        request: Request,
        status: Statuses = None,
        kind: Annotated[
            list[EventKind] | None, Query(description="Event kind (repeatable).")
        ] = None,
        modality: Annotated[
            list[EventModality] | None,
            Query(description="occurred, planned, proposed, requested, conditional (repeatable)."),
        ] = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        q: Text = None,
    ) -> None:
        _window(request, "date_from", "date_to", date_from, date_to)
        self.kwargs: dict[str, Any] = {
            "status": values(status),
            "kind": values(kind),
            "modality": values(modality),
            "date_from": date_from,
            "date_to": date_to,
            "q": q,
        }


class ArticleFilters:
    """Filters for the article list."""

    def __init__(
        self,
        request: Request,
        publisher: Annotated[
            str | None,
            Query(min_length=1, max_length=200, description="Publisher, exactly."),
            AfterValidator(_no_nul),
        ] = None,
        language: Annotated[
            str | None,
            Query(min_length=1, max_length=35, description="Language tag, e.g. `en`."),
            AfterValidator(_no_nul),
        ] = None,
        published_from: Annotated[
            dt.date | None, _date("Published on or after"), BeforeValidator(_iso_date)
        ] = None,
        published_to: Annotated[
            dt.date | None, _date("Published on or before"), BeforeValidator(_iso_date)
        ] = None,
        entity: EntityId = None,
        q: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=200,
                description=f"Full-text query on the title and text: {SEARCH_GRAMMAR}.",
            ),
            AfterValidator(_no_nul),
            AfterValidator(fts.check),
        ] = None,
    ) -> None:
        _window(request, "published_from", "published_to", published_from, published_to)
        self.kwargs: dict[str, Any] = {
            "publisher": publisher,
            "language": language,
            "published_from": published_from,
            "published_to": published_to,
            "entity": entity,
            "q": q,
        }
