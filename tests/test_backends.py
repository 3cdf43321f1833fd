"""SQLite and PostgreSQL give the same answers to the same requests over the same data."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import SEED_ARTICLE
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
