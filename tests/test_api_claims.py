"""GET /claims, /claims/{id}, the pagination contract, and the status vocabulary."""

import datetime as dt
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.errors import PROBLEM_JSON
from app.schemas import ClaimDetail, ClaimOut, Page, StatusInfo
from tests.conftest import DATA, SEED_ARTICLE, SEED_FILE, Ingest
from tests.seed import FACTS, TEXT, get_json

CLAIMS: dict[str, dict[str, Any]] = {c["id"]: c for c in FACTS["claims"]}
HEDGE = "no response had been received at the time of publication"
MEETING_REQUEST = [
    "rosatom-head-seeks-meeting",
    "embassy-asked-mfa-to-facilitate-meeting",
    "russian-side-asks-for-a-date",
    "russian-side-suggested-dates",
]


# What a fact from a file without provenance says of where it came from.
PERSON = {
    "extractor": "person",
    "extractor_version": None,
    "model": None,
    "model_version": None,
    "reviewed": True,
}


def cid(local_id: str) -> str:
    return f"{SEED_ARTICLE}.{local_id}"


def ids(body: Any) -> list[str]:
    return [c.id for c in Page[ClaimOut].model_validate(body).items]


def seed_ids(predicate: Any) -> list[str]:
    return [cid(k) for k, c in CLAIMS.items() if predicate(c)]


# --- list and filters --------------------------------------------------------


def test_list_in_ingest_order(client: TestClient) -> None:
    body = get_json(client, "/claims")
    assert ids(body) == [cid(k) for k in CLAIMS]
    assert len(body["items"]) == 12
    assert (body["limit"], body["next"], body["next_cursor"]) == (50, None, None)


def test_pending_lists_exactly_the_meeting_request_claims(client: TestClient) -> None:
    body = get_json(client, "/claims?status=pending")
    page = Page[ClaimOut].model_validate(body)
    assert [c.id for c in page.items] == seed_ids(lambda c: c["status"] == "pending")
    assert [c.id for c in page.items] == [cid(k) for k in MEETING_REQUEST]
    hedge_at = TEXT.find(HEDGE)
    assert hedge_at == 1227
    for claim in page.items:
        fact = CLAIMS[claim.id.removeprefix(f"{SEED_ARTICLE}.")]
        assert claim.status.value == "pending"
        assert claim.rationale == fact["rationale"]
        assert "no answer at publication" in claim.rationale
        assert claim.hedge is not None
        assert claim.hedge.model_dump() == {
            "start": hedge_at,
            "end": hedge_at + len(HEDGE),
            "exact": HEDGE,
        }
        assert claim.anchors
        assert [a.exact for a in claim.anchors] == fact["anchors"]
        for a in claim.anchors:
            assert TEXT[a.start : a.end] == a.exact
        # Every pending claim is about the requested meeting, through the embassy's letter.
        assert (
            cid("embassy-letter") in claim.events or cid("likhachev-seeks-meeting") in claim.events
        )


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"status": ["pending", "refuted"]}, seed_ids(lambda c: c["status"] in ("pending", "refuted"))),
    ({"status": "refuted"}, [cid("rosatom-head-named-alexander")]),
    ({"status": "disputed"}, []),
    ({"kind": "quote"}, [cid("russian-side-asks-for-a-date")]),
    ({"kind": ["plan", "statistic"]}, seed_ids(lambda c: c["kind"] in ("plan", "statistic"))),
    ({"claimant": "kursiv-media"}, seed_ids(lambda c: c["claimant"] == "kursiv-media")),
    ({"claimant": "no-such-entity"}, []),
    (
        {"entity": "rosatom"},
        [cid("rosatom-head-seeks-meeting"), cid("rosatom-head-named-alexander")],
    ),
    ({"entity": "rosatom", "role": "claimant"}, []),
    (
        {"entity": "kazakhstan-central-election-commission", "role": "claimant"},
        [cid("referendum-result-71-12")],
    ),
    (
        {"entity": "kazakhstan", "role": "subject"},
        seed_ids(lambda c: "kazakhstan" in c["subjects"]),
    ),
    (
        {"entity": "russian-embassy-in-kazakhstan", "role": "any"},
        seed_ids(
            lambda c: (
                c["claimant"] == "russian-embassy-in-kazakhstan"
                or "russian-embassy-in-kazakhstan" in c["subjects"]
            )
        ),
    ),
    (
        {"event": cid("referendum")},
        [cid("referendum-held-on-oct-6"), cid("referendum-result-71-12")],
    ),
    ({"event": "referendum"}, []),
    ({"article": SEED_ARTICLE}, seed_ids(lambda c: True)),
    ({"article": "no-such-article"}, []),
    ({"published_from": "2024-10-17"}, seed_ids(lambda c: True)),
    ({"published_from": "2024-10-18"}, []),
    ({"published_to": "2024-10-17"}, seed_ids(lambda c: True)),
    ({"published_to": "2024-10-16"}, []),
    ({"q": "REFERENDUM"}, seed_ids(lambda c: "referendum" in c["text"].lower())),
    ({"q": "71.12%"}, [cid("referendum-result-71-12")]),
    ({"q": "Alexander"}, [cid("rosatom-head-named-alexander")]),
    ({"status": "pending", "claimant": "kursiv-media"}, [cid("rosatom-head-seeks-meeting")]),
    (
        {"status": "confirmed", "kind": "plan", "q": "consortium"},
        seed_ids(
            lambda c: (
                c["status"] == "confirmed" and c["kind"] == "plan" and "consortium" in c["text"]
            )
        ),
    ),
]


