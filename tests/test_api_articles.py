"""GET /articles, /articles/{id} and each article's entities, events and claims."""

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.errors import PROBLEM_JSON
from app.schemas import ArticleDetail, ArticleEntity, ArticleSummary, ClaimOut, EventOut, Page
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc
from tests.seed import FACTS, TEXT, TEXT_BYTES, get_json, local, resolve

SECOND = "second-article"


def anchors(items: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [(a["start"], a["end"], a["exact"]) for a in items]


def entity_ids(predicate: Any = None) -> list[str]:
    return [e["id"] for e in FACTS["entities"] if predicate is None or predicate(e)]


@pytest.fixture
def two_articles(client: TestClient, ingest: Ingest, tmp_path: Path) -> TestClient:
    """The seed, then a small second article from another publisher, language and date."""
    doc = minimal_doc()
    doc["article"].update(id=SECOND, publisher="Test Times", language="fr", published="2024-11-02")
    ingest(write_doc(tmp_path / "second.json", doc))
    return client


# --- list and detail ---------------------------------------------------------


def test_list_has_the_seed_article_with_fact_counts(client: TestClient) -> None:
    body = get_json(client, "/articles")
    page = Page[ArticleSummary].model_validate(body)
    assert [a.id for a in page.items] == [SEED_ARTICLE]
    article = page.items[0]
    meta = FACTS["article"]
    assert article.title == meta["title"]
    assert article.url == meta["url"]
    assert article.publisher == "Kursiv.media"
    assert article.published == dt.date(2024, 10, 17)
    assert article.language == "en"
    assert article.sha256 == hashlib.sha256(TEXT_BYTES).hexdigest()
    assert article.counts.model_dump() == {
        "entities": len(FACTS["entities"]),
        "events": len(FACTS["events"]),
        "claims": len(FACTS["claims"]),
    }
    assert article.counts.model_dump() == {"entities": 20, "events": 13, "claims": 12}
    assert (page.limit, page.next_cursor, page.next) == (50, None, None)
    assert "text" not in body["items"][0]


def test_detail_has_the_exact_text_and_its_sha256(client: TestClient) -> None:
    body = get_json(client, f"/articles/{SEED_ARTICLE}")
    article = ArticleDetail.model_validate(body)
    assert article.id == SEED_ARTICLE
    assert article.text == TEXT
    assert article.text.encode("utf-8") == TEXT_BYTES
    assert article.sha256 == hashlib.sha256(TEXT_BYTES).hexdigest()
    assert article.sha256 == "902f273a304b8a4e10518ac474d88e674736a1b5476910a44e79617abb9c9972"
    # Typographic quotes and guillemets survive the round trip through the database and JSON.
    assert "Kazakhstan’s President" in article.text and "«Oil and Gas" in article.text
    assert article.counts.claims == len(FACTS["claims"])


LIST_FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({}, [SEED_ARTICLE, SECOND]),
    ({"publisher": "Kursiv.media"}, [SEED_ARTICLE]),
    ({"publisher": "Test Times"}, [SECOND]),
    ({"publisher": "kursiv.media"}, []),
    ({"language": "en"}, [SEED_ARTICLE]),
    ({"language": "fr"}, [SECOND]),
    ({"language": "de"}, []),
    ({"published_from": "2024-10-17"}, [SEED_ARTICLE, SECOND]),
    ({"published_from": "2024-10-18"}, [SECOND]),
    ({"published_from": "2024-11-03"}, []),
    ({"published_to": "2024-10-17"}, [SEED_ARTICLE]),
    ({"published_to": "2024-10-16"}, []),
    ({"published_from": "2024-10-01", "published_to": "2024-10-31"}, [SEED_ARTICLE]),
    ({"entity": "rosatom"}, [SEED_ARTICLE]),
    ({"entity": "alice"}, [SECOND]),
    ({"entity": "no-such-entity"}, []),
    ({"q": "tokayev"}, [SEED_ARTICLE]),
    ({"q": "ALICE"}, [SECOND]),
    ({"q": "Putin"}, []),
    ({"language": "en", "publisher": "Test Times"}, []),
]


def test_list_filters(two_articles: TestClient) -> None:
    for params, expected in LIST_FILTERS:
        page = Page[ArticleSummary].model_validate(get_json(two_articles, "/articles", params))
        assert [a.id for a in page.items] == expected, params


