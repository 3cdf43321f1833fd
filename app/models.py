"""Database tables and the closed vocabularies they use.

Every table has an integer surrogate key (``id``) for compact joins and a public,
stable text key (``key``) that appears in URLs. Anchors (``start``/``end`` in
Unicode code points plus the ``exact`` text) are stored as JSON on the fact that
owns them, except entity mentions, which are rows because they are queried by
entity. Vocabulary columns hold the enum's value as plain text: the fact file is
validated against the closed vocabularies at the ingest boundary, and plain text
keeps the schema the same on SQLite and PostgreSQL when a vocabulary grows.
"""

import datetime as dt
from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class VerificationStatus(StrEnum):
    """How far a claim (or an event) has been confirmed."""

    confirmed = "confirmed"
    unverified = "unverified"
    pending = "pending"
    disputed = "disputed"
    refuted = "refuted"
    not_checkable = "not_checkable"


# How each status maps onto schema.org ClaimReview ratings and FEVER labels. A statement that
# cannot be true or false (an opinion, a prediction, a promise) gets neither: None.
class StatusDefinition(TypedDict):
    label: str
    definition: str
    claimreview_rating: str | None
    fever_label: str | None


STATUS_DEFINITIONS: dict[VerificationStatus, StatusDefinition] = {
    VerificationStatus.confirmed: {
        "label": "Confirmed",
        "definition": (
            "Stated by the authoritative primary source for it (an election commission on its "
            "own results, a ministry on its own decision) or corroborated by an independent source."
        ),
        "claimreview_rating": "True",
        "fever_label": "SUPPORTS",
    },
    VerificationStatus.unverified: {
        "label": "Unverified",
        "definition": "Reported without independent confirmation or an authoritative source.",
        "claimreview_rating": "Unverified",
        "fever_label": "NOT ENOUGH INFO",
    },
    VerificationStatus.pending: {
        "label": "Pending",
        "definition": (
            "Confirmation has been asked of a named party and no answer is recorded yet."
        ),
        "claimreview_rating": "Pending",
        "fever_label": "NOT ENOUGH INFO",
    },
    VerificationStatus.disputed: {
        "label": "Disputed",
        "definition": "Credible sources conflict.",
        "claimreview_rating": "Disputed",
        "fever_label": "NOT ENOUGH INFO",
    },
    VerificationStatus.refuted: {
        "label": "Refuted",
        "definition": "Contradicted by authoritative evidence.",
        "claimreview_rating": "False",
        "fever_label": "REFUTES",
    },
    VerificationStatus.not_checkable: {
        "label": "Not checkable",
        "definition": (
            "An opinion, prediction, promise or other statement that cannot be true or false; "
            "never given a true/false rating."
        ),
        "claimreview_rating": None,
        "fever_label": None,
    },
}


class EntityKind(StrEnum):
    person = "person"
    organization = "organization"
    company = "company"
    government_body = "government_body"
    international_organization = "international_organization"
    country = "country"
    region = "region"
    city = "city"
    facility = "facility"
    media_outlet = "media_outlet"
    channel = "channel"
    document = "document"
    project = "project"
    political_party = "political_party"
    armed_group = "armed_group"
    product = "product"
    other = "other"


class RelationPredicate(StrEnum):
    head_of = "head_of"
    president_of = "president_of"
    prime_minister_of = "prime_minister_of"
    member_of = "member_of"
    works_for = "works_for"
    runs = "runs"
    owned_by = "owned_by"
    part_of = "part_of"
    located_in = "located_in"
    represents = "represents"
    author_of = "author_of"
    addressed_to = "addressed_to"
    published_in = "published_in"
    leads = "leads"
    ally_of = "ally_of"
    opposes = "opposes"
    supports = "supports"
    supplier_of = "supplier_of"
    contractor_of = "contractor_of"
    sanctioned = "sanctioned"
    attacked = "attacked"
    invaded = "invaded"
    related_to = "related_to"


