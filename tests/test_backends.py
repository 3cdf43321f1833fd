"""SQLite and PostgreSQL give the same answers to the same requests over the same data."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.cli import run_ingest
from app.db import upgrade
from app.main import create_app
from app.settings import Settings
from tests.conftest import DATA, SEED_ARTICLE, minimal_doc, write_doc
from tests.databases import TEST_DATABASE_URL, empty_postgres
from tests.test_openapi import _normalise

REQUESTS = [
    "/articles",
    f"/articles/{SEED_ARTICLE}",
    f"/articles/{SEED_ARTICLE}/entities?limit=3",
    f"/articles/{SEED_ARTICLE}/events",
    f"/articles/{SEED_ARTICLE}/claims?status=pending",
    "/articles?q=ALICE",
    "/articles?published_from=2024-10-01&published_to=2024-10-31",
    "/entities?limit=7",
    "/entities?q=ТОКАЕВ",
    "/entities?q=Лихачёв",
    "/entities?kind=person",
    "/entities/rosatom",
    "/entities/alexey-likhachev/mentions",
    "/entities/russian-embassy-in-kazakhstan/claims",
    "/entities/kassym-jomart-tokayev/events",
    "/entities/alice/claims",
    "/events?kind=meeting",
    "/events?date_from=2024-10-01&date_to=2024-10-31",
    "/events?q=referendum",
    "/claims?status=pending",
    "/claims?status=refuted",
    "/claims?limit=4",
    "/claims?q=71.12%25",
    "/claims?q=meet*",
    "/claims?claimant=russian-embassy-in-kazakhstan&kind=request",
    "/verification-statuses",
    "/readyz",
]


@pytest.fixture
def clients(tmp_path: Path, postgres_engine: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    """The same two fact files loaded into a fresh SQLite file and the PostgreSQL database."""
    second = minimal_doc()
    second["article"]["id"] = "second-article"
    files = [DATA, write_doc(tmp_path / "second.json", second)]
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    upgrade(sqlite_url)
    empty_postgres(postgres_engine)
    for url in (sqlite_url, TEST_DATABASE_URL):
        run_ingest(url, files, show_progress=False)
    with (
        TestClient(create_app(Settings(database_url=sqlite_url))) as on_sqlite,
        TestClient(create_app(Settings(database_url=TEST_DATABASE_URL))) as on_postgres,
    ):
        yield on_sqlite, on_postgres


def _pages(client: TestClient, url: str) -> list[Any]:
    """Every page of ``url``, following ``next``."""
    pages = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        pages.append(_normalise(body))
        next_url = body.get("next") if isinstance(body, dict) else None
    return pages


def test_both_databases_give_the_same_bodies(clients: tuple[TestClient, TestClient]) -> None:
    on_sqlite, on_postgres = clients
    for url in REQUESTS:
        assert _pages(on_sqlite, url) == _pages(on_postgres, url), url
