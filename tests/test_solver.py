"""Routes solved by a plan built once: the same answers as FastAPI's solver, without its cost."""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import fastapi.dependencies.utils
import fastapi.routing
import pytest
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.testclient import TestClient
from starlette.responses import Response

from app.api import solver
from app.api.deps import JSONResponse, StrictQueryRoute
from tests.seed import get_json

SEED_ENTITY = "rosatom"


@pytest.fixture
def fastapi_solves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths FastAPI's own solver was asked to solve, from now on."""
    solved: list[str] = []
    original = fastapi.dependencies.utils.solve_dependencies

    async def counting(*, request: Request, **kwargs: Any) -> Any:
        solved.append(request.url.path)
        return await original(request=request, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return solved


# Every route of the API that takes query parameters, as a client would call it.
PLANNED = [
    "/articles?published_from=2024-01-01",
    "/articles/kursiv-2024-10-17-rosatom-meeting",
    "/articles/kursiv-2024-10-17-rosatom-meeting/entities?kind=organization",
    "/articles/kursiv-2024-10-17-rosatom-meeting/events",
    "/articles/kursiv-2024-10-17-rosatom-meeting/claims?status=pending",
    "/articles/kursiv-2024-10-17-rosatom-meeting/facts",
    "/entities?kind=person&limit=2",
    f"/entities/{SEED_ENTITY}",
    f"/entities/{SEED_ENTITY}/mentions",
    f"/entities/{SEED_ENTITY}/claims?role=subject",
    f"/entities/{SEED_ENTITY}/events",
    "/events?modality=requested",
    "/claims?status=pending&status=confirmed&limit=2&count=exact&facet=status",
    "/claims?q=Likhachev",
    "/search?q=Rosatom",
    "/verification-statuses",
    "/articles/kursiv-2024-10-17-rosatom-meeting/annotated",
    "/articles/kursiv-2024-10-17-rosatom-meeting/annotations",
    "/methodology?format=json",
]


@pytest.mark.parametrize("url", PLANNED)
def test_valid_requests_skip_fastapis_solver_with_the_same_answer(
    client: TestClient, fastapi_solves: list[str], url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert fastapi_solves == []
    assert response.headers["etag"]  # the app's own dependency ran first
    assert client.get(url, headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_a_follow_up_page_is_planned_too(client: TestClient, fastapi_solves: list[str]) -> None:
    first = get_json(client, "/claims", {"limit": 5})
    rest = get_json(client, "/claims", {"limit": 50, "cursor": first["next_cursor"]})
    every = get_json(client, "/claims", {"limit": 50})
    assert [c["id"] for c in first["items"] + rest["items"]] == [c["id"] for c in every["items"]]
    assert fastapi_solves == []


@pytest.mark.parametrize(
    "url",
    [
        "/claims?status=maybe",
        "/claims?limit=0",
        "/claims?published_from=2024-13-01",
        "/claims?cursor=x",
        "/claims?colour=red",
    ],
)
def test_invalid_requests_get_fastapis_own_errors(
    client: TestClient, fastapi_solves: list[str], url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert response.json()["errors"], response.text
    if "colour" not in url:  # refused before any value is read, by the route itself
        assert fastapi_solves == [url.split("?")[0]]


# A small app for what the API's own routes do not show.

calls: list[str] = []


async def session() -> AsyncIterator[str]:
    calls.append("open")
    yield "session"
    calls.append("close")


def shared(request: Request) -> str:
    calls.append("shared")
    return request.url.path


class Paging:
    def __init__(self, source: Annotated[str, Depends(shared)], limit: int = 10) -> None:
        self.source, self.limit = source, limit


def tiny_app() -> FastAPI:
    app = FastAPI()
    router = fastapi.APIRouter(route_class=StrictQueryRoute)

    @router.get("/items/{item_id}")
    def item(
        item_id: int,
        db: Annotated[str, Depends(session)],
        paging: Annotated[Paging, Depends()],
        source: Annotated[str, Depends(shared)],
        tags: Annotated[list[str] | None, Query()] = None,
        fresh: Annotated[str, Depends(shared, use_cache=False)] = "",
    ) -> Response:
        calls.append("endpoint")
        return JSONResponse(
            {"id": item_id, "db": db, "limit": paging.limit, "tags": tags, "source": source}
        )

    @router.get("/dict")
    def as_dict(limit: int = 1) -> dict[str, int]:
        return {"limit": limit}

    @router.get("/header")
    def with_header(agent: Annotated[str | None, Header()] = None) -> Response:
        return JSONResponse({"agent": agent})

    app.include_router(router)
    return app


@pytest.fixture
def tiny(fastapi_solves: list[str]) -> Iterator[TestClient]:
    calls.clear()
    with TestClient(tiny_app()) as client:
        yield client


def test_a_plan_keeps_fastapis_caching_order_and_exit(
    tiny: TestClient, fastapi_solves: list[str]
) -> None:
    response = tiny.get("/items/7?limit=3&tags=a&tags=b")
    assert response.json() == {
        "id": 7,
        "db": "session",
        "limit": 3,
        "tags": ["a", "b"],
        "source": "/items/7",
    }
    # Cached once per request, except where the route asks for a fresh call; the
    # generator closes after the endpoint, as with FastAPI.
    assert calls == ["open", "shared", "shared", "endpoint", "close"]
    assert fastapi_solves == []
    assert tiny.get("/items/7").json()["tags"] is None


def test_a_plan_hands_bad_values_to_fastapi(tiny: TestClient, fastapi_solves: list[str]) -> None:
    response = tiny.get("/items/seven?limit=many")
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("path", "item_id"),
        ("query", "limit"),
    }
    assert fastapi_solves == ["/items/seven"]


def test_routes_a_plan_does_not_cover_are_left_to_fastapi(
    tiny: TestClient, fastapi_solves: list[str]
) -> None:
    assert tiny.get("/dict?limit=2").json() == {"limit": 2}
    assert tiny.get("/header", headers={"agent": "x"}).json() == {"agent": "x"}
    assert fastapi_solves == ["/dict", "/header"]


def test_dependency_overrides_are_honoured(tiny: TestClient, fastapi_solves: list[str]) -> None:
    app: Any = tiny.app

    async def other() -> AsyncIterator[str]:
        yield "other"

    app.dependency_overrides[session] = other
    assert tiny.get("/items/1").json()["db"] == "other"
    assert fastapi_solves == ["/items/1"]


def test_a_plan_is_made_only_for_what_it_covers() -> None:
    def header(agent: Annotated[str | None, Header()] = None) -> Response:
        return Response()

    def as_dict() -> dict[str, int]:
        return {}

    def fine(limit: int = 1) -> Response:
        return Response()

    def route(endpoint: Any) -> fastapi.routing.APIRoute:
        return fastapi.routing.APIRoute("/x", endpoint)

    assert solver.plan(route(header)) is None
    assert solver.plan(route(as_dict)) is None
    assert solver.plan(route(fine)) is not None
