"""The query-string contract: strict parameters, scoped cursors, stable orders, and 500s."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.route import get_database
from app.main import create_app
from app.settings import Settings
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc


def _errors(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [(e["loc"][-1], e["msg"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("url", "name", "message"),
    [
        ("/claims?entity=rosatom&entity=russia", "entity", "given 2 times; it takes one value"),
        ("/claims?limit=1&limit=2", "limit", "given 2 times; it takes one value"),
        ("/claims?entity=", "entity", "String should have at least 1 character"),
        ("/articles?publisher=", "publisher", "String should have at least 1 character"),
        ("/events?date_from=1728000000", "date_from", "must be a date written YYYY-MM-DD"),
        (
            "/events?date_from=2024-11-01&date_to=2024-10-01",
            "date_to",
            "must not be before date_from (2024-11-01)",
        ),
        (
            "/claims?published_from=2024-11-01&published_to=2024-10-01",
            "published_to",
            "must not be before published_from (2024-11-01)",
        ),
        ("/claims?claimant=%00", "claimant", "must not contain NUL characters"),
        ("/claims/%00", "claim_id", "must not contain NUL characters"),
    ],
)
def test_strict_parameters(client: TestClient, url: str, name: str, message: str) -> None:
    assert (name, message) in _errors(client.get(url))


def test_repeatable_filters_still_repeat(client: TestClient) -> None:
    response = client.get("/claims?status=pending&status=refuted")
    assert response.status_code == 200
    assert {c["status"] for c in response.json()["items"]} == {"pending", "refuted"}


def test_unknown_parameter_wins_over_a_404(client: TestClient) -> None:
    assert _errors(client.get("/claims/nope?x=1"))[0][0] == "x"


def _pages(client: TestClient, url: str) -> Iterator[dict[str, Any]]:
    while url:
        body = client.get(url).json()
        yield body
        url = body["next"]


def test_a_cursor_only_works_on_the_list_that_issued_it(client: TestClient) -> None:
    cursor = client.get("/claims?status=pending&limit=1").json()["next_cursor"]
    assert (
        client.get(
            "/claims", params={"status": "pending", "cursor": cursor, "limit": 3}
        ).status_code
        == 200
    )
    for url in (
        "/claims",
        "/claims?status=confirmed",
        f"/articles/{SEED_ARTICLE}/claims",
        "/entities",
    ):
        errors = _errors(client.get(url, params={"cursor": cursor}))
        assert errors == [("cursor", "this cursor belongs to another list, or to other filters")]
    forged = base64.urlsafe_b64encode(json.dumps(["x", 2**31]).encode()).decode()
    assert _errors(client.get("/claims", params={"cursor": forged}))[0][0] == "cursor"
    assert _errors(client.get("/claims?cursor="))[0] == (
        "cursor",
        "String should have at least 1 character",
    )


def test_every_problem_is_reported_together(client: TestClient) -> None:
    cursor = client.get("/claims?limit=1").json()["next_cursor"]
    params: dict[str, str | int] = {
        "limit": 0,
        "published_from": "2024-10-10",
        "published_to": "2024-10-01",
    }
    response = client.get("/claims", params={**params, "colour": "red", "cursor": cursor})
    names = sorted(name for name, _ in _errors(response))
    # The cursor was issued by the list without these filters.
    assert names == ["colour", "cursor", "limit", "published_to"]
    response = client.get(
        "/claims", params={**params, "limit": 5, "colour": "red", "cursor": cursor}
    )
    assert sorted(name for name, _ in _errors(response)) == ["colour", "cursor", "published_to"]
    # Problems between two parameters alone, on a request that is otherwise valid:
    url = "/events?date_from=2024-11-01&date_to=2024-10-01"
    assert [n for n, _ in _errors(client.get(url))] == ["date_to"]


def test_mentions_page_in_article_and_text_order(
    tmp_path: Path, client: TestClient, ingest: Ingest
) -> None:
    doc = minimal_doc()
    doc["article"]["id"] = "a-second-article"
    doc["entities"].append(
        {"id": "rosatom", "name": "Rosatom", "kind": "organization", "mentions": ["Paris"]}
    )
    ingest(write_doc(tmp_path / "b.json", doc))
    seen = [
        (m["article"], m["start"])
        for body in _pages(client, "/entities/rosatom/mentions?limit=2")
        for m in body["items"]
    ]
    assert [a for a, _ in seen] == [SEED_ARTICLE] * 3 + ["a-second-article"]
    assert seen == sorted(seen, key=lambda m: (m[0] != SEED_ARTICLE, m[1]))


def test_an_articles_claims_come_in_fact_file_order(client: TestClient) -> None:
    facts = json.loads(Path("data/kursiv-2024-10-17-rosatom-meeting.json").read_text("utf-8"))
    ids = [
        item["id"]
        for body in _pages(client, f"/articles/{SEED_ARTICLE}/claims?limit=5")
        for item in body["items"]
    ]
    assert ids == [f"{SEED_ARTICLE}.{c['id']}" for c in facts["claims"]]
    events = [
        item["id"]
        for body in _pages(client, f"/articles/{SEED_ARTICLE}/events?limit=5")
        for item in body["items"]
    ]
    assert events == [f"{SEED_ARTICLE}.{e['id']}" for e in facts["events"]]


def test_an_unexpected_error_is_a_problem_without_details(settings: Settings) -> None:
    app: FastAPI = create_app(settings)

    def broken() -> Iterator[None]:
        raise RuntimeError("secret connection string")
        yield  # pragma: no cover

    app.dependency_overrides[get_database] = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/claims")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "internal error; the server log has the details"
    assert "secret" not in response.text
