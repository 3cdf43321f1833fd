"""The filter grammar, counts, facets and field selection shared by the list endpoints.

A filter is a query parameter ``<field>__<operator>=<value>`` in the style of Datasette:
``status__in=pending,disputed``, ``published__gte=2024-10``, ``text__contains=consortium``.
Each list declares the fields it can filter and facet on (see ``CLAIMS``, ``EVENTS``, …).
Dates may be given as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` and keep that precision:
``published__lte=2024-10`` includes the whole of October, ``published=2024-10`` means
within October. An event's date is a span ``[start, end]`` (a month-precision event covers
its month), so its filters compare spans: ``date=2024-11`` keeps events that overlap November.
"""

import calendar
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Select, String, and_, cast, func, or_

from app import queries
from app.models import (
    ClaimKind,
    EntityKind,
    EventKind,
    EventModality,
    VerificationStatus,
    article_t,
    claim_t,
    entity_t,
    event_t,
)
from app.queries import CLAIMANT, LOCATION
from app.schemas import ArticleSummary, ClaimOut, EntitySummary, EventOut

FieldType = Literal["text", "enum", "date", "span", "number"]

OPERATORS: dict[FieldType, tuple[str, ...]] = {
    "text": ("exact", "in", "not", "contains"),
    "enum": ("exact", "in", "not"),
    "date": ("exact", "gt", "gte", "lt", "lte"),
    "span": ("exact", "gt", "gte", "lt", "lte"),
    "number": ("exact", "in", "not", "gt", "gte", "lt", "lte"),
}
MAX_NUMBER = 2**31 - 1
MAX_FACET_VALUES = 50
EARLIEST = dt.date(1, 1, 1)
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(frozen=True)
class Field:
    """A filterable field: its column (for a span, the start), type and allowed values."""

    column: ColumnElement[Any]
    type: FieldType
    description: str
    choices: tuple[str, ...] = ()
    end: ColumnElement[Any] | None = None  # a span's end column
    present: ColumnElement[bool] | None = None  # a span is only known when this holds

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS[self.type]


@dataclass(frozen=True)
class Resource:
    """What one kind of list can be filtered, faceted and narrowed on."""

    name: str
    fields: Mapping[str, Field]
    facets: Mapping[str, ColumnElement[Any]]
    item_fields: tuple[str, ...]
    includes: tuple[str, ...] = ()
    sorts: Mapping[str, ColumnElement[Any]] = field(default_factory=dict)

    def describe(self) -> str:
        return "; ".join(
            f"{name} ({', '.join(f.operators)})" for name, f in sorted(self.fields.items())
        )


def _month(column: ColumnElement[Any]) -> ColumnElement[Any]:
    # Dates are ISO 8601 text on SQLite and `date` on PostgreSQL; both cast to YYYY-MM-DD.
    return func.substr(cast(column, String), 1, 7)


def _choices(enum: Any) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


CLAIMS = Resource(
    name="claims",
    fields={
        "status": Field(
            claim_t.c.status, "enum", "verification status", _choices(VerificationStatus)
        ),
        "kind": Field(claim_t.c.kind, "enum", "claim kind", _choices(ClaimKind)),
        "claimant": Field(CLAIMANT.c.key, "text", "entity id of the claimant"),
        "article": Field(article_t.c.key, "text", "article id"),
        "published": Field(article_t.c.published, "date", "the article's publication date"),
        "text": Field(claim_t.c.text, "text", "the claim's text"),
    },
    facets={
        "status": claim_t.c.status,
        "kind": claim_t.c.kind,
        "claimant": CLAIMANT.c.key,
        "article": article_t.c.key,
        "month": _month(article_t.c.published),
    },
    includes=("evidence", "history"),
    sorts={"published": article_t.c.published},
    item_fields=tuple(ClaimOut.model_fields),
)

EVENTS = Resource(
    name="events",
    fields={
        "status": Field(
            event_t.c.status, "enum", "verification status", _choices(VerificationStatus)
        ),
        "kind": Field(event_t.c.kind, "enum", "event kind", _choices(EventKind)),
        "modality": Field(event_t.c.modality, "enum", "modality", _choices(EventModality)),
        "article": Field(article_t.c.key, "text", "article id"),
        "location": Field(LOCATION.c.key, "text", "entity id of the place"),
        "summary": Field(event_t.c.summary, "text", "the event's summary"),
        "date": Field(
            event_t.c.time_start,
            "span",
            "when the event happened or is to happen",
            end=event_t.c.time_end,
            present=event_t.c.time_precision.is_not(None),
        ),
    },
    facets={
        "status": event_t.c.status,
        "kind": event_t.c.kind,
        "modality": event_t.c.modality,
        "article": article_t.c.key,
        "month": _month(event_t.c.time_start),
    },
    sorts={"date": event_t.c.time_start},
    item_fields=tuple(EventOut.model_fields),
)

