"""The fact file: one JSON document per article, format ``article-facts/1``.

Authors anchor facts by quoting the article's words; :func:`read_fact_file`
validates the document, finds every quote in the exact article text, and returns
a :class:`ResolvedArticle` whose anchors carry code-point offsets. Nothing here
touches the database.
"""

import calendar
import codecs
import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

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

FORMAT = "article-facts/1"
# ASCII classes only: pydantic's regex engine reads \d as any Unicode digit.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
PARTIAL_DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
LANGUAGE_TAG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
# A slug is stored as an entity id or a participant role (columns of 200 and 120
# characters), and an article id and an event or claim id are joined into a public id
# '<article>.<id>' (a column of 400): 120 fits them all.
SLUG_MAX_LENGTH = 120
LANGUAGE_TAG_MAX_LENGTH = 35  # the language columns

Slug = Annotated[
    str,
    Field(
        pattern=SLUG_PATTERN,
        max_length=SLUG_MAX_LENGTH,
        description="Lower-case letters, digits, '-' and '_'; starts with a letter or digit.",
    ),
]
PartialDate = Annotated[
    str,
    Field(
        pattern=PARTIAL_DATE_PATTERN,
        description="An ISO 8601 date, month or year: 2024-10-06, 2024-11 or 2024.",
        examples=["2024-10-06", "2024-11", "2024"],
    ),
]
LanguageTag = Annotated[
    str,
    Field(
        pattern=LANGUAGE_TAG_PATTERN,
        max_length=LANGUAGE_TAG_MAX_LENGTH,
        description="A BCP 47 language tag, e.g. `en`, `ru` or `kk-Cyrl`.",
        examples=["en"],
    ),
]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuoteIn(_Input):
    """Words quoted from the article; `occurrence` picks one when they appear more than once."""

    quote: NonEmpty = Field(description="The exact words as they appear in the article text.")
    occurrence: int | None = Field(
        default=None,
        ge=1,
        description="Which occurrence of the quote (1 = first). Required when the quote repeats.",
    )


def _quote_shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"quote": value}
    if isinstance(value, dict | QuoteIn):
        return value
    raise ValueError("a quote is a string, or an object with 'quote' and 'occurrence'")


_QUOTE_SCHEMA = {
    "type": "object",
    "properties": {
        "quote": {"type": "string", "minLength": 1},
        "occurrence": {"type": "integer", "minimum": 1},
    },
    "required": ["quote"],
    "additionalProperties": False,
}

# A quote is written as a plain string, or as an object when it needs an occurrence.
AnchorIn = Annotated[
    QuoteIn,
    BeforeValidator(_quote_shorthand),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "minLength": 1}, _QUOTE_SCHEMA],
            "description": "A quote: a string, or an object with `quote` and `occurrence`.",
        }
    ),
]


class ArticleIn(_Input):
    id: Slug = Field(description="Stable public id of the article; it appears in URLs.")
    title: NonEmpty | None = Field(
        default=None, description="Headline. Defaults to the first line of the text."
    )
    text: str | None = Field(default=None, description="The full article text, exactly.")
    text_file: NonEmpty | None = Field(
        default=None,
        description=(
            "Path of a UTF-8 file holding the exact text, relative to the fact file and inside "
            "its folder. A byte order mark at the start of the file is not part of the text."
        ),
    )
    url: NonEmpty | None = None
    publisher: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    published: dt.date | None = Field(
        default=None, description="Publication date, an ISO 8601 date string: 2024-10-17."
    )
    language: LanguageTag | None = Field(
        default=None, description="BCP 47 language tag of the text, e.g. `en`."
    )

    @model_validator(mode="after")
    def _one_text(self) -> "ArticleIn":
        if (self.text is None) == (self.text_file is None):
            raise ValueError("give exactly one of 'text' or 'text_file'")
        return self


class AliasIn(_Input):
    name: NonEmpty
    language: LanguageTag | None = None


