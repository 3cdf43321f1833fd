"""Every route's query string, as one Pydantic model per route.

A route takes its whole query string as one model (FastAPI's query-parameter models): the
model is the route's OpenAPI parameters and their validation at once. Models forbid extra
fields, so a misspelt filter is a 422 rather than a silently unfiltered list; a
single-valued parameter given twice is refused by the route (``app.api.route``), which sees
the raw query string. A list model also carries its resource's ``field__operator`` filters
(``app.filters``), each an optional parameter of its own, and its own choices of ``facet``,
``sort`` and ``include``.

Checks that involve two parameters (a date window) are validators of the second, so they
are reported along with every other problem. Nothing here touches the database: a request
refused here runs no query.
"""

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
)

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
)

from app import fts
from app.anchors.offsets import OffsetUnit
from app.api.pages import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor
from app.filters import ARTICLES, CLAIMS, ENTITIES, EVENTS, ListExtension, Resource, parse_filter
from app.formats import (
    CLAIM_LIST_FORMATS,
    LIST_FORMATS,
    ClaimFormat,
    ClaimListFormat,
    Format,
    ListFormat,
    media_type_help,
)
from app.models import ClaimKind, EntityKind, EventKind, EventModality, VerificationStatus

M = TypeVar("M", bound="QueryParams")

SEARCH_GRAMMAR = (
    'words (all must occur, any case), "quoted phrases", prefix* words, OR between '
    "alternatives; see /search"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _no_nul(value: str) -> str:
    # SQLite ends a LIKE pattern at a NUL and PostgreSQL refuses one in text.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _issued_cursor(value: str) -> str:
    decode_cursor(value)
    return value


Id = Annotated[str, Field(min_length=1, max_length=400), AfterValidator(_no_nul)]
Day = Annotated[dt.date, BeforeValidator(_iso_date)]
SearchText = Annotated[
    str, Field(min_length=1, max_length=200), AfterValidator(_no_nul), AfterValidator(fts.check)
]
# `scheme:value`: the scheme as ingest stores it, the value as given.
ExternalId = Annotated[
    str,
    Field(min_length=3, max_length=300, pattern=r"^[a-z0-9][a-z0-9_-]*:\S.*$"),
    AfterValidator(_no_nul),
]
Publisher = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
Name = Publisher  # a free-text value matched exactly: an extractor, a unit
LanguageTag = Annotated[str, Field(min_length=1, max_length=35), AfterValidator(_no_nul)]
Cursor = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_issued_cursor)]
PathId = Annotated[
    str, Path(min_length=1, max_length=400, description="Public id."), AfterValidator(_no_nul)
]

OFFSET_UNIT_HELP = (
    "What every `start` and `end` counts: Unicode code points (the default, the W3C Web "
    "Annotation unit) or UTF-16 code units (JavaScript string indexes). They differ only "
    "after a character outside the Basic Multilingual Plane, such as an emoji; see "
    "`/methodology`."
)