class EventKind(StrEnum):
    referendum = "referendum"
    election = "election"
    vote_result = "vote_result"
    announcement = "announcement"
    statement = "statement"
    clarification = "clarification"
    letter = "letter"
    publication = "publication"
    request = "request"
    inquiry = "inquiry"
    meeting = "meeting"
    agreement = "agreement"
    construction = "construction"
    financing = "financing"
    decision = "decision"
    selection = "selection"
    appointment = "appointment"
    contract = "contract"
    negotiation = "negotiation"
    visit = "visit"
    protest = "protest"
    attack = "attack"
    sanction = "sanction"
    investigation = "investigation"
    ruling = "ruling"
    accident = "accident"
    other = "other"


class EventModality(StrEnum):
    """Whether the event happened, or is only planned, proposed, requested or conditional."""

    occurred = "occurred"
    planned = "planned"
    proposed = "proposed"
    requested = "requested"
    conditional = "conditional"
    cancelled = "cancelled"


class TimePrecision(StrEnum):
    day = "day"
    month = "month"
    year = "year"


class ClaimKind(StrEnum):
    statement = "statement"
    quote = "quote"
    statistic = "statistic"
    request = "request"
    plan = "plan"
    prediction = "prediction"
    opinion = "opinion"
    promise = "promise"
    denial = "denial"
    accusation = "accusation"


class EvidenceStance(StrEnum):
    supports = "supports"
    refutes = "refutes"
    inconclusive = "inconclusive"
    no_answer = "no_answer"


def _fk(target: str, *, nullable: bool = False, index: bool = False) -> Any:
    """An integer foreign key that cascades deletes (or nulls an optional reference)."""
    ondelete = "SET NULL" if nullable else "CASCADE"
    return Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )


def _json(*, nullable: bool = True) -> Any:
    # none_as_null: a missing value is SQL NULL, not the JSON literal null.
    return Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=nullable))


# Keys are never reused after a delete (SQLite's AUTOINCREMENT, a sequence on
# PostgreSQL): keyset cursors and caches stay valid across re-ingests.
NO_REUSE = {"sqlite_autoincrement": True}
# Tables of links and of small rows that are found by their primary key: on SQLite the
# table is that key's index (no row id and no second copy of the key).
CLUSTERED = {"sqlite_with_rowid": False}


def _fingerprint() -> Any:
    """A fact's fingerprint: the first 64 bits of a digest of its input (see ingest)."""
    return Field(sa_column=Column(BigInteger, nullable=False))


class Article(SQLModel, table=True):
    __tablename__ = "article"
    __table_args__ = NO_REUSE

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    title: str
    text: str
    url: str | None = None
    publisher: str | None = Field(default=None, max_length=200, index=True)
    published: dt.date | None = Field(default=None, index=True)
    language: str | None = Field(default=None, max_length=35, index=True)
    sha256: str = Field(max_length=64)
    source_sha256: str = Field(max_length=64)
    created_at: dt.datetime
    updated_at: dt.datetime


class Entity(SQLModel, table=True):
    __tablename__ = "entity"
    __table_args__ = NO_REUSE

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    name: str
    kind: str = Field(max_length=40, index=True)
    description: str | None = None
    external_ids: dict[str, str] | None = _json()
    created_at: dt.datetime
    updated_at: dt.datetime
    # Who declared the entity as it stands (see Provenance); NULL: a person's fact file.
    provenance_id: int | None = Field(default=None)


class ArticleEntity(SQLModel, table=True):
    """Which article's fact file declares which entity (an entity may be shared)."""

    __tablename__ = "article_entity"
    __table_args__ = (Index(None, "entity_id", "article_id"), CLUSTERED)

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int
    fingerprint: int = _fingerprint()


