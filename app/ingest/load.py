"""Write a resolved fact file into the database: idempotent, and never commits.

Public ids are stable across re-ingest: articles and entities keep the id their fact
file gives them, events and claims get ``<article id>.<local id>``, and each row keeps
its integer key when it is updated in place. Every fact carries a fingerprint of its
input, so a re-ingest touches only what changed. A claim's status history is append-only.
"""

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app import changes, fts, reviews
from app.changes import StatusChange
from app.ingest.consistency import (
    Change,
    Declarations,
    EntityDecl,
    Known,
    all_entity_keys,
    compare,
    held_by_another,
    suggest_fact,
    unknown_entity,
)
from app.ingest.document import (
    PERSON,
    Anchor,
    FactFileError,
    Provenance,
    ResolvedArticle,
    ResolvedClaim,
    ResolvedClaimReport,
    ResolvedEvent,
    ResolvedEventReport,
)
from app.models import (
    INGEST_ACTOR,
    alias_t,
    article_entity_t,
    article_t,
    claim_event_t,
    claim_t,
    entity_name_t,
    entity_t,
    event_t,
    evidence_t,
    external_id_t,
    history_t,
    mention_t,
    participant_t,
    provenance_t,
    quantity_t,
    relation_t,
    subject_t,
)
from app.names import ALIAS, ALIAS_WORD, NAME, NAME_WORD, name_rows
from app.queries import id_list, in_ids
from app.statements import Statement

KINDS = ("articles", "entities", "events", "claims")


@dataclass
class LoadResult:
    """What one load did, counted per kind of fact and outcome."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Every stored value of a shared entity the load set (see ``--update-entities``).
    changes: list[Change] = field(default_factory=list)
    # The claims whose status this load changed (not merged: recorded per article, with the
    # data revision its batch publishes: see ``app.changes.record_loads``).
    status_changes: list[StatusChange] = field(default_factory=list)

    def add(self, kind: str, outcome: str, n: int = 1) -> None:
        if n:
            self.counts[(kind, outcome)] += n

    def merge(self, other: "LoadResult") -> None:
        self.counts.update(other.counts)
        self.changes += other.changes

    def get(self, kind: str, outcome: str) -> int:
        return self.counts[(kind, outcome)]

    @property
    def changed(self) -> bool:
        return bool(self.changes) or any(
            o in ("added", "updated", "removed") for _, o in self.counts
        )


class LoadRefused(Exception):
    """The article breaks a rule against what is stored now (see ``app.ingest.consistency``):
    nothing of it may be written."""

    def __init__(self, errors: Sequence[FactFileError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


@dataclass
class LoadContext:
    """What the load of a run's articles shares: the user's choices and the run's state."""

    update_entities: bool = False
    # Each entity the run declares, as its first file does: a file loaded before that one
    # may refer to it by id.
    declared: dict[str, EntityDecl] = field(default_factory=dict)
    provenance_ids: dict[Provenance, int] = field(default_factory=dict)
    # Lookup rows known to be stored (the same aliases come with article after article).
    names: set[tuple[int, str, int, str]] = field(default_factory=set)
    aliases: set[tuple[int, str]] = field(default_factory=set)  # (entity id, alias) in names
    # Whether any event or claim is a report of another (None: not looked up yet): until one
    # is, no load needs to look for the reports of what it changed.
    reports: bool | None = None
    # Whether a file's status may replace one a reviewer set since (see ``app.reviews``).
    override_reviews: bool = False
    # Who the status changes a file makes are recorded as: ``ingest`` for a run of the
    # command, the token's name for an upload.
    actor: str = INGEST_ACTOR


def _fingerprint(*parts: Any) -> int:
    """The first 64 bits of a digest of a fact's input, as a signed integer (a BIGINT)."""
    digest = hashlib.sha256(orjson.dumps(parts, default=_plain)).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _plain(value: Any) -> Any:
    if hasattr(value, "__pydantic_serializer__"):
        # The bytes of model_dump(mode="json", by_alias=True) serialised, in one call.
        return orjson.Fragment(value.__pydantic_serializer__.to_json(value, by_alias=True))
    if isinstance(value, Anchor):
        return value.as_json()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value))


def _anchors(anchors: Iterable[Anchor]) -> list[dict[str, Any]]:
    return [a.as_json() for a in anchors]


def _opt(anchor: Anchor | None) -> dict[str, Any] | None:
    return None if anchor is None else anchor.as_json()


# Statements of the load, compiled once per dialect and run on the driver's cursor (see
# ``app.db.Statement``): an article is some twenty statements and a hundred rows, and
# SQLAlchemy's execution path would cost more than SQLite takes to write them.
ARTICLE_COLUMNS = (
    "key",
    "title",
    "text",
    "url",
    "publisher",
    "published",
    "language",
    "sha256",
    "source_sha256",
    "updated_at",
)
ENTITY_FIELDS = ("name", "kind", "description", "external_ids", "provenance_id")
# The columns of an event or claim that belong to the event or claim, which a report of it
# in another article (``same_as``) copies from its first report.
EVENT_RESOURCE = (
    "kind",
    "summary",
    "time_start",
    "time_end",
    "time_precision",
    "time_note",
    "location_id",
    "modality",
    "status",
)
CLAIM_RESOURCE = (
    "text",
    "kind",
    "claimant_id",
    "claimant_unnamed",
    "status",
    "rationale",
    "subject_ids",
    "event_keys",
    "quantities",
)
EVENT_COLUMNS = (
    "key",
    "article_id",
    "position",
    "kind",
    "summary",
    "time_start",
    "time_end",
    "time_precision",
    "time_anchor",
    "time_note",
    "location_id",
    "modality",
    "status",
    "anchors",
    "fingerprint",
    "same_as_key",
    "provenance_id",
)
CLAIM_COLUMNS = (
    "key",
    "article_id",
    "position",
    "text",
    "kind",
    "claimant_id",
    "attribution",
    "status",
    "rationale",
    "hedge",
    "anchors",
    "subject_ids",
    "event_keys",
    "fingerprint",
    "claimant_unnamed",
    "claimant_anchor",
    "quantities",
    "same_as_key",
    "provenance_id",
)
EVIDENCE_COLUMNS = (
    "claim_id",
    "position",
    "source",
    "source_entity_id",
    "stance",
    "summary",
    "url",
    "anchor",
    "date",
)


