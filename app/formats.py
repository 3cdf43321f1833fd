"""Representations of lists and claims: JSON, CSV, NDJSON and schema.org ClaimReview.

The format is chosen by ``?format=`` when given, otherwise by the ``Accept`` header
(RFC 9110 proactive negotiation, q-values honoured), otherwise JSON.

CSV and NDJSON of a whole list are exports: they stream every row matching the filters,
read in batches, each on a connection taken for that batch alone, so a large export is never
built in memory and a client that reads slowly holds no connection.
"""

import csv
import datetime as dt
import io
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Union, get_args, get_origin

import orjson
from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.responses import Response, StreamingResponse

from app import queries
from app.db import Database
from app.errors import PROBLEM_JSON, APIError
from app.http import absolute_url, quality_values
from app.models import STATUS_DEFINITIONS, VerificationStatus
from app.schemas import Problem

Row = dict[str, Any]
Fetch = Callable[..., queries.PageResult]

EXPORT_BATCH = 500
CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"
NDJSON = "application/x-ndjson"
JSON_LD = "application/ld+json"
SCHEMA_ORG = "https://schema.org"


class Format(StrEnum):
    json = "json"
    csv = "csv"
    ndjson = "ndjson"
    claimreview = "claimreview"


class ListFormat(StrEnum):
    """Formats of every list."""

    json = "json"
    csv = "csv"
    ndjson = "ndjson"


class ClaimListFormat(StrEnum):
    """Formats of a list of claims."""

    json = "json"
    csv = "csv"
    ndjson = "ndjson"
    claimreview = "claimreview"


class ClaimFormat(StrEnum):
    """Formats of one claim."""

    json = "json"
    claimreview = "claimreview"


# What each format is called in Accept, in the server's order of preference: on a tie
# in quality and specificity the earlier one wins, so `*/*` means JSON.
MEDIA_TYPES: tuple[tuple[str, Format], ...] = (
    ("application/json", Format.json),
    ("text/csv", Format.csv),
    ("application/x-ndjson", Format.ndjson),
    ("application/jsonl", Format.ndjson),
    ("application/ld+json", Format.claimreview),
)

_FORMAT_HELP = (
    "Representation: {choices}. Wins over the `Accept` header ({types}); without either, JSON."
)


def media_type_help(enum: type[StrEnum]) -> str:
    """The description of a `format` parameter offering the formats of ``enum``."""
    names = [f.value for f in enum]
    types_ = [m for m, f in MEDIA_TYPES if f.value in names]
    return _FORMAT_HELP.format(
        choices=", ".join(f"`{n}`" for n in names), types=", ".join(f"`{t}`" for t in types_)
    )


class NotAcceptable(APIError):
    status_code = 406


@dataclass(frozen=True)
class Chosen:
    """The negotiated format and the media type the response is labelled with."""

    format: Format
    media_type: str


def _accept_ranges(header: str) -> list[tuple[str, str, float]]:
    ranges = []
    for media, q in quality_values(header):
        if media.count("/") != 1:
            continue
        main, sub = (s.strip().lower() for s in media.split("/"))
        if 0.0 <= q <= 1.0 and main and sub and not (main == "*" and sub != "*"):
            ranges.append((main, sub, q))
    return ranges


def negotiate(accept: str | None, allowed: Sequence[Format]) -> Chosen | None:
    """The format ``accept`` prefers among ``allowed``; None when it accepts none of them.

    Each offered media type takes the quality of the most specific range matching it
    (RFC 9110 §12.5.1); the highest quality wins, then the one named most specifically
    (`text/csv, */*` means CSV), then the server's order. A quality of 0 means "not
    acceptable". No Accept header, or an empty one, accepts anything.
    """
    if accept is None or not accept.strip():
        return Chosen(allowed[0], _media_type(allowed[0]))
    ranges = _accept_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for order, (media_type, fmt) in enumerate(MEDIA_TYPES):
        if fmt not in allowed:
            continue
        main, sub = media_type.split("/")
        matches = [
            (2 if (m, s) == (main, sub) else 1 if (m, s) == (main, "*") else 0, q)
            for m, s, q in ranges
            if (m, s) in ((main, sub), (main, "*"), ("*", "*"))
        ]
        if not matches:
            continue
        specificity, q = max(matches)
        rank = (q, specificity, -order)
        if q > 0 and (best is None or rank > best):
            best, chosen = rank, Chosen(fmt, media_type if specificity == 2 else _media_type(fmt))
    return chosen