def _members(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
        return get_args(annotation)
    return (annotation,)


class QueryParams(BaseModel):
    """A route's query string; the base of every route's model. Unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The list's resource, when its model carries the filter grammar (see ``listing``).
    resource: ClassVar[Resource | None] = None

    @property
    def costly(self) -> bool:
        """Whether answering may cost work that grows with the data (counts, search…)."""
        return False


@cache
def repeatable(model: type[QueryParams]) -> frozenset[str]:
    """The parameters of ``model`` that may be given more than once (its list fields)."""
    return frozenset(
        name
        for name, field in model.model_fields.items()
        if any(get_origin(m) is list for m in _members(field.annotation))
    )


def after(first: str, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
    """``value``, the end of a date window, unless it is before its start, ``first``.

    Called by a validator of the window's end, so that it reports its problem along with
    every other parameter's (``first`` is validated before the end).
    """
    start = info.data.get(first)
    if value is not None and isinstance(start, dt.date) and start > value:
        raise ValueError(f"must not be before {first} ({start.isoformat()})")
    return value


def values(members: list[Any] | None) -> list[str] | None:
    """Enum members as the strings stored in the database; None when not filtering."""
    return [member.value for member in members] if members else None


# --- paging ------------------------------------------------------------------------


class Paging(QueryParams):
    """``limit``, ``cursor`` and ``format``, shared by every list."""

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT})."
    )
    cursor: Cursor | None = Field(
        None,
        description="Opaque cursor from the previous page's `next_cursor`, on the same list "
        "with the same filters.",
    )
    format: ListFormat | None = Field(None, description=media_type_help(ListFormat))

    # The representations the list has.
    formats: ClassVar[tuple[Format, ...]] = LIST_FORMATS


class AnchoredPaging(Paging):
    """Paging of a list whose items carry anchors, with the unit of their offsets."""

    offset_unit: OffsetUnit = Field("codepoint", description=OFFSET_UNIT_HELP)


class ClaimPaging(AnchoredPaging):
    """Paging of a list of claims, which can also be ClaimReview JSON-LD."""

    format: ClaimListFormat | None = Field(  # type: ignore[assignment]
        None, description=media_type_help(ClaimListFormat)
    )

    formats: ClassVar[tuple[Format, ...]] = CLAIM_LIST_FORMATS


# --- list options: counts, facets, sorts, includes, fields, the filter grammar -------------


class ListOptions(QueryParams):
    """What a list request asks for beyond its page; completed per resource by ``listing``."""

    count: Literal["exact"] | None = Field(
        None,
        description="`exact` adds `total`, the number of items in the whole filtered list. "
        "Counting costs a query over that list, so it is only done when asked.",
    )
    facet: list[str] | None = None
    fields: str | None = None

    def extension(self) -> ListExtension:
        """The list's grammar conditions, count, facets, sort and includes."""
        resource = self.resource
        assert resource is not None, "a list model made by listing()"
        extension = ListExtension(resource, count=self.count == "exact")
        values = self.__dict__
        for name in grammar_fields(type(self)):
            value = values[name]
            if value is not None:
                extension.where.append(parse_filter(resource, name, value))
        extension.facets = list(dict.fromkeys(self.facet or ()))
        extension.include = list(dict.fromkeys(getattr(self, "include", None) or ()))
        extension.sort = getattr(self, "sort", None)
        return extension

    @property
    def kept_fields(self) -> tuple[str, ...] | None:
        """The item fields ``fields=`` keeps (``id`` first), or None for all of them."""
        if self.fields is None:
            return None
        wanted = [f.strip() for f in self.fields.split(",") if f.strip()]
        return tuple(dict.fromkeys(["id", *wanted]))

    @property
    def costly(self) -> bool:
        q = getattr(self, "q", None)
        return bool(
            self.count
            or self.facet
            or getattr(self, "sort", None)
            or (q is not None and not fts.light(q))
            or any(self.__dict__[name] is not None for name in grammar_fields(type(self)))
            or super().costly
        )


@cache
def grammar_fields(model: type[QueryParams]) -> tuple[str, ...]:
    """The ``field__operator`` parameters of a list model."""
    return tuple(name for name in model.model_fields if "__" in name)


def _grammar_check(resource: Resource, name: str) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is not None:
            parse_filter(resource, name, value)  # FilterError is a ValueError: a 422
        return value

    return check


# The longest value a filter of each type takes: a date is at most YYYY-MM-DD; a list of
# numbers or of ids, names or words fits well within these, and every list route's whole
# query string stays within the server's limit on a request target.
GRAMMAR_VALUE_CHARS = {"text": 400, "enum": 400, "date": 10, "span": 10, "number": 100}


def _literal(values: tuple[str, ...]) -> Any:
    return Literal.__getitem__(values)


def listing(base: type[M], resource: Resource) -> type[M]:
    """``base`` completed with ``resource``'s filter grammar and its choices of facet, sort,
    include and fields: one optional parameter per ``field__operator``."""
    fields: dict[str, Any] = {}
    for name, spec in resource.fields.items():
        for operator in spec.operators:
            key = f"{name}__{operator}"
            fields[key] = (
                Annotated[str | None, AfterValidator(_grammar_check(resource, key))],
                Field(
                    None,
                    max_length=GRAMMAR_VALUE_CHARS[spec.type],
                    description=f"Filter on {spec.description}: `{operator}` "
                    + OPERATOR_HELP[operator],
                ),
            )
    facet_names = ", ".join(resource.facets)
    fields["facet"] = (
        list[_literal(tuple(resource.facets))] | None,  # type: ignore[misc]
        Field(
            None,
            description=f"Add `facets`: the filtered list counted by {facet_names} (repeatable; "
            "the 50 most frequent values of each).",
        ),
    )
    if resource.sorts:
        choices = tuple(f"{sign}{name}" for name in resource.sorts for sign in ("", "-"))
        fields["sort"] = (
            _literal(choices) | None,
            Field(
                None,
                description="Order by "
                + ", ".join(f"`{name}`" for name in resource.sorts)
                + "; `-` before the name for newest first. Ties keep the list's own order.",
            ),
        )
    if resource.includes:
        fields["include"] = (
            list[_literal(resource.includes)] | None,  # type: ignore[misc]
            Field(
                None,
                description="Embed more in each item (repeatable): "
                + ", ".join(resource.includes)
                + ".",
            ),
        )
    item_fields = (*resource.item_fields, *resource.includes)
    fields["fields"] = (
        str | None,
        Field(
            None,
            max_length=500,
            description=f"Comma-separated fields to keep in each item, of: "
            f"{', '.join(resource.item_fields)}. `id` is always kept.",
        ),
    )

    def known_fields(cls: Any, value: str | None) -> str | None:
        if value is None:
            return value
        wanted = [f.strip() for f in value.split(",") if f.strip()]
        bad = [f for f in wanted if f not in item_fields]
        if bad or not wanted:
            raise ValueError(
                f"unknown field(s) {', '.join(map(repr, bad))}; use: "
                + ", ".join(resource.item_fields)
            )
        return value

    model = create_model(
        base.__name__,
        __base__=base,
        __module__=base.__module__,
        __doc__=base.__doc__,
        __validators__={"known_fields": field_validator("fields")(known_fields)},
        **fields,
    )
    model.resource = resource
    result: type[M] = model
    return result


OPERATOR_HELP = {
    "exact": "(equal to; a date `YYYY`, `YYYY-MM` or `YYYY-MM-DD` keeps its precision).",
    "in": "(one of a comma-separated list).",
    "not": "(none of a comma-separated list; also keeps items with no value).",
    "contains": "(case-insensitive substring).",
    "gt": "(after / greater than).",
    "gte": "(on or after / at least).",
    "lt": "(before / less than).",
    "lte": "(on or before / at most).",
}


# --- filters shared by the routes that list the same resource ----------------------------


class Provenance(QueryParams):
    """Filters on where facts come from: a review queue is ``reviewed=false``."""

    reviewed: bool | None = Field(
        None,
        description="`false`: only facts no person has reviewed yet (machine drafts); `true`: "
        "only reviewed ones.",
    )
    extractor: (
        Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)] | None
    ) = Field(
        None,
        description="Only facts made by this extractor (`person` for hand-written files).",
    )

    def provenance(self) -> dict[str, Any]:
        return {"reviewed": self.reviewed, "extractor": self.extractor}

    @property
    def costly(self) -> bool:
        return self.reviewed is not None or self.extractor is not None or super().costly