class EntityIn(_Input):
    id: Slug = Field(description="Stable id, shared by every article that names the entity.")
    name: NonEmpty = Field(description="Canonical name.")
    kind: EntityKind
    description: NonEmpty | None = None
    aliases: list[AliasIn] = Field(default_factory=list)
    external_ids: dict[Slug, NonEmpty] = Field(
        default_factory=dict, description="Ids in other knowledge bases, e.g. {'wikidata': 'Q1'}."
    )
    mentions: list[AnchorIn] = Field(
        default_factory=list, description="Every place the article names the entity."
    )


class RelationIn(_Input):
    subject: Slug = Field(description="Entity id.")
    predicate: RelationPredicate
    object: Slug = Field(description="Entity id.")
    anchors: list[AnchorIn] = Field(default_factory=list)


class TimeIn(_Input):
    """When an event happened: one (partial) date, or an interval of them."""

    date: PartialDate | None = Field(
        default=None, description="A single day, month or year; its form sets the precision."
    )
    start: PartialDate | None = Field(default=None, description="Interval start (inclusive).")
    end: PartialDate | None = Field(default=None, description="Interval end (inclusive).")
    anchor: AnchorIn | None = Field(
        default=None, description="The time expression in the text, e.g. 'On Oct. 6'."
    )
    note: NonEmpty | None = Field(
        default=None, description="How the date was resolved, especially when the text has none."
    )

    @model_validator(mode="after")
    def _shape(self) -> "TimeIn":
        if self.date is not None and (self.start is not None or self.end is not None):
            raise ValueError("give either 'date' or 'start'/'end', not both")
        if self.date is None and self.start is None and self.end is None:
            raise ValueError("give 'date', or 'start' and/or 'end'")
        return self


class ParticipantIn(_Input):
    entity: Slug
    role: Slug = Field(description="The entity's role, e.g. requester, invitee, organizer.")


class EventIn(_Input):
    id: Slug = Field(description="Id unique within the article; public id is '<article>.<id>'.")
    kind: EventKind
    summary: NonEmpty = Field(description="What happened, in one line.")
    time: TimeIn | None = None
    location: Slug | None = Field(default=None, description="Entity id of the place.")
    participants: list[ParticipantIn] = Field(default_factory=list)
    modality: EventModality = EventModality.occurred
    status: VerificationStatus
    anchors: list[AnchorIn] = Field(min_length=1)


class EvidenceIn(_Input):
    """Evidence on a claim: its source, its stance, and the article's words or a URL."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("anchor", "url")
            ]
        }
    )

    source: NonEmpty = Field(description="Who or what the evidence comes from.")
    source_entity: Slug | None = Field(default=None, description="Entity id of the source.")
    stance: EvidenceStance
    summary: NonEmpty | None = None
    url: NonEmpty | None = None
    anchor: AnchorIn | None = Field(default=None, description="Where the article itself says it.")
    date: dt.date | None = Field(default=None, description="An ISO 8601 date string: 2024-10-17.")

    @model_validator(mode="after")
    def _anchor_or_url(self) -> "EvidenceIn":
        if self.anchor is None and self.url is None:
            raise ValueError("give an 'anchor' (words of this article) or a 'url'")
        return self


class ClaimIn(_Input):
    id: Slug = Field(description="Id unique within the article; public id is '<article>.<id>'.")
    text: NonEmpty = Field(description="The claim in one plain sentence.")
    kind: ClaimKind
    claimant: Slug = Field(description="Entity id of who makes the claim.")
    attribution: AnchorIn | None = Field(
        default=None,
        description="The attribution in the text: 'according to …', 'the letter states'.",
    )
    subjects: list[Slug] = Field(default_factory=list, description="Entity ids the claim is about.")
    events: list[Slug] = Field(default_factory=list, description="Ids of related events.")
    status: VerificationStatus
    rationale: NonEmpty = Field(description="Why the claim has this status, in one line.")
    hedge: AnchorIn | None = Field(
        default=None,
        description="The article's own hedging cue, e.g. 'no response had been received'.",
    )
    anchors: list[AnchorIn] = Field(min_length=1)
    evidence: list[EvidenceIn] = Field(default_factory=list)


class FactFile(_Input):
    """An article and the facts extracted from it."""

    # No populate_by_name: the file says "$schema", never the Python name "schema_".
    model_config = ConfigDict(extra="forbid", frozen=True, title="article-facts fact file")

    schema_: str | None = Field(default=None, alias="$schema")
    format: Literal["article-facts/1"]
    article: ArticleIn
    entities: list[EntityIn] = Field(default_factory=list)
    relations: list[RelationIn] = Field(default_factory=list)
    events: list[EventIn] = Field(default_factory=list)
    claims: list[ClaimIn] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of the fact file format."""
    schema = FactFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://article-facts.dev/schema/article-facts-1.json"
    return schema