def _media_type(fmt: Format) -> str:
    return next(m for m, f in MEDIA_TYPES if f is fmt)


def choose(request: Request, given: StrEnum | None, allowed: Sequence[Format]) -> Chosen:
    """The format asked for by ``?format=`` (``given``) or else by Accept; 406 if none fits."""
    if given is not None:
        fmt = Format(given.value)
        return Chosen(fmt, _media_type(fmt))
    chosen = negotiate(request.headers.get("accept"), allowed)
    if chosen is None:
        offered = ", ".join(m for m, f in MEDIA_TYPES if f in allowed)
        names = ", ".join(f.value for f in allowed)
        raise NotAcceptable(
            f"this resource is available as {offered}; the Accept header allows none of them "
            f"(or use ?format={names.replace(', ', '|')})"
        )
    return chosen


LIST_FORMATS = (Format.json, Format.csv, Format.ndjson)
EXPORTS = (Format.csv, Format.ndjson)
CLAIM_LIST_FORMATS = (*LIST_FORMATS, Format.claimreview)
CLAIM_FORMATS = (Format.json, Format.claimreview)


# --- flattening for CSV ------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard(cell: str) -> str:
    """A cell a spreadsheet will show as text: one that could start a formula gets a `'`."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _members(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _model(annotation: Any) -> type[BaseModel] | None:
    members = _members(annotation)
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel):
        return members[0]
    return None


Column = tuple[str, Callable[[Row], Any]]


def _joined_ids(name: str) -> Callable[[Row], Any]:
    return lambda row: ";".join(ref["id"] for ref in row.get(name) or [])


def _joined(name: str) -> Callable[[Row], Any]:
    return lambda row: ";".join(row.get(name) or [])


def _as_json(name: str) -> Callable[[Row], Any]:
    return lambda row: orjson.dumps(row[name]).decode() if row.get(name) is not None else None


def _value(name: str) -> Callable[[Row], Any]:
    return lambda row: row.get(name)


def _nested(name: str, inner: Callable[[Row], Any]) -> Callable[[Row], Any]:
    return lambda row: inner(row[name]) if row.get(name) is not None else None


def csv_columns(model: type[BaseModel], prefix: str = "") -> list[Column]:
    """The CSV columns of ``model``: one per scalar; nested objects flattened.

    An object becomes its fields joined by `_` (claimant → claimant_id, claimant_name,
    claimant_kind); a list of references or of ids becomes the ids joined by `;`; any
    other list or map (anchors, mentions, aliases, participants, external ids) is one
    cell of compact JSON.
    """
    columns: list[Column] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        nested = _model(annotation)
        if nested is not None:
            for sub, get in csv_columns(nested):
                columns.append((f"{prefix}{name}_{sub}", _nested(name, get)))
            continue
        (member,) = _members(annotation)[:1] or [annotation]
        if get_origin(member) is list:
            (item,) = get_args(member)
            item_model = _model(item)
            if item_model is not None and "id" in item_model.model_fields:
                columns.append((prefix + name, _joined_ids(name)))
            elif item is str:
                columns.append((prefix + name, _joined(name)))
            else:
                columns.append((prefix + name, _as_json(name)))
        elif get_origin(member) is dict:
            columns.append((prefix + name, _as_json(name)))
        else:
            columns.append((prefix + name, _value(name)))
    return columns


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return guard(value)
    return value


def csv_row(columns: Sequence[Column], item: Row) -> list[Any]:
    return [_cell(get(item)) for _, get in columns]


def _csv_chunk(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _ndjson_chunk(items: Sequence[Row]) -> bytes:
    return b"".join(orjson.dumps(item) + b"\n" for item in items)


def item_model(request: Request) -> type[BaseModel] | None:
    """The item schema of the route's `Page[...]` response model."""
    route = request.scope.get("route")
    page_model = getattr(route, "response_model", None)
    if isinstance(page_model, type) and issubclass(page_model, BaseModel):
        items = page_model.model_fields.get("items")
        if items is not None:
            (item,) = get_args(items.annotation) or (None,)
            return _model(item)
    return None


