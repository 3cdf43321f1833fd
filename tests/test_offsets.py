"""`offset_unit=utf16`: every anchor of every response, and the `overlaps` range, in UTF-16."""

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.anchors.offsets import codepoint_offset, utf16_offsets
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc

# Characters outside the Basic Multilingual Plane before and inside every kind of anchor.
TEXT = (
    "Émile 😀 met Bob in 𝔓aris on Oct. 6. Bob 🇰🇿 said 👍🏽 the talks went well, reportedly. "
    "Émile said nothing."
)
UNITS = TEXT.encode("utf-16-le")


def astral_doc() -> dict[str, Any]:
    doc = minimal_doc()
    doc["article"] |= {"id": "astral", "text": TEXT}
    doc["entities"][0]["mentions"] = [
        {"quote": "Émile", "occurrence": 1},
        {"quote": "Émile", "occurrence": 2},
    ]
    doc["entities"][2]["mentions"] = ["𝔓aris"]
    doc["relations"][0]["anchors"] = ["Bob in 𝔓aris"]
    event = doc["events"][0]
    event["anchors"] = ["Émile 😀 met Bob in 𝔓aris on Oct. 6"]
    claim = doc["claims"][0]
    claim |= {
        "attribution": "Bob 🇰🇿 said",
        "anchors": ["👍🏽 the talks went well"],
        "hedge": "reportedly",
    }
    claim["evidence"][0]["anchor"] = "Émile said nothing"
    return doc


@pytest.fixture
def astral(client: TestClient, ingest: Ingest, tmp_path: Path) -> TestClient:
    """The seed (no astral characters) and the article above."""
    ingest(write_doc(tmp_path / "astral.json", astral_doc()))
    return client