# --- resolved form ---------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    exact: str

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "exact": self.exact}


@dataclass(frozen=True)
class ResolvedTime:
    start: dt.date | None
    end: dt.date | None
    precision: TimePrecision
    anchor: Anchor | None
    note: str | None


@dataclass(frozen=True)
class ResolvedEntity:
    source: EntityIn
    mentions: list[Anchor]


@dataclass(frozen=True)
class ResolvedRelation:
    source: RelationIn
    anchors: list[Anchor]


@dataclass(frozen=True)
class ResolvedEvent:
    source: EventIn
    time: ResolvedTime | None
    anchors: list[Anchor]


@dataclass(frozen=True)
class ResolvedEvidence:
    source: EvidenceIn
    anchor: Anchor | None


@dataclass(frozen=True)
class ResolvedClaim:
    source: ClaimIn
    attribution: Anchor | None
    hedge: Anchor | None
    anchors: list[Anchor]
    evidence: list[ResolvedEvidence]


@dataclass(frozen=True)
class ResolvedArticle:
    """A validated fact file with every anchor located in the exact text."""

    path: Path
    source_sha256: str
    article: ArticleIn
    title: str
    text: str
    entities: list[ResolvedEntity] = field(default_factory=list)
    relations: list[ResolvedRelation] = field(default_factory=list)
    events: list[ResolvedEvent] = field(default_factory=list)
    claims: list[ResolvedClaim] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


# --- errors ----------------------------------------------------------------


class FactFileError(Exception):
    """A fact file that cannot be loaded: which file, where in it, and what is wrong."""

    def __init__(self, path: Path | str, where: str, problem: str) -> None:
        super().__init__(f"{path}: {where}: {problem}")
        self.path = str(path)
        self.where = where
        self.problem = problem


