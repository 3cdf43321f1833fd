"""The vocabularies, the methodology, the fact file schema, and health checks."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import HTMLResponse, Response

from app import queries
from app.api.examples import content, example
from app.api.pages import JSONResponse
from app.api.params import MethodologyQuery, NoParams
from app.api.responses import INVALID
from app.api.route import Db, Route
from app.db import migration_revision
from app.http import quality_values
from app.ingest.document import json_schema
from app.methodology import methodology, methodology_html
from app.schemas import Health, StatusInfo, Vocabulary

router = APIRouter(route_class=Route, responses=INVALID)


@router.get(
    "/verification-statuses",
    response_model=list[StatusInfo],
    tags=["vocabulary"],
    responses=example("verification_statuses"),
)
def verification_statuses(params: Annotated[NoParams, Query()], db: Db) -> Response:
    """The closed status vocabulary: definitions, ClaimReview and FEVER crosswalks, and counts."""
    return JSONResponse(queries.verification_statuses(db.connection()))


@router.get(
    "/vocabularies",
    response_model=list[Vocabulary],
    tags=["vocabulary"],
    responses=example("vocabularies"),
)
def vocabularies(params: Annotated[NoParams, Query()]) -> Response:
    """Every closed vocabulary (entity kinds, relation predicates, event kinds and modality,
    claim kinds, statuses, evidence stance), each value with its definition."""
    return JSONResponse(queries.vocabularies())


@router.get(
    "/schema/fact-file",
    tags=["vocabulary"],
    responses=example("fact_file_schema"),
)
def fact_file_schema(params: Annotated[NoParams, Query()]) -> Response:
    """The JSON Schema of the fact file format (`article-facts/1`) that ingest accepts."""
    return JSONResponse(json_schema())


def _quality(accept: str, media_types: tuple[str, ...]) -> float:
    """The highest quality ``accept`` gives any of ``media_types``."""
    qualities = [q for media, q in quality_values(accept) if media.lower() in media_types]
    return max([0.0, *qualities])


def wants_html(accept: str) -> bool:
    """Whether an Accept header prefers an HTML page to JSON."""
    html = _quality(accept, ("text/html", "application/xhtml+xml"))
    json = _quality(accept, ("application/json", "application/*", "*/*"))
    return html > json


@router.get(
    "/methodology",
    tags=["vocabulary"],
    responses={
        200: {
            "description": "The methodology: JSON, or a page for a client that asks for HTML.",
            "content": {
                **content("application/json", "methodology"),
                "text/html": {"schema": {"type": "string"}, "example": "<!doctype html>…"},
            },
        }
    },
)
def get_methodology(request: Request, params: Annotated[MethodologyQuery, Query()]) -> Response:
    """How claims are assessed and facts anchored.

    The verification statuses with their ClaimReview and FEVER crosswalks, how anchor
    offsets are counted (Unicode code points; quotes resolved by occurrence; `exact`
    always equals the text between `start` and `end`), the `offset_unit` option, and how
    anchors map onto W3C Web Annotations.
    """
    data = methodology()
    output = params.format
    html = output == "html" or (output is None and wants_html(request.headers.get("accept", "")))
    headers = {"Vary": "Accept"}
    if html:
        return HTMLResponse(methodology_html(data), headers=headers)
    return JSONResponse(data, headers=headers)


@router.get("/healthz", response_model=Health, tags=["operations"], responses=example("healthz"))
def healthz(params: Annotated[NoParams, Query()]) -> Response:
    """The process is up."""
    return JSONResponse({"status": "ok", "checks": {}})


@router.get(
    "/readyz",
    response_model=Health,
    tags=["operations"],
    responses={
        **example("readyz"),
        503: {"model": Health, "description": "Not ready; `checks` says why."},
    },
)
def readyz(params: Annotated[NoParams, Query()], db: Db) -> Response:
    """The database answers, its schema is at the newest migration, and it holds data."""
    checks: dict[str, str] = {}
    try:
        conn = db.connection()
        current, head = migration_revision(conn)
        checks["database"] = "ok"
        checks["schema"] = "ok" if current == head else f"at {current}, code expects {head}"
        if current == head:
            checks["data"] = "ok" if queries.database_ready(conn) else "no article loaded"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