class EntityAlias(SQLModel, table=True):
    """Another name for an entity, recorded by one article's fact file."""

    __tablename__ = "entity_alias"
    __table_args__ = (UniqueConstraint("entity_id", "article_id", "name", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    entity_id: int = _fk("entity.id")
    article_id: int = _fk("article.id", index=True)
    name: str
    language: str | None = Field(default=None, max_length=35)


class Mention(SQLModel, table=True):
    """One place where an article names an entity, with the surface form as written."""

    __tablename__ = "mention"
    __table_args__ = (
        # An entity's mentions, in the order they are paged by.
        Index(None, "entity_id", "article_id", "start", "end"),
        CLUSTERED,
    )

    # One row per place an article names an entity, in the order of the article's text.
    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    start: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    end: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True)
    )
    exact: str


class Relation(SQLModel, table=True):
    __tablename__ = "relation"
    __table_args__ = (
        Index(None, "subject_id"),
        Index(None, "object_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = _fk("article.id", index=True)
    position: int
    subject_id: int = _fk("entity.id")
    predicate: str = Field(max_length=40)
    object_id: int = _fk("entity.id")
    anchors: list[dict[str, Any]] = _json(nullable=False)
    provenance_id: int | None = Field(default=None)


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        Index(None, "article_id", "position"),
        Index(None, "status", "id"),
        Index(None, "kind", "id"),
        Index(None, "time_start", "time_end"),
        NO_REUSE,
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=400)
    article_id: int = _fk("article.id")
    position: int
    kind: str = Field(max_length=40)
    summary: str
    time_start: dt.date | None = None
    time_end: dt.date | None = None
    time_precision: str | None = Field(default=None, max_length=40)
    time_anchor: dict[str, Any] | None = _json()
    time_note: str | None = None
    location_id: int | None = _fk("entity.id", nullable=True, index=True)
    modality: str = Field(max_length=40)
    status: str = Field(max_length=40)
    anchors: list[dict[str, Any]] = _json(nullable=False)
    fingerprint: int = _fingerprint()
    # The public id of the first report of the same event in another article, for a report
    # (see ``same_as`` in the fact file); NULL for the first report.
    same_as_key: str | None = Field(default=None, max_length=400, index=True)
    provenance_id: int | None = Field(default=None)


class EventParticipant(SQLModel, table=True):
    __tablename__ = "event_participant"
    __table_args__ = (Index(None, "entity_id", "event_id"), CLUSTERED)

    event_id: int = Field(
        sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    )
    entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True)
    )
    role: str = Field(primary_key=True, max_length=120)
    position: int


class Claim(SQLModel, table=True):
    __tablename__ = "claim"
    __table_args__ = (
        Index(None, "article_id", "position"),
        Index(None, "status", "id"),
        Index(None, "kind", "id"),
        Index(None, "claimant_id", "id"),
        NO_REUSE,
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=400)
    article_id: int = _fk("article.id")
    position: int
    text: str
    kind: str = Field(max_length=40)
    # The claimant: an entity, or an unnamed source ("a source familiar with the matter")
    # described by the article's words, anchored in them: exactly one of the two.
    claimant_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("entity.id", ondelete="CASCADE"), nullable=True),
    )
    claimant_unnamed: str | None = None
    claimant_anchor: dict[str, Any] | None = _json()
    attribution: dict[str, Any] | None = _json()
    status: str = Field(max_length=40)
    rationale: str
    hedge: dict[str, Any] | None = _json()
    anchors: list[dict[str, Any]] = _json(nullable=False)
    # The claim's subjects (entity keys) and related events (public ids), in fact-file
    # order, so a list reads them with the claim; NULL for none. ``claim_subject`` and
    # ``claim_event`` hold the same links for the other direction.
    subject_ids: list[int] | None = _json()
    event_keys: list[str] | None = _json()
    # Quantities the claim states, as the API shows them ({value, unit, anchor}); NULL for
    # none. ``claim_quantity`` holds the same for filtering.
    quantities: list[dict[str, Any]] | None = _json()
    fingerprint: int = _fingerprint()
    same_as_key: str | None = Field(default=None, max_length=400, index=True)
    provenance_id: int | None = Field(default=None)