class FactFileErrors(Exception):
    """Every problem found in one fact file (reported together, one per line)."""

    def __init__(self, errors: Sequence[FactFileError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


def json_path(loc: Sequence[str | int]) -> str:
    """A Pydantic error location as a JSON path: ('claims', 3, 'status') -> $.claims[3].status."""
    out = "$"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f"[{orjson.dumps(part).decode()}]"
    return out


_SHOW_INPUT = {"literal_error", "enum", "string_pattern_mismatch"}


def _shown(value: Any, limit: int = 80) -> str:
    """A JSON value as JSON, cut short when long."""
    shown = orjson.dumps(value).decode()
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _pydantic_errors(path: Path, exc: ValidationError) -> list[FactFileError]:
    seen: set[tuple[str, str]] = set()
    errors: list[FactFileError] = []
    for err in exc.errors(include_url=False):
        where = json_path(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        kind = err["type"]
        if kind in ("extra_forbidden", "missing"):
            message = "unknown field" if kind == "extra_forbidden" else "field required"
        elif (kind in _SHOW_INPUT or kind.endswith(("_type", "_parsing"))) and isinstance(
            err["input"], str | int | float | bool | None
        ):
            message = f"{message} (got {_shown(err['input'])})"
        if (where, message) in seen:
            continue
        seen.add((where, message))
        errors.append(FactFileError(path, where, message))
    return errors


def _nul_errors(path: Path, data: Any) -> list[FactFileError]:
    """Every string (or object key) holding a NUL character, in document order."""
    errors: list[FactFileError] = []
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                errors.append(
                    FactFileError(path, json_path(loc), "must not contain NUL characters")
                )
        elif isinstance(value, dict):
            for key in value:
                if "\x00" in key:
                    errors.append(
                        FactFileError(
                            path, json_path([*loc, key]), "a key must not contain NUL characters"
                        )
                    )
            stack.extend((v, [*loc, k]) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, [*loc, i]) for i, v in reversed(list(enumerate(value))))
    return errors


# --- reading and resolving -------------------------------------------------


def _date_bounds(value: str) -> tuple[dt.date, dt.date, TimePrecision]:
    """First and last day a partial ISO date covers, and its precision. Raises ValueError."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31), TimePrecision.year
    if len(parts) == 2:
        year, month = parts
        last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
        return dt.date(year, month, 1), dt.date(year, month, last), TimePrecision.month
    day = dt.date(*parts)
    return day, day, TimePrecision.day


_PRECISION_ORDER = [TimePrecision.day, TimePrecision.month, TimePrecision.year]


class _Resolver:
    """Locates quotes in the text and checks references, collecting every error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.errors: list[FactFileError] = []
        # Where each quote occurs: an article quotes the same names many times.
        self._found: dict[str, list[int]] = {}

    def error(self, loc: Sequence[str | int], problem: str) -> None:
        self.errors.append(FactFileError(self.path, json_path(loc), problem))

    def _occurrences(self, quote: str) -> list[int]:
        starts = self._found.get(quote)
        if starts is None:
            starts = self._found[quote] = []
            find = self.text.find
            start = find(quote)
            while start != -1:
                starts.append(start)
                start = find(quote, start + 1)
        return starts

    def anchor(self, value: QuoteIn, loc: Sequence[str | int]) -> Anchor | None:
        quote, occurrence = value.quote, value.occurrence
        starts = self._occurrences(quote)
        if occurrence is None and len(starts) == 1:
            return Anchor(starts[0], starts[0] + len(quote), quote)
        shown = orjson.dumps(quote).decode()
        if not starts:
            self.error(loc, f"quote {shown} is not in the article text")
            return None
        if occurrence is None:
            self.error(
                loc,
                f"quote {shown} occurs {len(starts)} times in the article text; "
                f'add "occurrence" (1 to {len(starts)}) to say which',
            )
            return None
        if occurrence > len(starts):
            times = "once" if len(starts) == 1 else f"{len(starts)} times"
            self.error(loc, f"quote {shown} occurs only {times}, not {occurrence}")
            return None
        start = starts[occurrence - 1]
        return Anchor(start, start + len(quote), quote)

    def anchors(self, values: Sequence[QuoteIn], loc: Sequence[str | int]) -> list[Anchor]:
        """Resolve a list of quotes; two that land on the same words are an error."""
        found: list[Anchor] = []
        first: dict[tuple[int, int], int] = {}
        for i, value in enumerate(values):
            anchor = self.anchor(value, [*loc, i])
            if anchor is None:
                continue
            span = (anchor.start, anchor.end)
            if span in first:
                self.error(
                    [*loc, i],
                    f"same words as {loc[-1]}[{first[span]}] "
                    f"({orjson.dumps(anchor.exact).decode()} at {anchor.start})",
                )
                continue
            first[span] = i
            found.append(anchor)
        return found

    def optional_anchor(self, value: QuoteIn | None, loc: Sequence[str | int]) -> Anchor | None:
        return None if value is None else self.anchor(value, loc)

    def time(self, value: TimeIn, loc: Sequence[str | int]) -> ResolvedTime | None:
        anchor = self.optional_anchor(value.anchor, [*loc, "anchor"])
        bounds: dict[str, tuple[dt.date, dt.date, TimePrecision]] = {}
        for name in ("date", "start", "end"):
            raw = getattr(value, name)
            if raw is None:
                continue
            try:
                bounds[name] = _date_bounds(raw)
            except ValueError:
                self.error([*loc, name], f"{raw!r} is not a valid date")
        if len(bounds) != sum(getattr(value, n) is not None for n in ("date", "start", "end")):
            return None
        if "date" in bounds:
            first, last, precision = bounds["date"]
            return ResolvedTime(first, last, precision, anchor, value.note)
        start: dt.date | None = bounds["start"][0] if "start" in bounds else None
        end: dt.date | None = bounds["end"][1] if "end" in bounds else None
        if start is not None and end is not None and start > end:
            self.error(loc, f"start {value.start} is after end {value.end}")
            return None
        precision = max((b[2] for b in bounds.values()), key=_PRECISION_ORDER.index)
        return ResolvedTime(start, end, precision, anchor, value.note)

    def unique_ids(
        self, items: Sequence[EntityIn | EventIn | ClaimIn], what: str, noun: str
    ) -> set[str]:
        ids: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in ids:
                self.error(
                    [what, i, "id"],
                    f"duplicate {noun} id {item.id!r} (first used at {what}[{ids[item.id]}])",
                )
            else:
                ids[item.id] = i
        return set(ids)

    def ref(self, value: str | None, known: set[str], what: str, loc: Sequence[str | int]) -> None:
        if value is not None and value not in known:
            self.error(loc, f"{what} {value!r} is not defined in this file")


def _read_text(path: Path, article: ArticleIn) -> str:
    """The article text, inline or from its file (inside the fact file's folder).

    A UTF-8 byte order mark at the start of the file is not part of the text. Raises
    FactFileError.
    """
    if article.text is not None:
        return article.text
    assert article.text_file is not None
    where = "$.article.text_file"
    name = article.text_file
    try:
        folder = path.parent.resolve()
        text_path = (path.parent / name).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise FactFileError(path, where, f"cannot read {name!r}: {exc}") from None
    if not text_path.is_relative_to(folder):
        raise FactFileError(
            path, where, f"must be a path inside the fact file's folder (got {name!r})"
        )
    try:
        raw = text_path.read_bytes()
    except OSError as exc:
        raise FactFileError(path, where, f"cannot read {name!r}: {exc.strerror}") from None
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FactFileError(
            path, where, f"{name!r} is not valid UTF-8 (byte {skip + exc.start})"
        ) from None
    nul = text.find("\x00")
    if nul != -1:
        raise FactFileError(path, where, f"{name!r} contains a NUL character at offset {nul}")
    return text


def parse_fact_file(path: Path, raw: bytes) -> FactFile:
    """Parse and validate the JSON of a fact file. Raises FactFileErrors.

    Validation is strict: a date is an ISO 8601 date string, a number is not a string
    and a boolean is not a number; no string may hold a NUL character.
    """
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise FactFileErrors([FactFileError(path, where, f"invalid JSON: {exc.msg}")]) from None
    if not isinstance(data, dict):
        raise FactFileErrors([FactFileError(path, "$", "a fact file is a JSON object")])
    if data.get("format") != FORMAT:
        got = _shown(data.get("format"))
        raise FactFileErrors([FactFileError(path, "$.format", f"expected {FORMAT!r} (got {got})")])
    # JSON writes a NUL as the escape \u0000: a file without one holds none.
    errors = _nul_errors(path, data) if b"\\u0000" in raw else []
    try:
        doc = FactFile.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise FactFileErrors(errors + _pydantic_errors(path, exc)) from None
    if errors:
        raise FactFileErrors(errors)
    return doc


def resolve(path: Path, doc: FactFile, text: str, source_sha256: str) -> ResolvedArticle:
    """Locate every anchor in the text and check every reference. Raises FactFileErrors."""
    r = _Resolver(path, text)
    entity_ids = r.unique_ids(doc.entities, "entities", "entity")
    event_ids = r.unique_ids(doc.events, "events", "event")
    r.unique_ids(doc.claims, "claims", "claim")

    entities = [
        ResolvedEntity(e, r.anchors(e.mentions, ["entities", i, "mentions"]))
        for i, e in enumerate(doc.entities)
    ]
    relations = []
    triples: dict[tuple[str, str, str], int] = {}
    for i, rel in enumerate(doc.relations):
        r.ref(rel.subject, entity_ids, "entity", ["relations", i, "subject"])
        r.ref(rel.object, entity_ids, "entity", ["relations", i, "object"])
        triple = (rel.subject, rel.predicate.value, rel.object)
        if rel.subject == rel.object:
            r.error(["relations", i, "object"], "a relation needs two different entities")
        elif triple in triples:
            r.error(
                ["relations", i],
                f"{rel.subject!r} {rel.predicate.value} {rel.object!r} is listed twice "
                f"(first at relations[{triples[triple]}])",
            )
        else:
            triples[triple] = i
        relations.append(ResolvedRelation(rel, r.anchors(rel.anchors, ["relations", i, "anchors"])))

    events = []
    for i, ev in enumerate(doc.events):
        loc: list[str | int] = ["events", i]
        r.ref(ev.location, entity_ids, "entity", [*loc, "location"])
        for j, p in enumerate(ev.participants):
            r.ref(p.entity, entity_ids, "entity", [*loc, "participants", j, "entity"])
        time = r.time(ev.time, [*loc, "time"]) if ev.time is not None else None
        events.append(ResolvedEvent(ev, time, r.anchors(ev.anchors, [*loc, "anchors"])))

    claims = []
    for i, c in enumerate(doc.claims):
        loc = ["claims", i]
        r.ref(c.claimant, entity_ids, "entity", [*loc, "claimant"])
        for j, s in enumerate(c.subjects):
            r.ref(s, entity_ids, "entity", [*loc, "subjects", j])
        for j, e in enumerate(c.events):
            r.ref(e, event_ids, "event", [*loc, "events", j])
        evidence = []
        for j, ev_in in enumerate(c.evidence):
            r.ref(ev_in.source_entity, entity_ids, "entity", [*loc, "evidence", j, "source_entity"])
            evidence.append(
                ResolvedEvidence(
                    ev_in, r.optional_anchor(ev_in.anchor, [*loc, "evidence", j, "anchor"])
                )
            )
        claims.append(
            ResolvedClaim(
                c,
                attribution=r.optional_anchor(c.attribution, [*loc, "attribution"]),
                hedge=r.optional_anchor(c.hedge, [*loc, "hedge"]),
                anchors=r.anchors(c.anchors, [*loc, "anchors"]),
                evidence=evidence,
            )
        )
    _check_duplicate_refs(r, doc)

    if r.errors:
        raise FactFileErrors(r.errors)
    # The first line, without a byte order mark (an inline text may still start with one).
    title = doc.article.title or text.split("\n", 1)[0].strip().lstrip("\ufeff").strip()
    if not title:
        raise FactFileErrors(
            [
                FactFileError(
                    path, "$.article.title", "no title given and the text's first line is empty"
                )
            ]
        )
    return ResolvedArticle(
        path=path,
        source_sha256=source_sha256,
        article=doc.article,
        title=title,
        text=text,
        entities=entities,
        relations=relations,
        events=events,
        claims=claims,
    )


def _check_duplicate_refs(r: _Resolver, doc: FactFile) -> None:
    for i, c in enumerate(doc.claims):
        for what, values in (("subjects", c.subjects), ("events", c.events)):
            seen: set[str] = set()
            for j, v in enumerate(values):
                if v in seen:
                    r.error(["claims", i, what, j], f"{v!r} is listed twice")
                seen.add(v)
    for i, ev in enumerate(doc.events):
        pairs: set[tuple[str, str]] = set()
        for j, p in enumerate(ev.participants):
            if (p.entity, p.role) in pairs:
                r.error(
                    ["events", i, "participants", j], f"{p.entity!r} as {p.role!r} is listed twice"
                )
            pairs.add((p.entity, p.role))


def read_fact_file(path: Path) -> ResolvedArticle:
    """Read, validate and resolve one fact file. Raises FactFileErrors naming the problems."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FactFileErrors(
            [FactFileError(path, "$", f"cannot read file: {exc.strerror}")]
        ) from None
    doc = parse_fact_file(path, raw)
    try:
        text = _read_text(path, doc.article)
    except FactFileError as exc:
        raise FactFileErrors([exc]) from None
    digest = hashlib.sha256(raw + b"\0" + text.encode("utf-8")).hexdigest()
    return resolve(path, doc, text, digest)
