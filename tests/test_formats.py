"""CSV, NDJSON and ClaimReview representations, and how a request chooses one."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import BaseModel

from app import formats
from app.formats import Format, guard, negotiate
from app.models import VerificationStatus
from app.schemas import ArticleEntity, ArticleSummary, ClaimOut, EntitySummary, EventOut, Mention
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc

CLAIM = f"{SEED_ARTICLE}.referendum-held-on-oct-6"
LISTS: dict[str, type[BaseModel]] = {
    "/articles": ArticleSummary,
    "/entities": EntitySummary,
    "/events": EventOut,
    "/claims": ClaimOut,
    f"/articles/{SEED_ARTICLE}/entities": ArticleEntity,
    f"/articles/{SEED_ARTICLE}/events": EventOut,
    f"/articles/{SEED_ARTICLE}/claims": ClaimOut,
    "/entities/rosatom/mentions": Mention,
    "/entities/rosatom/claims": ClaimOut,
    "/entities/russia/events": EventOut,
}
CLAIM_COLUMNS = [
    "id",
    "article",
    "text",
    "kind",
    "claimant_id",
    "claimant_name",
    "claimant_kind",
    "claimant_anchor_start",
    "claimant_anchor_end",
    "claimant_anchor_exact",
    "attribution_start",
    "attribution_end",
    "attribution_exact",
    "subjects",
    "events",
    "status",
    "rationale",
    "hedge_start",
    "hedge_end",
    "hedge_exact",
    "anchors",
    "quantities",
    "same_as",
    "provenance_extractor",
    "provenance_extractor_version",
    "provenance_model",
    "provenance_model_version",
    "provenance_reviewed",
]


def all_items(client: TestClient, url: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    query: dict[str, str] | None = {**params, "limit": "500"}
    while next_url:
        body = client.get(next_url, params=query).json()
        items += body["items"]
        next_url, query = body["next"], None
    return items


def text_cell(value: Any) -> str:
    if value is None:
        return ""
    return guard(str(value))


def flat_claim(claim: dict[str, Any]) -> dict[str, str]:
    """A claim as its CSV row should read, written out by hand."""

    def anchor(name: str) -> dict[str, str]:
        a = claim[name] or {}
        return {f"{name}_{k}": text_cell(a.get(k)) for k in ("start", "end", "exact")}

    return {
        "id": claim["id"],
        "article": claim["article"],
        "text": text_cell(claim["text"]),
        "kind": claim["kind"],
        "claimant_id": claim["claimant"]["id"],
        "claimant_name": text_cell(claim["claimant"]["name"]),
        "claimant_kind": claim["claimant"]["kind"],
        **{f"claimant_{k}": v for k, v in anchor_of(claim["claimant"], "anchor").items()},
        **anchor("attribution"),
        "subjects": ";".join(s["id"] for s in claim["subjects"]),
        "events": ";".join(claim["events"]),
        "status": claim["status"],
        "rationale": text_cell(claim["rationale"]),
        **anchor("hedge"),
        "anchors": json.dumps(claim["anchors"], ensure_ascii=False, separators=(",", ":")),
        "quantities": json.dumps(claim["quantities"], ensure_ascii=False, separators=(",", ":")),
        "same_as": text_cell(claim["same_as"]),
        **{f"provenance_{k}": text_cell(v) for k, v in claim["provenance"].items()},
    }


def anchor_of(owner: dict[str, Any], name: str) -> dict[str, str]:
    a = owner.get(name) or {}
    return {f"{name}_{k}": text_cell(a.get(k)) for k in ("start", "end", "exact")}


def read_csv(response: Response) -> tuple[list[str], list[dict[str, str]]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    assert b"\r\n" in response.content
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def read_ndjson(response: Response) -> list[Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.content == b"" or response.content.endswith(b"\n")
    return [orjson.loads(line) for line in response.content.splitlines()]


# --- negotiation, without a database -----------------------------------------

LIST = formats.LIST_FORMATS
CLAIMS = formats.CLAIM_LIST_FORMATS


@pytest.mark.parametrize(
    ("accept", "allowed", "expected"),
    [
        (None, LIST, (Format.json, "application/json")),
        ("", LIST, (Format.json, "application/json")),
        ("*/*", LIST, (Format.json, "application/json")),
        ("application/json", LIST, (Format.json, "application/json")),
        ("text/csv", LIST, (Format.csv, "text/csv")),
        ("text/*", LIST, (Format.csv, "text/csv")),
        ("application/*", CLAIMS, (Format.json, "application/json")),
        ("application/x-ndjson", LIST, (Format.ndjson, "application/x-ndjson")),
        ("application/jsonl", LIST, (Format.ndjson, "application/jsonl")),
        ("text/csv;q=0.5, application/x-ndjson", LIST, (Format.ndjson, "application/x-ndjson")),
        ("text/csv;q=0.9, application/json;q=0.8", LIST, (Format.csv, "text/csv")),
        ("text/csv, */*", LIST, (Format.csv, "text/csv")),
        ("*/*;q=0.1, text/csv;q=0.2", LIST, (Format.csv, "text/csv")),
        ("application/json;q=0, */*", LIST, (Format.csv, "text/csv")),
        ("TEXT/CSV; charset=utf-8", LIST, (Format.csv, "text/csv")),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            LIST,
            (Format.json, "application/json"),
        ),
        ("application/ld+json", CLAIMS, (Format.claimreview, "application/ld+json")),
        (
            "application/json;q=0.5, application/ld+json",
            CLAIMS,
            (Format.claimreview, "application/ld+json"),
        ),
        ("application/ld+json", LIST, None),
        ("application/xml", LIST, None),
        ("text/csv;q=0", LIST, None),
        ("text/csv;q=high", LIST, None),
        ("nonsense", LIST, None),
    ],
)
def test_accept_negotiation(
    accept: str | None, allowed: tuple[Format, ...], expected: tuple[Format, str] | None
) -> None:
    chosen = negotiate(accept, allowed)
    assert (None if chosen is None else (chosen.format, chosen.media_type)) == expected


def test_cells_that_could_start_a_formula_are_text() -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert guard(cell) == "'" + cell
    for cell in ("", "Rosatom", "1-2", "'quoted", "a=b"):
        assert guard(cell) == cell


# --- CSV and NDJSON over HTTP --------------------------------------------------


def test_claims_csv_is_the_json_list_flattened(client: TestClient) -> None:
    response = client.get("/claims", params={"format": "csv"})
    assert response.headers["content-disposition"] == 'attachment; filename="claims.csv"'
    columns, rows = read_csv(response)
    assert columns == CLAIM_COLUMNS
    claims = all_items(client, "/claims")
    assert len(claims) == 12
    assert rows == [flat_claim(c) for c in claims]
    hedged = next(r for r in rows if r["id"] == f"{SEED_ARTICLE}.rosatom-head-seeks-meeting")
    assert hedged["hedge_exact"] == "no response had been received at the time of publication"
    assert hedged["claimant_id"] == "kursiv-media"


@pytest.mark.parametrize("url", LISTS)
def test_every_list_exports_csv_and_ndjson(client: TestClient, url: str) -> None:
    items = all_items(client, url)
    assert items, url
    assert read_ndjson(client.get(url, params={"format": "ndjson"})) == items
    columns, rows = read_csv(client.get(url, params={"format": "csv"}))
    assert [r["id"] if "id" in r else r["exact"] for r in rows] == [
        text_cell(i["id"] if "id" in i else i["exact"]) for i in items
    ]
    assert columns == [name for name, _ in formats.csv_columns(LISTS[url])]
    # Columns come in the order of the JSON item's fields.
    top = [c for c in columns if c in items[0]]
    assert top == [k for k in items[0] if k in top], url
    for item, row in zip(items, rows, strict=True):
        for name, value in item.items():
            if isinstance(value, str | int) and name in row:
                assert row[name] == text_cell(value), (url, name)


def test_nested_values_are_flattened(client: TestClient) -> None:
    _, rows = read_csv(client.get(f"/articles/{SEED_ARTICLE}/events", params={"format": "csv"}))
    events = all_items(client, f"/articles/{SEED_ARTICLE}/events")
    meeting = next(r for r in rows if r["id"].endswith("proposed-meeting-2024-10-28"))
    event = next(e for e in events if e["id"] == meeting["id"])
    assert meeting["time_start"] == "2024-10-28"
    assert meeting["time_precision"] == "day"
    assert meeting["time_anchor_exact"] == "Oct. 28"
    assert json.loads(meeting["participants"]) == event["participants"]
    _, articles = read_csv(client.get("/articles", params={"format": "csv"}))
    assert articles[0]["counts_claims"] == "12"
    assert articles[0]["published"] == "2024-10-17"
    _, entities = read_csv(client.get("/entities", params={"format": "csv"}))
    likhachev = next(r for r in entities if r["id"] == "alexey-likhachev")
    assert {"name": "Алексей Лихачёв", "language": "ru"} in json.loads(likhachev["aliases"])


def _articles(tmp_path: Path, ingest: Ingest, count: int, claim_text: str | None = None) -> None:
    for n in range(count):
        doc = minimal_doc()
        doc["article"] = {**doc["article"], "id": f"test-article-{n}", "url": None}
        if claim_text is not None:
            doc["claims"][0]["text"] = claim_text
        ingest(write_doc(tmp_path / f"a{n}.json", doc))


def test_an_export_streams_every_row_in_batches(
    client: TestClient, ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _articles(tmp_path, ingest, 4)
    monkeypatch.setattr(formats, "EXPORT_BATCH", 3)
    claims = all_items(client, "/claims")
    assert len(claims) == 16
    first_page = client.get("/claims", params={"limit": "3"}).json()["items"]
    response = client.get("/claims", headers={"Accept": "text/csv"})
    assert "link" not in response.headers
    _, rows = read_csv(response)
    assert len(rows) > len(first_page)
    assert rows == [flat_claim(c) for c in claims]
    assert read_ndjson(client.get("/claims", params={"format": "ndjson"})) == claims
    # Filters apply to the export as to the JSON list.
    pending = read_ndjson(client.get("/claims", params={"format": "ndjson", "status": "pending"}))
    assert pending == all_items(client, "/claims", status="pending")
    assert len(pending) == 8


def test_limit_or_cursor_asks_for_one_page(client: TestClient) -> None:
    response = client.get("/claims", params={"format": "csv", "limit": "5"})
    _, rows = read_csv(response)
    assert len(rows) == 5
    claims = all_items(client, "/claims")
    assert rows == [flat_claim(c) for c in claims[:5]]
    link = response.headers["link"]
    assert link.endswith('>; rel="next"') and "format=csv" in link
    next_url = link[1 : link.index(">")]
    _, rest = read_csv(client.get(next_url))
    assert rest == [flat_claim(c) for c in claims[5:10]]
    # The cursor is the list's, whatever the format: it works for JSON too.
    cursor = next_url.split("cursor=")[1]
    body = client.get("/claims", params={"limit": "5", "cursor": cursor}).json()
    assert [c["id"] for c in body["items"]] == [c["id"] for c in claims[5:10]]
    page = client.get("/claims", params={"cursor": cursor}, headers={"Accept": "application/jsonl"})
    assert page.headers["content-type"] == "application/jsonl"
    assert [orjson.loads(line) for line in page.content.splitlines()] == claims[5:]


def test_formula_injection_is_guarded_in_csv_only(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    _articles(tmp_path, ingest, 1, claim_text='=HYPERLINK("http://x","click") said Bob.')
    url = "/articles/test-article-0/claims"
    _, rows = read_csv(client.get(url, params={"format": "csv"}))
    assert rows[0]["text"] == '\'=HYPERLINK("http://x","click") said Bob.'
    (item,) = read_ndjson(client.get(url, params={"format": "ndjson"}))
    assert item["text"] == '=HYPERLINK("http://x","click") said Bob.'


def test_accept_header_and_format_parameter(client: TestClient) -> None:
    assert client.get("/entities").headers["content-type"] == "application/json"
    csv_response = client.get("/entities", headers={"Accept": "text/csv"})
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "accept" in csv_response.headers["vary"].lower()
    ndjson = client.get("/entities", headers={"Accept": "text/csv;q=0.5, application/x-ndjson"})
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/entities", headers={"Accept": browser}).json()["items"]
    forced = client.get("/entities", params={"format": "json"}, headers={"Accept": "text/csv"})
    assert forced.headers["content-type"] == "application/json" and forced.json()["items"]
    # ?format= wins even over an Accept that allows nothing we make.
    xml = {"Accept": "application/xml"}
    assert client.get("/entities", params={"format": "ndjson"}, headers=xml).status_code == 200


def test_nothing_acceptable_is_a_406_problem(client: TestClient) -> None:
    for url in ("/entities", "/claims", f"/claims/{CLAIM}", "/entities/rosatom/mentions"):
        response = client.get(url, headers={"Accept": "application/xml"})
        assert response.status_code == 406, url
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 406 and body["title"] == "Not Acceptable"
        assert "application/json" in body["detail"], body
    detail = client.get("/entities", headers={"Accept": "application/ld+json"}).json()["detail"]
    assert detail.startswith(
        "this resource is available as application/json, text/csv, application/x-ndjson, "
        "application/jsonl;"
    )
    claims = client.get("/claims", headers={"Accept": "image/png"}).json()["detail"]
    assert "application/ld+json" in claims and "format=json|csv|ndjson|claimreview" in claims


def test_an_unknown_format_is_a_422_listing_the_formats(client: TestClient) -> None:
    for url, accepted in (
        ("/entities", "'json', 'csv' or 'ndjson'"),
        ("/entities", "'json', 'csv' or 'ndjson'"),
        ("/claims", "'json', 'csv', 'ndjson' or 'claimreview'"),
        (f"/claims/{CLAIM}", "'json' or 'claimreview'"),
    ):
        for value in ("xml", "claimreview" if url == "/entities" else "CSV"):
            response = client.get(url, params={"format": value})
            assert response.status_code == 422, (url, value)
            body = response.json()
            assert body["errors"][0]["loc"] == ["query", "format"]
            assert accepted in body["detail"], body["detail"]
    # A format given twice, or with a limit out of range: one 422 naming both.
    body = client.get("/claims?format=csv&format=json&limit=0").json()
    assert sorted(e["loc"][1] for e in body["errors"]) == ["format", "limit"]


def test_openapi_documents_the_format_parameter(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    def choices(path: str) -> list[str]:
        (param,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "format"]
        assert "Accept" in param["description"]
        schema = param["schema"]["anyOf"][0]
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return list(schema["enum"])

    assert choices("/entities") == ["json", "csv", "ndjson"]
    assert choices("/entities/{entity_id}/mentions") == ["json", "csv", "ndjson"]
    assert choices("/claims") == ["json", "csv", "ndjson", "claimreview"]
    assert choices("/entities/{entity_id}/claims") == ["json", "csv", "ndjson", "claimreview"]
    assert choices("/claims/{claim_id}") == ["json", "claimreview"]


# --- ClaimReview -------------------------------------------------------------


def test_a_claim_as_claimreview(client: TestClient) -> None:
    response = client.get(f"/claims/{CLAIM}", params={"format": "claimreview"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    review = response.json()
    claim = client.get(f"/claims/{CLAIM}").json()
    assert review["@context"] == "https://schema.org"
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == claim["text"]
    assert review["url"] == f"http://testserver/claims/{CLAIM}"
    assert review["datePublished"] == claim["history"][-1]["recorded_at"][:10]
    assert review["author"] == {"@type": "Organization", "name": "article-facts"}
    item = review["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["author"] == {
        "@type": "NewsMediaOrganization",
        "name": claim["claimant"]["name"],
        "identifier": "kursiv-media",
        "url": "http://testserver/entities/kursiv-media",
    }
    assert item["datePublished"] == "2024-10-17"
    article = client.get(f"/articles/{SEED_ARTICLE}").json()
    seed = {
        "@type": "NewsArticle",
        "url": article["url"],
        "headline": article["title"],
        "datePublished": "2024-10-17",
        "inLanguage": "en",
        "publisher": {"@type": "Organization", "name": "Kursiv.media"},
        "identifier": SEED_ARTICLE,
    }
    # Every article that reports the claim, and the earliest of them.
    assert item["appearance"] == [seed]
    assert item["firstAppearance"] == seed
    assert review["reviewRating"] == {
        "@type": "Rating",
        "identifier": "confirmed",
        "alternateName": "True",
        "ratingExplanation": "Confirmed: Stated by the authoritative primary source for it (an "
        "election commission on its own results, a ministry on its own decision) or corroborated "
        f"by an independent source. {claim['rationale']}",
        "ratingValue": 5,
        "bestRating": 5,
        "worstRating": 1,
    }
    negotiated = client.get(f"/claims/{CLAIM}", headers={"Accept": "application/ld+json"})
    assert negotiated.json() == review
    assert client.get(f"/claims/{CLAIM}", headers={"Accept": "*/*"}).json() == claim


def test_claim_lists_as_claimreview(client: TestClient) -> None:
    response = client.get("/claims", params={"format": "claimreview", "limit": "5"})
    assert response.headers["content-type"] == "application/ld+json"
    assert 'rel="next"' in response.headers["link"]
    body = response.json()
    assert list(body) == ["@context", "@graph"]
    claims = all_items(client, "/claims")
    assert [r["claimReviewed"] for r in body["@graph"]] == [c["text"] for c in claims[:5]]
    one = client.get(f"/claims/{claims[0]['id']}", params={"format": "claimreview"}).json()
    assert body["@graph"][0] == {k: v for k, v in one.items() if k != "@context"}
    by_entity = client.get(
        "/entities/rosatom/claims", headers={"Accept": "application/ld+json"}
    ).json()
    assert {r["@type"] for r in by_entity["@graph"]} == {"ClaimReview"}


def test_the_rating_of_every_status_is_honest(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    doc = minimal_doc()
    base = doc["claims"][0]
    doc["claims"] = [
        {**base, "id": f"claim-{s.value}", "status": s.value, "rationale": f"Why {s.value}."}
        for s in VerificationStatus
    ]
    doc["article"] = {**doc["article"], "id": "every-status"}
    ingest(write_doc(tmp_path / "every.json", doc))
    body = client.get("/articles/every-status/claims", params={"format": "claimreview"}).json()
    ratings = {
        r["reviewRating"]["identifier"]: r["reviewRating"]
        for r in body["@graph"]
        if "reviewRating" in r
    }
    # A statement that cannot be true or false gets no rating at all, only its reasons.
    (unrated,) = [r for r in body["@graph"] if "reviewRating" not in r]
    assert unrated["identifier"] == "every-status.claim-not_checkable"
    assert unrated["reviewBody"] == (
        "Not checkable: An opinion, prediction, promise or other statement that cannot be true "
        "or false; never given a true/false rating. Why not_checkable."
    )
    assert set(ratings) == {s.value for s in VerificationStatus} - {"not_checkable"}
    numbers = {
        s: (r.get("ratingValue"), r.get("bestRating"), r.get("worstRating"))
        for s, r in ratings.items()
    }
    assert numbers == {
        "confirmed": (5, 5, 1),
        "refuted": (1, 5, 1),
        "unverified": (None, None, None),
        "pending": (None, None, None),
        "disputed": (None, None, None),
    }
    assert {s: r["alternateName"] for s, r in ratings.items()} == {
        "confirmed": "True",
        "refuted": "False",
        "unverified": "Unverified",
        "pending": "Pending",
        "disputed": "Disputed",
    }
    for status in ("unverified", "pending", "disputed"):
        explanation = ratings[status]["ratingExplanation"]
        assert explanation.startswith("Not a verdict. "), explanation
        assert explanation.endswith(f"Why {status}.")
    assert ratings["pending"]["ratingExplanation"] == (
        "Not a verdict. Pending: Confirmation has been asked of a named party and no answer is "
        "recorded yet. Why pending."
    )
    for status in ("confirmed", "refuted"):
        assert not ratings[status]["ratingExplanation"].startswith("Not a verdict")
    # The claimant is a person here; the test article has no URL but still appears.
    review = body["@graph"][0]
    assert review["itemReviewed"]["author"]["@type"] == "Person"
    assert review["itemReviewed"]["appearance"][0]["headline"] == "Alice meets Bob"
