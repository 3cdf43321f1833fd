"""The route class: every route answers the same whether it or FastAPI solves its arguments.

``app.api.route.Route`` validates a route's query string and opens its database itself; with
``create_app(direct_routes=False)`` FastAPI's own dependency solving does the same work. For
every route of the OpenAPI document, a sample of valid and invalid requests (derived from the
document's parameters) must get byte-identical answers both ways: status, headers and body.
"""

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path
from types import FunctionType
from typing import Annotated, Any
from urllib.parse import urlencode

import pytest
from fastapi import Depends, Request
from fastapi.testclient import TestClient
from starlette.responses import Response

from app.api import annotations, articles, claims, entities, events, meta, search
from app.api.route import Route
from app.main import create_app
from app.settings import Settings
from tests.conftest import DATA, SEED_ARTICLE, Ingest

ROOT = Path(__file__).resolve().parent.parent
CLAIM = f"{SEED_ARTICLE}.rosatom-head-named-alexander"
EVENT = f"{SEED_ARTICLE}.proposed-meeting-2024-10-28"
PATH_VALUES = {
    "article_id": SEED_ARTICLE,
    "entity_id": "rosatom",
    "claim_id": CLAIM,
    "event_id": EVENT,
}
# A valid value for parameters whose schema alone cannot give one.
KNOWN_VALUES = {
    "entity": "rosatom",
    "claimant": "kursiv-media",
    "article": SEED_ARTICLE,
    "event": EVENT,
    "q": "Rosatom",
    "publisher": "Kursiv.media",
    "language": "en",
    "fields": "id",
    "overlaps": "0,200",
}


@pytest.fixture
def both(settings: Settings, ingest: Ingest) -> Iterator[tuple[TestClient, TestClient]]:
    """The API over the seed, with the route class solving routes, and with FastAPI."""
    ingest(DATA)
    with (
        TestClient(create_app(settings)) as direct,
        TestClient(create_app(settings, direct_routes=False)) as solved,
    ):
        yield direct, solved


def _valid(parameter: dict[str, Any]) -> str | None:
    name, schema = parameter["name"], parameter.get("schema", {})
    if name in KNOWN_VALUES:
        return KNOWN_VALUES[name]
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") == "array":
            option = option.get("items", {})
        if "enum" in option:
            return str(option["enum"][-1])
        if "const" in option:
            return str(option["const"])
        if option.get("type") == "integer":
            return str(option.get("minimum", 1))
        if option.get("format") == "date" or name.endswith(("_from", "_to")):
            return "2024-10-17"
    if name.startswith(("published__", "date__")):
        return "2024-10"
    if "__" in name:
        return "x"
    return None


def _invalid(parameter: dict[str, Any]) -> str:
    name = parameter["name"]
    if name in ("q", "fields") or name.endswith(("_from", "_to")):
        return '"'
    if "__" in name and name.split("__")[0] in ("published", "date"):
        return "2024-13"
    return "" if name in ("entity", "claimant", "article", "event", "cursor") else "bogus"


def requests_for(path: str, operation: dict[str, Any]) -> list[str]:
    """Valid and invalid requests for one operation of the OpenAPI document."""
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    base = path
    for name, value in PATH_VALUES.items():
        base = base.replace("{" + name + "}", value)
    urls = [base, path.replace("{", "").replace("}", "-nope"), f"{base}?nope=1&nope=2"]
    for parameter in query:
        valid = _valid(parameter)
        if valid is not None:
            urls.append(f"{base}?{urlencode({parameter['name']: valid})}")
        urls.append(f"{base}?{urlencode({parameter['name']: _invalid(parameter)})}")
    singles = [p for p in query if p.get("schema", {}).get("type") != "array"]
    for a, b in itertools.islice(itertools.combinations(query, 2), 12):
        urls.append(f"{base}?{urlencode({a['name']: _invalid(a), b['name']: _invalid(b)})}")
    if singles:
        name = singles[0]["name"]
        urls.append(f"{base}?{name}=1&{name}=2&nope=3")
    return urls


def test_every_route_answers_alike_whoever_solves_it(both: tuple[TestClient, TestClient]) -> None:
    direct, solved = both
    modules = (annotations, articles, claims, entities, events, meta, search)
    routes = [route for m in modules for route in m.router.routes if isinstance(route, Route)]
    assert len(routes) == 25 and all(route.plan is not None for route in routes)
    document = direct.get("/openapi.json").json()
    compared = 0
    statuses: set[int] = set()
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue  # writes: FastAPI solves them (app.api.writes)
        for url in requests_for(path, operations["get"]):
            one, other = direct.get(url), solved.get(url)
            assert one.status_code == other.status_code, url
            assert one.headers.multi_items() == other.headers.multi_items(), url
            assert one.content == other.content, url
            compared += 1
            statuses.add(one.status_code)
    assert compared > 500
    assert {200, 404, 422} <= statuses


