"""GET /articles/{id}/facts?overlaps=start,end: the facts tied to words in a range of the text."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SEED_ARTICLE
from tests.seed import FACTS, TEXT, get_json

URL = f"/articles/{SEED_ARTICLE}/facts"


def spans(kind: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    """Every anchor of a fact, computed here from the full listing."""
    if kind == "entities":
        return list(item["mentions"])
    found = list(item["anchors"])
    if kind == "events":
        found.append(item["time"]["anchor"] if item["time"] else None)
    else:
        found += [item["attribution"], item["hedge"]]
        found += [e["anchor"] for e in item["evidence"]]
    return [s for s in found if s]


def test_without_a_range_every_fact_of_the_article(client: TestClient) -> None:
    body = get_json(client, URL)
    assert body["article"] == SEED_ARTICLE and body["overlaps"] is None
    assert [e["id"] for e in body["entities"]] == [e["id"] for e in FACTS["entities"]]
    assert [e["id"] for e in body["events"]] == [
        f"{SEED_ARTICLE}.{e['id']}" for e in FACTS["events"]
    ]
    assert [c["id"] for c in body["claims"]] == [
        f"{SEED_ARTICLE}.{c['id']}" for c in FACTS["claims"]
    ]
    assert all("overlapping" not in c for c in body["claims"])


@pytest.mark.parametrize("window", [(400, 520), (0, 60), (1200, 1300), (0, len(TEXT))])
def test_a_range_keeps_exactly_the_facts_with_an_anchor_in_it(
    client: TestClient, window: tuple[int, int]
) -> None:
    start, end = window
    everything = get_json(client, URL)
    body = get_json(client, URL, {"overlaps": f"{start},{end}"})
    assert body["overlaps"] == {"start": start, "end": end}
    for kind in ("entities", "events", "claims"):
        expected = {}
        for item in everything[kind]:
            hits = [s for s in spans(kind, item) if s["start"] < end and s["end"] > start]
            if hits:
                expected[item["id"]] = sorted((s["start"], s["end"]) for s in hits)
        got = {
            i["id"]: sorted((s["start"], s["end"]) for s in i["overlapping"]) for i in body[kind]
        }
        assert got == expected, kind
        assert [i["id"] for i in body[kind]] == [
            i["id"] for i in everything[kind] if i["id"] in expected
        ]
        for item in body[kind]:
            for s in item["overlapping"]:
                assert TEXT[s["start"] : s["end"]] == s["exact"]
    assert body["claims"] or body["entities"]


def test_ranges_are_half_open(client: TestClient) -> None:
    everything = get_json(client, URL)
    mention = everything["entities"][0]["mentions"][0]
    before = get_json(client, URL, {"overlaps": f"0,{mention['start']}"})
    assert mention not in [m for e in before["entities"] for m in e["overlapping"]]
    touching = get_json(client, URL, {"overlaps": f"{mention['start']},{mention['start'] + 1}"})
    assert mention in [m for e in touching["entities"] for m in e["overlapping"]]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("520,400", "start must be less than end"),
        ("400,400", "start must be less than end"),
        ("400", "String should match pattern"),
        ("-1,5", "String should match pattern"),
        ("１,５", "String should match pattern"),
    ],
)
def test_bad_ranges_are_422(client: TestClient, value: str, message: str) -> None:
    body = get_json(client, URL, {"overlaps": value}, status=422)
    assert message in body["errors"][0]["msg"]


def test_unknown_article_is_404(client: TestClient) -> None:
    assert get_json(client, "/articles/nope/facts", status=404)["detail"] == (
        "no article with id 'nope'"
    )