def _by_id(table: Table) -> Any:
    return table.c.id == bindparam("_id")


def _insert(table: Table, columns: Sequence[str], *, returning: bool = False) -> Statement:
    return Statement(insert(table), columns=columns, key=table.c.id if returning else None)


def _update(table: Table, where: Any, columns: Sequence[str]) -> Statement:
    return Statement(update(table).where(where), columns=columns)


_ARTICLE_FIND = Statement(
    select(article_t.c.id, article_t.c.source_sha256).where(article_t.c.key == bindparam("key"))
)
_ARTICLE_INSERT = _insert(article_t, (*ARTICLE_COLUMNS, "created_at"), returning=True)
_ARTICLE_UPDATE = _update(article_t, _by_id(article_t), ARTICLE_COLUMNS)

_LINKS_FIND = Statement(
    select(
        article_entity_t.c.entity_id, article_entity_t.c.fingerprint, article_entity_t.c.position
    ).where(article_entity_t.c.article_id == bindparam("article"))
)
_ENTITY_INSERT = _insert(
    entity_t, ("key", "created_at", "updated_at", *ENTITY_FIELDS), returning=True
)
_ENTITY_UPDATE = _update(entity_t, _by_id(entity_t), ("updated_at", *ENTITY_FIELDS))
_LINK_WHERE = and_(
    article_entity_t.c.article_id == bindparam("_article"),
    article_entity_t.c.entity_id == bindparam("_entity"),
)
_LINK_POSITION = _update(article_entity_t, _LINK_WHERE, ("position",))
_LINK_UPDATE = _update(article_entity_t, _LINK_WHERE, ("fingerprint", "position"))
_ALIAS_INSERT = _insert(alias_t, ("entity_id", "article_id", "name", "language"))
_MENTION_INSERT = _insert(mention_t, ("article_id", "start", "end", "entity_id", "exact"))
_LINK_INSERT = _insert(article_entity_t, ("article_id", "entity_id", "position", "fingerprint"))

_RELATION_DELETE = Statement(delete(relation_t).where(relation_t.c.article_id == bindparam("a")))
_RELATION_INSERT = _insert(
    relation_t,
    ("article_id", "position", "subject_id", "predicate", "object_id", "anchors", "provenance_id"),
)

_EVENT_INSERT = _insert(event_t, EVENT_COLUMNS, returning=True)
_EVENT_UPDATE = _update(event_t, _by_id(event_t), EVENT_COLUMNS)
_PARTICIPANT_DELETE = Statement(
    delete(participant_t).where(participant_t.c.event_id == bindparam("event"))
)
_PARTICIPANT_INSERT = _insert(participant_t, ("event_id", "entity_id", "role", "position"))

_CLAIM_INSERT = _insert(claim_t, CLAIM_COLUMNS, returning=True)
_CLAIM_UPDATE = _update(claim_t, _by_id(claim_t), CLAIM_COLUMNS)
_CLAIM_LINK_DELETES = tuple(
    Statement(delete(table).where(table.c.claim_id == bindparam("claim")))
    for table in (subject_t, claim_event_t, evidence_t, quantity_t)
)
_QUANTITY_INSERT = _insert(quantity_t, ("claim_id", "position", "value", "unit"))
_EXTERNAL_ID_INSERT = _insert(external_id_t, ("scheme", "value", "entity_id"))
_EXTERNAL_ID_DELETE = Statement(
    delete(external_id_t).where(
        external_id_t.c.entity_id == bindparam("entity"),
        external_id_t.c.scheme == bindparam("scheme"),
    )
)
_NAME_DELETE = Statement(
    delete(entity_name_t).where(
        entity_name_t.c.entity_id == bindparam("entity"),
        entity_name_t.c.tier.in_([bindparam("name"), bindparam("name_word")]),
    )
)
_ALIAS_GIVEN = Statement(
    select(alias_t.c.id)
    .where(alias_t.c.entity_id == bindparam("entity"), alias_t.c.name == bindparam("name"))
    .limit(1)
)
_ALIAS_FORGET = Statement(
    delete(entity_name_t).where(
        entity_name_t.c.entity_id == bindparam("entity"),
        entity_name_t.c.label == bindparam("label"),
        entity_name_t.c.tier.in_([bindparam("alias"), bindparam("word")]),
    )
)
_PROVENANCE_FIND = Statement(
    select(provenance_t.c.id).where(provenance_t.c.fingerprint == bindparam("fingerprint"))
)
_PROVENANCE_INSERT = _insert(
    provenance_t,
    ("fingerprint", "extractor", "extractor_version", "model", "model_version", "reviewed"),
    returning=True,
)
_EVENT_TARGET = Statement(
    select(
        event_t.c.key,
        event_t.c.same_as_key,
        event_t.c.article_id,
        *(event_t.c[c] for c in EVENT_RESOURCE),
    ).where(event_t.c.key == bindparam("key"))
)
_CLAIM_TARGET = Statement(
    select(
        claim_t.c.key,
        claim_t.c.same_as_key,
        claim_t.c.article_id,
        *(claim_t.c[c] for c in CLAIM_RESOURCE),
    ).where(claim_t.c.key == bindparam("key"))
)
_EVENT_COPY = _update(event_t, event_t.c.same_as_key == bindparam("_root"), EVENT_RESOURCE)
_CLAIM_COPY = _update(claim_t, claim_t.c.same_as_key == bindparam("_root"), CLAIM_RESOURCE)


