"""No N+1: the SQL statements a list request runs do not grow with the page size."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from app.schemas import (
    ArticleDetail,
    ArticleEntity,
    ArticleSummary,
    ClaimDetail,
    ClaimOut,
    EntityDetail,
    EntitySummary,
    EventDetail,
    EventOut,
    Mention,
    Page,
)
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc

EXTRA_ARTICLES = 6
WIDE_ARTICLE = "wide-article"
WIDE_ENTITIES = 60
MAX_STATEMENTS = 6


def renamed(doc: dict[str, Any], suffix: str) -> dict[str, Any]:
    """``doc`` with its own entities: every entity id gets ``suffix``."""
    text = json.dumps(doc)
    for key in ("alice", "bob", "paris"):
        text = text.replace(f'"{key}"', f'"{key}-{suffix}"')
    out: dict[str, Any] = json.loads(text)
    return out


def wide_doc() -> dict[str, Any]:
    """One article naming many entities, each with two aliases and two mentions."""
    words = [f"w{i:03d}" for i in range(WIDE_ENTITIES)]
    text = " ".join(words) + ". " + " ".join(words) + "."
    doc = minimal_doc(relations=[], events=[], claims=[])
    doc["article"].update(id=WIDE_ARTICLE, title="Many names", text=text)
    doc["entities"] = [
        {
            "id": f"entity-{w}",
            "name": f"Entity {w}",
            "kind": "organization",
            "aliases": [{"name": f"{w} alias", "language": "en"}, {"name": f"{w} other"}],
            "mentions": [{"quote": w, "occurrence": 1}, {"quote": w, "occurrence": 2}],
        }
        for w in words
    ]
    return doc


@pytest.fixture
def loaded(client: TestClient, ingest: Ingest, tmp_path: Path) -> TestClient:
    """The seed plus several more articles, so a page of 50 holds many rows of each kind."""
    paths = []
    for n in range(EXTRA_ARTICLES):
        doc = renamed(minimal_doc(), str(n))
        doc["article"]["id"] = f"extra-{n}"
        paths.append(write_doc(tmp_path / f"extra-{n}.json", doc))
    paths.append(write_doc(tmp_path / "wide.json", wide_doc()))
    ingest(*paths)
    return client


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Record every query a route runs on ``engine`` while the block runs.

    Not transaction control, nor the data revision every request reads for its validators.
    """
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(("BEGIN", "SELECT pg_advisory")) and (
            "FROM data_revision" not in statement
        ):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def run(client: TestClient, url: str, limit: int) -> tuple[int, Any]:
    """The number of statements one GET runs, and its body."""
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    with counting(engine) as statements:
        response = client.get(url, params={"limit": limit})
    assert response.status_code == 200, response.text
    return len(statements), response.json()


LISTS: list[tuple[str, type[Any], int]] = [
    # url, page model, how many rows a page of 50 holds at least
    ("/claims", Page[ClaimOut], 12 + EXTRA_ARTICLES),
    ("/events", Page[EventOut], 13 + EXTRA_ARTICLES),
    ("/entities", Page[EntitySummary], 50),
    ("/articles", Page[ArticleSummary], 2 + EXTRA_ARTICLES),
    (f"/articles/{WIDE_ARTICLE}/entities", Page[ArticleEntity], 50),
    (f"/articles/{SEED_ARTICLE}/entities", Page[ArticleEntity], 20),
    (f"/articles/{SEED_ARTICLE}/events", Page[EventOut], 13),
    (f"/articles/{SEED_ARTICLE}/claims", Page[ClaimOut], 12),
    ("/entities/kazakhstan/mentions", Page[Mention], 9),
    ("/entities/kazakhstan/claims", Page[ClaimOut], 4),
    ("/entities/kazakhstan/events", Page[EventOut], 5),
]


def test_statements_per_list_do_not_grow_with_the_page(loaded: TestClient) -> None:
    report = {}
    for url, model, rows in LISTS:
        # Warm up: the first request may set up the connection, and reads the entities that
        # claims name (one statement for the whole page), which later requests reuse.
        run(loaded, url, 50)
        one, small = run(loaded, url, 1)
        many, big = run(loaded, url, 50)
        assert len(model.model_validate(small).items) == 1, url
        assert len(model.model_validate(big).items) >= rows, url
        report[url] = (one, many)
    assert all(one >= 1 for one, _ in report.values()), report
    unequal = {url: counts for url, counts in report.items() if counts[0] != counts[1]}
    assert unequal == {}, report
    too_many = {url: counts for url, counts in report.items() if counts[1] > MAX_STATEMENTS}
    assert too_many == {}, report


def test_pages_hold_the_related_rows(loaded: TestClient) -> None:
    """The batched reads still attach each row's own relations."""
    _, body = run(loaded, f"/articles/{WIDE_ARTICLE}/entities", 50)
    page = Page[ArticleEntity].model_validate(body)
    assert len(page.items) == 50 and page.next is not None
    for item in page.items:
        word = item.id.removeprefix("entity-")
        assert [a.name for a in item.aliases] == [f"{word} alias", f"{word} other"]
        assert [m.exact for m in item.mentions] == [word, word]
    _, body = run(loaded, "/claims", 50)
    claims = Page[ClaimOut].model_validate(body)
    extra = [c for c in claims.items if c.article.startswith("extra-")]
    assert len(extra) == EXTRA_ARTICLES
    for claim in extra:
        n = claim.article.removeprefix("extra-")
        assert claim.claimant.id == f"bob-{n}"
        assert [s.id for s in claim.subjects] == [f"alice-{n}", f"bob-{n}"]
        assert claim.events == [f"extra-{n}.meeting"]


def test_detail_statements_are_few(loaded: TestClient) -> None:
    engine: Engine = loaded.app.state.engine  # type: ignore[attr-defined]
    details: list[tuple[str, type[Any]]] = [
        (f"/claims/{SEED_ARTICLE}.rosatom-head-seeks-meeting", ClaimDetail),
        (f"/events/{SEED_ARTICLE}.likhachev-seeks-meeting", EventDetail),
        ("/entities/kazakhstan", EntityDetail),
        (f"/articles/{SEED_ARTICLE}", ArticleDetail),
    ]
    for url, model in details:
        loaded.get(url)
        with counting(engine) as statements:
            response = loaded.get(url)
        assert response.status_code == 200
        model.model_validate(response.json())
        assert 1 <= len(statements) <= 8, (url, len(statements))