def test_list_pages_in_ingest_order(two_articles: TestClient) -> None:
    first = Page[ArticleSummary].model_validate(get_json(two_articles, "/articles?limit=1"))
    assert [a.id for a in first.items] == [SEED_ARTICLE]
    assert first.next is not None
    second = Page[ArticleSummary].model_validate(get_json(two_articles, first.next))
    assert [a.id for a in second.items] == [SECOND]
    assert second.next is None


# --- the article's entities --------------------------------------------------


def test_entities_in_fact_file_order_with_verified_mentions(client: TestClient) -> None:
    body = get_json(client, f"/articles/{SEED_ARTICLE}/entities")
    page = Page[ArticleEntity].model_validate(body)
    assert [e.id for e in page.items] == entity_ids()
    assert page.next is None
    for item, fact in zip(body["items"], FACTS["entities"], strict=True):
        assert item["name"] == fact["name"]
        assert item["kind"] == fact["kind"]
        assert item["description"] == fact.get("description")
        assert item["aliases"] == fact.get("aliases", [])
        assert item["external_ids"] == fact.get("external_ids", {})
        got = anchors(item["mentions"])
        assert got == sorted(resolve(m) for m in fact["mentions"]), fact["id"]
        for start, end, exact in got:
            assert TEXT[start:end] == exact


def test_entity_mentions_have_concrete_offsets(client: TestClient) -> None:
    page = Page[ArticleEntity].model_validate(
        get_json(client, f"/articles/{SEED_ARTICLE}/entities", {"kind": "person"})
    )
    likhachev = next(e for e in page.items if e.id == "alexey-likhachev")
    assert anchors([m.model_dump() for m in likhachev.mentions]) == [
        (0, 15, "Head of Rosatom"),
        (156, 175, "Alexander Likhachev"),
        (698, 718, "president of Rosatom"),
    ]
    russia = get_json(client, f"/articles/{SEED_ARTICLE}/entities", {"kind": "country"})
    assert [e["id"] for e in russia["items"]] == ["russia", "kazakhstan"]
    assert russia["items"][0]["external_ids"] == {"wikidata": "Q159"}
    assert anchors(russia["items"][0]["mentions"]) == [
        (121, 128, "Russian"),
        (849, 861, "Russian side"),
        (1029, 1041, "Russian side"),
    ]


def test_entities_kind_filter(client: TestClient) -> None:
    for kinds in (["person"], ["person", "country"], ["government_body"], ["channel", "document"]):
        page = Page[ArticleEntity].model_validate(
            get_json(client, f"/articles/{SEED_ARTICLE}/entities", {"kind": kinds})
        )
        expected = entity_ids(lambda e, kinds=kinds: e["kind"] in kinds)
        assert expected
        assert [e.id for e in page.items] == expected, kinds
    none = get_json(client, f"/articles/{SEED_ARTICLE}/entities", {"kind": "city"})
    assert none["items"] == [] and none["next"] is None


def test_entities_page_through_in_order(client: TestClient) -> None:
    seen: list[str] = []
    url: str | None = f"/articles/{SEED_ARTICLE}/entities?limit=7"
    pages = 0
    while url is not None:
        page = Page[ArticleEntity].model_validate(get_json(client, url))
        assert len(page.items) <= 7
        seen += [e.id for e in page.items]
        url = page.next
        pages += 1
    assert seen == entity_ids()
    assert pages == 3


def test_entities_of_another_article_are_its_own(two_articles: TestClient) -> None:
    body = get_json(two_articles, f"/articles/{SECOND}/entities")
    page = Page[ArticleEntity].model_validate(body)
    assert [e.id for e in page.items] == ["alice", "bob", "paris"]
    text = minimal_doc()["article"]["text"]
    alice = page.items[0]
    assert [(m.start, m.end, m.exact) for m in alice.mentions] == [
        (0, 5, "Alice"),
        (text.rfind("Alice"), text.rfind("Alice") + 5, "Alice"),
    ]


# --- the article's events and claims -----------------------------------------


def test_events_in_ingest_order(client: TestClient) -> None:
    page = Page[EventOut].model_validate(get_json(client, f"/articles/{SEED_ARTICLE}/events"))
    assert [local(e.id) for e in page.items] == [e["id"] for e in FACTS["events"]]
    assert all(e.article == SEED_ARTICLE for e in page.items)


