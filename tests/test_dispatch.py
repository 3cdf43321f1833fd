"""Included routers decline requests outside their first path segments, and nothing else."""

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app.api import dispatch


def app_with(*routers: APIRouter) -> FastAPI:
    app = FastAPI()
    for router in routers:
        app.include_router(router)
    dispatch.prefilter(app)
    return app


def router(prefix: str, *paths: str) -> APIRouter:
    r = APIRouter(prefix=prefix)
    for path in paths:

        def endpoint(request: Any = None, path: str = prefix + path) -> dict[str, str]:
            return {"route": path}

        r.add_api_route(path, endpoint, methods=["GET"])
    return r


def test_first_segment() -> None:
    assert dispatch.first_segment("/claims/x/y") == "claims"
    assert dispatch.first_segment("/claims") == "claims"
    assert dispatch.first_segment("/") == ""


def test_requests_reach_the_same_routes() -> None:
    app = app_with(
        router("/a", "", "/{x}", "/{x}/sub"), router("/b", "/{x}"), router("", "/{any}/deep")
    )
    with TestClient(app) as client:
        for path, route in (
            ("/a", "/a"),
            ("/a/1", "/a/{x}"),
            ("/a/1/sub", "/a/{x}/sub"),
            ("/b/2", "/b/{x}"),
            ("/c/deep", "/{any}/deep"),
            ("/a/deep", "/a/{x}"),  # the earlier router still wins
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.json() == {"route": route}, path
        assert client.get("/b").status_code == 404
        assert client.get("/c").status_code == 404
        assert client.post("/a/1").status_code == 405


def test_only_routers_with_fixed_first_segments_change() -> None:
    app = app_with(router("/a", "/{x}"), router("", "/{any}/deep"))
    assert dispatch.prefilter(app) == 0  # already done; the parameter router is left alone
    changed = [type(r).__name__ for r in app.router.routes if hasattr(r, "first_segments")]
    assert len(changed) == (1 if dispatch._Included is not None else 0)