FIRST_REPORT_HELP = (
    "`true`: one item per event or claim, its first report (`same_as` null); `false`: only "
    "the later reports of facts that other articles reported first."
)


class ClaimFilters(ClaimPaging, ListOptions, Provenance):
    """Filters for claim lists. Repeat `status` or `kind` to match any of several values."""

    status: list[VerificationStatus] | None = Field(
        None, description="Verification status (repeatable)."
    )
    kind: list[ClaimKind] | None = Field(None, description="Claim kind (repeatable).")
    claimant: Id | None = Field(None, description="Entity id of the claimant.")
    published_from: Day | None = Field(
        None, description="Article published on or after (YYYY-MM-DD)."
    )
    published_to: Day | None = Field(
        None, description="Article published on or before (YYYY-MM-DD)."
    )
    q: SearchText | None = Field(None, description=f"Full-text query: {SEARCH_GRAMMAR}.")
    has_quantity: bool | None = Field(
        None, description="`true`: only claims that state a quantity; `false`: only the others."
    )
    quantity_unit: (
        Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_no_nul)] | None
    ) = Field(None, description="Only claims with a quantity in this unit, e.g. `percent`.")
    quantity_min: float | None = Field(
        None, allow_inf_nan=False, description="Only claims with a quantity of at least this."
    )
    quantity_max: float | None = Field(
        None, allow_inf_nan=False, description="Only claims with a quantity of at most this."
    )
    first_report: bool | None = Field(None, description=FIRST_REPORT_HELP)
    sort: str | None = None
    include: list[str] | None = None

    @field_validator("quantity_max")
    @classmethod
    def _range(cls, value: float | None, info: ValidationInfo) -> float | None:
        least = info.data.get("quantity_min")
        if value is not None and isinstance(least, float) and least > value:
            raise ValueError(f"must not be less than quantity_min ({least:g})")
        return value

    @field_validator("published_to")
    @classmethod
    def _window(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return after("published_from", value, info)

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of ``queries.list_claims`` these parameters give."""
        return {
            "status": values(self.status),
            "kind": values(self.kind),
            "claimant": self.claimant,
            "published_from": self.published_from,
            "published_to": self.published_to,
            "q": self.q,
            "has_quantity": self.has_quantity,
            "quantity_unit": self.quantity_unit,
            "quantity_min": self.quantity_min,
            "quantity_max": self.quantity_max,
            "first_report": self.first_report,
            **self.provenance(),
        }

    @property
    def costly(self) -> bool:
        return (
            super().costly
            or self.first_report is not None
            or self.has_quantity is not None
            or self.quantity_unit is not None
            or self.quantity_min is not None
            or self.quantity_max is not None
        )


class EventFilters(AnchoredPaging, ListOptions, Provenance):
    """Filters for event lists. A date window keeps the events whose time overlaps it."""

    status: list[VerificationStatus] | None = Field(
        None, description="Verification status (repeatable)."
    )
    kind: list[EventKind] | None = Field(None, description="Event kind (repeatable).")
    modality: list[EventModality] | None = Field(
        None, description="occurred, planned, proposed, requested, conditional (repeatable)."
    )
    date_from: Day | None = Field(None, description="From this day on (YYYY-MM-DD).")
    date_to: Day | None = Field(None, description="Up to this day (YYYY-MM-DD).")
    q: SearchText | None = Field(None, description=f"Full-text query: {SEARCH_GRAMMAR}.")
    first_report: bool | None = Field(None, description=FIRST_REPORT_HELP)
    sort: str | None = None

    @field_validator("date_to")
    @classmethod
    def _window(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return after("date_from", value, info)

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of ``queries.list_events`` these parameters give."""
        return {
            "status": values(self.status),
            "kind": values(self.kind),
            "modality": values(self.modality),
            "date_from": self.date_from,
            "date_to": self.date_to,
            "q": self.q,
            "first_report": self.first_report,
            **self.provenance(),
        }

    @property
    def costly(self) -> bool:
        return super().costly or self.first_report is not None


ROLE_HELP = "Claims the entity makes (claimant), is the subject of, or either (any)."


class _ClaimList(ClaimFilters):
    """The query string of `GET /claims`."""

    entity: Id | None = Field(None, description="Entity id.")
    role: Literal["any", "claimant", "subject"] = Field("any", description=ROLE_HELP)
    event: Id | None = Field(None, description="Event id.")
    article: Id | None = Field(None, description="Article id.")


class _ArticleClaimList(ClaimFilters):
    """The query string of `GET /articles/{id}/claims`."""

    entity: Id | None = Field(None, description="Entity id.")


class _EntityClaimList(ClaimFilters):
    """The query string of `GET /entities/{id}/claims`."""

    role: Literal["any", "claimant", "subject"] = Field("any", description=ROLE_HELP)


class _EventList(EventFilters):
    """The query string of `GET /events`."""

    entity: Id | None = Field(None, description="Entity id.")
    article: Id | None = Field(None, description="Article id.")


class _ArticleEventList(EventFilters):
    """The query string of `GET /articles/{id}/events`."""

    entity: Id | None = Field(None, description="Entity id.")


class _EntityEventList(EventFilters):
    """The query string of `GET /entities/{id}/events`."""


class _EntityList(Paging, ListOptions, Provenance):
    """The query string of `GET /entities`."""

    kind: list[EntityKind] | None = Field(None, description="Entity kind (repeatable).")
    article: Id | None = Field(None, description="Article id.")
    q: SearchText | None = Field(
        None, description=f"Full-text query on names and aliases: {SEARCH_GRAMMAR}."
    )
    external_id: ExternalId | None = Field(
        None,
        description="The entity with this id in another knowledge base, written "
        "`scheme:value`, e.g. `wikidata:Q232`.",
    )

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of ``queries.list_entities`` these parameters give."""
        scheme, _, value = (self.external_id or "").partition(":")
        return {
            "kind": values(self.kind),
            "article": self.article,
            "q": self.q,
            "external_id": (scheme, value) if self.external_id else None,
            **self.provenance(),
        }


class _ArticleList(Paging, ListOptions):
    """The query string of `GET /articles`."""

    publisher: (
        Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)] | None
    ) = Field(None, description="Publisher, exactly.")
    language: Annotated[str, Field(min_length=1, max_length=35), AfterValidator(_no_nul)] | None = (
        Field(None, description="Language tag, e.g. `en`.")
    )
    published_from: Day | None = Field(None, description="Published on or after (YYYY-MM-DD).")
    published_to: Day | None = Field(None, description="Published on or before (YYYY-MM-DD).")
    entity: Id | None = Field(None, description="Entity id.")
    q: SearchText | None = Field(
        None, description=f"Full-text query on the title and text: {SEARCH_GRAMMAR}."
    )
    sort: str | None = None

    @field_validator("published_to")
    @classmethod
    def _window(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return after("published_from", value, info)

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of ``queries.list_articles`` these parameters give."""
        return {
            "publisher": self.publisher,
            "language": self.language,
            "published_from": self.published_from,
            "published_to": self.published_to,
            "entity": self.entity,
            "q": self.q,
        }


# The list models: each base above completed with its resource's grammar and choices. To a
# type checker they are their bases, whose fields and methods they keep.
if TYPE_CHECKING:
    ClaimList = _ClaimList
    ArticleClaimList = _ArticleClaimList
    EntityClaimList = _EntityClaimList
    EventList = _EventList
    ArticleEventList = _ArticleEventList
    EntityEventList = _EntityEventList
    EntityList = _EntityList
    ArticleList = _ArticleList
else:
    ClaimList = listing(_ClaimList, CLAIMS)
    ArticleClaimList = listing(_ArticleClaimList, CLAIMS)
    EntityClaimList = listing(_EntityClaimList, CLAIMS)
    EventList = listing(_EventList, EVENTS)
    ArticleEventList = listing(_ArticleEventList, EVENTS)
    EntityEventList = listing(_EntityEventList, EVENTS)
    EntityList = listing(_EntityList, ENTITIES)
    ArticleList = listing(_ArticleList, ARTICLES)


class SuggestQuery(QueryParams):
    """The query string of `GET /entities/suggest`."""

    q: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)] = Field(
        description="What has been typed so far: the start of a name, an alias or any of "
        "their words, in any script; case, accents and punctuation do not matter."
    )
    limit: int = Field(10, ge=1, le=100, description="How many entities at most (1–100).")
    kind: list[EntityKind] | None = Field(None, description="Entity kind (repeatable).")


