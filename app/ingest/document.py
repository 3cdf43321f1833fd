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
import json
import os
import re
import stat
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
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
    """Words quoted from the article; `occurrence`, or `prefix` and `suffix`, pick one when
    they appear more than once."""

    quote: NonEmpty = Field(description="The exact words as they appear in the article text.")
    occurrence: int | None = Field(
        default=None,
        ge=1,
        description="Which appearance of the quote (1 = first, counting every appearance, "
        "inside longer words too).",
    )
    prefix: NonEmpty | None = Field(
        default=None,
        description="The text just before the quote (W3C TextQuoteSelector `prefix`): picks "
        "the appearance it precedes.",
    )
    suffix: NonEmpty | None = Field(
        default=None,
        description="The text just after the quote (W3C TextQuoteSelector `suffix`).",
    )

    @model_validator(mode="after")
    def _one_way(self) -> "QuoteIn":
        if self.occurrence is not None and (self.prefix is not None or self.suffix is not None):
            raise ValueError("give 'occurrence' or 'prefix'/'suffix' to pick the words, not both")
        return self


def _quote_shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"quote": value}
    if isinstance(value, dict | QuoteIn):
        return value
    raise ValueError(
        "a quote is a string, or an object with 'quote' and 'occurrence' or 'prefix'/'suffix'"
    )


_QUOTE_SCHEMA = {
    "type": "object",
    "properties": {
        "quote": {"type": "string", "minLength": 1},
        "occurrence": {"type": "integer", "minimum": 1},
        "prefix": {"type": "string", "minLength": 1},
        "suffix": {"type": "string", "minLength": 1},
    },
    "required": ["quote"],
    "additionalProperties": False,
    "not": {
        "anyOf": [{"required": ["occurrence", "prefix"]}, {"required": ["occurrence", "suffix"]}]
    },
}

# A quote is written as a plain string, or as an object when it needs to say which
# appearance it is.
AnchorIn = Annotated[
    QuoteIn,
    BeforeValidator(_quote_shorthand),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "minLength": 1}, _QUOTE_SCHEMA],
            "description": "A quote: the exact words as a string, or an object with `quote` "
            "and either `occurrence` (1-based) or `prefix`/`suffix` (the text just before / "
            "after it) to say which appearance.",
        }
    ),
]
Short = Annotated[str, Field(min_length=1, max_length=200)]


class ProvenanceIn(_Input):
    """Who or what wrote the facts, and whether a person has reviewed them."""

    extractor: Short = Field(
        description="What wrote the facts: `person`, or a tool or pipeline's name.",
        examples=["article-facts draft"],
    )
    extractor_version: Short | None = None
    model: Short | None = Field(default=None, description="The language or NLP model used.")
    model_version: Short | None = None
    reviewed: bool = Field(description="Whether a person has reviewed the facts.")


class ProvenanceOverride(_Input):
    """A fact's own provenance: its fields replace those of the file's `provenance`."""

    extractor: Short | None = None
    extractor_version: Short | None = None
    model: Short | None = None
    model_version: Short | None = None
    reviewed: bool | None = None


class ArticleIn(_Input):
    model_config = ConfigDict(
        json_schema_extra={
            # Exactly one of `text` and `text_file` (ingest says so too).
            "oneOf": [
                {"required": ["text"], "not": {"required": ["text_file"]}},
                {"required": ["text_file"], "not": {"required": ["text"]}},
            ]
        }
    )

    id: Slug = Field(description="Stable public id of the article; it appears in URLs.")
    title: NonEmpty | None = Field(
        default=None, description="Headline. Defaults to the first line of the text."
    )
    text: str | None = Field(
        default=None,
        description="The full article text, exactly (give this or `text_file`). A byte order "
        "mark at its start is not part of the text.",
    )
    text_file: NonEmpty | None = Field(
        default=None,
        description=(
            "Path of a UTF-8 file holding the exact text, relative to the fact file and inside "
            "its folder (give this or `text`). A byte order mark at the start of the file is not "
            "part of the text."
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
    """An entity this article names: declared (with `name` and `kind`), or a reference to one
    already stored or declared by another file of the same run (`id` alone, plus this
    article's mentions and aliases). Values given for a stored entity must match it."""

    id: Slug = Field(description="Stable id, shared by every article that names the entity.")
    name: NonEmpty | None = Field(
        default=None, description="Canonical name; required to declare a new entity."
    )
    kind: EntityKind | None = Field(
        default=None, description="What the entity is; required to declare a new entity."
    )
    description: NonEmpty | None = None
    aliases: list[AliasIn] = Field(default_factory=list)
    external_ids: dict[Slug, NonEmpty] = Field(
        default_factory=dict,
        description="Ids in other knowledge bases, e.g. {'wikidata': 'Q1'}; they add to the "
        "stored ones.",
    )
    mentions: list[AnchorIn] = Field(
        default_factory=list, description="Every place the article names the entity."
    )
    provenance: ProvenanceOverride | None = None


class RelationIn(_Input):
    subject: Slug = Field(description="Entity id.")
    predicate: RelationPredicate
    object: Slug = Field(description="Entity id.")
    anchors: list[AnchorIn] = Field(default_factory=list)
    provenance: ProvenanceOverride | None = None


class TimeIn(_Input):
    """When an event happened: one (partial) date, an interval of them, or only a note."""

    date: PartialDate | None = Field(
        default=None, description="A single day, month or year; its form sets the precision."
    )
    start: PartialDate | None = Field(default=None, description="Interval start (inclusive).")
    end: PartialDate | None = Field(default=None, description="Interval end (inclusive).")
    anchor: AnchorIn | None = Field(
        default=None, description="The time expression in the text, e.g. 'On Oct. 6'."
    )
    note: NonEmpty | None = Field(
        default=None,
        description="How the date was resolved; alone, what is known of a time the text does "
        "not date ('before publication').",
    )

    @model_validator(mode="after")
    def _shape(self) -> "TimeIn":
        if self.date is not None and (self.start is not None or self.end is not None):
            raise ValueError("give either 'date' or 'start'/'end', not both")
        if self.date is None and self.start is None and self.end is None and self.note is None:
            raise ValueError("give 'date', or 'start' and/or 'end', or at least a 'note'")
        return self


class ParticipantIn(_Input):
    entity: Slug
    role: Slug = Field(description="The entity's role, e.g. requester, invitee, organizer.")


PublicId = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*\.[a-z0-9][a-z0-9_-]*$",
        max_length=2 * SLUG_MAX_LENGTH + 1,
        description="The public id of an event or claim of another article: `<article id>.<id>`.",
    ),
]


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
    provenance: ProvenanceOverride | None = None


