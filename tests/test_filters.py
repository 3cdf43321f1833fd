"""The filter grammar (`field__op=value`), `count=exact`, `facet=` and `fields=` on lists."""

import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.filters import FilterError, parse_date
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc
from tests.seed import FACTS, get_json

SEED_CLAIMS: list[dict[str, Any]] = FACTS["claims"]
SEED_EVENTS: list[dict[str, Any]] = FACTS["events"]
SEED_ENTITIES: list[dict[str, Any]] = FACTS["entities"]


def ids(body: Any) -> list[str]:
    return [item["id"] for item in body["items"]]


def claim_ids(predicate: Any) -> list[str]:
    return [f"{SEED_ARTICLE}.{c['id']}" for c in SEED_CLAIMS if predicate(c)]


# --- the grammar ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "predicate"),
    [
        ({"status__in": "pending,refuted"}, lambda c: c["status"] in ("pending", "refuted")),
        ({"status__exact": "confirmed"}, lambda c: c["status"] == "confirmed"),
        (
            {"status__not": "pending,confirmed"},
            lambda c: c["status"] not in ("pending", "confirmed"),
        ),
        ({"kind__in": "request"}, lambda c: c["kind"] == "request"),
        ({"text__contains": "CONSORTIUM"}, lambda c: "consortium" in c["text"].lower()),
        ({"claimant__exact": "kursiv-media"}, lambda c: c["claimant"] == "kursiv-media"),
        ({"claimant__not": "kursiv-media"}, lambda c: c["claimant"] != "kursiv-media"),
        ({"article__exact": SEED_ARTICLE}, lambda c: True),
        ({"published__gte": "2024-10-17", "published__lte": "2024-10-17"}, lambda c: True),
        ({"published__exact": "2024-10"}, lambda c: True),
        ({"published__exact": "2024"}, lambda c: True),
        ({"published__lte": "2024-10"}, lambda c: True),
        ({"published__gt": "2024-10"}, lambda c: False),
        ({"published__lt": "2024-10-17"}, lambda c: False),
        (
            {"status__in": "pending,refuted", "status": "pending"},
            lambda c: c["status"] == "pending",
        ),
    ],
)
def test_claim_filters(client: TestClient, query: dict[str, str], predicate: Any) -> None:
    expected = claim_ids(predicate)
    assert ids(get_json(client, "/claims", query)) == expected
    assert expected or query.get("published__gt") or query.get("published__lt")


def test_dates_keep_their_precision_for_event_spans(
    tmp_path: Path, ingest: Ingest, empty_client: TestClient
) -> None:
    """A month-precision event covers its month: a window inside it finds it."""
    doc = minimal_doc()
    doc["events"][0]["time"] = {"date": "2024-11"}  # month precision: 1 to 30 November
    ingest(write_doc(tmp_path / "a.json", doc))
    with_event = ["test-article.meeting"]
    cases = {
        "date__exact=2024-11-15": with_event,
        "date__exact=2024-11": with_event,
        "date__exact=2024": with_event,
        "date__gte=2024-11-30": with_event,
        "date__gt=2024-11-30": [],
        "date__gt=2024-10": with_event,
        "date__lte=2024-11-01": with_event,
        "date__lt=2024-11-01": [],
        "date__lt=2024-12": with_event,
        "date__exact=2024-12-01": [],
    }
    for query, expected in cases.items():
        assert ids(get_json(empty_client, f"/events?{query}")) == expected, query


def test_event_filters_on_the_seed(client: TestClient) -> None:
    meetings = [f"{SEED_ARTICLE}.{e['id']}" for e in SEED_EVENTS if e["kind"] == "meeting"]
    assert ids(get_json(client, "/events", {"kind__in": "meeting"})) == meetings
    body = get_json(client, "/events", {"summary__contains": "referendum", "fields": "summary"})
    assert body["items"] and all("referendum" in e["summary"].lower() for e in body["items"])
    located = get_json(client, "/events", {"location__exact": "almaty-region"})
    assert all(e["location"]["id"] == "almaty-region" for e in located["items"])


def test_entity_and_article_filters(client: TestClient) -> None:
    not_people = [e["id"] for e in SEED_ENTITIES if e["kind"] not in ("person", "country")]
    assert ids(get_json(client, "/entities", {"kind__not": "person,country"})) == not_people
    named = get_json(client, "/entities", {"name__contains": "ROSATOM"})
    assert ids(named) == [e["id"] for e in SEED_ENTITIES if "rosatom" in e["name"].lower()]
    assert ids(get_json(client, "/articles", {"published__exact": "2024-10"})) == [SEED_ARTICLE]
    assert ids(get_json(client, "/articles", {"publisher__not": "Kursiv.media"})) == []
    assert ids(get_json(client, "/articles", {"id__in": f"x,{SEED_ARTICLE}"})) == [SEED_ARTICLE]


