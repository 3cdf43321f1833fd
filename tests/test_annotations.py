"""Anchors as W3C Web Annotations: the shape of the model, and selectors that select."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.anchors.offsets import utf16_offsets
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc
from tests.seed import get_json

jsonschema = pytest.importorskip("jsonschema")

MEDIA_TYPE = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
# https://www.w3.org/TR/annotation-vocab/#named-individuals
MOTIVATIONS = [
    "assessing",
    "bookmarking",
    "classifying",
    "commenting",
    "describing",
    "editing",
    "highlighting",
    "identifying",
    "linking",
    "moderating",
    "questioning",
    "replying",
    "tagging",
]
IRI = {"type": "string", "pattern": "^https?://"}
# The parts of the W3C Web Annotation Data Model (https://www.w3.org/TR/annotation-model/)
# this API uses, written as a JSON Schema.
TEXTUAL_BODY = {
    "type": "object",
    "required": ["type", "value"],
    "properties": {
        "type": {"const": "TextualBody"},
        "value": {"type": "string", "minLength": 1},
        "purpose": {"enum": MOTIVATIONS},
        "format": {"const": "text/plain"},
    },
    "additionalProperties": False,
}
EXTERNAL_BODY = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": IRI, "format": {"type": "string"}},
    "additionalProperties": False,
}
QUOTE = {
    "type": "object",
    "required": ["type", "exact"],
    "properties": {
        "type": {"const": "TextQuoteSelector"},
        "exact": {"type": "string", "minLength": 1},
        "prefix": {"type": "string", "minLength": 1},
        "suffix": {"type": "string", "minLength": 1},
    },
    "additionalProperties": False,
}
POSITION = {
    "type": "object",
    "required": ["type", "start", "end"],
    "properties": {
        "type": {"const": "TextPositionSelector"},
        "start": {"type": "integer", "minimum": 0},
        "end": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}
ANNOTATION = {
    "type": "object",
    "required": ["id", "type", "motivation", "body", "target"],
    "properties": {
        "id": IRI,
        "type": {"const": "Annotation"},
        "motivation": {"enum": MOTIVATIONS},
        "body": {
            "type": "array",
            "minItems": 1,
            "items": {"oneOf": [TEXTUAL_BODY, EXTERNAL_BODY]},
        },
        "target": {
            "type": "object",
            "required": ["source", "selector"],
            "properties": {
                "source": IRI,
                "scope": IRI,
                "selector": {
                    "type": "array",
                    "prefixItems": [QUOTE, POSITION],
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
PAGE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["@context", "id", "type", "partOf", "startIndex", "items"],
    "properties": {
        "@context": {"const": "http://www.w3.org/ns/anno.jsonld"},
        "id": IRI,
        "type": {"const": "AnnotationPage"},
        "partOf": {
            "type": "object",
            "required": ["id", "type", "total", "first"],
            "properties": {
                "id": IRI,
                "type": {"const": "AnnotationCollection"},
                "label": {"type": "string"},
                "total": {"type": "integer", "minimum": 0},
                "first": IRI,
            },
            "additionalProperties": False,
        },
        "startIndex": {"type": "integer", "minimum": 0},
        "next": IRI,
        "items": {"type": "array", "items": ANNOTATION},
    },
    "additionalProperties": False,
}


def all_annotations(client: TestClient, url: str) -> list[dict[str, Any]]:
    """Every annotation of the collection at ``url``, following `next`, each page validated."""
    items: list[dict[str, Any]] = []
    total = None
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == MEDIA_TYPE
        page = response.json()
        jsonschema.validate(page, PAGE)
        assert page["startIndex"] == len(items)
        total = page["partOf"]["total"] if total is None else total
        assert page["partOf"]["total"] == total
        items += page["items"]
        url = page.get("next", "")
        if url:
            assert response.headers["link"] == f'<{url}>; rel="next"'
    assert len(items) == total
    return items


def selectors(annotation: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    quote, position = annotation["target"]["selector"]
    return quote, position


def test_seed_annotations_select_their_words(client: TestClient) -> None:
    article = client.get(f"/articles/{SEED_ARTICLE}").json()
    text = article["text"]
    items = all_annotations(client, f"/articles/{SEED_ARTICLE}/annotations?limit=17")
    assert len({a["id"] for a in items}) == len(items)
    for a in items:
        assert a["target"]["source"] == f"http://testserver/articles/{SEED_ARTICLE}"
        assert a["target"]["scope"] == article["url"]
        quote, position = selectors(a)
        start, end = position["start"], position["end"]
        assert quote["exact"] == text[start:end]
        assert quote.get("prefix", "") == text[max(0, start - 32) : start]
        assert quote.get("suffix", "") == text[end : end + 32]
        assert a["id"].startswith("http://testserver/")
    # Reading order: by start, longer first.
    keys = [(selectors(a)[1]["start"], -selectors(a)[1]["end"]) for a in items]
    assert keys == sorted(keys)


def test_every_anchor_is_one_annotation(client: TestClient) -> None:
    items = all_annotations(client, f"/articles/{SEED_ARTICLE}/annotations?limit=500")
    by_id = {a["id"]: a for a in items}
    base = "http://testserver"
    claims = client.get(f"/articles/{SEED_ARTICLE}/claims?limit=500").json()["items"]
    for claim in claims:
        url = f"{base}/claims/{claim['id']}"
        for i, anchor in enumerate(claim["anchors"]):
            a = by_id[f"{url}#anchor-{i}"]
            assert a["motivation"] == "assessing"
            assert selectors(a)[1] == {"type": "TextPositionSelector", **_pos(anchor)}
            values = {b.get("purpose"): b.get("value") for b in a["body"]}
            assert values["describing"] == claim["text"]
            assert values["tagging"] == claim["status"]
            assert values["assessing"].endswith(claim["rationale"])
            assert {"id": url, "format": "application/json"} in a["body"]
        if claim["attribution"]:
            a = by_id[f"{url}#attribution"]
            assert selectors(a)[0]["exact"] == claim["attribution"]["exact"]
            assert claim["claimant"]["name"] in a["body"][0]["value"]
    refuted = by_id[f"{base}/claims/{SEED_ARTICLE}.rosatom-head-named-alexander#anchor-0"]
    assert refuted["body"][1]["value"].startswith("Refuted: ")
    entities = client.get(f"/articles/{SEED_ARTICLE}/entities?limit=500").json()["items"]
    mentions = 0
    for entity in entities:
        for m in entity["mentions"]:
            key = f"{base}/entities/{entity['id']}#mention-{SEED_ARTICLE}-{m['start']}-{m['end']}"
            assert by_id[key]["motivation"] == "identifying"
            assert by_id[key]["body"][0] == {
                "type": "TextualBody",
                "value": entity["name"],
                "purpose": "identifying",
                "format": "text/plain",
            }
            mentions += 1
    event = by_id[f"{base}/events/{SEED_ARTICLE}.proposed-meeting-2024-10-28#time"]
    assert selectors(event)[0]["exact"] == "Oct. 28"
    assert event["body"][0]["value"] == "2024-10-28 (day)"
    events = client.get(f"/articles/{SEED_ARTICLE}/events?limit=500").json()["items"]
    expected = (
        mentions
        + sum(
            len(e["anchors"]) + (e["time"] is not None and e["time"]["anchor"] is not None)
            for e in events
        )
        + sum(len(c["anchors"]) + bool(c["attribution"]) + bool(c["hedge"]) for c in claims)
    )
    evidence = [a for a in items if "#evidence-" in a["id"]]
    assert all(a["motivation"] == "linking" for a in evidence)
    assert len(items) == expected + len(evidence)


def _pos(anchor: dict[str, Any]) -> dict[str, int]:
    return {"start": anchor["start"], "end": anchor["end"]}


ASTRAL_TEXT = "Émile 😀 met Bob in 𝔓aris. Bob said 👍🏽 the talks went well. Émile said nothing."


def test_selectors_count_code_points_and_utf16_is_refused(
    ingest: Ingest, tmp_path: Path, client: TestClient
) -> None:
    """A TextPositionSelector counts code points (W3C), whatever a client's strings count."""
    doc = minimal_doc()
    doc["article"] |= {"id": "astral", "text": ASTRAL_TEXT}
    doc["entities"][0]["mentions"] = [
        {"quote": "Émile", "occurrence": 1},
        {"quote": "Émile", "occurrence": 2},
    ]
    doc["entities"][2]["mentions"] = ["𝔓aris"]
    doc["events"][0]["anchors"] = ["Émile 😀 met Bob in 𝔓aris"]
    doc["events"][0]["time"] = {"date": "2024-10-06"}
    doc["claims"][0]["anchors"] = ["👍🏽 the talks went well"]
    doc["claims"][0]["evidence"][0]["anchor"] = "Émile said nothing"
    ingest(write_doc(tmp_path / "astral.json", doc))
    code_points = all_annotations(client, "/articles/astral/annotations")
    for annotation in code_points:
        quote, position = selectors(annotation)
        assert ASTRAL_TEXT[position["start"] : position["end"]] == quote["exact"]
    paris = next(a for a in code_points if selectors(a)[0]["exact"] == "𝔓aris")
    assert selectors(paris)[1] == {"type": "TextPositionSelector", "start": 19, "end": 24}
    # A thumbs-up with a skin tone is two code points (four UTF-16 code units).
    talks = next(a for a in code_points if selectors(a)[0]["exact"].startswith("👍🏽"))
    assert selectors(talks)[1]["end"] - selectors(talks)[1]["start"] == 22
    response = client.get("/articles/astral/annotations?offset_unit=utf16")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["loc"] == ["query", "offset_unit"]
    assert error["msg"] == "Input should be 'codepoint'"
    described = client.get("/openapi.json").json()["paths"]["/articles/{article_id}/annotations"]
    (unit,) = [p for p in described["get"]["parameters"] if p["name"] == "offset_unit"]
    assert "/articles/{id}/facts?offset_unit=utf16" in unit["description"]
    # The same offsets in UTF-16 code units are one request away, on the facts.
    facts = get_json(client, "/articles/astral/facts", {"offset_unit": "utf16"})
    units = ASTRAL_TEXT.encode("utf-16-le")
    for entity in facts["entities"]:
        for m in entity["mentions"]:
            assert units[2 * m["start"] : 2 * m["end"]].decode("utf-16-le") == m["exact"]


