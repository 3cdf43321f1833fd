"""The public API contract: the shapes every response has.

Routes serialise plain rows that already have these shapes (see ``queries``); the
models here document the contract in OpenAPI and are checked against real
responses in the tests.
"""

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.models import (
    ClaimKind,
    EntityKind,
    EventKind,
    EventModality,
    EvidenceStance,
    RelationPredicate,
    TimePrecision,
    VerificationStatus,
)

T = TypeVar("T")


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Anchor(Schema):
    """Where a fact stands: code-point offsets (W3C TextPositionSelector) and the exact text."""

    start: int = Field(description="Offset of the first character, in Unicode code points.")
    end: int = Field(description="Offset just past the last character (exclusive).")
    exact: str = Field(description="The article's exact words: `text[start:end]`.")


class EntityRef(Schema):
    id: str
    name: str
    kind: EntityKind


class Alias(Schema):
    name: str
    language: str | None = Field(description="BCP 47 tag, when known.")


class Counts(Schema):
    entities: int
    events: int
    claims: int


class ArticleSummary(Schema):
    id: str = Field(description="Stable id, as given by the fact file.")
    title: str
    url: str | None
    publisher: str | None
    published: dt.date | None
    language: str | None
    sha256: str = Field(description="SHA-256 of the UTF-8 text, hex.")
    counts: Counts


class ArticleDetail(ArticleSummary):
    text: str = Field(description="The full text exactly as received; anchors index into it.")


class EntitySummary(Schema):
    id: str = Field(description="Stable id, shared by every article that names the entity.")
    name: str = Field(description="Canonical name.")
    kind: EntityKind
    description: str | None
    aliases: list[Alias]
    external_ids: dict[str, str] = Field(description="Ids in other knowledge bases, e.g. Wikidata.")


class ArticleEntity(EntitySummary):
    mentions: list[Anchor] = Field(description="Every place this article names the entity.")


class Mention(Schema):
    """Where an article names something: its id, then an anchor's offsets and words (the
    order of the JSON, and of CSV columns)."""

    article: str = Field(description="Id of the article.")
    start: int = Field(description="Offset of the first character, in Unicode code points.")
    end: int = Field(description="Offset just past the last character (exclusive).")
    exact: str = Field(description="The article's exact words: `text[start:end]`.")


class RelationOut(Schema):
    subject: EntityRef
    predicate: RelationPredicate
    object: EntityRef
    article: str
    anchors: list[Anchor]


class EntityDetail(EntitySummary):
    mention_count: int
    mentions: list[Mention] = Field(
        description="The first 100 mentions; page through all of them at /entities/{id}/mentions."
    )
    relation_count: int
    relations: list[RelationOut] = Field(description="Relations with this entity, first 100.")
    claim_count: int = Field(description="Claims it makes or is the subject of.")
    event_count: int = Field(description="Events it takes part in or is the location of.")


class EventTime(Schema):
    start: dt.date | None = Field(description="First day the time expression covers.")
    end: dt.date | None = Field(description="Last day it covers (inclusive).")
    precision: TimePrecision
    anchor: Anchor | None = Field(description="The time expression in the text, when there is one.")
    note: str | None = Field(description="How the date was resolved.")


class Participant(Schema):
    entity: EntityRef
    role: str


class EventOut(Schema):
    id: str = Field(description="Stable id: `<article id>.<local id>`.")
    article: str
    kind: EventKind
    summary: str
    time: EventTime | None
    location: EntityRef | None
    participants: list[Participant]
    modality: EventModality = Field(
        description="Whether it occurred or is planned, proposed, requested."
    )
    status: VerificationStatus
    anchors: list[Anchor]


class EventDetail(EventOut):
    claims: list[str] = Field(description="Ids of the claims about this event.")


class Evidence(Schema):
    source: str
    source_entity: EntityRef | None
    stance: EvidenceStance
    summary: str | None
    url: str | None
    anchor: Anchor | None = Field(description="Where this article itself gives the evidence.")
    date: dt.date | None