def test_articles_filter_on_how_many_facts_they_hold(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    ingest(write_doc(tmp_path / "small.json", minimal_doc()))  # 3 entities, 1 event, 1 claim
    seed = FACTS
    n_claims, n_events = len(seed["claims"]), len(seed["events"])
    both = [SEED_ARTICLE, "test-article"]
    cases = {
        "claims__gte=2": [SEED_ARTICLE],
        f"claims__exact={n_claims}": [SEED_ARTICLE],
        "claims__lt=2": ["test-article"],
        f"claims__lte={n_claims}": both,
        "claims__gt=100": [],
        f"events__in=1,{n_events}": both,
        "events__not=1": [SEED_ARTICLE],
        "entities__exact=3": ["test-article"],
        "claims__gte=1&events__lt=2": ["test-article"],
    }
    for query, expected in cases.items():
        assert ids(get_json(client, f"/articles?{query}")) == expected, query
    for value in ("-1", "1.5", "two", "²", "2147483648"):
        body = get_json(client, "/articles", {"claims__gte": value}, status=422)
        assert "whole numbers from 0 to 2147483647" in body["errors"][0]["msg"], value
    body = get_json(client, "/articles", {"claims__contains": "1"}, status=422)
    assert "use one of: exact, in, not, gt, gte, lt, lte" in body["errors"][0]["msg"]


def test_nested_lists_take_the_grammar_too(client: TestClient) -> None:
    body = get_json(client, f"/articles/{SEED_ARTICLE}/claims", {"status__in": "refuted"})
    assert ids(body) == claim_ids(lambda c: c["status"] == "refuted")
    body = get_json(
        client, "/entities/russian-embassy-in-kazakhstan/claims", {"kind__not": "request"}
    )
    assert all(c["kind"] != "request" for c in body["items"])


@pytest.mark.parametrize(
    ("query", "where", "message"),
    [
        (
            {"bogus__in": "1"},
            "bogus__in",
            "unknown filter field 'bogus'; claims filter on: article",
        ),
        (
            {"status__maybe": "x"},
            "status__maybe",
            "unknown operator 'maybe' for status; use one of: exact, in, not",
        ),
        ({"status__in": "pending,maybe"}, "status__in", "'maybe' is not one of: confirmed"),
        ({"status__in": "pending,"}, "status__in", "a comma-separated list with no empty values"),
        ({"text__gt": "a"}, "text__gt", "unknown operator 'gt' for text"),
        ({"published__gte": "2024-13"}, "published__gte", "not a date"),
        (
            {"published__gte": "last week"},
            "published__gte",
            "dates are YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            {"facet": "nope"},
            "facet",
            "Input should be 'status', 'kind', 'claimant', 'article' or 'month'",
        ),
        ({"fields": "text,nope"}, "fields", "unknown field(s) 'nope'; use: id, article, text"),
        ({"count": "estimate"}, "count", "Input should be 'exact'"),
    ],
)
def test_bad_options_are_422_naming_what_is_allowed(
    client: TestClient, query: dict[str, str], where: str, message: str
) -> None:
    body = get_json(client, "/claims", query, status=422)
    # A repeatable parameter's problem also names which of its values is at fault.
    problem = next(e for e in body["errors"] if e["loc"][:2] == ["query", where])
    assert message in problem["msg"], problem["msg"]


def test_a_filter_given_twice_is_422(client: TestClient) -> None:
    response = client.get("/claims?status__in=pending&status__in=refuted")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "loc": ["query", "status__in"],
            "msg": "given 2 times; it takes one value",
            "type": "query_parameter",
            "input": "refuted",
        }
    ]


def test_unknown_plain_parameters_mention_the_grammar(client: TestClient) -> None:
    body = get_json(client, "/claims", {"statuz": "x"}, status=422)
    assert "and field__operator filters on: article (exact, in, not, contains)" in body["detail"]