def _chunks(fmt: Format, columns: Sequence[Column]) -> Callable[[Sequence[Row]], bytes]:
    if fmt is Format.csv:
        return lambda items: _csv_chunk([csv_row(columns, item) for item in items])
    return _ndjson_chunk


def _headers(request: Request, chosen: Chosen) -> dict[str, str]:
    headers = {"Vary": "Accept"}
    if chosen.format is Format.csv:
        name = "-".join(p for p in request.url.path.split("/") if p) or "export"
        headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return headers


def _content_type(chosen: Chosen) -> str:
    return CSV_MEDIA_TYPE if chosen.format is Format.csv else chosen.media_type


def _columns(request: Request, fields: Sequence[str] | None) -> list[Column]:
    model = item_model(request)
    if model is None:
        return []
    # Resources embedded with include= (a claim's evidence, history) are JSON cells.
    asked = request.query_params.getlist("include")
    included = [(name, _as_json(name)) for name in asked]
    # Fields that only an include= embeds are columns only when asked for, at the end.
    embedded = set(EMBEDDED) - set(asked)
    names = [f for f in model.model_fields if f not in EMBEDDED]
    if fields is None:
        return [c for f in names for c in _field_columns(model, f)] + included
    return [c for f in names if f in fields for c in _field_columns(model, f)] + [
        c for c in included if c[0] in fields and c[0] not in embedded
    ]


# What `include=` may embed in a list's items (see ``app.filters``).
EMBEDDED = ("evidence", "history")


def _field_columns(model: type[BaseModel], name: str) -> list[Column]:
    return [c for c in csv_columns(model) if c[0] == name or c[0].startswith(f"{name}_")]


def render_page(
    request: Request,
    chosen: Chosen,
    items: Sequence[Row],
    headers: Mapping[str, str],
    fields: Sequence[str] | None = None,
) -> Response:
    """One page as CSV or NDJSON (the page size is bounded, so it is built at once)."""
    columns = _columns(request, fields)
    body = b""
    if chosen.format is Format.csv:
        body = _csv_chunk([[name for name, _ in columns]])
    body += _chunks(chosen.format, columns)(items)
    return Response(
        body, media_type=_content_type(chosen), headers={**_headers(request, chosen), **headers}
    )


@dataclass(frozen=True)
class Export:
    """A list query and its filters, to be run batch by batch by the export stream."""

    query: Fetch
    filters: Mapping[str, Any]


def export(
    request: Request,
    chosen: Chosen,
    job: Export,
    fields: Sequence[str] | None = None,
    convert: Callable[[Connection, list[Row]], list[Row]] | None = None,
) -> StreamingResponse:
    """The whole list as CSV or NDJSON, streamed in batches of ``EXPORT_BATCH``.

    Each batch is read in a transaction of its own, on a connection taken for that batch
    alone and returned before the batch is sent: a client that reads slowly, or not at all,
    holds no connection, and the others' requests never wait for it. Batches follow the
    list's keyset order, so an export never repeats or skips an item that stays in the list;
    items added while it runs appear at its end (in ingest order), and an item changed
    while it runs shows as it was when its batch was read.
    """
    state = request.app.state
    columns = _columns(request, fields)
    narrow = _narrow(fields)
    chunk = _chunks(chosen.format, columns)

    def batch(after: queries.Key | None) -> tuple[bytes, queries.Key | None]:
        db = Database(state.engine, state.gate, limit_ms=state.settings.query_timeout_ms)
        try:
            conn = db.connection()
            items, after = job.query(conn, **job.filters, after=after, limit=EXPORT_BATCH)
            return (
                chunk(narrow(convert(conn, items) if convert else items)) if items else b""
            ), after
        finally:
            db.close()

    def stream() -> Iterator[bytes]:
        if chosen.format is Format.csv:
            yield _csv_chunk([[name for name, _ in columns]])
        after: queries.Key | None = None
        while True:
            data, after = batch(after)
            if data:
                yield data
            if after is None:
                break

    return StreamingResponse(
        stream(), media_type=_content_type(chosen), headers=_headers(request, chosen)
    )