@cache
def _reported(name: str, dialect: str) -> Statement:
    """Which of the given ids have reports in other articles (one statement per article)."""
    table = event_t if name == "event" else claim_t
    found = select(table.c.same_as_key).where(in_ids(table.c.same_as_key, dialect, String))
    return Statement(found.distinct())


def _copy_links(
    table: Table, owner: str, resource: Table, columns: Sequence[str]
) -> tuple[Statement, Statement]:
    """Statements that give every report of the event or claim ``root`` the link rows of
    ``table`` its first report has (participants, subjects, related events, quantities)."""
    reports = select(resource.c.id).where(resource.c.same_as_key == bindparam("root"))
    first = resource.alias("first")
    report = resource.alias("report")
    links = table.alias("links")
    copy = insert(table).from_select(
        [owner, *columns],
        select(report.c.id, *(links.c[c] for c in columns))
        .select_from(report)
        .join(first, first.c.key == report.c.same_as_key)
        .join(links, links.c[owner] == first.c.id)
        .where(report.c.same_as_key == bindparam("root")),
    )
    return Statement(delete(table).where(table.c[owner].in_(reports))), Statement(copy)


_LINK_COPIES = {
    "event": [_copy_links(participant_t, "event_id", event_t, ("entity_id", "role", "position"))],
    "claim": [
        _copy_links(subject_t, "claim_id", claim_t, ("entity_id", "position")),
        _copy_links(claim_event_t, "claim_id", claim_t, ("event_id", "position")),
        _copy_links(quantity_t, "claim_id", claim_t, ("position", "value", "unit")),
    ],
}


@cache
def _name_insert(dialect: str) -> Statement:
    """Lookup rows, each added unless already stored."""
    module: Any = sqlite if dialect == "sqlite" else postgresql
    statement = module.insert(entity_name_t).on_conflict_do_nothing()
    return Statement(statement, columns=("tier", "folded", "entity_id", "label"))


_SUBJECT_INSERT = _insert(subject_t, ("claim_id", "entity_id", "position"))
_CLAIM_EVENT_INSERT = _insert(claim_event_t, ("claim_id", "event_id", "position"))
_EVIDENCE_INSERT = _insert(evidence_t, EVIDENCE_COLUMNS)
_HISTORY_INSERT = _insert(
    history_t, ("claim_key", "seq", "status", "rationale", "recorded_at", "actor")
)


@cache
def _existing_statement(table: Table) -> Statement:
    columns = [table.c.id, table.c.key, table.c.fingerprint, table.c.position]
    if table is claim_t:
        columns.append(table.c.status)
    return Statement(select(*columns).where(table.c.article_id == bindparam("article")))


@cache
def _position_update(table: Table) -> Statement:
    return _update(table, _by_id(table), ("position",))


@cache
def _delete_by_ids(table: Table, dialect: str) -> Statement:
    return Statement(delete(table).where(in_ids(table.c.id, dialect)))


@cache
def _entity_statements(dialect: str) -> dict[str, Statement]:
    """The load's statements that take a list of keys or ids (see ``app.queries.in_ids``)."""
    entities = in_ids(article_entity_t.c.entity_id, dialect, name="entities")
    still_declared = select(article_entity_t.c.entity_id).where(entities)

    def of_article(table: Table) -> Statement:
        return Statement(
            delete(table).where(
                table.c.article_id == bindparam("article"),
                in_ids(table.c.entity_id, dialect, name="entities"),
            )
        )

    return {
        "find": Statement(
            select(entity_t.c.id, entity_t.c.key, *(entity_t.c[f] for f in ENTITY_FIELDS)).where(
                in_ids(entity_t.c.key, dialect, String, name="keys")
            )
        ),
        "aliases": of_article(alias_t),
        "article_aliases": Statement(
            select(alias_t.c.entity_id, alias_t.c.name).where(
                alias_t.c.article_id == bindparam("article"),
                in_ids(alias_t.c.entity_id, dialect, name="entities"),
            )
        ),
        "mentions": of_article(mention_t),
        "links": of_article(article_entity_t),
        "unused": Statement(
            delete(entity_t).where(
                in_ids(entity_t.c.id, dialect, name="entities"),
                entity_t.c.id.not_in(still_declared),
            )
        ),
        "histories": Statement(
            select(history_t.c.claim_key, history_t.c.seq, history_t.c.status)
            .where(in_ids(history_t.c.claim_key, dialect, String, name="keys"))
            .order_by(history_t.c.claim_key, history_t.c.seq)
        ),
    }


# --- what to write: an article's rows, worked out from its resolved fact file -------------


@dataclass(frozen=True, slots=True)
class EntityPlan:
    key: str
    decl: EntityDecl  # what the file says of it (None: nothing, for a field)
    provenance: Provenance
    fingerprint: int
    aliases: tuple[tuple[str, str | None], ...]  # (name, language), distinct, in file order
    mentions: tuple[tuple[int, int, str], ...]  # (start, end, exact)


@dataclass(frozen=True, slots=True)
class EventPlan:
    local: str  # the fact file's id of the event
    fingerprint: int
    values: dict[str, Any]  # its columns, but for its key, article, position and location
    location: str | None  # entity id
    participants: tuple[tuple[str, str], ...]  # (entity id, role)
    provenance: Provenance
    same_as: str | None = None  # a report of another article's event: that event's id


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    local: str
    fingerprint: int
    values: dict[str, Any]  # its columns, but for its key, article, position and the links
    claimant: str | None  # None: an unnamed source (in ``values``), or a report
    subjects: tuple[str, ...]
    events: tuple[str, ...]  # the fact file's ids of its events
    # (source, source entity id, stance, summary, url, anchor, date)
    evidence: tuple[tuple[Any, ...], ...]
    quantities: tuple[tuple[float, str], ...]  # (value, unit)
    provenance: Provenance
    same_as: str | None = None