class EventReportIn(_Input):
    """This article's report of an event another article reported first: the event is
    theirs (kind, summary, time, place, status); the anchors are this article's words."""

    id: Slug = Field(description="Id unique within the article; public id is '<article>.<id>'.")
    same_as: PublicId
    anchors: list[AnchorIn] = Field(min_length=1)
    provenance: ProvenanceOverride | None = None


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


class UnnamedClaimantIn(_Input):
    """A source the article does not name ("a source familiar with the matter"): described
    in the article's words, not an entity."""

    unnamed: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="Who the source is, as the article describes it.",
        examples=["some Kazakhs concerned about safety"],
    )
    anchor: AnchorIn | None = Field(
        default=None,
        description="The words of the article that describe the source. Give them whenever the "
        "article has some; a claim in the article's own voice by an outlet the file does not "
        "name (a machine draft without its publisher) has none.",
    )


Unit = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^\S(.*\S)?$",
        description="What the value counts: `percent`, `people`, an ISO 4217 currency code "
        "(`USD`), an SI unit (`MW`)…",
        examples=["percent"],
    ),
]


class QuantityIn(_Input):
    """A number a claim states, with its unit and the words that state it."""

    value: float = Field(description="The number, as a JSON number: 71.12, 20000000.")
    unit: Unit
    anchor: AnchorIn = Field(description="The words that state it, e.g. '71.12%'.")


class ClaimIn(_Input):
    id: Slug = Field(description="Id unique within the article; public id is '<article>.<id>'.")
    text: NonEmpty = Field(description="The claim in one plain sentence.")
    kind: ClaimKind
    claimant: Slug | UnnamedClaimantIn = Field(
        description="Entity id of who makes the claim, or an unnamed source."
    )
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
    quantities: list[QuantityIn] = Field(
        default_factory=list, description="Numbers the claim states, each anchored."
    )
    provenance: ProvenanceOverride | None = None


class ClaimReportIn(_Input):
    """This article's report of a claim another article reported first: the claim is
    theirs (text, claimant, status, evidence); anchors, attribution and hedge are this
    article's words."""

    id: Slug = Field(description="Id unique within the article; public id is '<article>.<id>'.")
    same_as: PublicId
    attribution: AnchorIn | None = None
    hedge: AnchorIn | None = None
    anchors: list[AnchorIn] = Field(min_length=1)
    provenance: ProvenanceOverride | None = None


def _fact_or_report(value: Any) -> str:
    if isinstance(value, dict):
        return "report" if "same_as" in value else "fact"
    return "report" if isinstance(value, EventReportIn | ClaimReportIn) else "fact"


EventEntry = Annotated[
    Annotated[EventIn, Tag("fact")] | Annotated[EventReportIn, Tag("report")],
    Discriminator(_fact_or_report),
]
ClaimEntry = Annotated[
    Annotated[ClaimIn, Tag("fact")] | Annotated[ClaimReportIn, Tag("report")],
    Discriminator(_fact_or_report),
]
_UNION_TAGS = ("fact", "report")


class FactFile(_Input):
    """An article and the facts extracted from it."""

    # No populate_by_name: the file says "$schema", never the Python name "schema_".
    model_config = ConfigDict(extra="forbid", frozen=True, title="article-facts fact file")

    schema_: str | None = Field(default=None, alias="$schema")
    format: Literal["article-facts/1"]
    provenance: ProvenanceIn | None = Field(
        default=None,
        description="Who or what wrote this file's facts. Without it, a person wrote them "
        '(`{"extractor": "person", "reviewed": true}`).',
    )
    article: ArticleIn
    entities: list[EntityIn] = Field(default_factory=list)
    relations: list[RelationIn] = Field(default_factory=list)
    events: list[EventEntry] = Field(default_factory=list)
    claims: list[ClaimEntry] = Field(default_factory=list)