def test_filters(client: TestClient) -> None:
    for params, expected in FILTERS:
        assert ids(get_json(client, "/claims", params)) == expected, params
    assert ids(get_json(client, "/claims?claimant=kursiv-media")) == [
        cid("rosatom-head-seeks-meeting"),
        cid("letter-shared-on-telegram"),
        cid("kursiv-requested-confirmation"),
        cid("referendum-held-on-oct-6"),
        cid("rosatom-head-named-alexander"),
    ]
    assert ids(get_json(client, "/claims?kind=plan&kind=statistic")) == [
        cid("referendum-result-71-12"),
        cid("tokayev-international-consortium"),
        cid("npp-financing-from-international-institutions"),
    ]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"status": ["confirmed", "pending"]},
        {"kind__not": "plan", "count": "exact", "facet": "status"},
        {"sort": "-published"},
        {"entity": "kursiv-media"},
    ],
    ids=["alone", "status", "grammar-count-facet", "sort", "entity"],
)
def test_text_search_pages_walk_every_match_once(client: TestClient, extra: dict[str, Any]) -> None:
    """Page by page, a text search gives the same claims, in the same order, as one page."""
    params = {"q": "the", **extra}
    whole = get_json(client, "/claims", {**params, "limit": 100})
    assert whole["next_cursor"] is None
    walked: list[str] = []
    page = get_json(client, "/claims", {**params, "limit": 2})
    while True:
        walked += ids(page)
        if page["next_cursor"] is None:
            break
        page = get_json(client, "/claims", {**params, "limit": 2, "cursor": page["next_cursor"]})
    assert walked == ids(whole)
    assert len(walked) > 2
    if not extra:
        assert walked == seed_ids(lambda c: re.search(r"\bthe\b", c["text"], re.IGNORECASE))
    if "count" in extra:
        assert whole["total"] == len(walked)
        assert sum(f["count"] for f in whole["facets"]["status"]) == len(walked)


# --- detail ------------------------------------------------------------------