def test_utf16_offsets_mapping() -> None:
    to16 = utf16_offsets("a😀b")
    assert [to16(i) for i in range(4)] == [0, 1, 3, 4]
    plain = utf16_offsets("abc")
    assert [plain(i) for i in range(4)] == [0, 1, 2, 3]


def test_bad_parameters_and_unknown_article(client: TestClient) -> None:
    base = f"/articles/{SEED_ARTICLE}/annotations"
    response = client.get(f"{base}?offset_unit=bytes")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", "offset_unit"]
    assert client.get(f"{base}?limit=0").status_code == 422
    assert client.get(f"{base}?cursor=nope").status_code == 422
    assert "unknown parameter" in client.get(f"{base}?offset=3").json()["detail"]
    # A cursor is valid only on the list that issued it.
    cursor = client.get("/claims?limit=2").json()["next_cursor"]
    response = client.get(f"{base}?limit=2&cursor={cursor}")
    assert response.status_code == 422
    assert "another list" in response.json()["detail"]
    cursor = client.get(f"{base}?limit=2").json()["next"].split("cursor=")[1]
    response = client.get(f"{base}?limit=2&offset_unit=codepoint&cursor={cursor}")
    assert response.status_code == 200
    assert response.json()["startIndex"] == 2
    response = client.get("/articles/nope/annotations")
    assert response.status_code == 404
    assert response.json()["detail"] == "no article with id 'nope'"


def test_article_without_facts(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    doc = minimal_doc(entities=[], relations=[], events=[], claims=[])
    doc["article"]["id"] = "bare"
    ingest(write_doc(tmp_path / "bare.json", doc))
    page = client.get("/articles/bare/annotations").json()
    jsonschema.validate(page, PAGE)
    assert page["items"] == [] and page["partOf"]["total"] == 0 and "next" not in page


def test_the_page_and_its_collection_have_distinct_iris(client: TestClient) -> None:
    base = f"http://testserver/articles/{SEED_ARTICLE}/annotations"
    page = client.get(f"/articles/{SEED_ARTICLE}/annotations").json()
    assert page["partOf"]["id"] == base
    assert page["id"] == page["partOf"]["first"] == f"{base}?limit=50"
    assert page["next"].startswith(f"{base}?limit=50&cursor=")
    second = client.get(page["next"]).json()
    assert second["id"] == page["next"] and second["partOf"]["id"] == base
    assert second["partOf"]["first"] == page["id"]
