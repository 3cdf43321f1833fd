"""Rules across fact files and against the database: shared entities, references, reports.

An entity is shared by every article that names it, so what one file says of it is checked
against what is stored and what the other files of the run say: a name, kind or
description that differs is refused unless the user asks for the change
(``--update-entities``); external ids only add up (a second value for a scheme is refused);
nothing is erased because a file leaves it out; an entity given by ``id`` alone must exist;
an external id names one entity. A report (``same_as``) must name an event or claim that is
stored or in the run.

The same comparisons run twice: over the whole run before anything is written (every
problem of every file at once, against the database as it is then), and for each article
inside the writer's transaction (``app.ingest.load``), against what is stored at that
moment, so a concurrent ingest cannot get round them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, select

from app.ingest.document import (
    ClaimIn,
    ClaimReportIn,
    EntityIn,
    EventIn,
    EventReportIn,
    FactFile,
    FactFileError,
    PublicId,
    ReadDocument,
    ResolvedArticle,
    Slug,
    valid_or_none,
)
from app.models import claim_t, entity_t, event_t, external_id_t

ENTITY_FIELDS = ("name", "kind", "description")
KEYS_PER_QUERY = 10_000  # well under SQLite's limit on bound parameters
SUGGESTIONS = 3


@dataclass(frozen=True)
class EntityDecl:
    """What one fact file says of one entity (None: it says nothing of that field)."""

    index: int  # position in the file's `entities`
    key: str
    name: str | None
    kind: str | None
    description: str | None
    external_ids: tuple[tuple[str, str], ...]
    # Some of its fields are invalid (its file has errors of its own): it says nothing of
    # them here, and is not taken for a reference for want of a name or a kind.
    partial: bool = False

    @property
    def declares(self) -> bool:
        """Whether it says enough to create the entity."""
        return self.name is not None and self.kind is not None

    @classmethod
    def of(cls, index: int, entity: EntityIn, *, partial: bool = False) -> "EntityDecl":
        return cls(
            index,
            entity.id,
            entity.name,
            entity.kind.value if entity.kind is not None else None,
            entity.description,
            tuple(sorted(entity.external_ids.items())),
            partial,
        )


Facts = Sequence[EventIn | EventReportIn] | Sequence[ClaimIn | ClaimReportIn]


@dataclass(frozen=True)
class Declarations:
    """What the checks across files need of one fact file."""

    path: Path
    article: str | None  # None: a file with errors that gives no valid article id
    digest: str  # the file as checked (see ResolvedArticle.source_sha256)
    entities: tuple[EntityDecl, ...]
    events: tuple[str, ...]  # local ids of the events it reports first
    claims: tuple[str, ...]
    reports: tuple[tuple[str, int, str, str], ...]  # ("events" | "claims", index, id, same_as)

    @property
    def complete(self) -> bool:
        """False: what could be read of a file with errors of its own (never checked whole,
        so it has no digest)."""
        return self.digest != ""

    @classmethod
    def of(cls, doc: ResolvedArticle) -> "Declarations":
        return cls.of_input(
            doc.path,
            doc.article.id,
            doc.source_sha256,
            [e.source for e in doc.entities],
            [e.source for e in doc.events],
            [c.source for c in doc.claims],
        )

    @classmethod
    def of_input(
        cls,
        path: Path,
        article: str,
        digest: str,
        entities: Sequence[EntityIn],
        events: Sequence[EventIn | EventReportIn],
        claims: Sequence[ClaimIn | ClaimReportIn],
    ) -> "Declarations":
        facts: tuple[tuple[str, Facts], ...] = (("events", events), ("claims", claims))
        return cls(
            path,
            article,
            digest,
            tuple(EntityDecl.of(i, e) for i, e in enumerate(entities)),
            tuple(e.id for e in events if not isinstance(e, EventReportIn)),
            tuple(c.id for c in claims if not isinstance(c, ClaimReportIn)),
            tuple(
                (what, i, item.id, item.same_as)
                for what, items in facts
                for i, item in enumerate(items)
                if isinstance(item, EventReportIn | ClaimReportIn)
            ),
        )

    @classmethod
    def of_errors(cls, path: Path, document: ReadDocument) -> "Declarations":
        """What a file with errors of its own declares, as far as it can be read (see
        ``FactFileErrors.document``): the run's checks across files report their problems
        with its own. Nothing declared is dropped for being partly invalid, so the other
        files' references to it are not reported as unknown; what its own errors already
        report (an id given twice, a report of its own article) is left out."""
        if isinstance(document, FactFile):
            found = cls.of_input(
                path,
                document.article.id,
                "",
                document.entities,
                document.events,
                document.claims,
            )
            return replace(
                found,
                entities=_first_of_each(found.entities),
                reports=_of_others(found.article, found.reports),
            )
        data = document or {}
        article = valid_or_none(_SLUG, _items(data.get("article"), dict).get("id"))
        entities = (
            decl
            for i, item in enumerate(_items(data.get("entities"), list))
            if (decl := _raw_entity(i, item)) is not None
        )
        ids: dict[str, list[str]] = {"events": [], "claims": []}
        reports: list[tuple[str, int, str, str]] = []
        for what in ("events", "claims"):
            for i, item in enumerate(_items(data.get(what), list)):
                fields = _items(item, dict)
                key = valid_or_none(_SLUG, fields.get("id"))
                same_as = valid_or_none(_PUBLIC_ID, fields.get("same_as"))
                if same_as is not None:
                    reports.append((what, i, key or "", same_as))
                elif key is not None:  # a fact, or a report too broken to follow
                    ids[what].append(key)
        return cls(
            path,
            article,
            "",
            _first_of_each(entities),
            tuple(ids["events"]),
            tuple(ids["claims"]),
            _of_others(article, reports),
        )


_SLUG: TypeAdapter[str] = TypeAdapter(Slug)
_PUBLIC_ID: TypeAdapter[str] = TypeAdapter(PublicId)
_ENTITY_FIELDS_IN = ("id", *ENTITY_FIELDS, "external_ids")


def _items(value: Any, kind: type[Any]) -> Any:
    """``value`` if it is of ``kind`` (a list or a dict), else an empty one."""
    return value if isinstance(value, kind) else kind()


def _of_others(
    article: str | None, reports: Iterable[tuple[str, int, str, str]]
) -> tuple[tuple[str, int, str, str], ...]:
    """The reports of other articles' facts (one of its own is its file's own error)."""
    own = f"{article}."
    return tuple(r for r in reports if not r[3].startswith(own))


def _first_of_each(entities: Iterable[EntityDecl]) -> tuple[EntityDecl, ...]:
    """The first entry for each entity id (its file's own errors report the others)."""
    first: dict[str, EntityDecl] = {}
    for decl in entities:
        first.setdefault(decl.key, decl)
    return tuple(first.values())


def _raw_entity(index: int, item: Any) -> EntityDecl | None:
    """What an entry of `entities` in a file that did not validate says of its entity: the
    fields that identify it which are valid (None if its id is not)."""
    fields = {k: v for k, v in _items(item, dict).items() if k in _ENTITY_FIELDS_IN}
    given = set(fields)
    while True:
        try:
            entity = EntityIn.model_validate_json(orjson.dumps(fields), strict=True)
        except ValidationError as exc:
            dropped = False
            for error in exc.errors():
                loc = error["loc"]
                if loc and loc[0] == "external_ids" and len(loc) > 1:
                    ids = fields.get("external_ids")
                    if isinstance(ids, dict) and loc[1] in ids:  # that id alone
                        fields["external_ids"] = {k: v for k, v in ids.items() if k != loc[1]}
                        dropped = True
                        continue
                if loc and loc[0] in fields and loc[0] != "id":
                    del fields[str(loc[0])]
                    dropped = True
            if not dropped:  # its id is invalid: nothing can refer to it
                return None
            continue
        # Not taken for a reference when a name or kind it gives is invalid.
        partial = any(f in given and f not in fields for f in ("name", "kind"))
        return EntityDecl.of(index, entity, partial=partial)


@dataclass
class Known:
    """An entity as stored or as the run has declared it so far, and where each value is from."""

    key: str
    values: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # field: (v, where)
    external_ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # scheme: (v, where)

    @classmethod
    def stored(cls, key: str, name: str, kind: str, description: str | None, ids: Any) -> "Known":
        where = "in the database"
        return cls(
            key,
            {"name": (name, where), "kind": (kind, where), "description": (description, where)},
            {s: (v, where) for s, v in (ids or {}).items()},
        )

    @classmethod
    def declared(cls, decl: EntityDecl, where: str) -> "Known":
        return cls(
            decl.key,
            {f: (getattr(decl, f), where) for f in ENTITY_FIELDS},
            {s: (v, where) for s, v in decl.external_ids},
        )


def _q(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(frozen=True)
class Change:
    """One stored value an ingest sets: for the summary."""

    entity: str
    field: str
    old: str | None
    new: str

    def __str__(self) -> str:
        if self.old is None:
            return f"entity {self.entity!r}: {self.field} {_q(self.new)} added"
        return f"entity {self.entity!r}: {self.field} {_q(self.old)} → {_q(self.new)}"


def compare(
    path: Path, decl: EntityDecl, known: Known, *, update: bool
) -> tuple[list[FactFileError], list[Change]]:
    """What ``decl`` would change of the entity as ``known``, and what it may not change.

    A value the file leaves out is kept; one it gives where none is known is added; one that
    differs is refused unless ``update``. External ids add up; another value for a scheme
    already known is a change of the same kind.
    """
    errors: list[FactFileError] = []
    changes: list[Change] = []
    base = f"$.entities[{decl.index}]"
    hint = "pass --update-entities to change it, or leave the field out to keep it"
    for name in ENTITY_FIELDS:
        given = getattr(decl, name)
        old, where = known.values.get(name, (None, ""))
        if given is None or given == old:
            continue
        if old is not None and not update:
            problem = (
                f"entity {decl.key!r} has {name} {_q(old)} {where}; this file gives "
                f"{_q(given)} ({hint})"
            )
            if name == "kind":
                problem += "; if it is a different entity, give it another id"
            errors.append(FactFileError(path, f"{base}.{name}", problem))
            continue
        changes.append(Change(decl.key, name, old, given))
    for scheme, value in decl.external_ids:
        old_id, where = known.external_ids.get(scheme, (None, ""))
        if old_id == value:
            continue
        if old_id is not None and not update:
            errors.append(
                FactFileError(
                    path,
                    f"{base}.external_ids.{scheme}",
                    f"entity {decl.key!r} has {scheme} id {_q(old_id)} {where}; this file gives "
                    f"{_q(value)}: an entity has one id per scheme (pass --update-entities to "
                    "replace it)",
                )
            )
            continue
        changes.append(Change(decl.key, f"{scheme} id", old_id, value))
    return errors, changes


def apply(known: Known, changes: Iterable[Change], where: str) -> None:
    """``known`` as it is once ``changes`` are made by the file ``where``."""
    for change in changes:
        if change.field in ENTITY_FIELDS:
            known.values[change.field] = (change.new, where)
        else:
            known.external_ids[change.field.removesuffix(" id")] = (change.new, where)


def unknown_entity(path: Path, decl: EntityDecl, choices: Sequence[str]) -> FactFileError:
    """An entity given without a name and a kind, which nothing stored or declared matches."""
    missing = " and ".join(f for f in ("name", "kind") if getattr(decl, f) is None)
    return FactFileError(
        path,
        f"$.entities[{decl.index}].id",
        f"unknown entity {decl.key!r}: no stored entity has this id and no file of this run "
        f"declares it{suggest(decl.key, choices)}; to declare a new entity give its {missing}",
    )


def suggest(key: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'a', 'b'?)`` with the closest of ``choices``, or nothing."""
    from rapidfuzz import fuzz, process  # only when an id is unknown: it takes a while to load

    found = process.extract(key, choices, scorer=fuzz.ratio, limit=SUGGESTIONS, score_cutoff=60)
    if not found:
        return ""
    return " (did you mean " + ", ".join(repr(choice) for choice, _, _ in found) + "?)"


def suggest_fact(same_as: str, keys: Sequence[str]) -> str:
    """The closest public ids of an article's events or claims, compared by their own ids."""
    from rapidfuzz import fuzz, process

    article, _, local = same_as.partition(".")
    found = process.extract(
        local,
        [k.partition(".")[2] for k in keys],
        scorer=fuzz.ratio,
        limit=SUGGESTIONS,
        score_cutoff=60,
    )
    if not found:
        return ""
    return " (did you mean " + ", ".join(repr(f"{article}.{c}") for c, _, _ in found) + "?)"


def held_by_another(
    path: Path, decl: EntityDecl, scheme: str, value: str, holder: str
) -> FactFileError:
    return FactFileError(
        path,
        f"$.entities[{decl.index}].external_ids.{scheme}",
        f"{scheme} id {_q(value)} is already that of entity {holder!r}: give {holder!r} as this "
        "entity's id if it is the same entity",
    )


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), KEYS_PER_QUERY):
        yield values[i : i + KEYS_PER_QUERY]