def _narrow(fields: Sequence[str] | None) -> Callable[[Sequence[Row]], Sequence[Row]]:
    if fields is None:
        return lambda items: items
    return lambda items: [{k: item[k] for k in fields if k in item} for item in items]


# --- schema.org ClaimReview --------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """How a status is published as a ClaimReview `reviewRating`."""

    alternate_name: str
    verdict: bool
    value: int | None = None


BEST_RATING = 5
WORST_RATING = 1


# Only `confirmed` and `refuted` are verdicts reached on evidence: they alone get a
# numeric rating (on the common 1–5 scale, 5 true, 1 false). The other statuses say
# that no verdict exists yet (nobody has answered, sources conflict, nothing confirms
# it): they keep their own name and no number.
def _rating_name(status: VerificationStatus) -> str:
    return str(STATUS_DEFINITIONS[status]["claimreview_rating"])


# `not_checkable` has no rating at all: an opinion or a prediction is neither true nor false,
# and a rating, even "unverified", would suggest it could be.
RATINGS: dict[VerificationStatus, Rating] = {
    VerificationStatus.confirmed: Rating(
        _rating_name(VerificationStatus.confirmed), True, BEST_RATING
    ),
    VerificationStatus.refuted: Rating(
        _rating_name(VerificationStatus.refuted), True, WORST_RATING
    ),
    **{
        status: Rating(_rating_name(status), False)
        for status in (
            VerificationStatus.unverified,
            VerificationStatus.pending,
            VerificationStatus.disputed,
        )
    },
}

NOT_A_VERDICT = "Not a verdict"

AUTHOR_TYPES = {
    "person": "Person",
    "company": "Corporation",
    "government_body": "GovernmentOrganization",
    "media_outlet": "NewsMediaOrganization",
    "channel": "NewsMediaOrganization",
}


def _explanation(status: VerificationStatus, rationale: str) -> str:
    info = STATUS_DEFINITIONS[status]
    return f"{info['label']}: {info['definition']} {rationale}"


def review_rating(status: str, rationale: str) -> Row | None:
    """The `Rating` of a claim with ``status``, explained by its definition and rationale;
    None for a claim that cannot be rated (``not_checkable``)."""
    s = VerificationStatus(status)
    rating = RATINGS.get(s)
    if rating is None:
        return None
    explanation = _explanation(s, rationale)
    if not rating.verdict:
        explanation = f"{NOT_A_VERDICT}. {explanation}"
    out: Row = {
        "@type": "Rating",
        "identifier": s.value,
        "alternateName": rating.alternate_name,
        "ratingExplanation": explanation,
    }
    if rating.value is not None:
        out |= {"ratingValue": rating.value, "bestRating": BEST_RATING, "worstRating": WORST_RATING}
    return out


def _absent_none(obj: Row) -> Row:
    return {k: v for k, v in obj.items() if v is not None}


def _appearance(article: Row) -> Row:
    publisher = article["publisher"]
    return _absent_none(
        {
            "@type": "NewsArticle",
            "url": article["url"],
            "headline": article["title"],
            "datePublished": _iso(article["published"]),
            "inLanguage": article["language"],
            "publisher": {"@type": "Organization", "name": publisher} if publisher else None,
            "identifier": article["id"],
        }
    )


def _claim_author(request: Request, claimant: Row) -> Row:
    if claimant["id"] is None:
        # An unnamed source: described as the article describes it, not an entity.
        return {"@type": "Person", "name": claimant["name"], "description": "an unnamed source"}
    return {
        "@type": AUTHOR_TYPES.get(claimant["kind"], "Organization"),
        "name": claimant["name"],
        "identifier": claimant["id"],
        "url": absolute_url(
            request, request.app.url_path_for("get_entity", entity_id=claimant["id"])
        ),
    }


