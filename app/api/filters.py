"""Query-string filters shared by the routes that list the same resource."""

import datetime as dt
from typing import Annotated, Literal

from fastapi import Query
from pydantic import AfterValidator

from app.models import ClaimKind, EntityKind, EventKind, EventModality, VerificationStatus


def _no_nul(value: str | None) -> str | None:
    # SQLite ends a LIKE pattern at NUL, which would turn the filter into "match all".
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="Case-insensitive substring of the text."),
    AfterValidator(_no_nul),
]
EntityId = Annotated[str | None, Query(max_length=200, description="Entity id.")]
ArticleId = Annotated[str | None, Query(max_length=200, description="Article id.")]


class ClaimFilters:
    """Filters for claim lists. Repeat `status` or `kind` to match any of several values."""

    def __init__(
        self,
        status: Annotated[
            list[VerificationStatus] | None, Query(description="Verification status (repeatable).")
        ] = None,
        kind: Annotated[
            list[ClaimKind] | None, Query(description="Claim kind (repeatable).")
        ] = None,
        claimant: Annotated[
            str | None, Query(max_length=200, description="Entity id of the claimant.")
        ] = None,
        q: Text = None,
    ) -> None:
        self.status = [s.value for s in status] if status else None
        self.kind = [k.value for k in kind] if kind else None
        self.claimant = claimant
        self.q = q


class EventFilters:
    """Filters for event lists. A date window keeps events whose time overlaps it."""

    def __init__(
        self,
        status: Annotated[
            list[VerificationStatus] | None, Query(description="Verification status (repeatable).")
        ] = None,
        kind: Annotated[
            list[EventKind] | None, Query(description="Event kind (repeatable).")
        ] = None,
        modality: Annotated[
            list[EventModality] | None,
            Query(description="occurred, planned, proposed, requested, conditional (repeatable)."),
        ] = None,
        date_from: Annotated[
            dt.date | None,
            Query(description="Events whose time reaches this day or later (ISO 8601)."),
        ] = None,
        date_to: Annotated[
            dt.date | None, Query(description="Events whose time starts on this day or earlier.")
        ] = None,
        q: Text = None,
    ) -> None:
        self.status = [s.value for s in status] if status else None
        self.kind = [k.value for k in kind] if kind else None
        self.modality = [m.value for m in modality] if modality else None
        self.date_from = date_from
        self.date_to = date_to
        self.q = q


EntityKinds = Annotated[list[EntityKind] | None, Query(description="Entity kind (repeatable).")]
Role = Annotated[
    Literal["any", "claimant", "subject"],
    Query(description="Claims the entity makes (claimant), is the subject of, or either (any)."),
]


def values(kinds: list[EntityKind] | None) -> list[str] | None:
    return [k.value for k in kinds] if kinds else None
