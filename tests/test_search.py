"""Full-text search: /search and the `q` filter of every list, on SQLite and PostgreSQL."""

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app import fts, search
from app.api.search import EXAMPLE_FILE, EXAMPLE_REQUEST, SearchHit
from app.db import create_db_engine
from app.main import create_app
from app.schemas import Page
from app.settings import Settings
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc
from tests.seed import TEXT, get_json
from tests.test_openapi import _normalise

WORD = re.compile(r"[^\W_]+")


def hits(client: TestClient, q: str, **params: Any) -> list[dict[str, Any]]:
    body = get_json(client, "/search", {"q": q, "limit": 500, **params})
    Page[SearchHit].model_validate(body)
    assert body["next"] is None
    items: list[dict[str, Any]] = body["items"]
    return items


def ids(items: list[dict[str, Any]], kind: str | None = None) -> list[str]:
    return [h["id"] for h in items if kind is None or h["type"] == kind]


def cid(local: str) -> str:
    return f"{SEED_ARTICLE}.{local}"


# --- the grammar -------------------------------------------------------------


def test_queries_become_safe_fts5_and_tsquery_expressions() -> None:
    query = fts.parse('Rosatom  "Kazakhstan’s president" likh* OR 71.12% ТОКАЕВ')
    assert query.fts5() == (
        '("rosatom" AND "kazakhstan s president" AND "likh" *) OR ("71 12" AND "токаев")'
    )
    assert query.tsquery() == (
        "(('rosatom') & ('kazakhstan' <-> 's' <-> 'president') & ('likh':*))"
        " | (('71' <-> '12') & ('токаев'))"
    )
    # Lower-case "or" is a word; punctuation alone is no word.
    assert fts.parse("war or peace - ").fts5() == '("war" AND "or" AND "peace")'


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ('"abc', "unbalanced quote: the phrase opened at character 1 is never closed"),
        ('abc "def" "', "unbalanced quote: the phrase opened at character 11"),
        ("%", "no words to search for"),
        ('"" *', "no words to search for"),
        ("OR", "OR must stand between two words or phrases"),
        ("rosatom OR", "OR must stand between two words or phrases"),
        ("OR rosatom", "OR must stand between two words or phrases"),
        ("a OR OR b", "OR must stand between two words or phrases"),
        (" ".join(["w"] * 33), "too many words or phrases: at most 32"),
    ],
)
def test_malformed_queries_are_422_problems(client: TestClient, q: str, message: str) -> None:
    for url in ("/search", "/claims", "/entities", "/events", "/articles"):
        response = client.get(url, params={"q": q})
        assert response.status_code == 422, (url, q, response.text)
        body = response.json()
        assert message in body["detail"], body["detail"]
        assert body["errors"][0]["loc"] == ["query", "q"]


def test_search_needs_a_query_and_known_types(client: TestClient) -> None:
    assert "query parameter 'q': Field required" in client.get("/search").json()["detail"]
    assert client.get("/search", params={"q": ""}).status_code == 422
    assert client.get("/search", params={"q": "x" * 201}).status_code == 422
    body = client.get("/search", params={"q": "rosatom", "type": "person"}).json()
    assert body["status"] == 422 and body["errors"][0]["loc"] == ["query", "type", 0]


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(q=st.text(max_size=60))
def test_no_query_answers_500(client: TestClient, q: str) -> None:
    for url in ("/search", "/claims"):
        response = client.get(url, params={"q": q})
        assert response.status_code in (200, 422), (url, q, response.text)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(q=st.lists(st.sampled_from(['"', "*", "OR", " ", "Rosatom", "Токаев", "%", "-"])))
def test_no_query_of_operators_answers_500(client: TestClient, q: list[str]) -> None:
    response = client.get("/search", params={"q": "".join(q)})
    assert response.status_code in (200, 422), (q, response.text)


# --- /search -----------------------------------------------------------------