class ClaimSubject(SQLModel, table=True):
    __tablename__ = "claim_subject"
    __table_args__ = (Index(None, "entity_id", "claim_id"), CLUSTERED)

    claim_id: int = Field(
        sa_column=Column(Integer, ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True)
    )
    entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int


class ClaimEvent(SQLModel, table=True):
    __tablename__ = "claim_event"
    __table_args__ = (Index(None, "event_id", "claim_id"), CLUSTERED)

    claim_id: int = Field(
        sa_column=Column(Integer, ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True)
    )
    event_id: int = Field(
        sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int


class ClaimQuantity(SQLModel, table=True):
    """A quantity a claim states ("71.12%", "20 million"): for filtering claims by it."""

    __tablename__ = "claim_quantity"
    __table_args__ = (Index(None, "unit", "value"), Index(None, "value"), CLUSTERED)

    claim_id: int = Field(
        sa_column=Column(Integer, ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    value: float = Field(sa_column=Column(Float, nullable=False))
    unit: str = Field(max_length=40)


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (Index(None, "claim_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = _fk("claim.id")
    position: int
    source: str
    source_entity_id: int | None = _fk("entity.id", nullable=True, index=True)
    stance: str = Field(max_length=40)
    summary: str | None = None
    url: str | None = None
    anchor: dict[str, Any] | None = _json()
    date: dt.date | None = None


# The actor of the status changes a fact file makes.
INGEST_ACTOR = "ingest"


class ClaimStatusChange(SQLModel, table=True):
    """Append-only history of a claim's verification status.

    Keyed by the claim's public id, not its row, so the history outlives the row: a
    claim dropped from its fact file and added back continues its history. ``seq``
    numbers a claim's changes from 1, in the order they were recorded.
    """

    __tablename__ = "claim_status_change"
    __table_args__ = CLUSTERED

    claim_key: str = Field(primary_key=True, max_length=400)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    status: str = Field(max_length=40)
    rationale: str
    recorded_at: dt.datetime
    # Who recorded the change: `ingest` for a fact file the command loaded, else the name of
    # the token that wrote it (the uploader's, or the reviewer's). Changes recorded before
    # actors were kept were all ingest's.
    actor: str = Field(sa_column=Column(String(200), nullable=False, server_default=INGEST_ACTOR))
    # Evidence a reviewer gave with the change (JSON objects: source, stance, url…).
    evidence: list[dict[str, Any]] | None = _json()


class Provenance(SQLModel, table=True):
    """Where facts came from: the extractor (a person, a pipeline, a model) and whether a
    person reviewed them. Rows are shared by every fact with the same provenance and never
    change; ``fingerprint`` finds a row by its content."""

    __tablename__ = "provenance"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    extractor: str = Field(max_length=200)
    extractor_version: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    model_version: str | None = Field(default=None, max_length=200)
    reviewed: bool = Field(sa_column=Column(Boolean, nullable=False))


# Folded names compare byte by byte on both databases, so a range of them is a prefix.
FOLDED = String().with_variant(String(collation="C"), "postgresql")


class EntityName(SQLModel, table=True):
    """An entity's names and aliases, folded for as-you-type lookup (``entities find``).

    ``tier`` says what the row is: 1 the name, 2 an alias, 3 a later word of the name
    onwards ("tokayev" for "Kassym-Jomart Tokayev"), 4 the same within an alias. A prefix of
    ``folded`` is found by a range of the primary key.
    """

    __tablename__ = "entity_name"
    __table_args__ = (Index(None, "entity_id"), CLUSTERED)

    tier: int = Field(
        sa_column=Column(SmallInteger, primary_key=True, autoincrement=False, nullable=False)
    )
    folded: str = Field(sa_column=Column(FOLDED, primary_key=True, nullable=False))
    entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True)
    )
    label: str = Field(primary_key=True)


class EntityExternalId(SQLModel, table=True):
    """An entity's id in another knowledge base (``wikidata: Q232``), found by scheme and value."""

    __tablename__ = "entity_external_id"
    __table_args__ = (Index(None, "entity_id"), CLUSTERED)

    scheme: str = Field(primary_key=True, max_length=120)
    value: str = Field(primary_key=True, max_length=400)
    entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True)
    )


class DataRevision(SQLModel, table=True):
    """One row (id 1) counting the ingests that changed the data, and when the last one did.

    HTTP validators derive from it: a response's ETag and Last-Modified change exactly
    when the data may have.
    """

    __tablename__ = "data_revision"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int
    changed_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ApiToken(SQLModel, table=True):
    """A bearer token of the write API: its name (the actor it records), scope and hash.

    A token is ``af_<key>_<secret>``: ``key`` finds its row, and only the SHA-256 of the
    secret is stored, compared in constant time. A revoked token keeps its row (and its
    name, which history entries name), so ``revoked_at`` is set rather than the row deleted.
    """

    __tablename__ = "api_token"
    __table_args__ = NO_REUSE

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=40)
    name: str = Field(max_length=200, index=True)
    scope: str = Field(max_length=20)
    secret_sha256: str = Field(max_length=64)
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class DataChange(SQLModel, table=True):
    """What each data revision changed: articles added, updated and deleted, claim statuses.

    One row per change, written in the transaction that makes it and bumps the revision, so
    a client that has seen revision R asks for the rows with ``revision > R``. Rows are never
    updated or deleted; ``id`` orders them, oldest first.
    """

    __tablename__ = "data_change"
    __table_args__ = (Index(None, "revision", "id"), Index(None, "claim", "revision"), NO_REUSE)

    id: int | None = Field(default=None, primary_key=True)
    revision: int
    kind: str = Field(max_length=40)  # article_added, article_updated, article_deleted…
    article: str = Field(max_length=200, index=True)
    claim: str | None = Field(default=None, max_length=400)
    from_status: str | None = Field(default=None, max_length=40)
    to_status: str | None = Field(default=None, max_length=40)
    rationale: str | None = None
    actor: str = Field(max_length=200)
    recorded_at: dt.datetime