@dataclass(frozen=True, slots=True)
class ArticlePlan:
    """Everything ``load_article`` writes for one resolved fact file, in plain values.

    Working it out (fingerprints, anchors as JSON values) takes no database, so a large run
    does it in other processes while this one writes; it pickles small and quickly, where the
    resolved article it comes from does not.
    """

    key: str
    source_sha256: str
    values: dict[str, Any]  # the article's columns, but for its timestamps
    entities: tuple[EntityPlan, ...]
    # subject, predicate, object, anchors, provenance
    relations: tuple[tuple[str, str, str, list[dict[str, Any]], Provenance], ...]
    events: tuple[EventPlan, ...]
    claims: tuple[ClaimPlan, ...]
    declarations: Declarations


def _event_plan(resolved: ResolvedEvent | ResolvedEventReport) -> EventPlan:
    if isinstance(resolved, ResolvedEventReport):
        report = resolved.source
        return EventPlan(
            local=report.id,
            fingerprint=_fingerprint(report, resolved.anchors, resolved.provenance.as_json()),
            values={"anchors": _anchors(resolved.anchors), "time_anchor": None},
            location=None,
            participants=(),
            provenance=resolved.provenance,
            same_as=report.same_as,
        )
    ev, t = resolved.source, resolved.time
    return EventPlan(
        local=ev.id,
        fingerprint=_fingerprint(
            ev, t and t.__dict__, resolved.anchors, resolved.provenance.as_json()
        ),
        values={
            "kind": ev.kind.value,
            "summary": ev.summary,
            "time_start": t.start if t else None,
            "time_end": t.end if t else None,
            "time_precision": t.precision.value if t and t.precision else None,
            "time_anchor": _opt(t.anchor) if t else None,
            "time_note": t.note if t else None,
            "modality": ev.modality.value,
            "status": ev.status.value,
            "anchors": _anchors(resolved.anchors),
        },
        location=ev.location,
        participants=tuple((p.entity, p.role) for p in ev.participants),
        provenance=resolved.provenance,
    )


def _claim_plan(resolved: ResolvedClaim | ResolvedClaimReport) -> ClaimPlan:
    if isinstance(resolved, ResolvedClaimReport):
        report = resolved.source
        return ClaimPlan(
            local=report.id,
            fingerprint=_fingerprint(
                report,
                resolved.attribution,
                resolved.hedge,
                resolved.anchors,
                resolved.provenance.as_json(),
            ),
            values={
                "attribution": _opt(resolved.attribution),
                "hedge": _opt(resolved.hedge),
                "anchors": _anchors(resolved.anchors),
                "claimant_anchor": None,
            },
            claimant=None,
            subjects=(),
            events=(),
            evidence=(),
            quantities=(),
            provenance=resolved.provenance,
            same_as=report.same_as,
        )
    c = resolved.source
    unnamed = None if isinstance(c.claimant, str) else c.claimant.unnamed
    return ClaimPlan(
        local=c.id,
        fingerprint=_fingerprint(
            c,
            resolved.attribution,
            resolved.hedge,
            resolved.anchors,
            [(e.anchor, e.source) for e in resolved.evidence],
            resolved.claimant_anchor,
            [q.as_json() for q in resolved.quantities],
            resolved.provenance.as_json(),
        ),
        values={
            "text": c.text,
            "kind": c.kind.value,
            "attribution": _opt(resolved.attribution),
            "status": c.status.value,
            "rationale": c.rationale,
            "hedge": _opt(resolved.hedge),
            "anchors": _anchors(resolved.anchors),
            "claimant_unnamed": unnamed,
            "claimant_anchor": _opt(resolved.claimant_anchor),
            "quantities": [q.as_json() for q in resolved.quantities] or None,
        },
        claimant=c.claimant if isinstance(c.claimant, str) else None,
        subjects=tuple(c.subjects),
        events=tuple(c.events),
        evidence=tuple(
            (
                ev.source.source,
                ev.source.source_entity,
                ev.source.stance.value,
                ev.source.summary,
                ev.source.url,
                _opt(ev.anchor),
                ev.source.date,
            )
            for ev in resolved.evidence
        ),
        quantities=tuple((q.value, q.unit) for q in resolved.quantities),
        provenance=resolved.provenance,
    )


def plan_article(doc: ResolvedArticle) -> ArticlePlan:
    """What loading ``doc`` writes, whatever the database holds."""
    declarations = Declarations.of(doc)
    entities = tuple(
        EntityPlan(
            key=e.source.id,
            decl=decl,
            provenance=e.provenance,
            fingerprint=_fingerprint(e.source, e.mentions, e.provenance.as_json()),
            aliases=tuple({(a.name, a.language): a for a in e.source.aliases}),
            mentions=tuple((a.start, a.end, a.exact) for a in e.mentions),
        )
        for e, decl in zip(doc.entities, declarations.entities, strict=True)
    )
    relations = tuple(
        (
            r.source.subject,
            r.source.predicate.value,
            r.source.object,
            _anchors(r.anchors),
            r.provenance,
        )
        for r in doc.relations
    )
    return ArticlePlan(
        key=doc.article.id,
        source_sha256=doc.source_sha256,
        values={
            "key": doc.article.id,
            "title": doc.title,
            "text": doc.text,
            "url": doc.article.url,
            "publisher": doc.article.publisher,
            "published": doc.article.published,
            "language": doc.article.language,
            "sha256": doc.sha256,
            "source_sha256": doc.source_sha256,
        },
        entities=entities,
        relations=relations,
        events=tuple(_event_plan(e) for e in doc.events),
        claims=tuple(_claim_plan(c) for c in doc.claims),
        declarations=declarations,
    )


# --- writing it ----------------------------------------------------------------------------