class ArticleEntityList(AnchoredPaging):
    """The query string of `GET /articles/{id}/entities`."""

    kind: list[EntityKind] | None = Field(None, description="Entity kind (repeatable).")


class MentionList(AnchoredPaging):
    """The query string of `GET /entities/{id}/mentions`."""


HitType = Literal["article", "entity", "event", "claim"]


class SearchQuery(AnchoredPaging):
    """The query string of `GET /search`."""

    q: SearchText = Field(description=f"The query: {SEARCH_GRAMMAR}.")
    type: list[HitType] | None = Field(
        None, description="Only hits of this type: article, entity, event, claim (repeatable)."
    )

    @property
    def costly(self) -> bool:
        return not fts.light(self.q)


# --- one resource ------------------------------------------------------------------------


class NoParams(QueryParams):
    """A route that takes no query parameter."""


class Anchored(QueryParams):
    """One resource whose anchors' offsets can be given in UTF-16."""

    offset_unit: OffsetUnit = Field("codepoint", description=OFFSET_UNIT_HELP)


class ClaimDetailQuery(Anchored):
    """The query string of `GET /claims/{id}`."""

    format: ClaimFormat | None = Field(None, description=media_type_help(ClaimFormat))


class FactsQuery(Anchored):
    """The query string of `GET /articles/{id}/facts`."""

    overlaps: str | None = Field(
        None,
        pattern=r"^[0-9]{1,9},[0-9]{1,9}$",
        description="`start,end`: keep the facts with an anchor overlapping this half-open "
        "range of the text, e.g. `400,520`, in the `offset_unit`; each then lists those "
        "anchors in `overlapping`.",
    )

    @field_validator("overlaps")
    @classmethod
    def _range(cls, value: str | None) -> str | None:
        if value is not None:
            start, end = value.split(",")
            if int(start) >= int(end):
                raise ValueError("start must be less than end")
        return value

    @property
    def span(self) -> tuple[int, int] | None:
        """``overlaps`` as numbers, in the request's unit."""
        if self.overlaps is None:
            return None
        start, end = (int(n) for n in self.overlaps.split(","))
        return start, end


class AnnotationsQuery(QueryParams):
    """The query string of `GET /articles/{id}/annotations`."""

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT})."
    )
    cursor: Cursor | None = Field(
        None,
        description="Opaque cursor from the previous page's `next`, on the same article.",
    )
    offset_unit: Literal["codepoint"] = Field(
        "codepoint",
        description="Always `codepoint`: a W3C TextPositionSelector counts Unicode code "
        "points. For UTF-16 offsets use `/articles/{id}/facts?offset_unit=utf16`.",
    )


class MethodologyQuery(QueryParams):
    """The query string of `GET /methodology`."""

    format: Literal["json", "html"] | None = Field(
        None,
        description="`json` or `html`; without it, the Accept header decides (JSON unless it "
        "prefers `text/html`).",
    )
