"""The status vocabulary, the fact file schema, and health checks."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from app import queries
from app.api.deps import INVALID, JSONResponse, StrictQueryRoute
from app.api.examples import example
from app.db import SessionDep, schema_revision
from app.ingest.document import json_schema
from app.schemas import Health, StatusInfo

router = APIRouter(route_class=StrictQueryRoute, responses=INVALID)


@router.get(
    "/verification-statuses",
    response_model=list[StatusInfo],
    tags=["vocabulary"],
    responses=example("verification_statuses"),
)
def verification_statuses(session: SessionDep) -> Response:
    """The closed status vocabulary: definitions, ClaimReview and FEVER crosswalks, and counts."""
    return JSONResponse(queries.verification_statuses(session.connection()))


@router.get(
    "/schema/fact-file",
    tags=["vocabulary"],
    responses=example("fact_file_schema"),
)
def fact_file_schema() -> dict[str, Any]:
    """The JSON Schema of the fact file format (`article-facts/1`) that ingest accepts."""
    return json_schema()


@router.get("/healthz", response_model=Health, tags=["operations"], responses=example("healthz"))
def healthz() -> Response:
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
def readyz(request: Request, session: SessionDep) -> Response:
    """The database answers, its schema is at the newest migration, and it holds data."""
    checks: dict[str, str] = {}
    try:
        current, head = schema_revision(request.app.state.engine)
        checks["database"] = "ok"
        checks["schema"] = "ok" if current == head else f"at {current}, code expects {head}"
        if current == head:
            checks["data"] = (
                "ok" if queries.database_ready(session.connection()) else "no article loaded"
            )
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