def test_the_documented_example_is_a_real_response(client: TestClient, backend: str) -> None:
    live = _normalise(get_json(client, EXAMPLE_REQUEST))
    if backend == "sqlite" and os.environ.get("UPDATE_EXAMPLES"):
        EXAMPLE_FILE.write_text(json.dumps(live, ensure_ascii=False, indent=2) + "\n", "utf-8")
    committed = json.loads(EXAMPLE_FILE.read_text("utf-8"))
    spec = client.get("/openapi.json").json()
    ok = spec["paths"]["/search"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["example"]["items"][0]["id"] == committed["items"][0]["id"]
    if backend == "sqlite":
        assert live == committed, "search_example.json is stale: rerun with UPDATE_EXAMPLES=1"
    else:  # ts_rank scores and so orders otherwise: the same hits are found
        every = get_json(client, EXAMPLE_REQUEST.replace("limit=2", "limit=500"))["items"]
        unscored = [{k: v for k, v in h.items() if k != "score"} for h in every]
        for hit in committed["items"]:
            assert {k: v for k, v in hit.items() if k != "score"} in unscored


def test_hits_are_typed_and_ranked_best_first(client: TestClient) -> None:
    items = hits(client, "Rosatom")
    assert {h["type"] for h in items} == {"article", "entity", "event", "claim"}
    scores = [h["score"] for h in items]
    assert scores == sorted(scores, reverse=True)
    assert ids(items, "article") == [SEED_ARTICLE]
    assert ids(items, "entity")[0] == "rosatom"
    assert "russian-embassy-letter-2024-10-11-rosatom-meeting" in ids(items, "entity")
    claim = next(h for h in items if h["id"] == cid("rosatom-head-named-alexander"))
    assert claim["label"] == "The head of Rosatom is named Alexander Likhachev."
    assert claim["article"] == SEED_ARTICLE
    entity = next(h for h in items if h["id"] == "rosatom")
    assert entity["article"] is None and entity["label"] == "Rosatom"


def test_type_filters_and_repeats(client: TestClient) -> None:
    items = hits(client, "Rosatom", type=["claim", "event"])
    assert items and {h["type"] for h in items} == {"claim", "event"}
    assert ids(hits(client, "Rosatom", type="entity"))[0] == "rosatom"


def test_more_occurrences_rank_higher(ingest: Ingest, tmp_path: Path, settings: Settings) -> None:
    texts = {
        "often": "Zebra crossing. A zebra, and a zebra again: zebras love a zebra crossing.",
        "once": "A zebra crossing was painted on the road near the school last year.",
        "none-1": "The road near the school was repaired last year by the city council.",
        "none-2": "Council members met to discuss the school budget and the new library.",
        "none-3": "The library opened a new reading room for children and their parents.",
    }
    for key, body in texts.items():
        doc = minimal_doc(
            entities=[], relations=[], events=[], claims=[], article={"id": key, "text": body}
        )
        ingest(write_doc(tmp_path / f"{key}.json", doc))
    with TestClient(create_app(settings)) as client:
        items = hits(client, "zebra")
        assert ids(items) == ["often", "once"]
        assert items[0]["score"] > items[1]["score"] > 0
        assert ids(hits(client, "zebra*")) == ["often", "once"]  # "zebras" too
        assert set(ids(hits(client, "zebra OR library"))) == {"often", "once", "none-2", "none-3"}
        assert ids(hits(client, "zebra library")) == []


def _assert_matches_point_at(items: list[dict[str, Any]], check: Any) -> int:
    seen = 0
    for hit in items:
        for m in hit["matches"]:
            assert m["article"] == SEED_ARTICLE
            exact = TEXT[m["start"] : m["end"]]
            assert exact == m["exact"]
            assert check(exact.lower()), (hit["id"], exact)
            seen += 1
    return seen


def test_offsets_point_at_the_matched_words(client: TestClient) -> None:
    for word in ("rosatom", "kazakhstan", "tokayev", "meeting", "71"):
        items = hits(client, word)
        assert _assert_matches_point_at(items, lambda x, w=word: x == w) > 0, word
    for prefix in ("likh", "kazakh", "meet"):
        items = hits(client, f"{prefix}*")
        assert _assert_matches_point_at(items, lambda x, p=prefix: x.startswith(p)) > 0, prefix
    article = hits(client, "Tokayev", type="article")[0]
    expected = [m.start() for m in re.finditer(r"\bTokayev\b", TEXT)]
    assert [m["start"] for m in article["matches"]] == expected
    assert "Tokayev" in article["snippet"]


def test_matches_stay_within_the_hits_own_words(client: TestClient) -> None:
    """A claim's matches are inside its anchors, an entity's inside its mentions."""
    claim = hits(client, "Alexander", type="claim")
    assert ids(claim) == [cid("rosatom-head-named-alexander")]
    assert claim[0]["matches"] == [
        {"article": SEED_ARTICLE, "start": 156, "end": 165, "exact": "Alexander"}
    ]
    # The claim text says Rosatom; its anchor ("Alexander Likhachev") does not.
    rosatom = next(h for h in hits(client, "Rosatom") if h["id"] == claim[0]["id"])
    assert rosatom["matches"] == []
    entity = hits(client, "Likhachev", type="entity")
    assert ids(entity) == ["alexey-likhachev"]
    assert [m["exact"] for m in entity[0]["matches"]] == ["Likhachev"]
    assert entity[0]["matches"][0]["start"] == TEXT.index("Alexander Likhachev") + 10


def test_phrases_need_the_words_in_order(client: TestClient) -> None:
    phrase = hits(client, '"Alexander Likhachev"')
    assert cid("rosatom-head-named-alexander") in ids(phrase, "claim")
    assert _assert_matches_point_at(phrase, lambda x: x == "alexander likhachev") >= 1
    assert ids(hits(client, '"Likhachev Alexander"'), "claim") == []
    assert ids(hits(client, "Likhachev Alexander"), "claim") == [
        cid("rosatom-head-named-alexander")
    ]
    # A word with punctuation inside is the phrase of its parts.
    items = hits(client, "71.12%")
    assert ids(items, "claim") == [cid("referendum-result-71-12")]
    assert _assert_matches_point_at(items, lambda x: x == "71.12") >= 1


def test_cyrillic_matches_in_any_case(client: TestClient) -> None:
    for q in ("ТОКАЕВ", "токаев", "Токаев", "ток*", "Қасым-Жомарт", '"Қасым Жомарт"'):
        assert ids(hits(client, q, type="entity")) == ["kassym-jomart-tokayev"], q
    assert ids(hits(client, "лихачёв")) == ["alexey-likhachev"]


def test_cyrillic_article_text_offsets(ingest: Ingest, tmp_path: Path, settings: Settings) -> None:
    body = "Встреча в Москве. МОСКВА ответила: «москвичи довольны». Ёлка."
    doc = minimal_doc(
        entities=[], relations=[], events=[], claims=[], article={"id": "ru", "text": body}
    )
    ingest(write_doc(tmp_path / "ru.json", doc))
    with TestClient(create_app(settings)) as client:
        [hit] = hits(client, "москва")
        assert [body[m["start"] : m["end"]] for m in hit["matches"]] == ["МОСКВА"]
        [hit] = hits(client, "МОСКВ*")
        assert [m["exact"] for m in hit["matches"]] == ["Москве", "МОСКВА", "москвичи"]
        # Diacritics are kept, on both databases: ё is not е.
        assert ids(hits(client, "ёлка")) == ["ru"]
        assert hits(client, "елка") == []


def test_combining_marks_stay_inside_their_word(
    ingest: Ingest, tmp_path: Path, settings: Settings
) -> None:
    """Vowel signs and viramas (Devanagari) and decomposed accents are part of a word on both
    databases, and a query word finds the composed and the decomposed spelling alike."""
    decomposed = "Cafe\u0301"
    body = f"हिन्दी समाचार। Le {decomposed} de Flore et le Café de la Paix. Un cafe simple. ก็ได้"
    doc = minimal_doc(
        entities=[], relations=[], events=[], claims=[], article={"id": "marks", "text": body}
    )
    ingest(write_doc(tmp_path / "marks.json", doc))
    with TestClient(create_app(settings)) as client:
        [hit] = hits(client, "हिन्दी")
        assert [m["exact"] for m in hit["matches"]] == ["हिन्दी"]
        [hit] = hits(client, '"हिन्दी समाचार"')
        assert [m["exact"] for m in hit["matches"]] == ["हिन्दी समाचार"]
        # Part of the word is not the word: हिन is not हिन्दी.
        assert hits(client, "हिन") == []
        [hit] = hits(client, "हिन*")
        assert [m["exact"] for m in hit["matches"]] == ["हिन्दी"]
        assert ids(hits(client, "ก็ได้")) == ["marks"]
        for q in ("café", "CAFÉ", decomposed, "caf*"):
            [hit] = hits(client, q)
            exact = [m["exact"] for m in hit["matches"]]
            assert exact == ([decomposed, "Café", "cafe"] if q == "caf*" else [decomposed, "Café"])
        # Accents are significant: "cafe" is not "café" in either spelling.
        [hit] = hits(client, "cafe")
        assert [m["exact"] for m in hit["matches"]] == ["cafe"]


# Characters the quick tokenizer treats specially: marks in and past the first plane,
# underscores, capital sigma, letters whose lower case is longer, and text not in NFC.
_TRICKY = st.sampled_from(
    list(
        "aZ_ .'7\u0301\u0308\u093f\U0001d165\U0001f600\u03a3\u0130\u1e9e\u00e9\u0436\uac00\u1100\u1161"
    )
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_TRICKY, st.characters()), max_size=40).map("".join))
def test_quick_tokenizer_agrees_with_the_token_pattern(text_: str) -> None:
    reference = [m.span() for m in fts.TOKEN.finditer(text_)]
    assert fts.token_spans(text_) == reference
    assert fts.folded_words(text_, reference) == [fts.fold(text_[a:b]) for a, b in reference]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.one_of(_TRICKY, st.characters()), max_size=40).map("".join),
    st.integers(min_value=0, max_value=40),
    st.booleans(),
)
def test_word_search_agrees_with_tokenising(text_: str, pick: int, prefix: bool) -> None:
    # A word of the text itself (or part of it, as a prefix), so that most examples match.
    words = fts.tokens(text_) or ["a"]
    word = words[pick % len(words)]
    terms = [fts.Term((word[: max(1, len(word) // 2)] if prefix else word,), prefix)]
    assert search._spans(text_, terms) == search._token_spans(text_, terms)


def test_marks_scanned_at_start_up_are_all_the_marks() -> None:
    assert fts.MARKS == fts.mark_ranges()
    assert fts.tokens("हिन्दी Cafe\u0301 71.12% x_y") == ["हिन्दी", "café", "71", "12", "x", "y"]
    query = fts.parse("café*")
    assert query.fts5() == '(("café" * OR "cafe\u0301" *))'
    assert query.tsquery() == "((('café':*) | ('cafe\u0301':*)))"


def test_pages_follow_by_cursor(client: TestClient) -> None:
    whole = hits(client, "Kazakhstan")
    assert len(whole) > 3
    seen: list[str] = []
    url: str | None = "/search?q=Kazakhstan&limit=2"
    while url:
        body = get_json(client, url)
        assert len(body["items"]) <= 2
        seen += [f"{h['type']}:{h['id']}" for h in body["items"]]
        url = body["next"]
    assert seen == [f"{h['type']}:{h['id']}" for h in whole]
    first = get_json(client, "/search?q=Kazakhstan&limit=2")
    other = client.get("/search", params={"q": "Rosatom", "cursor": first["next_cursor"]})
    assert other.status_code == 422


# --- q on the lists ----------------------------------------------------------


def test_list_q_uses_words_and_keeps_list_order(client: TestClient) -> None:
    claims = get_json(client, "/claims", {"q": "Russian side"})["items"]
    assert [c["id"] for c in claims] == [
        cid("russian-side-asks-for-a-date"),
        cid("russian-side-suggested-dates"),
    ]
    paged = get_json(client, "/claims", {"q": "Russian side", "limit": 1})
    assert [c["id"] for c in paged["items"]] == [claims[0]["id"]]
    rest = get_json(client, paged["next"])
    assert [c["id"] for c in rest["items"]] == [claims[1]["id"]]
    assert get_json(client, "/claims", {"q": '"side Russian"'})["items"] == []
    events = get_json(client, "/events", {"q": "meet*"})["items"]
    assert events and all("meet" in e["summary"].lower() for e in events)
    # /articles matches the text as well as the title.
    assert [a["id"] for a in get_json(client, "/articles", {"q": "Bektenov"})["items"]] == [
        SEED_ARTICLE
    ]
    nested = get_json(client, f"/articles/{SEED_ARTICLE}/claims", {"q": "Russian side"})
    assert [c["id"] for c in nested["items"]] == [c["id"] for c in claims]


# --- the index follows the ingest ----------------------------------------------


def test_the_index_follows_re_ingest(ingest: Ingest, tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "doc.json"
    ingest(write_doc(path, minimal_doc()))
    with TestClient(create_app(settings)) as client:
        assert ids(hits(client, "talks", type="claim")) == ["test-article.talks-went-well"]
        assert ids(hits(client, "Paris", type="article")) == ["test-article"]
        doc = minimal_doc()
        doc["article"]["text"] = doc["article"]["text"].replace("Paris", "Lyon")
        doc["entities"][2] = {"id": "lyon", "name": "Lyon", "kind": "city", "mentions": ["Lyon"]}
        doc["relations"] = []
        doc["events"][0].update(
            summary="Alice met Bob in Lyon.", location="lyon", anchors=["Alice met Bob in Lyon"]
        )
        doc["claims"] = []
        ingest(write_doc(path, doc))
        assert hits(client, "talks", type="claim") == []
        assert get_json(client, "/claims", {"q": "talks"})["items"] == []
        assert hits(client, "Paris") == []
        [article] = hits(client, "Lyon", type="article")
        start = doc["article"]["text"].index("Lyon")
        assert article["matches"] == [
            {"article": "test-article", "start": start, "end": start + 4, "exact": "Lyon"}
        ]
        assert ids(hits(client, "Lyon", type="event")) == ["test-article.meeting"]
        assert ids(hits(client, "Lyon", type="entity")) == ["lyon"]


def test_postgresql_uses_the_gin_indexes(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                pytest.skip("PostgreSQL indexes")
            conn.execute(text("SET enable_seqscan = off"))
            plan = conn.execute(
                text(
                    "EXPLAIN SELECT id FROM claim WHERE search_vector @@ to_tsquery('simple', :q)"
                ),
                {"q": fts.parse("rosatom").tsquery()},
            ).scalars()
            assert "ix_claim_search_vector" in "\n".join(plan)
    finally:
        engine.dispose()


# --- both databases ------------------------------------------------------------

SAME = [
    "/search?q=Rosatom",
    "/search?q=Kazakhstan&limit=3",
    "/search?q=likh*",
    '/search?q="Alexander Likhachev"',
    "/search?q=ТОКАЕВ OR alice",
    "/search?q=71.12%25&type=claim&type=event",
    "/search?q=meet*&type=article",
    "/claims?q=Russian side",
    "/events?q=meet* OR referendum",
    "/entities?q=қазақстан",
    "/articles?q=alice",
]


def _comparable(items: list[dict[str, Any]]) -> list[Any]:
    """Hits without their scores, in a stable order: the scoring functions differ."""
    out = [{k: v for k, v in h.items() if k != "score"} for h in items]
    return sorted(out, key=lambda h: (h.get("type", ""), h["id"]))


def test_same_results_on_both_databases(clients: tuple[TestClient, TestClient]) -> None:
    on_sqlite, on_postgres = clients
    for url in SAME:
        pages = []
        for client in (on_sqlite, on_postgres):
            items: list[dict[str, Any]] = []
            next_url: str | None = url
            while next_url:
                body = get_json(client, next_url)
                items += body["items"]
                next_url = body["next"]
            pages.append(items)
        assert pages[0], url
        if url.startswith("/search"):
            assert _comparable(pages[0]) == _comparable(pages[1]), url
        else:
            assert pages[0] == pages[1], url


def test_a_search_cursor_is_refused_once_the_data_changed(
    client: TestClient, tmp_path: Path, ingest: Any
) -> None:
    first = client.get("/search", params={"q": "rosatom", "limit": 2}).json()
    assert first["next_cursor"]
    second = client.get(
        "/search", params={"q": "rosatom", "limit": 2, "cursor": first["next_cursor"]}
    )
    assert second.status_code == 200
    doc = minimal_doc()
    doc["article"]["id"] = "another-article"
    ingest(write_doc(tmp_path / "another.json", doc))
    stale = client.get(
        "/search", params={"q": "rosatom", "limit": 2, "cursor": first["next_cursor"]}
    )
    assert stale.status_code == 422
    assert stale.json()["errors"][0]["msg"] == (
        "the data changed since this cursor was issued; start again from page one"
    )