def _vocabulary_schema(vocabulary: Any) -> dict[str, Any]:
    """A closed vocabulary as JSON Schema: each value a `const` with its definition."""
    return {
        "title": vocabulary.enum.__name__,
        "description": vocabulary.description,
        "type": "string",
        "oneOf": [
            {"const": v["value"], "description": v["definition"]} for v in vocabulary.values()
        ],
    }


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of the fact file format."""
    from app.vocabularies import VOCABULARIES

    schema = FactFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://article-facts.dev/schema/article-facts-1.json"
    definitions = schema.get("$defs", {})
    for vocabulary in VOCABULARIES:
        name = vocabulary.enum.__name__
        if name in definitions:
            definitions[name] = _vocabulary_schema(vocabulary)
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
class Provenance:
    """Where a fact came from, as stored and served."""

    extractor: str
    extractor_version: str | None = None
    model: str | None = None
    model_version: str | None = None
    reviewed: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "extractor": self.extractor,
            "extractor_version": self.extractor_version,
            "model": self.model,
            "model_version": self.model_version,
            "reviewed": self.reviewed,
        }


# A fact file that says nothing of its provenance was written by a person.
PERSON = Provenance("person", reviewed=True)


def provenance(file: ProvenanceIn | None, fact: ProvenanceOverride | None = None) -> Provenance:
    """A fact's provenance: its own fields over the file's, over a person's."""
    base = PERSON if file is None else Provenance(**file.model_dump())
    if fact is None:
        return base
    given = fact.model_dump(exclude_unset=True)
    return Provenance(**{**base.as_json(), **given})


@dataclass(frozen=True)
class ResolvedTime:
    start: dt.date | None
    end: dt.date | None
    precision: TimePrecision | None  # None: known only from its note
    anchor: Anchor | None
    note: str | None


@dataclass(frozen=True)
class ResolvedEntity:
    source: EntityIn
    mentions: list[Anchor]
    provenance: Provenance = PERSON


@dataclass(frozen=True)
class ResolvedRelation:
    source: RelationIn
    anchors: list[Anchor]
    provenance: Provenance = PERSON


@dataclass(frozen=True)
class ResolvedEvent:
    source: EventIn
    time: ResolvedTime | None
    anchors: list[Anchor]
    provenance: Provenance = PERSON


@dataclass(frozen=True)
class ResolvedEventReport:
    source: EventReportIn
    anchors: list[Anchor]
    provenance: Provenance = PERSON


@dataclass(frozen=True)
class ResolvedEvidence:
    source: EvidenceIn
    anchor: Anchor | None


@dataclass(frozen=True)
class ResolvedQuantity:
    value: float
    unit: str
    anchor: Anchor

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "anchor": self.anchor.as_json()}


@dataclass(frozen=True)
class ResolvedClaim:
    source: ClaimIn
    attribution: Anchor | None
    hedge: Anchor | None
    anchors: list[Anchor]
    evidence: list[ResolvedEvidence]
    claimant_anchor: Anchor | None = None  # an unnamed source's words
    quantities: list[ResolvedQuantity] = field(default_factory=list)
    provenance: Provenance = PERSON


@dataclass(frozen=True)
class ResolvedClaimReport:
    source: ClaimReportIn
    attribution: Anchor | None
    hedge: Anchor | None
    anchors: list[Anchor]
    provenance: Provenance = PERSON


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
    events: list[ResolvedEvent | ResolvedEventReport] = field(default_factory=list)
    claims: list[ResolvedClaim | ResolvedClaimReport] = field(default_factory=list)
    provenance: Provenance = PERSON

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

    def __reduce__(self) -> tuple[type["FactFileError"], tuple[str, str, str]]:
        # Sent back from the worker processes that check files.
        return FactFileError, (self.path, self.where, self.problem)


# What could be read of a fact file with errors (see FactFileErrors).
ReadDocument = FactFile | dict[str, Any] | None


class FactFileErrors(Exception):
    """Every problem found in one fact file (reported together, one per line).

    ``document`` is what could be read of the file: the validated ``FactFile`` when only its
    quotes or references fail, the parsed JSON object when it does not validate, else None.
    The checks across files read what it declares, so that a run reports those problems too.
    """

    def __init__(self, errors: Sequence[FactFileError], document: "ReadDocument" = None) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)
        self.document = document

    def __reduce__(
        self,
    ) -> tuple[type["FactFileErrors"], tuple[list[FactFileError], "ReadDocument"]]:
        return type(self), (self.errors, self.document)


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
    try:
        shown = orjson.dumps(value).decode()
    except TypeError:  # an integer past 64 bits, which JSON allows and orjson does not write
        shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _without_tags(loc: Sequence[str | int]) -> tuple[list[str | int], str | None]:
    """A location without the tag of an event or claim union (``fact`` or ``report``)."""
    out: list[str | int] = []
    tag = None
    for i, part in enumerate(loc):
        if part in _UNION_TAGS and i >= 2 and isinstance(loc[i - 1], int):
            tag = str(part)
            continue
        out.append(part)
    return out, tag


def _pydantic_errors(path: Path, exc: ValidationError) -> list[FactFileError]:
    seen: set[tuple[str, str]] = set()
    errors: list[FactFileError] = []
    for err in exc.errors(include_url=False):
        loc, tag = _without_tags(err["loc"])
        where = json_path(loc)
        message = err["msg"].removeprefix("Value error, ")
        kind = err["type"]
        if kind == "extra_forbidden" and tag == "report" and len(loc) == 3:
            noun = "event" if loc[0] == "events" else "claim"
            message = (
                f'a report of another article\'s {noun} ("same_as") takes {loc[2]!r} from it: '
                "leave it out"
            )
        elif kind in ("extra_forbidden", "missing"):
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


# A quotation mark followed by a colon: the end of an object's key, or an escaped quotation
# mark followed by a colon inside a string (a string holds no other quotation mark).
_KEY_END = re.compile(rb'"\s*:')