ENTITIES = Resource(
    name="entities",
    fields={
        "id": Field(entity_t.c.key, "text", "entity id"),
        "kind": Field(entity_t.c.kind, "enum", "entity kind", _choices(EntityKind)),
        "name": Field(entity_t.c.name, "text", "the entity's name"),
    },
    facets={"kind": entity_t.c.kind},
    item_fields=tuple(EntitySummary.model_fields),
)

ARTICLES = Resource(
    name="articles",
    fields={
        "id": Field(article_t.c.key, "text", "article id"),
        "publisher": Field(article_t.c.publisher, "text", "publisher"),
        "language": Field(article_t.c.language, "text", "language tag"),
        "published": Field(article_t.c.published, "date", "publication date"),
        "title": Field(article_t.c.title, "text", "title"),
        **{
            name: Field(count, "number", f"how many {name} the article holds")
            for name, count in queries.ARTICLE_COUNTS.items()
        },
    },
    facets={
        "publisher": article_t.c.publisher,
        "language": article_t.c.language,
        "month": _month(article_t.c.published),
    },
    sorts={"published": article_t.c.published},
    item_fields=tuple(ArticleSummary.model_fields),
)


def _date_from_cursor(ordinal: int) -> dt.date:
    # Cursors are not secret: a hand-made one must not reach date's range check as a 500.
    return dt.date.fromordinal(min(max(ordinal, 1), dt.date.max.toordinal()))


class FilterError(ValueError):
    """A filter parameter that cannot be applied; the message says what is allowed."""


def parse_date(value: str) -> tuple[dt.date, dt.date]:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as its first and last day."""
    match = _DATE.fullmatch(value)
    if not match:
        raise FilterError("dates are YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        if month is None:
            return dt.date(year or 1, 1, 1), dt.date(year or 1, 12, 31)
        if day is None:
            last = calendar.monthrange(year or 1, month)[1]
            return dt.date(year or 1, month, 1), dt.date(year or 1, month, last)
        exact = dt.date(year or 1, month, day)
    except ValueError as exc:
        raise FilterError(f"not a date: {exc}") from None
    return exact, exact


def _values(value: str) -> list[str]:
    values = [v.strip() for v in value.split(",")]
    if not all(values):
        raise FilterError("a comma-separated list with no empty values")
    return values


def _numbers(values: list[str]) -> list[int]:
    if not all(v.isascii() and v.isdigit() and int(v) <= MAX_NUMBER for v in values):
        raise FilterError(f"whole numbers from 0 to {MAX_NUMBER}")
    return [int(v) for v in values]


def condition(spec: Field, operator: str, value: str) -> ColumnElement[bool]:
    """The SQL condition for ``<field>__<operator>=<value>``."""
    column = spec.column
    if spec.type == "number":
        numbers = _numbers(_values(value) if operator in ("in", "not") else [value])
        comparisons = {
            "exact": column == numbers[0],
            "in": column.in_(numbers),
            "not": column.not_in(numbers),
            "gt": column > numbers[0],
            "gte": column >= numbers[0],
            "lt": column < numbers[0],
            "lte": column <= numbers[0],
        }
        return comparisons[operator]
    if spec.type in ("text", "enum"):
        values = _values(value) if operator in ("in", "not") else [value]
        if spec.choices:
            unknown = [v for v in values if v not in spec.choices]
            if unknown:
                raise FilterError(
                    f"{', '.join(map(repr, unknown))} is not one of: {', '.join(spec.choices)}"
                )
        if operator == "exact":
            return column == value
        if operator == "in":
            return column.in_(values)
        if operator == "not":
            return or_(column.is_(None), column.not_in(values))
        return column.icontains(value, autoescape=True)
    first, last = parse_date(value)
    if spec.type == "date":
        if operator == "exact":
            return column.between(first, last)
        if operator == "gt":
            return column > last
        if operator == "gte":
            return column >= first
        if operator == "lt":
            return column < first
        return column <= last
    # A span [start, end]; an open end is unbounded, as in the date_from/date_to filters.
    start, end = column, spec.end if spec.end is not None else column

    def ends_after(day: dt.date, strict: bool) -> ColumnElement[bool]:
        return or_(end.is_(None), end > day if strict else end >= day)

    def starts_before(day: dt.date, strict: bool) -> ColumnElement[bool]:
        return or_(start.is_(None), start < day if strict else start <= day)

    if operator == "exact":
        overlap = and_(ends_after(first, False), starts_before(last, False))
    elif operator == "gt":
        overlap = ends_after(last, True)
    elif operator == "gte":
        overlap = ends_after(first, False)
    elif operator == "lt":
        overlap = starts_before(first, True)
    else:
        overlap = starts_before(last, False)
    return and_(spec.present, overlap) if spec.present is not None else overlap


def parse_filter(resource: Resource, name: str, value: str) -> ColumnElement[bool]:
    """The condition for one ``<field>__<operator>`` parameter; FilterError names what's allowed."""
    if "\x00" in value:
        raise FilterError("must not contain NUL characters")
    field_name, _, operator = name.partition("__")
    spec = resource.fields.get(field_name)
    if spec is None:
        raise FilterError(
            f"unknown filter field {field_name!r}; {resource.name} filter on: {resource.describe()}"
        )
    if operator not in spec.operators:
        raise FilterError(
            f"unknown operator {operator!r} for {field_name}; use one of: "
            + ", ".join(spec.operators)
        )
    return condition(spec, operator, value)