def test_detail_has_claimant_anchors_evidence_and_history(client: TestClient) -> None:
    body = get_json(client, f"/claims/{cid('rosatom-head-seeks-meeting')}")
    claim = ClaimDetail.model_validate(body)
    fact = CLAIMS["rosatom-head-seeks-meeting"]
    assert claim.id == cid("rosatom-head-seeks-meeting")
    assert claim.article == SEED_ARTICLE
    assert claim.text == fact["text"]
    assert claim.kind.value == "statement"
    assert body["claimant"] == {
        "id": "kursiv-media",
        "name": "Kursiv.media",
        "kind": "media_outlet",
    }
    assert body["same_as"] is None
    assert body["quantities"] == []
    assert body["provenance"] == PERSON
    assert claim.attribution is not None
    assert claim.attribution.model_dump() == {
        "start": 284,
        "end": 351,
        "exact": "A formal request for the meeting was shared on the Telegram channel",
    }
    assert TEXT[284:351] == claim.attribution.exact
    assert [(s.id, s.name) for s in claim.subjects] == [
        ("alexey-likhachev", "Alexey Likhachev"),
        ("rosatom", "Rosatom"),
        ("kassym-jomart-tokayev", "Kassym-Jomart Tokayev"),
        ("olzhas-bektenov", "Olzhas Bektenov"),
    ]
    assert claim.events == [cid("likhachev-seeks-meeting"), cid("embassy-letter")]
    assert claim.hedge is not None and claim.hedge.exact == HEDGE
    assert [(a.start, a.end) for a in claim.anchors] == [(0, 104), (105, 282)]

    assert [e.stance.value for e in claim.evidence] == [e["stance"] for e in fact["evidence"]]
    assert [e.stance.value for e in claim.evidence] == [
        "no_answer",
        "no_answer",
        "inconclusive",
        "inconclusive",
        "inconclusive",
        "no_answer",
        "no_answer",
    ]
    mfa = claim.evidence[0]
    assert mfa.source == "Ministry of Foreign Affairs of Kazakhstan (via Kursiv.media)"
    assert mfa.source_entity is not None
    assert mfa.source_entity.id == "kazakhstan-ministry-of-foreign-affairs"
    assert mfa.anchor is not None and mfa.anchor.exact == HEDGE
    assert mfa.date == dt.date(2024, 10, 17)
    orda = claim.evidence[2]
    assert (orda.source, orda.source_entity, orda.anchor) == ("Orda.kz", None, None)
    assert (
        orda.url
        == "https://orda.kz/posle-referenduma-po-ajes-glava-rosatoma-poprosil-tokaeva-o-vstreche-393200"
    )

    assert len(claim.history) == 1
    assert claim.history[0].status.value == "pending"
    assert claim.history[0].rationale == fact["rationale"]
    assert claim.history[0].recorded_at.utcoffset() == dt.timedelta(0)


def test_refuted_claim(client: TestClient) -> None:
    claim = ClaimDetail.model_validate(
        get_json(client, f"/claims/{cid('rosatom-head-named-alexander')}")
    )
    assert claim.status.value == "refuted"
    assert claim.text == "The head of Rosatom is named Alexander Likhachev."
    assert claim.claimant.id == "kursiv-media"
    assert (claim.attribution, claim.hedge, claim.events) == (None, None, [])
    assert [(a.start, a.end, a.exact) for a in claim.anchors] == [(156, 175, "Alexander Likhachev")]
    assert [s.id for s in claim.subjects] == ["alexey-likhachev", "rosatom"]
    assert len(claim.evidence) == 3
    assert {e.stance.value for e in claim.evidence} == {"refutes"}
    assert claim.evidence[0].source == "Nuclear Engineering International"
    assert claim.evidence[0].date == dt.date(2016, 10, 6)
    assert [(h.status.value, h.rationale) for h in claim.history] == [
        ("refuted", CLAIMS["rosatom-head-named-alexander"]["rationale"])
    ]


def test_every_detail_matches_the_fact_file(client: TestClient) -> None:
    for key, fact in CLAIMS.items():
        claim = ClaimDetail.model_validate(get_json(client, f"/claims/{cid(key)}"))
        assert claim.status.value == fact["status"], key
        assert claim.claimant.id == fact["claimant"], key
        assert [s.id for s in claim.subjects] == fact["subjects"], key
        assert claim.events == [cid(e) for e in fact.get("events", [])], key
        assert (claim.attribution.exact if claim.attribution else None) == fact.get("attribution")
        assert (claim.hedge.exact if claim.hedge else None) == fact.get("hedge")
        assert [a.exact for a in claim.anchors] == fact["anchors"], key
        anchored = [a for a in (claim.attribution, claim.hedge, *claim.anchors) if a is not None]
        anchored += [e.anchor for e in claim.evidence if e.anchor is not None]
        for a in anchored:
            assert TEXT[a.start : a.end] == a.exact, key
        assert [(e.source, e.stance.value) for e in claim.evidence] == [
            (e["source"], e["stance"]) for e in fact["evidence"]
        ], key
        assert [h.status.value for h in claim.history] == [fact["status"]], key