class _Checked(dict[str, Any]):
    """A JSON object that remembers the keys given more than once."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.repeated: Counter[str] = Counter()
        for key, value in pairs:
            if key in self:
                self.repeated[key] += 1
            self[key] = value


def _duplicate_key_errors(path: Path, raw: bytes, data: Any) -> list[FactFileError]:
    """Keys given twice in one object: JSON parsers keep the last silently; this refuses it.

    Key ends are counted in the file and in what was parsed, written out again: strings are
    the same in both, so only a key the parse dropped (or an unusual escape) makes the counts
    differ, and only then is the document parsed again, slowly, to find where.
    """
    try:
        written = orjson.dumps(data)
    except orjson.JSONEncodeError:  # it writes 254 levels at most; a fact file needs a handful
        problem = "arrays and objects are nested too deeply (more than 254 levels)"
        raise FactFileErrors([FactFileError(path, "$", problem)]) from None
    if len(_KEY_END.findall(raw)) == len(_KEY_END.findall(written)):
        return []
    checked = json.loads(raw, object_pairs_hook=_Checked)
    errors: list[FactFileError] = []
    stack: list[tuple[Any, list[str | int]]] = [(checked, [])]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, _Checked):
            for key, extra in value.repeated.items():
                errors.append(
                    FactFileError(
                        path,
                        json_path([*loc, key]),
                        f"the key {_shown(key)} is given {extra + 1} times in one object "
                        "(give each key once)",
                    )
                )
            stack.extend((v, [*loc, k]) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, [*loc, i]) for i, v in reversed(list(enumerate(value))))
    return errors


# --- reading and resolving -------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Sizes past which a file is refused before it is read whole (see the settings)."""

    max_article_bytes: int = 2_000_000
    max_fact_file_bytes: int = 10_000_000


DEFAULT_LIMITS = Limits()


class _Unreadable(Exception):
    """A file that is not a regular file, or larger than allowed; the message says which."""


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_regular_file(path: Path, limit: int, setting: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Opened without blocking (a named pipe with no writer would otherwise wait forever), and
    refused unless it is a regular file; never read past ``limit + 1`` bytes. Raises
    OSError, or _Unreadable saying what is wrong.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a file")
            raise _Unreadable(f"is {kind}, not a regular file")
        if info.st_size > limit:
            raise _Unreadable(_too_large(info.st_size, limit, setting, exact=True))
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise _Unreadable(_too_large(size, limit, setting))
    return b"".join(chunks)


def _too_large(size: int, limit: int, setting: str, exact: bool = False) -> str:
    more = "" if exact else "more than "
    return f"is {more}{size:,} bytes; the limit is {limit:,} ({setting})"


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
CONTEXT = 15  # characters shown either side of a candidate
SHOWN_CANDIDATES = 10
# Typographic characters a quote is often typed without, for the hint of a missed quote.
_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)


def _word_char(c: str) -> bool:
    return c.isalnum() or unicodedata.category(c).startswith("M")


def _fold_char(c: str, loose: bool) -> str:
    if not loose:
        return unicodedata.normalize("NFD", c)
    piece = unicodedata.normalize("NFKD", c).casefold().translate(_PLAIN)
    return " " if piece.isspace() else piece