class ClaimReview(SQLModel, table=True):
    """A reviewer's status decision in effect on a claim, and what its fact file said.

    ``seq`` is the decision's entry in the claim's history; ``file_status`` is the status the
    claim's fact file gave when the decision was made (or last agreed with). A re-ingest
    whose file still says ``file_status`` keeps the reviewer's status; one that says
    something else is refused unless told to override, which ends the review.
    """

    __tablename__ = "claim_review"
    __table_args__ = CLUSTERED

    claim_key: str = Field(primary_key=True, max_length=400)
    seq: int = Field(sa_column_kwargs={"autoincrement": False})
    file_status: str = Field(max_length=40)


def _table(model: type[SQLModel]) -> Table:
    table = getattr(model, "__table__")  # noqa: B009 - SQLModel does not type __table__
    assert isinstance(table, Table)
    return table


# Core tables, for the ingest's bulk writes and the API's column-level selects.
article_t = _table(Article)
entity_t = _table(Entity)
article_entity_t = _table(ArticleEntity)
alias_t = _table(EntityAlias)
mention_t = _table(Mention)
relation_t = _table(Relation)
event_t = _table(Event)
participant_t = _table(EventParticipant)
claim_t = _table(Claim)
subject_t = _table(ClaimSubject)
claim_event_t = _table(ClaimEvent)
evidence_t = _table(Evidence)
history_t = _table(ClaimStatusChange)
data_revision_t = _table(DataRevision)
quantity_t = _table(ClaimQuantity)
provenance_t = _table(Provenance)
entity_name_t = _table(EntityName)
external_id_t = _table(EntityExternalId)
token_t = _table(ApiToken)
change_t = _table(DataChange)
review_t = _table(ClaimReview)