def test_reingest_appends_to_the_history_and_keeps_the_id(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    key = cid("rosatom-head-seeks-meeting")
    before = ClaimDetail.model_validate(get_json(client, f"/claims/{key}"))
    changed = tmp_path / "changed"
    shutil.copytree(DATA, changed)
    path = changed / SEED_FILE.name
    doc = json.loads(path.read_text("utf-8"))
    claim = next(c for c in doc["claims"] if c["id"] == "rosatom-head-seeks-meeting")
    claim["status"] = "confirmed"
    claim["rationale"] = "The embassy confirmed the letter."
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")

    result = ingest(changed)
    assert result.get("claims", "updated") == 1

    after = ClaimDetail.model_validate(get_json(client, f"/claims/{key}"))
    assert after.id == key
    assert after.status.value == "confirmed"
    assert after.rationale == "The embassy confirmed the letter."
    assert [(h.status.value, h.rationale) for h in after.history] == [
        ("pending", CLAIMS["rosatom-head-seeks-meeting"]["rationale"]),
        ("confirmed", "The embassy confirmed the letter."),
    ]
    assert after.history[0] == before.history[0]
    assert after.history[0].recorded_at <= after.history[1].recorded_at
    # The claim keeps its place in the list, and the list now shows it as confirmed.
    assert ids(get_json(client, "/claims"))[0] == key
    assert key not in ids(get_json(client, "/claims?status=pending"))
    assert key in ids(get_json(client, "/claims?status=confirmed"))

    # Going back is a change too: history is appended to, never rewritten.
    ingest(DATA)
    again = ClaimDetail.model_validate(get_json(client, f"/claims/{key}"))
    assert [h.status.value for h in again.history] == ["pending", "confirmed", "pending"]
    assert again.history[:2] == after.history


def test_a_renamed_entity_shows_in_every_claim_that_names_it(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    key = cid("rosatom-head-seeks-meeting")
    before = ClaimDetail.model_validate(get_json(client, f"/claims/{key}"))
    page = get_json(client, "/claims?limit=500")  # every claim, and the entities they name
    named = {before.claimant.id, *(s.id for s in before.subjects)}
    changed = tmp_path / "changed"
    shutil.copytree(DATA, changed)
    path = changed / SEED_FILE.name
    doc = json.loads(path.read_text("utf-8"))
    for entity in doc["entities"]:
        if entity["id"] in named:
            entity["name"] += " (renamed)"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    ingest(changed, update_entities=True)

    after = ClaimDetail.model_validate(get_json(client, f"/claims/{key}"))
    assert after.claimant.name == before.claimant.name + " (renamed)"
    assert [s.name for s in after.subjects] == [s.name + " (renamed)" for s in before.subjects]
    for item in get_json(client, "/claims?limit=500")["items"]:
        for ref in [item["claimant"], *item["subjects"]]:
            assert ref["name"].endswith(" (renamed)") == (ref["id"] in named), ref
    assert len(page["items"]) == len(get_json(client, "/claims?limit=500")["items"])


def test_unknown_claim_is_404(client: TestClient) -> None:
    for key in ("no-such-claim", "rosatom-head-seeks-meeting"):
        response = client.get(f"/claims/{key}")
        assert response.status_code == 404, key
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": f"no claim with id {key!r}",
            "instance": f"/claims/{key}",
        }


# --- pagination contract -----------------------------------------------------


def test_limit_bounds(client: TestClient) -> None:
    for limit in ("0", "501", "-1"):
        response = client.get("/claims", params={"limit": limit})
        assert response.status_code == 422, limit
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["errors"][0]["loc"] == ["query", "limit"]
    for limit, size in (("1", 1), ("500", 12), ("12", 12), ("11", 11)):
        body = get_json(client, "/claims", {"limit": limit})
        assert body["limit"] == int(limit)
        assert len(body["items"]) == size
        assert (body["next"] is None) == (size == 12), limit


def follow(client: TestClient, url: str) -> tuple[list[str], int]:
    """Follow `next` (checking the Link header) to the end; the ids seen and the page count."""
    seen: list[str] = []
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        page = Page[ClaimOut].model_validate(response.json())
        seen += [c.id for c in page.items]
        pages += 1
        next_url = page.next
        if next_url is None:
            assert page.next_cursor is None
            assert "link" not in response.headers
        else:
            assert page.next_cursor is not None
            assert response.headers["link"] == f'<{next_url}>; rel="next"'
            assert parse_qs(urlsplit(next_url).query)["cursor"] == [page.next_cursor]
        assert pages <= 100
    return seen, pages


def test_following_next_visits_every_claim_once_in_order(client: TestClient) -> None:
    everything = ids(get_json(client, "/claims?limit=500"))
    seen, pages = follow(client, "/claims?limit=1")
    assert seen == everything
    assert len(set(seen)) == len(seen) == 12
    assert pages == 12
    seen, pages = follow(client, "/claims?limit=5")
    assert (seen, pages) == (everything, 3)
    # The order is stable: asking again gives the same pages.
    assert follow(client, "/claims?limit=1")[0] == everything


def test_next_keeps_the_filters(client: TestClient) -> None:
    first = get_json(client, "/claims?status=pending&limit=1")
    assert first["next"] is not None
    query = parse_qs(urlsplit(first["next"]).query)
    assert query["status"] == ["pending"]
    assert query["limit"] == ["1"]
    seen, pages = follow(client, "/claims?status=pending&limit=1")
    assert seen == [cid(k) for k in MEETING_REQUEST]
    assert pages == 4
    # A repeated filter is carried whole.
    first = get_json(client, "/claims?status=pending&status=refuted&limit=2")
    assert parse_qs(urlsplit(first["next"]).query)["status"] == ["pending", "refuted"]
    seen, _ = follow(client, "/claims?status=pending&status=refuted&limit=2")
    assert seen == [cid(k) for k in MEETING_REQUEST] + [cid("rosatom-head-named-alexander")]


def test_cursor_parameter_gives_the_same_page_as_next(client: TestClient) -> None:
    first = get_json(client, "/claims?status=confirmed&limit=3")
    by_next = get_json(client, first["next"])
    by_cursor = get_json(
        client, "/claims", {"status": "confirmed", "limit": "3", "cursor": first["next_cursor"]}
    )
    assert by_cursor["items"] == by_next["items"]
    assert ids(by_next) == seed_ids(lambda c: c["status"] == "confirmed")[3:6]


# --- the status vocabulary ---------------------------------------------------


def test_verification_statuses(client: TestClient) -> None:
    body = get_json(client, "/verification-statuses")
    statuses = [StatusInfo.model_validate(s) for s in body]
    assert [s.status.value for s in statuses] == [
        "confirmed",
        "unverified",
        "pending",
        "disputed",
        "refuted",
        "not_checkable",
    ]
    all_statuses = ("confirmed", "unverified", "pending", "disputed", "refuted", "not_checkable")
    claims = Counter(c["status"] for c in FACTS["claims"])
    events = Counter(e["status"] for e in FACTS["events"])
    assert {s.status.value: s.claims for s in statuses} == {k: claims[k] for k in all_statuses}
    assert {s.status.value: s.events for s in statuses} == {k: events[k] for k in all_statuses}
    assert [s.claims for s in statuses] == [7, 0, 4, 0, 1, 0]
    assert [(s.claimreview_rating, s.fever_label) for s in statuses] == [
        ("True", "SUPPORTS"),
        ("Unverified", "NOT ENOUGH INFO"),
        ("Pending", "NOT ENOUGH INFO"),
        ("Disputed", "NOT ENOUGH INFO"),
        ("False", "REFUTES"),
        (None, None),
    ]
    by_status = {s.status.value: s for s in statuses}
    assert by_status["pending"].definition == (
        "Confirmation has been asked of a named party and no answer is recorded yet."
    )
    assert by_status["refuted"].definition == "Contradicted by authoritative evidence."
    assert all(s.label and s.definition for s in statuses)


def test_verification_statuses_on_an_empty_database(empty_client: TestClient) -> None:
    body = get_json(empty_client, "/verification-statuses")
    assert [(s["status"], s["claims"], s["events"]) for s in body] == [
        ("confirmed", 0, 0),
        ("unverified", 0, 0),
        ("pending", 0, 0),
        ("disputed", 0, 0),
        ("refuted", 0, 0),
        ("not_checkable", 0, 0),
    ]