def _folded(text: str, loose: bool) -> tuple[str, list[int]]:
    """``text`` folded character by character, and where each folded character came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        piece = _fold_char(c, loose)
        if loose and piece == " " and out and out[-1] == " ":
            continue
        out.extend(piece)
        origin.extend([i] * len(piece))
    origin.append(len(text))
    return "".join(out), origin


_LISTS = {"entity": "entities", "event": "events"}  # what a reference names: its list


class _Resolver:
    """Locates quotes in the text and checks references, collecting every error."""

    def __init__(
        self,
        path: Path,
        text: str,
        positions: dict[str, list[int]] | None = None,
        other_ids: dict[str, dict[str, int]] | None = None,
        unreadable: frozenset[str] = frozenset(),
        *,
        locate: bool = True,
    ) -> None:
        self.path = path
        self.text = text
        self.errors: list[FactFileError] = []
        # Of a file that did not validate, only its valid items are resolved: where each is in
        # the file, by list; the ids of the others, each where it is first given (references
        # to them are not unknown); and the lists that are not lists at all (references to
        # what they hold cannot be checked).
        self.positions = positions or {}
        self.other_ids = other_ids or {}
        self.unreadable = unreadable
        # False: the text could not be read, so quotes are not looked for (said already).
        self.locate = locate
        # Where each quote occurs: an article quotes the same names many times.
        self._found: dict[str, list[int]] = {}
        self._folds: dict[bool, tuple[str, list[int]]] = {}

    def at(self, what: str, index: int) -> int:
        """Where the ``index``-th item resolved of the list ``what`` is in the file."""
        positions = self.positions.get(what)
        return positions[index] if positions is not None else index

    def error(self, loc: Sequence[str | int], problem: str) -> None:
        if len(loc) > 1 and isinstance(loc[1], int):
            loc = [loc[0], self.at(str(loc[0]), loc[1]), *loc[2:]]
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

    def _inside_word(self, start: int, end: int) -> bool:
        text = self.text
        return (start > 0 and _word_char(text[start - 1]) and _word_char(text[start])) or (
            end < len(text) and _word_char(text[end]) and _word_char(text[end - 1])
        )

    def _candidates(self, quote: str, starts: Sequence[int]) -> str:
        """Each appearance with its number, offset and context; in-word ones marked."""
        shown = []
        text = self.text
        for n, start in enumerate(starts[:SHOWN_CANDIDATES], 1):
            end = start + len(quote)
            context = (
                ("…" if start > CONTEXT else "")
                + text[max(0, start - CONTEXT) : start]
                + "["
                + text[start:end]
                + "]"
                + text[end : end + CONTEXT]
                + ("…" if end + CONTEXT < len(text) else "")
            )
            inside = " (inside a longer word)" if self._inside_word(start, end) else ""
            shown.append(f"#{n} at {start} {_shown(context, 200)}{inside}")
        more = len(starts) - SHOWN_CANDIDATES
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")

    def _near_miss(self, quote: str) -> str:
        """Why a quote missing from the text may be missing: a hint, or nothing."""
        for loose in (False, True):
            if loose not in self._folds:
                self._folds[loose] = _folded(self.text, loose)
            folded, origin = self._folds[loose]
            wanted = _folded(quote, loose)[0]
            if loose:
                wanted = wanted.strip()
            at = folded.find(wanted) if wanted else -1
            if at < 0:
                continue
            start, end = origin[at], origin[at + len(wanted) - 1] + 1
            found = _shown(self.text[start:end], 120)
            if not loose:
                return (
                    f"; the text has {found} at {start}, which differs from the quote only by "
                    "Unicode normalisation (an accented letter written as one character in "
                    "one and as a letter and a combining mark in the other): quote the text's "
                    "own characters"
                )
            return (
                f"; the closest is {found} at {start}, which differs from the quote in letter "
                "case, quotation marks, dashes or spacing"
            )
        return ""

    def anchor(self, value: QuoteIn, loc: Sequence[str | int]) -> Anchor | None:
        if not self.locate:
            return None
        quote, occurrence = value.quote, value.occurrence
        starts = self._occurrences(quote)
        if value.prefix is not None or value.suffix is not None:
            return self._in_context(value, starts, loc)
        if occurrence is None and len(starts) == 1:
            return Anchor(starts[0], starts[0] + len(quote), quote)
        if occurrence is not None and occurrence <= len(starts):
            start = starts[occurrence - 1]
            return Anchor(start, start + len(quote), quote)
        shown = orjson.dumps(quote).decode()
        if not starts:
            self.error(loc, f"quote {shown} is not in the article text{self._near_miss(quote)}")
            return None
        if occurrence is None:
            self.error(
                loc,
                f"quote {shown} occurs {len(starts)} times in the article text; "
                f'add "occurrence" (1 to {len(starts)}) to say which (or "prefix"/"suffix"): '
                + self._candidates(quote, starts),
            )
            return None
        if occurrence > len(starts):
            times = "once" if len(starts) == 1 else f"{len(starts)} times"
            self.error(
                loc,
                f"quote {shown} occurs only {times}, not {occurrence}: "
                + self._candidates(quote, starts),
            )
        return None

    def _in_context(
        self, value: QuoteIn, starts: Sequence[int], loc: Sequence[str | int]
    ) -> Anchor | None:
        """The one appearance of the quote preceded by ``prefix`` and followed by ``suffix``."""
        quote, text = value.quote, self.text
        prefix, suffix = value.prefix or "", value.suffix or ""
        size = len(quote)
        fitting = [
            s for s in starts if text.endswith(prefix, 0, s) and text.startswith(suffix, s + size)
        ]
        if len(fitting) == 1:
            return Anchor(fitting[0], fitting[0] + size, quote)
        shown = orjson.dumps(quote).decode()
        given = " and ".join(
            f"{name} {orjson.dumps(part).decode()}"
            for name, part in (("prefix", value.prefix), ("suffix", value.suffix))
            if part is not None
        )
        if not starts:
            self.error(loc, f"quote {shown} is not in the article text{self._near_miss(quote)}")
        elif not fitting:
            self.error(
                loc,
                f"quote {shown} never has {given} around it; it occurs {len(starts)} time(s): "
                + self._candidates(quote, starts),
            )
        else:
            self.error(
                loc,
                f"quote {shown} with {given} still occurs {len(fitting)} times; lengthen "
                '"prefix" or "suffix" to say which: ' + self._candidates(quote, fitting),
            )
        return None

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
        if not bounds:  # known only from its note
            return ResolvedTime(None, None, None, anchor, value.note)
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

    def unique_ids(self, items: Sequence[Any], what: str, noun: str) -> set[str]:
        """The ids of ``items`` (and of the list's invalid items); each given twice is an
        error where it is given again (places in the file)."""
        given = [(self.at(what, i), item.id) for i, item in enumerate(items)]
        given += [(at, key) for key, at in self.other_ids.get(what, {}).items()]
        first: dict[str, int] = {}
        for at, key in sorted(given):
            if key in first:
                self.errors.append(
                    FactFileError(
                        self.path,
                        json_path([what, at, "id"]),
                        f"duplicate {noun} id {key!r} (first used at {what}[{first[key]}])",
                    )
                )
            else:
                first[key] = at
        return set(first)

    def ref(self, value: str | None, known: set[str], what: str, loc: Sequence[str | int]) -> None:
        if value is not None and value not in known and _LISTS[what] not in self.unreadable:
            self.error(loc, f"{what} {value!r} is not defined in this file")


def _strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def _read_text(path: Path, article: Any, limits: Limits, text_files: bool = True) -> str:
    """The article text, inline or from its file (inside the fact file's folder).

    ``article`` is the validated ``ArticleIn``, or the raw JSON object of a file that did not
    validate (its text is still read, to check the quotes). A byte order mark at the start
    is not part of the text, inline or in a file. Raises FactFileError.
    """
    get = article.get if isinstance(article, dict) else lambda name: getattr(article, name)
    inline, name = get("text"), get("text_file")
    if isinstance(inline, str):
        text = _strip_bom(inline)
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_article_bytes:
            raise FactFileError(
                path,
                "$.article.text",
                _too_large(size, limits.max_article_bytes, "APP_MAX_ARTICLE_BYTES", exact=True),
            )
        return text
    if not isinstance(name, str) or not name:
        raise FactFileError(path, "$.article", "no text: give 'text' or 'text_file'")
    where = "$.article.text_file"
    if not text_files:
        raise FactFileError(path, where, INLINE_ONLY)
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
        raw = read_regular_file(text_path, limits.max_article_bytes, "APP_MAX_ARTICLE_BYTES")
    except _Unreadable as exc:
        raise FactFileError(path, where, f"{name!r} {exc}") from None
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


def _decode(path: Path, raw: bytes) -> bytes:
    """The JSON bytes of a fact file, checked to be UTF-8 text. Raises FactFileErrors."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    problem = None
    if b"\x00" in raw:
        problem = "not UTF-8 text: it holds NUL bytes (a binary file?)"
    else:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem = f"not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8"
    if problem is not None:
        raise FactFileErrors([FactFileError(path, "$", problem)])
    return raw


def _load_json(path: Path, raw: bytes) -> dict[str, Any]:
    """The parsed JSON object of a fact file, of the supported format. Raises FactFileErrors."""
    raw = _decode(path, raw)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise FactFileErrors([FactFileError(path, where, f"invalid JSON: {exc.msg}")]) from None
    if not isinstance(data, dict):
        raise FactFileErrors([FactFileError(path, "$", "a fact file is a JSON object")])
    if data.get("format") != FORMAT:
        got = _shown(data.get("format"))
        error = FactFileError(path, "$.format", f"expected {FORMAT!r} (got {got})")
        raise FactFileErrors([error], data)
    return data


def _validate(
    path: Path, raw: bytes, data: dict[str, Any]
) -> tuple[FactFile | None, list[FactFileError]]:
    """The validated document (None if it is not valid) and every problem found."""
    raw = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    errors = _duplicate_key_errors(path, raw, data)
    # JSON writes a NUL as the escape \u0000: a file without one holds none.
    if b"\\u0000" in raw:
        errors += _nul_errors(path, data)
    try:
        doc = FactFile.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        return None, errors + _pydantic_errors(path, exc)
    return (None if errors else doc), errors


def parse_fact_file(path: Path, raw: bytes) -> FactFile:
    """Parse and validate the JSON of a fact file. Raises FactFileErrors.

    Validation is strict: a date is an ISO 8601 date string, a number is not a string
    and a boolean is not a number; no string may hold a NUL character, and no object may
    give a key twice.
    """
    data = _load_json(path, raw)
    doc, errors = _validate(path, raw, data)
    if doc is None:
        raise FactFileErrors(errors)
    return doc


def _raw_quote(value: Any) -> QuoteIn | None:
    """A quote written in a file that did not validate, if it is well formed."""
    try:
        return QuoteIn.model_validate(_quote_shorthand(value), strict=True)
    except (ValueError, ValidationError):
        return None


def _raw_anchors(r: _Resolver, data: dict[str, Any], resolved: dict[str, list[int]]) -> None:
    """Locate the well-formed quotes of the items of a document that did not validate and
    were not ``resolved`` (by list, their positions), so that its missing and ambiguous
    quotes are reported with its other problems."""

    def items(value: Any, what: str | None = None) -> list[tuple[int, Any]]:
        if not isinstance(value, list):
            return []
        skip = set(resolved.get(what, ())) if what else set()
        return [(i, v) for i, v in enumerate(value) if i not in skip]

    def obj(value: Any) -> dict[str, Any]:
        return value if isinstance(value, dict) else {}

    def one(value: Any, loc: list[str | int]) -> None:
        quote = _raw_quote(value) if value is not None else None
        if quote is not None:
            r.anchor(quote, loc)

    def many(value: Any, loc: list[str | int]) -> None:
        quotes = [q for _, v in items(value) if (q := _raw_quote(v)) is not None]
        if len(quotes) == len(items(value)):
            r.anchors(quotes, loc)

    for i, e in items(data.get("entities"), "entities"):
        many(obj(e).get("mentions"), ["entities", i, "mentions"])
    for i, rel in items(data.get("relations"), "relations"):
        many(obj(rel).get("anchors"), ["relations", i, "anchors"])
    for i, ev in items(data.get("events"), "events"):
        ev = obj(ev)
        many(ev.get("anchors"), ["events", i, "anchors"])
        one(obj(ev.get("time")).get("anchor"), ["events", i, "time", "anchor"])
    for i, c in items(data.get("claims"), "claims"):
        c = obj(c)
        loc: list[str | int] = ["claims", i]
        many(c.get("anchors"), [*loc, "anchors"])
        for name in ("attribution", "hedge"):
            one(c.get(name), [*loc, name])
        one(obj(c.get("claimant")).get("anchor"), [*loc, "claimant", "anchor"])
        for j, e in items(c.get("evidence")):
            one(obj(e).get("anchor"), [*loc, "evidence", j, "anchor"])
        for j, q in items(c.get("quantities")):
            one(obj(q).get("anchor"), [*loc, "quantities", j, "anchor"])


@dataclass(frozen=True)
class _Parts:
    """What resolving reads of a fact file: all of a valid one; of one that did not validate,
    its article and file provenance if valid, and the items valid on their own."""

    article: ArticleIn | None
    provenance: ProvenanceIn | None
    entities: Sequence[EntityIn]
    relations: Sequence[RelationIn]
    events: Sequence[EventIn | EventReportIn]
    claims: Sequence[ClaimIn | ClaimReportIn]

    @classmethod
    def of(cls, doc: FactFile) -> "_Parts":
        return cls(doc.article, doc.provenance, doc.entities, doc.relations, doc.events, doc.claims)


_ITEMS: dict[str, TypeAdapter[Any]] = {
    "entities": TypeAdapter(EntityIn),
    "relations": TypeAdapter(RelationIn),
    "events": TypeAdapter(EventEntry),
    "claims": TypeAdapter(ClaimEntry),
}
_ARTICLE: TypeAdapter[ArticleIn] = TypeAdapter(ArticleIn)
_PROVENANCE: TypeAdapter[ProvenanceIn] = TypeAdapter(ProvenanceIn)


def valid_or_none(adapter: TypeAdapter[Any], value: Any) -> Any:
    """``value`` (parsed JSON) validated as the whole file is, strictly, as JSON; or None."""
    try:
        return adapter.validate_json(json.dumps(value), strict=True)
    except ValidationError:
        return None


def _resolve_valid_parts(path: Path, raw: bytes, text: str | None) -> list[FactFileError]:
    """The problems of the quotes, times and references of a document that did not validate
    (or whose text could not be read: ``text`` None): of the items valid on their own, all of
    them; of the others, their well-formed quotes and their reports of the same article."""
    raw = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    data = json.loads(raw)  # read before: an object, nested 254 levels at most
    valid: dict[str, list[Any]] = {}
    positions: dict[str, list[int]] = {}
    other_ids: dict[str, dict[str, int]] = {}
    for what, adapter in _ITEMS.items():
        items = data.get(what)
        valid[what], positions[what], other_ids[what] = [], [], {}
        for i, item in enumerate(items if isinstance(items, list) else []):
            value = valid_or_none(adapter, item)
            if value is not None:
                valid[what].append(value)
                positions[what].append(i)
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                other_ids[what].setdefault(item["id"], i)
    unreadable = frozenset(w for w in _ITEMS if w in data and not isinstance(data[w], list))
    raw_provenance = data.get("provenance")
    parts = _Parts(
        valid_or_none(_ARTICLE, data.get("article")),
        valid_or_none(_PROVENANCE, raw_provenance) if raw_provenance is not None else None,
        valid["entities"],
        valid["relations"],
        valid["events"],
        valid["claims"],
    )
    r = _Resolver(path, text or "", positions, other_ids, unreadable, locate=text is not None)
    _resolve(r, parts, "")
    errors = r.errors
    if text is not None:
        rest = _Resolver(path, text)
        _raw_anchors(rest, data, positions)
        errors += rest.errors
    # Reports of the same article that _resolve did not see.
    article = data.get("article")
    key = article.get("id") if isinstance(article, dict) else None
    for what, noun in (("events", "an event"), ("claims", "a claim")):
        items = data.get(what)
        seen = set(positions[what]) if parts.article is not None else set()
        for i, item in enumerate(items if isinstance(items, list) else []):
            same_as = item.get("same_as") if isinstance(item, dict) else None
            if i in seen or not isinstance(key, str) or not isinstance(same_as, str):
                continue
            if same_as.startswith(f"{key}."):
                where = json_path([what, i, "same_as"])
                errors.append(FactFileError(path, where, f"names {noun} of this same article"))
    return sorted(errors, key=_document_order)


_SECTIONS = {"article": 0, "entities": 1, "relations": 2, "events": 3, "claims": 4}
_ITEM_PATH = re.compile(r"\$\.(\w+)(?:\[(\d+)\])?")


def _document_order(error: FactFileError) -> tuple[int, int]:
    """Where an error is in the file: by list, then by item."""
    found = _ITEM_PATH.match(error.where)
    if found is None:
        return (len(_SECTIONS), 0)
    return (_SECTIONS.get(found[1], len(_SECTIONS)), int(found[2] or 0))


def resolve(path: Path, doc: FactFile, text: str, source_sha256: str) -> ResolvedArticle:
    """Locate every anchor in the text and check every reference. Raises FactFileErrors."""
    r = _Resolver(path, text)
    article = _resolve(r, _Parts.of(doc), source_sha256)
    if r.errors:
        raise FactFileErrors(r.errors, doc)
    assert article is not None
    return article


def _resolve(r: _Resolver, doc: _Parts, source_sha256: str) -> ResolvedArticle | None:
    path = r.path
    entity_ids = r.unique_ids(doc.entities, "entities", "entity")
    event_ids = r.unique_ids(doc.events, "events", "event")
    r.unique_ids(doc.claims, "claims", "claim")
    file_provenance = doc.provenance

    entities = [
        ResolvedEntity(
            e,
            r.anchors(e.mentions, ["entities", i, "mentions"]),
            provenance(file_provenance, e.provenance),
        )
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
                f"(first at relations[{r.at('relations', triples[triple])}])",
            )
        else:
            triples[triple] = i
        relations.append(
            ResolvedRelation(
                rel,
                r.anchors(rel.anchors, ["relations", i, "anchors"]),
                provenance(file_provenance, rel.provenance),
            )
        )

    own = f"{doc.article.id}." if doc.article is not None else None
    events: list[ResolvedEvent | ResolvedEventReport] = []
    for i, entry in enumerate(doc.events):
        loc: list[str | int] = ["events", i]
        prov = provenance(file_provenance, entry.provenance)
        if isinstance(entry, EventReportIn):
            if own is not None and entry.same_as.startswith(own):
                r.error([*loc, "same_as"], "names an event of this same article")
            events.append(
                ResolvedEventReport(entry, r.anchors(entry.anchors, [*loc, "anchors"]), prov)
            )
            continue
        r.ref(entry.location, entity_ids, "entity", [*loc, "location"])
        for j, p in enumerate(entry.participants):
            r.ref(p.entity, entity_ids, "entity", [*loc, "participants", j, "entity"])
        time = r.time(entry.time, [*loc, "time"]) if entry.time is not None else None
        events.append(ResolvedEvent(entry, time, r.anchors(entry.anchors, [*loc, "anchors"]), prov))

    claims: list[ResolvedClaim | ResolvedClaimReport] = []
    for i, c in enumerate(doc.claims):
        loc = ["claims", i]
        prov = provenance(file_provenance, c.provenance)
        attribution = r.optional_anchor(c.attribution, [*loc, "attribution"])
        hedge = r.optional_anchor(c.hedge, [*loc, "hedge"])
        if isinstance(c, ClaimReportIn):
            if own is not None and c.same_as.startswith(own):
                r.error([*loc, "same_as"], "names a claim of this same article")
            claims.append(
                ResolvedClaimReport(
                    c, attribution, hedge, r.anchors(c.anchors, [*loc, "anchors"]), prov
                )
            )
            continue
        claimant_anchor = None
        if isinstance(c.claimant, str):
            r.ref(c.claimant, entity_ids, "entity", [*loc, "claimant"])
        else:
            if c.claimant.anchor is not None:
                claimant_anchor = r.anchor(c.claimant.anchor, [*loc, "claimant", "anchor"])
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
        quantities = []
        for j, q in enumerate(c.quantities):
            anchor = r.anchor(q.anchor, [*loc, "quantities", j, "anchor"])
            if anchor is not None:
                quantities.append(ResolvedQuantity(q.value, q.unit, anchor))
        claims.append(
            ResolvedClaim(
                c,
                attribution=attribution,
                hedge=hedge,
                anchors=r.anchors(c.anchors, [*loc, "anchors"]),
                evidence=evidence,
                claimant_anchor=claimant_anchor,
                quantities=quantities,
                provenance=prov,
            )
        )
    _check_duplicate_refs(r, doc)

    if doc.article is None or not r.locate:
        return None
    text = r.text
    # The first line (a byte order mark is never part of the text).
    title = doc.article.title or text.split("\n", 1)[0].strip()
    if not title:
        r.error(["article", "title"], "no title given and the text's first line is empty")
    if r.errors:
        return None
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
        provenance=provenance(file_provenance),
    )


def _check_duplicate_refs(r: _Resolver, doc: _Parts) -> None:
    for i, c in enumerate(doc.claims):
        if isinstance(c, ClaimReportIn):
            continue
        for what, values in (("subjects", c.subjects), ("events", c.events)):
            seen: set[str] = set()
            for j, v in enumerate(values):
                if v in seen:
                    r.error(["claims", i, what, j], f"{v!r} is listed twice")
                seen.add(v)
    for i, ev in enumerate(doc.events):
        if isinstance(ev, EventReportIn):
            continue
        pairs: set[tuple[str, str]] = set()
        for j, p in enumerate(ev.participants):
            if (p.entity, p.role) in pairs:
                r.error(
                    ["events", i, "participants", j], f"{p.entity!r} as {p.role!r} is listed twice"
                )
            pairs.add((p.entity, p.role))


def read_fact_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> ResolvedArticle:
    """Read, validate and resolve one fact file. Raises FactFileErrors naming every problem:
    those of its JSON and those of its quotes together."""
    try:
        raw = read_regular_file(path, limits.max_fact_file_bytes, "APP_MAX_FACT_FILE_BYTES")
    except _Unreadable as exc:
        raise FactFileErrors([FactFileError(path, "$", f"the file {exc}")]) from None
    except OSError as exc:
        raise FactFileErrors(
            [FactFileError(path, "$", f"cannot read file: {exc.strerror}")]
        ) from None
    return resolve_bytes(path, raw, limits)


INLINE_ONLY = (
    "a fact file sent over HTTP gives the article's text inline, in 'text': 'text_file' names "
    "a file beside a fact file on disk"
)


def resolve_bytes(
    path: Path, raw: bytes, limits: Limits = DEFAULT_LIMITS, *, text_files: bool = True
) -> ResolvedArticle:
    """Validate and resolve a fact file's bytes (``path`` names it in errors). Raises
    FactFileErrors naming every problem: those of its JSON and those of its quotes together.

    Without ``text_files`` (a fact file sent over HTTP, which has no folder), the text must be
    inline.
    """
    data = _load_json(path, raw)
    doc, errors = _validate(path, raw, data)
    article = doc.article if doc is not None else data.get("article")
    text = None
    if isinstance(article, ArticleIn) or isinstance(article, dict):
        try:
            text = _read_text(path, article, limits, text_files)
        except FactFileError as exc:
            # Without valid `text`/`text_file` fields validation has said so already.
            if doc is not None or not any(e.where.startswith("$.article") for e in errors):
                errors.append(exc)
    if doc is None or text is None:
        readable = text is not None and not any(e.where == "$.article.text" for e in errors)
        errors += _resolve_valid_parts(path, raw, text if readable else None)
        raise FactFileErrors(errors, doc if doc is not None else data)
    # The file and its text: a file uploaded and the same file on disk are one version.
    digest = hashlib.sha256(raw + b"\0" + text.encode("utf-8")).hexdigest()
    return resolve(path, doc, text, digest)