def test_a_route_taking_what_the_route_class_does_not_solve_is_left_to_fastapi() -> None:
    from fastapi import APIRouter, FastAPI

    router = APIRouter(route_class=Route)

    @router.get("/plain")
    def plain(value: int = 3) -> dict[str, int]:
        return {"value": value}

    called: list[str] = []

    def guard(request: Request) -> None:
        called.append(request.url.path)

    @router.get("/guarded", dependencies=[Depends(guard)])
    def guarded(request: Request) -> Response:
        return Response(b"{}")

    assert all(isinstance(r, Route) and r.plan is None for r in router.routes)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/plain?value=4").json() == {"value": 4}
        assert client.get("/guarded").status_code == 200
    assert called == ["/guarded"]


def test_application_dependencies_are_never_skipped() -> None:
    """Dependencies of the whole app run on every route: FastAPI then solves them all."""
    from fastapi import APIRouter, FastAPI, Query

    from app.api.params import NoParams

    seen: list[str] = []

    def audit(request: Request) -> None:
        seen.append(request.url.path)

    router = APIRouter(route_class=Route)

    @router.get("/ping")
    def ping(params: Annotated[NoParams, Query()]) -> Response:
        return Response(b"{}")

    assert isinstance(router.routes[0], Route) and router.routes[0].plan is not None
    app = FastAPI(dependencies=[Depends(audit)])
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/ping").status_code == 200
    assert seen == ["/ping"]


# --- nothing private of a dependency ---------------------------------------------------

# The modules of each dependency that app/ may import: documented ones only.
DOCUMENTED = {
    "fastapi": {
        "fastapi",
        "fastapi.exceptions",
        "fastapi.openapi.docs",
        "fastapi.routing",
        "fastapi.security",
        "fastapi.staticfiles",
    },
    "starlette": {
        "starlette.concurrency",
        "starlette.datastructures",
        "starlette.exceptions",
        "starlette.middleware.cors",
        "starlette.middleware.gzip",
        "starlette.requests",
        "starlette.responses",
        "starlette.types",
    },
    "uvicorn": {"uvicorn"},
}
WATCHED = ("fastapi", "starlette", "pydantic", "pydantic_core", "sqlalchemy", "uvicorn", "asyncio")


def _private_uses(source: str) -> list[str]:
    found = []
    aliases: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name
                found += _module_problems(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += _module_problems(node.module)
            if node.module.split(".")[0] in WATCHED:
                found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and aliases.get(root.id, "").startswith(WATCHED):
                found.append(f"{aliases[root.id]}….{node.attr}")

        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # getattr(module, "_private") and the like
            if node.value.startswith("_") and not node.value.startswith("__"):
                if any(word in node.value for word in ("Router", "route", "context", "accept")):
                    found.append(node.value)
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_problems(module: str) -> list[str]:
    package = module.split(".")[0]
    if package not in WATCHED:
        return []
    if any(part.startswith("_") for part in module.split(".")):
        return [module]
    allowed = DOCUMENTED.get(package)
    return [module] if allowed is not None and module not in allowed else []


def test_the_app_uses_no_private_name_of_its_dependencies() -> None:
    problems = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "app").rglob("*.py"))
        if (found := _private_uses(path.read_text("utf-8")))
    }
    assert problems == {}


def _overridden_privates(cls: type) -> list[str]:
    """Private attributes ``cls`` defines that a dependency's base class defines too."""
    return [
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for name, value in vars(cls).items()
        if _private(name) and isinstance(value, FunctionType | classmethod | staticmethod)
        for base in cls.__mro__[1:]
        if base.__module__.split(".")[0] in WATCHED and name in vars(base)
    ]


def test_no_class_of_the_app_overrides_a_private_method_of_a_dependency() -> None:
    import importlib
    import inspect

    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        module = importlib.import_module(
            ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        )
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                found += _overridden_privates(cls)
    assert found == []
    import asyncio

    class Loop(asyncio.SelectorEventLoop):
        def _accept_connection(self) -> None: ...

    assert _overridden_privates(Loop)


@pytest.mark.parametrize(
    "source",
    [
        "from fastapi._compat import ModelField",
        "from starlette._utils import get_route_path",
        "import fastapi.routing\nx = fastapi.routing._IncludedRouter",
        "x = getattr(routing, '_IncludedRouter', None)",
        "import asyncio\nasyncio.SelectorEventLoop._accept_connection",
        "from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol",
        "from fastapi.dependencies.models import Dependant",
    ],
)
def test_the_check_finds_private_names(source: str) -> None:
    assert _private_uses(source)