def claim_review(
    request: Request,
    claim: Row,
    articles: Sequence[Row],
    reviewed: dt.datetime | None,
    author: str,
) -> Row:
    """One claim as a schema.org ClaimReview (without `@context`).

    ``articles`` are those that report the claim, earliest first: each is an `appearance`
    of it, and the first its `firstAppearance`. A claim that cannot be rated
    (``not_checkable``) gets no `reviewRating`; its `reviewBody` says why.
    """
    appearances = [_appearance(article) for article in articles]
    first = articles[0] if articles else None
    rating = review_rating(claim["status"], claim["rationale"])
    body = None
    if rating is None:
        body = _explanation(VerificationStatus(claim["status"]), claim["rationale"])
    return _absent_none(
        {
            "@type": "ClaimReview",
            "url": absolute_url(
                request, request.app.url_path_for("get_claim", claim_id=claim["id"])
            ),
            "identifier": claim["id"],
            "claimReviewed": claim["text"],
            "datePublished": reviewed.date().isoformat() if reviewed is not None else None,
            "author": {"@type": "Organization", "name": author},
            "itemReviewed": _absent_none(
                {
                    "@type": "Claim",
                    "author": _claim_author(request, claim["claimant"]),
                    "datePublished": _iso(first["published"]) if first else None,
                    "appearance": appearances or None,
                    "firstAppearance": appearances[0] if appearances else None,
                }
            ),
            "reviewRating": rating,
            "reviewBody": body,
        }
    )


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _author(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    name = getattr(settings, "claimreview_author", None)
    return name if isinstance(name, str) and name else "article-facts"


def claim_reviews(request: Request, conn: Connection, claims: Sequence[Row]) -> list[Row]:
    """ClaimReviews of ``claims``, with every article reporting each and their status dates
    read in three queries (a claim reported by several articles is one claim: its status,
    and the date it was recorded, are its first report's)."""
    roots = {c["id"]: c.get("same_as") or c["id"] for c in claims}
    reports = queries.fact_reports(conn, "claim", sorted(set(roots.values())))
    keys = {r["article"] for found in reports.values() for r in found}
    articles = queries.articles_by_id(conn, sorted(keys | {c["article"] for c in claims}))
    reviewed = queries.status_recorded(conn, sorted(set(roots.values())))
    author = _author(request)
    out = []
    for c in claims:
        root = roots[c["id"]]
        order = [r["article"] for r in reports.get(root, [])] or [c["article"]]
        reporting = [articles[a] for a in dict.fromkeys(order) if a in articles]
        out.append(claim_review(request, c, reporting, reviewed.get(root), author))
    return out


def claimreview_response(
    request: Request, body: Row, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps({"@context": SCHEMA_ORG, **body}),
        media_type=JSON_LD,
        headers={"Vary": "Accept", **(headers or {})},
    )


def render_claim(request: Request, conn: Connection, claim: Row, chosen: Chosen) -> Response:
    """One claim as JSON, or as a ClaimReview JSON-LD document."""
    if chosen.format is Format.claimreview:
        return claimreview_response(request, claim_reviews(request, conn, [claim])[0])
    return Response(orjson.dumps(claim), media_type="application/json", headers={"Vary": "Accept"})


def document_formats(openapi: dict[str, Any]) -> None:
    """Add to an OpenAPI document the media types each `format` parameter can give.

    FastAPI documents a route's JSON body; the other representations (CSV, NDJSON,
    ClaimReview JSON-LD) and the 406 for an Accept header none of them meets are added here.
    """
    components = openapi.get("components", {}).get("schemas", {})
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            parameter = next(
                (p for p in operation.get("parameters", []) if p["name"] == "format"), None
            )
            if parameter is None:
                continue
            refs = [s.get("$ref", "") for s in parameter["schema"].get("anyOf", [])]
            names = [
                value
                for ref in refs
                if ref
                for value in components[ref.rsplit("/", 1)[1]].get("enum", [])
            ]
            content = operation["responses"]["200"].setdefault("content", {})
            for media_type, fmt in MEDIA_TYPES:
                if fmt.value in names and media_type not in content:
                    body = {"type": "object"} if fmt is Format.claimreview else {"type": "string"}
                    content[media_type] = {"schema": body}
            operation["responses"]["406"] = {
                "description": "No representation meets the Accept header; `detail` lists them.",
                "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}},
            }