def load_article(
    session: Session,
    plan: ArticlePlan,
    *,
    now: dt.datetime,
    context: LoadContext | None = None,
) -> LoadResult:
    """Insert or update one article and its facts. The caller owns the transaction, and
    publishes what the load changed with the data revision of its commit
    (``app.changes.record_loads``).

    The rules across articles are checked here again, against what is stored now: an
    article that breaks one raises LoadRefused having written nothing the caller's rollback
    does not undo. Claims a reviewer has decided keep the reviewer's status unless the file
    changes it, and a file that changes it is refused (``reviews.ReviewConflict``, raised
    before anything is written) unless the context's ``override_reviews``: see ``app.reviews``.
    """
    ctx = context or LoadContext()
    conn = session.connection()
    result = LoadResult()
    key = plan.key
    row = _ARTICLE_FIND.first(conn, {"key": key})
    if row is not None and row[1] == plan.source_sha256:
        result.add("articles", "unchanged")
        result.add("entities", "unchanged", len(plan.entities))
        result.add("events", "unchanged", len(plan.events))
        result.add("claims", "unchanged", len(plan.claims))
        return result
    plan = reviews.reconcile(conn, plan, override=ctx.override_reviews)

    values = {**plan.values, "updated_at": now}
    if row is None:
        article_id = _ARTICLE_INSERT.inserted(conn, {"created_at": now, **values})
        fts.index_new_rows(conn, "article", [article_id])
        result.add("articles", "added")
    else:
        article_id = row[0]
        _ARTICLE_UPDATE.execute(conn, {"_id": article_id, **values})
        result.add("articles", "updated")

    entity_ids, undeclared = _load_entities(conn, article_id, plan, now, ctx, result)
    _load_relations(conn, article_id, plan.relations, entity_ids, ctx)
    event_ids = _load_events(conn, article_id, plan, entity_ids, ctx, result)
    _load_claims(conn, article_id, plan, entity_ids, event_ids, now, ctx, result)
    # Last, so no old row of this article still points at an entity being dropped.
    if undeclared:
        _remove_entities(conn, article_id, undeclared, ctx)
    return result


def provenance_id(conn: Connection, provenance: Provenance, ctx: LoadContext) -> int | None:
    """The stored row of this provenance (added if new); None for a person's file."""
    if provenance == PERSON:
        return None
    found = ctx.provenance_ids.get(provenance)
    if found is not None:
        return found
    fingerprint = _fingerprint(provenance.as_json())
    row = _PROVENANCE_FIND.first(conn, {"fingerprint": fingerprint})
    if row is not None:
        found = int(row[0])
    else:
        found = _PROVENANCE_INSERT.inserted(
            conn, {"fingerprint": fingerprint, **provenance.as_json()}
        )
    ctx.provenance_ids[provenance] = found
    return found


def _add_names(
    conn: Connection, rows: Iterable[tuple[int, str, int, str]], ctx: LoadContext
) -> None:
    new = [r for r in rows if r not in ctx.names]
    if new:
        _name_insert(conn.dialect.name).insert_values(conn, new)
        ctx.names.update(new)


def _name_rows(entity_id: int, name: str, tier: int) -> list[tuple[int, str, int, str]]:
    return [(t, folded, entity_id, label) for t, folded, label in name_rows(name, tier)]


def _load_entities(
    conn: Connection,
    article_id: int,
    plan: ArticlePlan,
    now: dt.datetime,
    ctx: LoadContext,
    result: LoadResult,
) -> tuple[dict[str, int], set[int]]:
    """Upsert the declared entities; return their ids, and the ids no longer declared here.

    Each entity's fields are checked against the stored ones first (see
    ``app.ingest.consistency.compare``); any problem refuses the article.
    """
    entities = plan.entities
    path = plan.declarations.path
    statements = _entity_statements(conn.dialect.name)
    keys = [e.key for e in entities]
    # key -> (id, name, kind, description, external_ids, provenance_id)
    existing = {
        r[1]: (r[0], *r[2:]) for r in statements["find"].rows(conn, id_list(conn, keys, "keys"))
    }
    errors: list[FactFileError] = []
    for e in entities:
        old = existing.get(e.key)
        if old is None:
            if not e.decl.declares and e.key not in ctx.declared:
                errors.append(unknown_entity(path, e.decl, all_entity_keys(conn)))
            continue
        known = Known.stored(e.key, old[1], old[2], old[3], old[4])
        problems, _ = compare(path, e.decl, known, update=ctx.update_entities)
        errors += problems
    # External ids the entities do not already have: another entity may hold them.
    new_ids = sorted(
        (scheme, value)
        for e in entities
        for scheme, value in e.decl.external_ids
        if e.key not in existing or (existing[e.key][4] or {}).get(scheme) != value
    )
    if new_ids and not errors:
        errors += _held_ids(conn, plan, new_ids)
    if errors:
        raise LoadRefused(errors)

    # entity id -> (fingerprint, position)
    links = {r[0]: (r[1], r[2]) for r in _LINKS_FIND.rows(conn, {"article": article_id})}
    ids: dict[str, int] = {}
    # Rows are gathered and written with one statement per table, not one per entity.
    stale: list[int] = []  # entities whose aliases and mentions here are replaced
    # Rows as the values of each insert's columns, in order.
    alias_rows: list[tuple[Any, ...]] = []
    mention_rows: list[tuple[Any, ...]] = []
    link_rows: list[tuple[Any, ...]] = []
    id_rows: list[tuple[Any, ...]] = []
    names: list[tuple[int, str, int, str]] = []
    added: list[int] = []
    for position, e in enumerate(entities):
        fingerprint = e.fingerprint
        old = existing.get(e.key)
        link = links.get(old[0]) if old is not None else None
        # This article's aliases and mentions of the entity are as they were.
        same_here = link is not None and link[0] == fingerprint
        if old is None:
            decl = e.decl if e.decl.declares else ctx.declared[e.key]
            external = dict(decl.external_ids)
            named = {
                "name": decl.name,
                "kind": decl.kind,
                "description": decl.description,
                "external_ids": external or None,
                "provenance_id": provenance_id(conn, e.provenance, ctx),
            }
            entity_id = _ENTITY_INSERT.inserted(
                conn, {"key": e.key, "created_at": now, "updated_at": now, **named}
            )
            added.append(entity_id)
            id_rows += [(s, v, entity_id) for s, v in external.items()]
            names += _name_rows(entity_id, str(decl.name), NAME)
            outcome = "added"
        else:
            entity_id = old[0]
            known = Known.stored(e.key, old[1], old[2], old[3], old[4])
            _, changes = compare(path, e.decl, known, update=ctx.update_entities)
            if changes:
                _change_entity(conn, entity_id, old, changes, e.provenance, now, ctx, names)
                result.changes += changes
            outcome = "unchanged" if not changes and same_here else "updated"
        ids[e.key] = entity_id
        result.add("entities", outcome)
        where = {"_article": article_id, "_entity": entity_id}
        if link is not None and same_here:
            if link[1] != position:
                _LINK_POSITION.execute(conn, {**where, "position": position})
            continue
        # This article's aliases and mentions of the entity are replaced together.
        alias_rows += [(entity_id, article_id, n, lang) for n, lang in e.aliases]
        for alias, _ in e.aliases:
            if (entity_id, alias) not in ctx.aliases:
                ctx.aliases.add((entity_id, alias))
                names += _name_rows(entity_id, alias, ALIAS)
        mention_rows += [(article_id, a, b, entity_id, exact) for a, b, exact in e.mentions]
        if link is not None:
            stale.append(entity_id)
            _LINK_UPDATE.execute(conn, {**where, "fingerprint": fingerprint, "position": position})
        else:
            link_rows.append((article_id, entity_id, position, fingerprint))
    dropped: list[tuple[int, str]] = []
    if stale:
        params = {"article": article_id, **id_list(conn, stale, "entities")}
        dropped = [tuple(r) for r in statements["article_aliases"].rows(conn, params)]
        statements["aliases"].execute(conn, params)
        statements["mentions"].execute(conn, params)
    fts.index_new_rows(conn, "entity", added)
    _ALIAS_INSERT.insert_values(conn, alias_rows)
    _forget_aliases(conn, dropped, ctx)
    fts.index_new_aliases(conn, article_id, sorted({r[0] for r in alias_rows}))
    _MENTION_INSERT.insert_values(conn, mention_rows)
    _LINK_INSERT.insert_values(conn, link_rows)
    _EXTERNAL_ID_INSERT.insert_values(conn, id_rows)
    _add_names(conn, names, ctx)

    gone = set(links) - set(ids.values())
    result.add("entities", "removed", len(gone))
    return ids, gone