class ReviewEvidence(Schema):
    source: str
    stance: EvidenceStance
    url: str
    summary: str | None = None
    date: dt.date | None = None


class StatusChange(Schema):
    status: VerificationStatus
    rationale: str
    recorded_at: dt.datetime = Field(description="When the change was recorded (UTC).")
    actor: str = Field(
        description="Who made it: `ingest` for a fact file, else the reviewer's token name."
    )
    evidence: list[ReviewEvidence] = Field(
        description="Evidence the reviewer gave with the change (none from fact files)."
    )


class ClaimOut(Schema):
    id: str = Field(description="Stable id: `<article id>.<local id>`.")
    article: str
    text: str = Field(description="The claim in one plain sentence.")
    kind: ClaimKind
    claimant: EntityRef
    attribution: Anchor | None = Field(description="'according to …', 'the letter states'.")
    subjects: list[EntityRef]
    events: list[str] = Field(description="Ids of related events.")
    status: VerificationStatus
    rationale: str = Field(description="Why the claim has its status.")
    hedge: Anchor | None = Field(description="The article's own hedging cue, when it has one.")
    anchors: list[Anchor]


class ClaimDetail(ClaimOut):
    evidence: list[Evidence]
    history: list[StatusChange] = Field(description="Every status the claim has had, oldest first.")


class ClaimListItem(ClaimOut):
    """A claim of a list: what `include=` asks for is embedded too."""

    evidence: list[Evidence] = Field(default_factory=list, description="With `include=evidence`.")
    history: list[StatusChange] = Field(
        default_factory=list,
        description="With `include=history`: every status the claim has had, oldest first.",
    )


class FacetValue(Schema):
    value: str | None
    count: int


class Page(Schema, Generic[T]):
    """One page of a list. Follow `next` until it is null to read the whole list."""

    items: list[T]
    limit: int = Field(description="The page size asked for.")
    next_cursor: str | None = Field(description="Opaque cursor of the next page; null on the last.")
    next: str | None = Field(description="URL of the next page (same filters); null on the last.")
    total: int | None = Field(
        default=None, description="With `count=exact`: the number of items in the whole list."
    )
    facets: dict[str, list[FacetValue]] | None = Field(
        default=None, description="With `facet=`: the whole list counted by each facet asked for."
    )


class StatusInfo(Schema):
    status: VerificationStatus
    label: str
    definition: str
    claimreview_rating: str = Field(
        description="Closest schema.org ClaimReview `alternateName` rating."
    )
    fever_label: str = Field(description="FEVER label: SUPPORTS, REFUTES or NOT ENOUGH INFO.")
    claims: int = Field(description="Claims that have this status now.")
    events: int = Field(description="Events that have this status now.")


class Problem(Schema):
    """An RFC 9457 problem detail (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, object]] | None = Field(
        default=None, description="For 422: every invalid parameter, with `loc` and `msg`."
    )


class Health(Schema):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


class EntityInArticle(ArticleEntity):
    overlapping: list[Anchor] | None = Field(
        default=None, description="With `overlaps`: the mentions in the range."
    )


class EventInArticle(EventOut):
    overlapping: list[Anchor] | None = Field(
        default=None, description="With `overlaps`: the event's anchors in the range."
    )


class ClaimInArticle(ClaimOut):
    evidence: list[Evidence]
    overlapping: list[Anchor] | None = Field(
        default=None,
        description="With `overlaps`: the claim's anchors, attribution, hedge and evidence "
        "anchors in the range.",
    )


class ArticleFacts(Schema):
    """The facts of one article, or those tied to words in a range of its text."""

    article: str
    overlaps: dict[str, int] | None = Field(description="The range asked for, if any.")
    entities: list[EntityInArticle]
    events: list[EventInArticle]
    claims: list[ClaimInArticle]