@dataclass
class ListExtension:
    """Conditions from the filter grammar, and the count and facets asked for.

    ``apply`` adds the conditions to a list's select and runs the summary queries over the
    filtered list (before the cursor, so they describe the whole list, not one page).
    """

    resource: Resource
    where: list[ColumnElement[bool]] = field(default_factory=list)
    count: bool = False
    facets: Sequence[str] = ()
    include: Sequence[str] = ()
    sort: str | None = None
    total: int | None = None
    facet_counts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def apply(
        self, conn: Connection, stmt: Select[Any], params: Mapping[str, Any] | None = None
    ) -> Select[Any]:
        if self.where:
            stmt = stmt.where(*self.where)
        # An export runs the list in batches: summarise the list once, on the first.
        if self.count and self.total is None:
            counted = stmt.with_only_columns(func.count(), maintain_column_froms=True)
            self.total = conn.execute(counted.order_by(None), params).scalar_one()
        for name in self.facets:
            if name in self.facet_counts:
                continue
            column = self.resource.facets[name]
            number = func.count().label("count")
            grouped = (
                stmt.with_only_columns(column.label("value"), number, maintain_column_froms=True)
                .group_by(column)
                .order_by(number.desc(), column)
                .limit(MAX_FACET_VALUES)
            )
            self.facet_counts[name] = [
                {"value": value, "count": n} for value, n in conn.execute(grouped, params).all()
            ]
        return stmt

    @property
    def plain(self) -> bool:
        return not (self.where or self.sort or self.count or self.facets)

    def finish(self, conn: Connection, items: list[dict[str, Any]]) -> None:
        keys = [item["id"] for item in items]
        embedded = {
            "evidence": queries.claim_evidence,
            "history": queries.claim_history,
        }
        for name in self.include:
            found = embedded[name](conn, keys)
            for item in items:
                item[name] = found.get(item["id"], [])

    def order(self, default: ColumnElement[Any]) -> queries.Order | list[ColumnElement[Any]]:
        """By the ``sort`` field (a date), then ``default`` as the tie-break, in one direction.

        A missing date sorts as the earliest; cursors carry the date as its ordinal.
        """
        if self.sort is None:
            return [default]
        name = self.sort.removeprefix("-")
        dated = func.coalesce(self.resource.sorts[name], EARLIEST)
        return queries.Order(
            keys=[dated, default],
            descending=self.sort.startswith("-"),
            to_cursor=dt.date.toordinal,
            from_cursor=_date_from_cursor,
        )

    def summary(self) -> dict[str, Any]:
        """What the page body gains: ``total`` and ``facets``, when they were asked for."""
        out: dict[str, Any] = {}
        if self.count:
            out["total"] = self.total
        if self.facets:
            out["facets"] = self.facet_counts
        return out