@cache
def _holders(dialect: str) -> Statement:
    return Statement(
        select(external_id_t.c.scheme, external_id_t.c.value, entity_t.c.key)
        .join(entity_t, entity_t.c.id == external_id_t.c.entity_id)
        .where(in_ids(external_id_t.c.value, dialect, String, name="values"))
    )


def _held_ids(
    conn: Connection, plan: ArticlePlan, wanted: Sequence[tuple[str, str]]
) -> list[FactFileError]:
    """External ids this article gives (``wanted``) that another stored entity already has."""
    values = sorted({value for _, value in wanted})
    rows = _holders(conn.dialect.name).rows(conn, id_list(conn, values, "values"))
    holders = {(scheme, value): key for scheme, value, key in rows}
    errors = []
    for e in plan.entities:
        for scheme, value in e.decl.external_ids:
            holder = holders.get((scheme, value))
            if holder is not None and holder != e.key:
                errors.append(
                    held_by_another(plan.declarations.path, e.decl, scheme, value, holder)
                )
    return errors


def _change_entity(
    conn: Connection,
    entity_id: int,
    old: tuple[Any, ...],
    changes: Sequence[Change],
    provenance: Provenance,
    now: dt.datetime,
    ctx: LoadContext,
    names: list[tuple[int, str, int, str]],
) -> None:
    """Write the changes a file makes to a stored entity (added values, or those the user
    asked to change)."""
    values = dict(zip(ENTITY_FIELDS, old[1:], strict=True))
    external = dict(values["external_ids"] or {})
    for change in changes:
        if change.field in ("name", "kind", "description"):
            values[change.field] = change.new
            if change.field == "name":
                tiers = {"name": NAME, "name_word": NAME_WORD}
                _NAME_DELETE.execute(conn, {"entity": entity_id, **tiers})
                names += _name_rows(entity_id, change.new, NAME)
        else:
            scheme = change.field.removesuffix(" id")
            external[scheme] = change.new
            _EXTERNAL_ID_DELETE.execute(conn, {"entity": entity_id, "scheme": scheme})
            _EXTERNAL_ID_INSERT.execute(
                conn, {"scheme": scheme, "value": change.new, "entity_id": entity_id}
            )
    values["external_ids"] = external or None
    values["provenance_id"] = provenance_id(conn, provenance, ctx)
    _ENTITY_UPDATE.execute(conn, {"_id": entity_id, "updated_at": now, **values})


def _forget_aliases(conn: Connection, aliases: Sequence[tuple[int, str]], ctx: LoadContext) -> None:
    """Remove from the lookup the aliases no article gives an entity any more."""
    for entity_id, name in sorted(set(aliases)):
        if _ALIAS_GIVEN.first(conn, {"entity": entity_id, "name": name}) is None:
            _ALIAS_FORGET.execute(
                conn, {"entity": entity_id, "label": name, "alias": ALIAS, "word": ALIAS_WORD}
            )
            ctx.names = {r for r in ctx.names if not (r[2] == entity_id and r[3] == name)}
            ctx.aliases.discard((entity_id, name))