def stored_entities(conn: Connection, keys: Iterable[str]) -> dict[str, Known]:
    """The stored entities with these ids, as ``Known``."""
    out: dict[str, Known] = {}
    columns = (entity_t.c.key, entity_t.c.name, entity_t.c.kind, entity_t.c.description)
    for chunk in _chunks(sorted(set(keys))):
        rows = conn.execute(
            select(*columns, entity_t.c.external_ids).where(entity_t.c.key.in_(chunk))
        )
        for key, name, kind, description, ids in rows:
            out[key] = Known.stored(key, name, kind, description, ids)
    return out


def id_holders(conn: Connection, ids: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Which stored entity holds each (scheme, value) external id."""
    wanted = set(ids)
    out: dict[tuple[str, str], str] = {}
    for chunk in _chunks(sorted({value for _, value in wanted})):
        rows = conn.execute(
            select(external_id_t.c.scheme, external_id_t.c.value, entity_t.c.key)
            .join(entity_t, entity_t.c.id == external_id_t.c.entity_id)
            .where(external_id_t.c.value.in_(chunk))
        )
        for scheme, value, key in rows:
            if (scheme, value) in wanted:
                out[(scheme, value)] = key
    return out


def stored_keys(conn: Connection, table: Any, keys: Iterable[str]) -> dict[str, str | None]:
    """The rows of ``table`` (events or claims) with these public ids: their ``same_as``."""
    out: dict[str, str | None] = {}
    for chunk in _chunks(sorted(set(keys))):
        rows = conn.execute(select(table.c.key, table.c.same_as_key).where(table.c.key.in_(chunk)))
        out.update({key: same_as for key, same_as in rows})  # noqa: C416
    return out


def all_entity_keys(conn: Connection | None) -> list[str]:
    """Every stored entity id (for suggestions: only read when a reference is unknown)."""
    if conn is None:
        return []
    return list(conn.execute(select(entity_t.c.key)).scalars())


def check_run(
    conn: Connection | None, docs: Sequence[Declarations], *, update: bool, unread: bool = False
) -> list[FactFileError]:
    """Every problem of the run's files with each other and with what is stored.

    Files are taken in load order, each seeing what the ones before it would have written.
    ``conn`` may be None: no database yet, so nothing is stored; or, with ``unread``, what is
    stored cannot be read, so only the rules among the run's files are checked (a reference
    the run does not declare may be to a stored entity or fact).
    """
    decls = [d for doc in docs for d in doc.entities]
    stored = stored_entities(conn, (d.key for d in decls)) if conn is not None else {}
    all_ids = {(s, v) for d in decls for s, v in d.external_ids}
    holders = id_holders(conn, all_ids) if conn is not None else {}
    known: dict[str, Known] = dict(stored)
    errors: list[FactFileError] = []
    unknown: list[tuple[Path, EntityDecl]] = []
    for doc in docs:
        where = f"in {doc.path} of this run"
        for decl in doc.entities:
            entity = known.get(decl.key)
            if entity is None:
                if not decl.declares and not decl.partial:
                    unknown.append((doc.path, decl))
                    continue
                entity = known[decl.key] = Known.declared(decl, where)
                changes: list[Change] = []
            else:
                problems, changes = compare(doc.path, decl, entity, update=update)
                errors += problems
                apply(entity, changes, where)
            for scheme, value in decl.external_ids:
                holder = holders.get((scheme, value))
                if holder is not None and holder != decl.key:
                    errors.append(held_by_another(doc.path, decl, scheme, value, holder))
                else:
                    holders[(scheme, value)] = decl.key
    if unknown and not unread:
        choices = sorted(set(all_entity_keys(conn)) | set(known))
        for path, decl in unknown:
            if decl.key in known:  # declared by a later file of the run
                continue
            errors.append(unknown_entity(path, decl, choices))
    errors += _report_problems(conn, docs, unread=unread)
    return errors


def _report_problems(
    conn: Connection | None, docs: Sequence[Declarations], *, unread: bool
) -> list[FactFileError]:
    """Reports whose ``same_as`` names no event or claim stored or in the run (``unread``:
    in the run, for those of its articles; what is stored cannot be read)."""
    in_run = {doc.article: doc for doc in docs if doc.article is not None}
    outside: dict[str, set[str]] = {"events": set(), "claims": set()}
    for doc in docs:
        for what, _, _, same_as in doc.reports:
            article = same_as.partition(".")[0]
            if article not in in_run:
                outside[what].add(same_as)
    found = {
        what: stored_keys(conn, table, outside[what]) if conn is not None else {}
        for what, table in (("events", event_t), ("claims", claim_t))
    }
    errors: list[FactFileError] = []
    for doc in docs:
        for what, index, _, same_as in doc.reports:
            article, _, local = same_as.partition(".")
            noun = what[:-1]
            target = in_run.get(article)
            if target is not None:
                ids = target.events if what == "events" else target.claims
                # A report of a report is a report of the first.
                reported = {i for w, _, i, _ in target.reports if w == what}
                if local in ids or local in reported:
                    continue
                problem = f"no {noun} {local!r} in article {article!r} ({target.path})"
                choices = [f"{article}.{i}" for i in ids]
            elif same_as in found[what] or unread:
                continue
            else:
                problem = f"no {noun} with id {same_as!r} is stored or in this run"
                choices = _article_keys(conn, what, article)
            errors.append(
                FactFileError(
                    doc.path, f"$.{what}[{index}].same_as", problem + suggest_fact(same_as, choices)
                )
            )
    return errors


def _article_keys(conn: Connection | None, what: str, article: str) -> list[str]:
    if conn is None:
        return []
    table = event_t if what == "events" else claim_t
    return list(
        conn.execute(
            select(table.c.key).where(table.c.key.like(f"{article}.%")).limit(1000)
        ).scalars()
    )


def load_order(docs: Sequence[Declarations]) -> tuple[list[int], list[FactFileError]]:
    """The order to load the run's files in: a file reporting another's event or claim
    (``same_as``) after that file, otherwise as given. Files that report each other's facts
    in a circle cannot be ordered: an error for each."""
    index = {doc.article: i for i, doc in enumerate(docs) if doc.article is not None}
    after: dict[int, set[int]] = {i: set() for i in range(len(docs))}
    for i, doc in enumerate(docs):
        for _, _, _, same_as in doc.reports:
            j = index.get(same_as.partition(".")[0])
            if j is not None and j != i:
                after[i].add(j)
    order: list[int] = []
    state: dict[int, int] = {}  # 1: being placed, 2: placed
    errors: list[FactFileError] = []

    def place(i: int, trail: list[int]) -> None:
        if state.get(i) == 2:
            return
        if state.get(i) == 1:
            circle = trail[trail.index(i) :]
            names = " → ".join(str(docs[j].article) for j in [*circle, i])
            errors.append(
                FactFileError(
                    docs[i].path,
                    "$",
                    f"these articles report each other's facts in a circle ({names}): load "
                    "them in separate runs, the first reported first",
                )
            )
            return
        state[i] = 1
        for j in sorted(after[i]):
            place(j, [*trail, i])
        state[i] = 2
        order.append(i)

    for i in range(len(docs)):
        place(i, [])
    return order, errors


def first_declarations(docs: Sequence[Declarations]) -> dict[str, EntityDecl]:
    """Each entity id declared (with a name and a kind) in the run, as its first file gives it:
    a file loaded before that one may refer to it, and it is created then."""
    out: dict[str, EntityDecl] = {}
    for doc in docs:
        for decl in doc.entities:
            if decl.declares:
                out.setdefault(decl.key, decl)
    return out