def spans(value: Any, article: str | None = None) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Every object with integer `start` and `end`, with the article it belongs to."""
    if isinstance(value, dict):
        article = value["article"] if isinstance(value.get("article"), str) else article
        if type(value.get("start")) is int and type(value.get("end")) is int:
            yield article, value
        for inner in value.values():
            yield from spans(inner, article)
    elif isinstance(value, list):
        for inner in value:
            yield from spans(inner, article)


ROUTES = [
    "/claims?article=astral",
    "/claims/astral.talks-went-well",
    "/claims?article=astral&include=evidence",
    "/events?article=astral",
    "/events/astral.meeting",
    "/entities/alice",
    "/entities/bob",
    "/entities/alice/mentions",
    "/entities/bob/claims",
    "/entities/paris/events",
    "/articles/astral/entities",
    "/articles/astral/events",
    "/articles/astral/claims",
    "/articles/astral/facts",
    "/articles/astral/facts?overlaps=0,200",
    "/search?q=talks",
    "/search?q=%C3%89mile",
]


@pytest.mark.parametrize("route", ROUTES)
def test_every_anchor_in_utf16(astral: TestClient, route: str) -> None:
    """Sliced as JavaScript slices strings, each UTF-16 anchor gives the same words."""
    sep = "&" if "?" in route else "?"
    code_points = astral.get(route)
    utf16 = astral.get(f"{route}{sep}offset_unit=utf16")
    assert code_points.status_code == utf16.status_code == 200, utf16.text
    # The anchors of an article's own lists belong to it without naming it.
    default = "astral" if route.startswith("/articles/astral/") else None
    pairs = list(zip(spans(code_points.json(), default), spans(utf16.json(), default), strict=True))
    shifted = 0
    for (article, cp), (article16, u) in pairs:
        assert article == article16
        if article != "astral":
            assert u == cp
            continue
        cp_text = TEXT[cp["start"] : cp["end"]]
        assert UNITS[2 * u["start"] : 2 * u["end"]].decode("utf-16-le") == cp_text
        assert u["start"] == len(TEXT[: cp["start"]].encode("utf-16-le")) // 2
        if "exact" in cp:
            assert cp_text == cp["exact"] == u["exact"]
        shifted += u["start"] != cp["start"]
    assert shifted, "no anchor after an astral character was checked"


def test_seed_offsets_unchanged(astral: TestClient) -> None:
    """A text with no character outside the BMP has the same offsets in both units."""
    for route in (f"/articles/{SEED_ARTICLE}/facts", "/claims?limit=20"):
        sep = "&" if "?" in route else "?"
        plain = astral.get(route).json()
        if "items" in plain:
            plain["items"] = [i for i in plain["items"] if i["article"] == SEED_ARTICLE]
        utf16 = astral.get(f"{route}{sep}offset_unit=utf16").json()
        if "items" in utf16:
            utf16["items"] = [i for i in utf16["items"] if i["article"] == SEED_ARTICLE]
        assert utf16 == plain


def test_export_in_utf16(astral: TestClient) -> None:
    lines = astral.get("/claims?article=astral&format=ndjson&offset_unit=utf16").text.splitlines()
    claim = json.loads(lines[0])
    anchor = claim["anchors"][0]
    assert UNITS[2 * anchor["start"] : 2 * anchor["end"]].decode("utf-16-le") == anchor["exact"]
    # 😀 and 𝔓 come before it, one unit longer each, and the flag 🇰🇿: two code points, two more.
    assert anchor["start"] == TEXT.index("👍🏽") + 4
    text = astral.get("/claims?article=astral&format=csv&offset_unit=utf16").text
    (row,) = csv.DictReader(io.StringIO(text))
    said = TEXT.index("Bob 🇰🇿 said")
    assert int(row["attribution_start"]) == len(TEXT[:said].encode("utf-16-le")) // 2 == said + 2
    assert json.loads(row["anchors"]) == claim["anchors"]


def test_overlaps_in_utf16(astral: TestClient) -> None:
    paris_cp = (TEXT.index("𝔓"), TEXT.index("𝔓") + 5)
    paris16 = (paris_cp[0] + 1, paris_cp[1] + 2)  # 😀 before it, 𝔓 in it
    by_cp = astral.get("/articles/astral/facts?overlaps={},{}".format(*paris_cp)).json()
    by16 = astral.get(
        "/articles/astral/facts?overlaps={},{}&offset_unit=utf16".format(*paris16)
    ).json()
    assert by16["overlaps"] == {"start": paris16[0], "end": paris16[1]}
    assert by_cp["overlaps"] == {"start": paris_cp[0], "end": paris_cp[1]}
    for kind in ("entities", "events", "claims"):
        assert [f["id"] for f in by16[kind]] == [f["id"] for f in by_cp[kind]]
    assert [e["id"] for e in by16["entities"]] == ["paris"]
    mention = by16["entities"][0]["overlapping"][0]
    assert (mention["start"], mention["end"]) == paris16
    # Code points 7–9 are "met"; in UTF-16 unit 7 is the second half of 😀.
    response = astral.get("/articles/astral/facts?overlaps=7,10&offset_unit=utf16")
    assert response.status_code == 422
    assert "inside a character" in response.json()["errors"][0]["msg"]


def test_bad_unit(astral: TestClient) -> None:
    for route in ("/claims", "/events/astral.meeting", "/search?q=talks"):
        sep = "&" if "?" in route else "?"
        response = astral.get(f"{route}{sep}offset_unit=bytes")
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "offset_unit"]
    # Lists without anchors do not take the parameter.
    response = astral.get("/articles?offset_unit=utf16")
    assert response.status_code == 422
    assert "unknown parameter" in response.json()["detail"]


def test_cursor_survives_a_change_of_unit(astral: TestClient) -> None:
    first = astral.get("/claims?limit=5").json()
    second = astral.get(f"/claims?limit=5&offset_unit=utf16&cursor={first['next_cursor']}")
    assert second.status_code == 200
    # Claims 6–10 are the seed's, whose offsets are the same in both units.
    assert second.json()["items"] == astral.get(first["next"]).json()["items"]


def test_conversions() -> None:
    text = "a😀b👍🏽"
    to16 = utf16_offsets(text)
    assert [to16(i) for i in range(len(text) + 1)] == [0, 1, 3, 4, 6, 8]
    assert [codepoint_offset(text, u) for u in range(9)] == [0, 1, None, 2, 3, None, 4, None, 5]
    assert codepoint_offset(text, 10) == 7
    assert codepoint_offset("abc", 2) == 2