def _remove_entities(
    conn: Connection, article_id: int, entity_ids: set[int], ctx: LoadContext
) -> None:
    """Drop this article's declarations of the entities, and the entities no article declares."""
    statements = _entity_statements(conn.dialect.name)
    params = {"article": article_id, **id_list(conn, sorted(entity_ids), "entities")}
    dropped = [tuple(r) for r in statements["article_aliases"].rows(conn, params)]
    for name in ("aliases", "mentions", "links"):
        statements[name].execute(conn, params)
    _forget_aliases(conn, dropped, ctx)
    statements["unused"].execute(conn, id_list(conn, sorted(entity_ids), "entities"))


def _load_relations(
    conn: Connection,
    article_id: int,
    relations: Sequence[tuple[str, str, str, list[dict[str, Any]], Provenance]],
    entity_ids: dict[str, int],
    ctx: LoadContext,
) -> None:
    _RELATION_DELETE.execute(conn, {"a": article_id})
    _RELATION_INSERT.insert_values(
        conn,
        [
            (
                article_id,
                i,
                entity_ids[subject],
                predicate,
                entity_ids[obj],
                anchors,
                provenance_id(conn, provenance, ctx),
            )
            for i, (subject, predicate, obj, anchors, provenance) in enumerate(relations)
        ],
    )


class _Existing(NamedTuple):
    id: int
    key: str
    fingerprint: int
    position: int
    status: str | None = None


def _existing(conn: Connection, table: Table, article_id: int) -> dict[str, _Existing]:
    rows = _existing_statement(table).rows(conn, {"article": article_id})
    return {r[1]: _Existing(*r) for r in rows}


def _first_report(
    conn: Connection, kind: str, plan: ArticlePlan, index: int, same_as: str, article_id: int
) -> tuple[str, dict[str, Any]]:
    """The id and the columns of the event or claim a report names (the first report of it,
    when it names another report). Raises LoadRefused when there is none."""
    statement = _EVENT_TARGET if kind == "events" else _CLAIM_TARGET
    resource = EVENT_RESOURCE if kind == "events" else CLAIM_RESOURCE
    where = f"$.{kind}[{index}].same_as"
    row = statement.first(conn, {"key": same_as})
    if row is not None and row[1] is not None:
        row = statement.first(conn, {"key": row[1]}) or row
    path = plan.declarations.path
    noun = kind[:-1]
    if row is None:
        table = event_t if kind == "events" else claim_t
        article = same_as.partition(".")[0]
        choices = list(
            conn.execute(
                select(table.c.key).where(table.c.key.like(f"{article}.%")).limit(1000)
            ).scalars()
        )
        problem = f"no {noun} with id {same_as!r} is stored{suggest_fact(same_as, choices)}"
        raise LoadRefused([FactFileError(path, where, problem)])
    if row[2] == article_id:
        problem = f"{same_as!r} is first reported by this same article"
        raise LoadRefused([FactFileError(path, where, problem)])
    return str(row[0]), dict(zip(resource, row[3:], strict=True))


def _load_events(
    conn: Connection,
    article_id: int,
    plan: ArticlePlan,
    entity_ids: dict[str, int],
    ctx: LoadContext,
    result: LoadResult,
) -> dict[str, int]:
    article_key = plan.key
    events = plan.events
    existing = _existing(conn, event_t, article_id)
    ids: dict[str, int] = {}
    participants: list[tuple[Any, ...]] = []
    added: list[int] = []
    roots: set[str] = set()  # events whose reports get their links again
    for position, ev in enumerate(events):
        key = f"{article_key}.{ev.local}"
        old = existing.get(key)
        if ev.same_as is not None:
            root, copied = _first_report(conn, "events", plan, position, ev.same_as, article_id)
        if old is not None and old.fingerprint == ev.fingerprint:
            ids[ev.local] = old.id
            _keep_position(conn, event_t, old, position)
            result.add("events", "unchanged")
            continue
        values = {
            **ev.values,
            "key": key,
            "article_id": article_id,
            "position": position,
            "location_id": entity_ids[ev.location] if ev.location else None,
            "fingerprint": ev.fingerprint,
            "same_as_key": None,
            "provenance_id": provenance_id(conn, ev.provenance, ctx),
        }
        if ev.same_as is not None:
            values |= {**copied, "same_as_key": root}
            roots.add(root)
            ctx.reports = True
        else:
            roots.add(key)
        if old is None:
            event_id = _EVENT_INSERT.inserted(conn, values)
            added.append(event_id)
            result.add("events", "added")
        else:
            event_id = old.id
            _EVENT_UPDATE.execute(conn, {"_id": event_id, **values})
            _PARTICIPANT_DELETE.execute(conn, {"event": event_id})
            result.add("events", "updated")
        ids[ev.local] = event_id
        participants += [
            (event_id, entity_ids[entity], role, i)
            for i, (entity, role) in enumerate(ev.participants)
        ]
    fts.index_new_rows(conn, "event", added)
    _PARTICIPANT_INSERT.insert_values(conn, participants)
    _remove_missing(
        conn, event_t, existing, {f"{article_key}.{e.local}" for e in events}, "events", result
    )
    _refresh_reports(conn, "event", roots, ctx)
    return ids


_ANY_REPORT = Statement(
    select(event_t.c.id)
    .where(event_t.c.same_as_key.is_not(None))
    .union_all(select(claim_t.c.id).where(claim_t.c.same_as_key.is_not(None)))
    .limit(1)
)