def test_parse_date_precision() -> None:
    assert parse_date("2024") == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert parse_date("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert parse_date("2023-02-28") == (dt.date(2023, 2, 28), dt.date(2023, 2, 28))
    with pytest.raises(FilterError):
        parse_date("2023-02-29")


# --- count, facets, fields -------------------------------------------------------


def test_count_is_given_only_when_asked(client: TestClient) -> None:
    plain = get_json(client, "/claims", {"limit": 2})
    assert "total" not in plain and "facets" not in plain
    counted = get_json(client, "/claims", {"limit": 2, "count": "exact", "status__not": "pending"})
    assert counted["total"] == len(claim_ids(lambda c: c["status"] != "pending"))
    assert len(counted["items"]) == 2
    # The count describes the whole filtered list, on every page.
    second = get_json(client, counted["next"].replace("http://testserver", ""))
    assert second["total"] == counted["total"]


def test_facets_count_the_filtered_list(client: TestClient) -> None:
    body = get_json(
        client,
        "/claims?facet=status&facet=claimant&facet=kind&facet=article&facet=month&limit=1",
    )
    facets = body["facets"]
    statuses = Counter(c["status"] for c in SEED_CLAIMS)
    assert {f["value"]: f["count"] for f in facets["status"]} == dict(statuses)
    counts = [f["count"] for f in facets["status"]]
    assert counts == sorted(counts, reverse=True)
    assert {f["value"]: f["count"] for f in facets["claimant"]} == dict(
        Counter(c["claimant"] for c in SEED_CLAIMS)
    )
    assert facets["article"] == [{"value": SEED_ARTICLE, "count": len(SEED_CLAIMS)}]
    assert facets["month"] == [{"value": "2024-10", "count": len(SEED_CLAIMS)}]
    pending = get_json(client, "/claims?status=pending&facet=status")
    assert pending["facets"]["status"] == [{"value": "pending", "count": 4}]


def test_event_and_entity_facets(client: TestClient) -> None:
    events = get_json(client, "/events?facet=kind&facet=month&limit=1")["facets"]
    assert sum(f["count"] for f in events["kind"]) == len(SEED_EVENTS)
    assert dict(Counter(e["kind"] for e in SEED_EVENTS)) == {
        f["value"]: f["count"] for f in events["kind"]
    }
    assert sum(f["count"] for f in events["month"]) == len(SEED_EVENTS)
    entities = get_json(client, "/entities?facet=kind")["facets"]["kind"]
    assert {f["value"]: f["count"] for f in entities} == dict(
        Counter(e["kind"] for e in SEED_ENTITIES)
    )


def test_fields_narrow_each_item_and_keep_the_id(client: TestClient) -> None:
    body = get_json(client, "/claims", {"fields": "status, text", "limit": 3})
    assert [set(item) for item in body["items"]] == [{"id", "status", "text"}] * 3
    full = get_json(client, "/claims", {"limit": 3})
    assert [{k: c[k] for k in ("id", "status", "text")} for c in full["items"]] == body["items"]
    assert set(get_json(client, "/entities", {"fields": "kind"})["items"][0]) == {"id", "kind"}


def test_include_embeds_evidence_and_history_in_claim_lists(client: TestClient) -> None:
    body = get_json(client, "/claims", [("include", "evidence"), ("include", "history")])
    for item in body["items"]:
        detail = get_json(client, f"/claims/{item['id']}")
        assert item["evidence"] == detail["evidence"]
        assert item["history"] == detail["history"]
    assert any(item["evidence"] for item in body["items"])
    narrowed = get_json(client, "/claims", {"include": "history", "fields": "history", "limit": 2})
    assert [set(i) for i in narrowed["items"]] == [{"id", "history"}] * 2
    assert "evidence" not in get_json(client, "/claims", {"limit": 1})["items"][0]


def test_include_of_something_a_list_cannot_embed_is_422(client: TestClient) -> None:
    body = get_json(client, "/claims", {"include": "children"}, status=422)
    assert body["errors"][0]["msg"] == "Input should be 'evidence' or 'history'"
    body = get_json(client, "/entities", {"include": "evidence"}, status=422)
    assert body["errors"][0]["msg"].startswith("unknown parameter; this route accepts: ")
    # A list with nothing to embed or sort by does not offer the parameters at all.
    operation = get_json(client, "/openapi.json")["paths"]["/entities"]["get"]
    assert not {"include", "sort"} & {p["name"] for p in operation["parameters"]}


# --- sort ----------------------------------------------------------------------------


def _all_pages(client: TestClient, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    body = get_json(client, url, params)
    items += body["items"]
    while body["next"]:
        body = get_json(client, body["next"].replace("http://testserver", ""))
        items += body["items"]
    return items


def test_sort_by_date_with_a_stable_tie_break_across_pages(
    tmp_path: Path, ingest: Ingest, empty_client: TestClient
) -> None:
    dates = ["2024-03-01", "2023-12-31", None, "2024-03-01", "2025-01-15"]
    for n, published in enumerate(dates):
        doc = minimal_doc()
        doc["article"]["id"] = f"a{n}"
        if published is None:
            del doc["article"]["published"]
        else:
            doc["article"]["published"] = published
        write_doc(tmp_path / f"a{n}.json", doc)
    ingest(tmp_path)
    earliest = "0001-01-01"

    def key(n: int) -> str:
        return dates[n] or earliest

    oldest_first = sorted(range(len(dates)), key=lambda n: (key(n), n))
    newest_first = sorted(range(len(dates)), key=lambda n: (key(n), n), reverse=True)
    for sort, order in (("published", oldest_first), ("-published", newest_first)):
        articles = _all_pages(empty_client, "/articles", {"sort": sort, "limit": 1})
        assert [a["id"] for a in articles] == [f"a{n}" for n in order], sort
        claims = _all_pages(empty_client, "/claims", {"sort": sort, "limit": 2})
        assert [c["article"] for c in claims] == [f"a{n}" for n in order], sort
    # Sorting combines with filters and counts.
    body = get_json(
        empty_client, "/claims", {"sort": "-published", "published__gte": "2024", "count": "exact"}
    )
    assert [c["article"] for c in body["items"]] == ["a4", "a3", "a0"]
    assert body["total"] == 3


def test_events_sort_by_their_start(client: TestClient) -> None:
    events = _all_pages(client, "/events", {"sort": "date", "limit": 3})
    starts = [e["time"]["start"] if e["time"] else None for e in events]
    known = [s for s in starts if s]
    assert known == sorted(known) and len(events) == len(SEED_EVENTS)
    assert starts[: starts.count(None)] == [None] * starts.count(None)  # undated first


@pytest.mark.parametrize(
    ("url", "value", "message"),
    [
        ("/claims", "status", "Input should be 'published' or '-published'"),
        ("/claims", "--published", "Input should be 'published' or '-published'"),
        ("/entities", "name", "unknown parameter; this route accepts: "),
    ],
)
def test_bad_sort_is_422(client: TestClient, url: str, value: str, message: str) -> None:
    body = get_json(client, url, {"sort": value}, status=422)
    assert body["errors"][0]["msg"].startswith(message)


def test_a_cursor_does_not_cross_sort_orders(client: TestClient) -> None:
    first = get_json(client, "/claims", {"sort": "published", "limit": 2})
    cursor = first["next_cursor"]
    body = get_json(client, "/claims", {"limit": 2, "cursor": cursor}, status=422)
    assert "another list, or to other filters" in body["errors"][0]["msg"]


def test_a_nul_character_in_a_filter_is_422_on_every_database(client: TestClient) -> None:
    for url in (
        "/claims?claimant__exact=%00",
        "/entities?name__contains=a%00",
        "/articles?id__in=a,%00",
    ):
        body = get_json(client, url, status=422)
        assert body["errors"][0]["msg"] == "must not contain NUL characters"


def test_a_cursor_survives_changes_to_what_a_page_shows(client: TestClient) -> None:
    first = get_json(client, "/claims", {"limit": 2, "count": "exact", "fields": "status"})
    second = get_json(
        client, "/claims", {"limit": 2, "cursor": first["next_cursor"], "facet": "kind"}
    )
    full = get_json(client, "/claims", {"limit": 4})
    assert [c["id"] for c in second["items"]] == [c["id"] for c in full["items"][2:4]]


def test_csv_carries_included_resources_as_json_cells(client: TestClient) -> None:
    response = client.get("/claims", params={"format": "csv", "include": "history", "limit": 3})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    json_page = get_json(client, "/claims", {"include": "history", "limit": 3})
    assert [json.loads(r["history"]) for r in rows] == [
        [{**h, "recorded_at": h["recorded_at"]} for h in c["history"]] for c in json_page["items"]
    ]
    narrowed = client.get(
        "/claims", params={"format": "csv", "include": "history", "fields": "history"}
    )
    assert narrowed.text.splitlines()[0] == "id,history"
    assert set(get_json(client, "/articles", {"fields": "sha256"})["items"][0]) == {"id", "sha256"}


def test_a_hand_made_sort_cursor_out_of_the_date_range_is_not_a_500(client: TestClient) -> None:
    from app.api.pages import encode_cursor, list_digest

    class Request:
        class url:  # noqa: N801
            path = "/claims"

        class query_params:  # noqa: N801
            @staticmethod
            def multi_items() -> list[tuple[str, str]]:
                return [("sort", "published")]

    digest = list_digest(Request)  # type: ignore[arg-type]
    for ordinal in (0, 2**31 - 1):
        cursor = encode_cursor(digest, [ordinal, 1])
        response = client.get("/claims", params={"sort": "published", "cursor": cursor})
        assert response.status_code == 200