def _event_ids(predicate: Any) -> list[str]:
    return [e["id"] for e in FACTS["events"] if predicate(e)]


def _takes_part(entity: str) -> Any:
    return lambda e: (
        e.get("location") == entity or any(p["entity"] == entity for p in e["participants"])
    )


EVENT_FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({"status": "pending"}, _event_ids(lambda e: e["status"] == "pending")),
    ({"kind": "meeting"}, _event_ids(lambda e: e["kind"] == "meeting")),
    (
        {"modality": "proposed"},
        ["proposed-meeting-2024-10-28", "proposed-meeting-2024-11-14"],
    ),
    ({"entity": "russia"}, _event_ids(_takes_part("russia"))),
    ({"entity": "almaty-region"}, _event_ids(_takes_part("almaty-region"))),
    ({"q": "REFERENDUM"}, _event_ids(lambda e: "referendum" in e["summary"].lower())),
    (
        {"date_from": "2024-11-01", "date_to": "2024-11-30"},
        ["requested-meeting-by-end-of-november", "proposed-meeting-2024-11-14"],
    ),
    ({"status": "refuted"}, []),
]


def test_events_filters(client: TestClient) -> None:
    for params, expected in EVENT_FILTERS:
        page = Page[EventOut].model_validate(
            get_json(client, f"/articles/{SEED_ARTICLE}/events", params)
        )
        assert [local(e.id) for e in page.items] == expected, params


def test_events_filters_have_concrete_results(client: TestClient) -> None:
    body = get_json(client, f"/articles/{SEED_ARTICLE}/events", {"entity": "russia"})
    assert [local(e["id"]) for e in body["items"]] == [
        "proposed-meeting-2024-10-28",
        "proposed-meeting-2024-11-14",
    ]
    body = get_json(client, f"/articles/{SEED_ARTICLE}/events", {"entity": "almaty-region"})
    assert [local(e["id"]) for e in body["items"]] == ["npp-construction"]


def test_claims_in_ingest_order(client: TestClient) -> None:
    page = Page[ClaimOut].model_validate(get_json(client, f"/articles/{SEED_ARTICLE}/claims"))
    assert [local(c.id) for c in page.items] == [c["id"] for c in FACTS["claims"]]
    assert all(c.article == SEED_ARTICLE for c in page.items)


def _claim_ids(predicate: Any) -> list[str]:
    return [c["id"] for c in FACTS["claims"] if predicate(c)]


CLAIM_FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"status": "confirmed"}, _claim_ids(lambda c: c["status"] == "confirmed")),
    ({"status": ["pending", "refuted"]}, _claim_ids(lambda c: c["status"] != "confirmed")),
    ({"kind": "statistic"}, ["referendum-result-71-12"]),
    (
        {"claimant": "kazakhstan-ministry-of-national-economy"},
        ["no-government-funding-for-npp", "npp-financing-from-international-institutions"],
    ),
    (
        {"entity": "alexey-likhachev"},
        _claim_ids(
            lambda c: c["claimant"] == "alexey-likhachev" or "alexey-likhachev" in c["subjects"]
        ),
    ),
    ({"q": "consortium"}, _claim_ids(lambda c: "consortium" in c["text"].lower())),
    ({"claimant": "kursiv-media", "status": "refuted"}, ["rosatom-head-named-alexander"]),
    ({"q": "no such words"}, []),
]


def test_claims_filters(client: TestClient) -> None:
    for params, expected in CLAIM_FILTERS:
        page = Page[ClaimOut].model_validate(
            get_json(client, f"/articles/{SEED_ARTICLE}/claims", params)
        )
        assert [local(c.id) for c in page.items] == expected, params


def test_claims_of_the_second_article(two_articles: TestClient) -> None:
    page = Page[ClaimOut].model_validate(get_json(two_articles, f"/articles/{SECOND}/claims"))
    assert [c.id for c in page.items] == [f"{SECOND}.talks-went-well"]
    assert page.items[0].claimant.id == "bob"
    assert page.items[0].status.value == "pending"


# --- not found ---------------------------------------------------------------


def test_unknown_article_is_404_on_every_route(client: TestClient) -> None:
    for suffix in ("", "/entities", "/events", "/claims"):
        response = client.get(f"/articles/no-such-article{suffix}")
        assert response.status_code == 404, suffix
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "no article with id 'no-such-article'",
            "instance": f"/articles/no-such-article{suffix}",
        }
