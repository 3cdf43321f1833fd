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


class Provenance(Schema):
    """Where a fact came from. A fact whose file said nothing of it was written by a person:
    `{"extractor": "person", "reviewed": true}`."""

    extractor: str = Field(description="What wrote the fact: `person`, or a tool's name.")
    extractor_version: str | None
    model: str | None = Field(description="The language or NLP model used, if any.")
    model_version: str | None
    reviewed: bool = Field(description="Whether a person has reviewed the fact.")


class Claimant(Schema):
    """Who makes a claim: an entity, or an unnamed source the article describes."""

    id: str | None = Field(description="The entity's id; null for an unnamed source.")
    name: str = Field(
        description="The entity's name, or the article's description of an unnamed source "
        "('some Kazakhs concerned about safety')."
    )
    kind: EntityKind | None = Field(description="The entity's kind; null for an unnamed source.")
    anchor: "Anchor | None" = Field(
        default=None, description="For an unnamed source: the words that describe it."
    )


class Quantity(Schema):
    """A number a claim states."""

    value: float
    unit: str = Field(description="`percent`, `people`, a currency code…")
    anchor: "Anchor | None" = Field(
        description="The words that state it; null on a report of a claim first reported by "
        "another article (the words are in that article)."
    )


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
    provenance: Provenance = Field(description="Where the entity's stored values came from.")


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
    provenance: Provenance


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
    precision: TimePrecision | None = Field(
        description="How precisely the time is known; null when it is known only from its note."
    )
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
    same_as: str | None = Field(
        description="For a report of an event another article reported first: that first "
        "report's id (lists show each report, marked so); null on the first report."
    )
    provenance: Provenance


class Report(Schema):
    """One article's report of an event or claim, with its own words."""

    id: str = Field(description="The report's id: `<article id>.<local id>`.")
    article: str
    published: dt.date | None = Field(description="The reporting article's date.")
    anchors: list[Anchor] = Field(description="The report's words, in its article's text.")


class ClaimReport(Report):
    attribution: Anchor | None
    hedge: Anchor | None


class EventDetail(EventOut):
    claims: list[str] = Field(description="Ids of the claims about this event, in any report.")
    reports: list[Report] = Field(
        description="Every article that reports the event, earliest first, each with its "
        "own anchors (one, itself, for an event only one article reports)."
    )


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
        description="Who made it: `ingest` for a fact file `article-facts ingest` loaded, else "
        "the name of the token that wrote it (an uploader's or a reviewer's)."
    )
    evidence: list[ReviewEvidence] = Field(
        description="Evidence the reviewer gave with the change (none from fact files)."
    )


class ClaimOut(Schema):
    id: str = Field(description="Stable id: `<article id>.<local id>`.")
    article: str
    text: str = Field(description="The claim in one plain sentence.")
    kind: ClaimKind
    claimant: Claimant
    attribution: Anchor | None = Field(description="'according to …', 'the letter states'.")
    subjects: list[EntityRef]
    events: list[str] = Field(description="Ids of related events.")
    status: VerificationStatus
    rationale: str = Field(description="Why the claim has its status.")
    hedge: Anchor | None = Field(description="The article's own hedging cue, when it has one.")
    anchors: list[Anchor]
    quantities: list[Quantity] = Field(description="Numbers the claim states.")
    same_as: str | None = Field(
        description="For a report of a claim another article reported first: that first "
        "report's id (lists show each report, marked so); null on the first report."
    )
    provenance: Provenance


class ClaimDetail(ClaimOut):
    evidence: list[Evidence]
    history: list[StatusChange] = Field(description="Every status the claim has had, oldest first.")
    reports: list[ClaimReport] = Field(
        description="Every article that reports the claim, earliest first, each with its own "
        "anchors, attribution and hedge."
    )


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
    claimreview_rating: str | None = Field(
        description="Closest schema.org ClaimReview `alternateName` rating; null for a "
        "statement that cannot be rated."
    )
    fever_label: str | None = Field(
        description="FEVER label: SUPPORTS, REFUTES or NOT ENOUGH INFO; null for a statement "
        "that cannot be true or false."
    )
    claims: int = Field(description="Claims that have this status now.")
    events: int = Field(description="Events that have this status now.")


class VocabularyValue(Schema):
    value: str
    definition: str
    label: str | None = Field(default=None, description="Statuses: how it is shown.")
    claimreview_rating: str | None = Field(
        default=None, description="Statuses: the closest ClaimReview rating, if any."
    )
    fever_label: str | None = Field(default=None, description="Statuses: the FEVER label, if any.")


class Vocabulary(Schema):
    """A closed vocabulary: every value it allows, each with its definition."""

    name: str = Field(examples=["entity_kind"])
    used_by: list[str] = Field(description="The fields that take it, e.g. `claims[].status`.")
    description: str
    values: list[VocabularyValue]


class EntitySuggestion(Schema):
    """An entity found by the start of its name, an alias, or a word of them."""

    id: str
    name: str
    kind: EntityKind
    matched: str = Field(description="The name or alias that matched.")


class Suggestions(Schema):
    """Entities matching what was typed, best first."""

    items: list[EntitySuggestion]


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