def _refresh_reports(conn: Connection, name: str, roots: Iterable[str], ctx: LoadContext) -> None:
    """Give every report of these events or claims their columns and links as they now are."""
    if ctx.reports is None:
        ctx.reports = _ANY_REPORT.first(conn) is not None
    if not ctx.reports:
        return
    target, copy = (_EVENT_TARGET, _EVENT_COPY) if name == "event" else (_CLAIM_TARGET, _CLAIM_COPY)
    resource = EVENT_RESOURCE if name == "event" else CLAIM_RESOURCE
    if not roots:
        return
    reported = _reported(name, conn.dialect.name).rows(conn, id_list(conn, sorted(roots)))
    for root in sorted(r[0] for r in reported):
        row = target.first(conn, {"key": root})
        if row is not None:
            copy.execute(
                conn, {"_root": root, **_copied(name, dict(zip(resource, row[3:], strict=True)))}
            )
        for remove, add in _LINK_COPIES[name]:
            remove.execute(conn, {"root": root})
            add.execute(conn, {"root": root})


def _copied(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """A first report's columns as its reports keep them: anchors point into its own text,
    so a report keeps the quantities' values and units without them."""
    if name == "claim" and values.get("quantities"):
        values["quantities"] = [{**q, "anchor": None} for q in values["quantities"]]
    return values


def _keep_position(conn: Connection, table: Table, old: _Existing, position: int) -> None:
    """An unchanged fact that only moved within its file keeps its row; its position follows."""
    if old.position != position:
        _position_update(table).execute(conn, {"_id": old.id, "position": position})


def _remove_missing(
    conn: Connection,
    table: Table,
    existing: dict[str, _Existing],
    keep: set[str],
    kind: str,
    result: LoadResult,
) -> None:
    gone = [r.id for k, r in existing.items() if k not in keep]
    if gone:
        _delete_by_ids(table, conn.dialect.name).execute(conn, id_list(conn, gone))
        result.add(kind, "removed", len(gone))


def _load_claims(
    conn: Connection,
    article_id: int,
    plan: ArticlePlan,
    entity_ids: dict[str, int],
    event_ids: dict[str, int],
    now: dt.datetime,
    ctx: LoadContext,
    result: LoadResult,
) -> None:
    article_key = plan.key
    claims = plan.claims
    existing = _existing(conn, claim_t, article_id)
    keys = [f"{article_key}.{c.local}" for c in claims]
    last = _last_statuses(conn, keys)
    # Rows are gathered and written with one statement per table, not one per claim.
    # Rows as the values of each insert's columns, in order.
    history: list[tuple[Any, ...]] = []
    subjects: list[tuple[Any, ...]] = []
    related: list[tuple[Any, ...]] = []
    evidence: list[tuple[Any, ...]] = []
    quantities: list[tuple[Any, ...]] = []
    added: list[int] = []
    roots: set[str] = set()
    for position, c in enumerate(claims):
        key = keys[position]
        old = existing.get(key)
        if c.same_as is not None:
            root, copied = _first_report(conn, "claims", plan, position, c.same_as, article_id)
        if old is not None and old.fingerprint == c.fingerprint:
            _keep_position(conn, claim_t, old, position)
            result.add("claims", "unchanged")
            continue
        values = {
            **c.values,
            "key": key,
            "article_id": article_id,
            "position": position,
            "claimant_id": entity_ids[c.claimant] if c.claimant is not None else None,
            "subject_ids": [entity_ids[s] for s in c.subjects] or None,
            "event_keys": [f"{article_key}.{e}" for e in c.events] or None,
            "fingerprint": c.fingerprint,
            "same_as_key": None,
            "provenance_id": provenance_id(conn, c.provenance, ctx),
        }
        if c.same_as is not None:
            values |= {**_copied("claim", copied), "same_as_key": root}
            roots.add(root)
            ctx.reports = True
        else:
            roots.add(key)
        if old is None:
            claim_id = _CLAIM_INSERT.inserted(conn, values)
            added.append(claim_id)
            result.add("claims", "added")
        else:
            claim_id = old.id
            _CLAIM_UPDATE.execute(conn, {"_id": claim_id, **values})
            for statement in _CLAIM_LINK_DELETES:
                statement.execute(conn, {"claim": claim_id})
            result.add("claims", "updated")
        subjects += [(claim_id, entity_ids[s], i) for i, s in enumerate(c.subjects)]
        related += [(claim_id, event_ids[e], i) for i, e in enumerate(c.events)]
        quantities += [(claim_id, i, value, unit) for i, (value, unit) in enumerate(c.quantities)]
        evidence += [
            (
                claim_id,
                i,
                source,
                entity_ids[source_entity] if source_entity else None,
                stance,
                summary,
                url,
                anchor,
                date_,
            )
            for i, (source, source_entity, stance, summary, url, anchor, date_) in enumerate(
                c.evidence
            )
        ]
        if c.same_as is not None:
            continue  # the status and its history are the first report's
        status = c.values["status"]
        seq, recorded = last.get(key, (0, None))
        previous = old.status if old is not None else recorded
        if previous != status:
            rationale = c.values["rationale"]
            history.append((key, seq + 1, status, rationale, now, ctx.actor))
            if previous is not None:
                result.status_changes.append(changes.StatusChange(key, previous, status, rationale))
    fts.index_new_rows(conn, "claim", added)
    _HISTORY_INSERT.insert_values(conn, history)
    _SUBJECT_INSERT.insert_values(conn, subjects)
    _CLAIM_EVENT_INSERT.insert_values(conn, related)
    _EVIDENCE_INSERT.insert_values(conn, evidence)
    _QUANTITY_INSERT.insert_values(conn, quantities)
    _remove_missing(conn, claim_t, existing, set(keys), "claims", result)
    _refresh_reports(conn, "claim", roots, ctx)


def _last_statuses(conn: Connection, claim_keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    """The number and status of each claim id's last recorded change (which outlive the
    claim's row)."""
    if not claim_keys:
        return {}
    statement = _entity_statements(conn.dialect.name)["histories"]
    # In order: each claim's last change comes last.
    return {r[0]: (r[1], r[2]) for r in statement.rows(conn, id_list(conn, claim_keys, "keys"))}


def article_count(session: Session) -> int:
    """How many articles the database holds."""
    return int(
        session.connection().execute(select(func.count()).select_from(article_t)).scalar_one()
    )
