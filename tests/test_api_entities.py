"""GET /entities, /entities/{id} and each entity's mentions, claims and events."""

import re
from typing import Any

from fastapi.testclient import TestClient

from app.errors import PROBLEM_JSON
from app.schemas import ClaimOut, EntityDetail, EntitySummary, EventOut, Mention, Page
from tests.conftest import SEED_ARTICLE
from tests.seed import FACTS, TEXT, get_json, local, resolve

ENTITIES: dict[str, dict[str, Any]] = {e["id"]: e for e in FACTS["entities"]}


def matches(entity: dict[str, Any], q: str) -> bool:
    """Whether every word of ``q`` (a trailing * makes it a prefix) is a word of one name."""
    names = [entity["name"], *(a["name"] for a in entity.get("aliases", []))]
    wanted = [(w.lower().rstrip("*"), w.endswith("*")) for w in q.split()]
    for name in names:
        words = re.findall(r"[^\W_]+", name.lower())
        if all(any(x.startswith(w) if p else x == w for x in words) for w, p in wanted):
            return True
    return False


def claims_of(entity: str, role: str) -> list[str]:
    def keep(c: dict[str, Any]) -> bool:
        as_claimant = bool(c["claimant"] == entity)
        as_subject = bool(entity in c["subjects"])
        return {"claimant": as_claimant, "subject": as_subject}.get(role, as_claimant or as_subject)

    return [c["id"] for c in FACTS["claims"] if keep(c)]


def events_of(entity: str) -> list[str]:
    return [
        e["id"]
        for e in FACTS["events"]
        if e.get("location") == entity or any(p["entity"] == entity for p in e["participants"])
    ]


# --- list --------------------------------------------------------------------


def test_list_in_first_ingested_order(client: TestClient) -> None:
    body = get_json(client, "/entities")
    page = Page[EntitySummary].model_validate(body)
    assert [e.id for e in page.items] == list(ENTITIES)
    assert (page.limit, page.next) == (50, None)
    rosatom = body["items"][0]
    assert rosatom == {
        "id": "rosatom",
        "name": "Rosatom",
        "kind": "organization",
        "description": ENTITIES["rosatom"]["description"],
        "aliases": [
            {"name": "State Atomic Energy Corporation Rosatom", "language": "en"},
            {"name": "Росатом", "language": "ru"},
            {"name": "Госкорпорация «Росатом»", "language": "ru"},
        ],
        "external_ids": {},
        "provenance": {
            "extractor": "person",
            "extractor_version": None,
            "model": None,
            "model_version": None,
            "reviewed": True,
        },
    }
    kazakhstan = next(e for e in page.items if e.id == "kazakhstan")
    assert kazakhstan.external_ids == {"wikidata": "Q232"}
    assert "mentions" not in rosatom


def test_kind_filter_is_repeatable(client: TestClient) -> None:
    cases = [["person"], ["person", "country"], ["government_body"], ["media_outlet", "channel"]]
    for kinds in cases:
        page = Page[EntitySummary].model_validate(get_json(client, "/entities", {"kind": kinds}))
        expected = [k for k, e in ENTITIES.items() if e["kind"] in kinds]
        assert [e.id for e in page.items] == expected, kinds
    both = get_json(client, "/entities?kind=person&kind=country")
    assert [e["id"] for e in both["items"]] == [
        "alexey-likhachev",
        "kassym-jomart-tokayev",
        "olzhas-bektenov",
        "oleg-chervinsky",
        "russia",
        "kazakhstan",
    ]
    assert get_json(client, "/entities", {"kind": "city"})["items"] == []


def test_q_matches_names_and_aliases(client: TestClient) -> None:
    for q in ("Лихачёв", "rosat*", "ROSATOM", "MFA of", "kursiv*", "Қазақстан", "embassy"):
        page = Page[EntitySummary].model_validate(get_json(client, "/entities", {"q": q}))
        expected = [k for k, e in ENTITIES.items() if matches(e, q)]
        assert expected, q
        assert [e.id for e in page.items] == expected, q
    assert [e["id"] for e in get_json(client, "/entities?q=Лихачёв")["items"]] == [
        "alexey-likhachev"
    ]
    assert get_json(client, "/entities?q=rosat")["items"] == []  # words, not substrings
    rosat = [e["id"] for e in get_json(client, "/entities?q=rosat*")["items"]]
    assert rosat[0] == "rosatom"
    assert "russian-embassy-letter-2024-10-11-rosatom-meeting" in rosat
    assert [e["id"] for e in get_json(client, "/entities?q=MFA of")["items"]] == [
        "kazakhstan-ministry-of-foreign-affairs"
    ]
    # Punctuation separates words: "Ros_tom" is the phrase "ros tom"; "%" has no word at all.
    assert get_json(client, "/entities?q=Ros_tom")["items"] == []
    assert client.get("/entities?q=%25").status_code == 422


def test_q_is_case_insensitive_beyond_ascii(client: TestClient) -> None:
    """`q` is documented as case-insensitive: 'росатом' finds the alias 'Росатом'."""
    for q, expected in [
        ("росатом", ["rosatom"]),
        ("лихачёв", ["alexey-likhachev"]),
        ("ОЛЖАС", ["olzhas-bektenov"]),
    ]:
        body = get_json(client, "/entities", {"q": q})
        assert [e["id"] for e in body["items"]] == expected, q


def test_list_combines_kind_q_and_article(client: TestClient) -> None:
    body = get_json(
        client, "/entities", {"kind": "government_body", "q": "ministry", "article": SEED_ARTICLE}
    )
    assert [e["id"] for e in body["items"]] == [
        "kazakhstan-ministry-of-foreign-affairs",
        "kazakhstan-ministry-of-national-economy",
    ]
    assert get_json(client, "/entities", {"article": "no-such-article"})["items"] == []


# --- detail ------------------------------------------------------------------


def test_rosatom_shows_its_head(client: TestClient) -> None:
    body = get_json(client, "/entities/rosatom")
    entity = EntityDetail.model_validate(body)
    assert (entity.id, entity.name, entity.kind.value) == ("rosatom", "Rosatom", "organization")
    head = [
        r for r in entity.relations if r.predicate.value == "head_of" and r.object.id == "rosatom"
    ]
    assert len(head) == 1
    assert head[0].subject.model_dump() == {
        "id": "alexey-likhachev",
        "name": "Alexey Likhachev",
        "kind": "person",
    }
    assert head[0].article == SEED_ARTICLE
    assert [(a.start, a.end, a.exact) for a in head[0].anchors] == [
        (0, 15, "Head of Rosatom"),
        (109, 175, "head of the Russian state corporation Rosatom, Alexander Likhachev"),
        (698, 718, "president of Rosatom"),
    ]
    expected = [
        (r["subject"], r["predicate"], r["object"])
        for r in FACTS["relations"]
        if "rosatom" in (r["subject"], r["object"])
    ]
    assert [(r.subject.id, r.predicate.value, r.object.id) for r in entity.relations] == expected
    assert expected == [
        ("alexey-likhachev", "head_of", "rosatom"),
        ("rosatom", "owned_by", "russia"),
    ]
    for relation in entity.relations:
        for a in relation.anchors:
            assert TEXT[a.start : a.end] == a.exact
    assert entity.mention_count == 3
    assert [(m.article, m.start, m.end, m.exact) for m in entity.mentions] == [
        (SEED_ARTICLE, 8, 15, "Rosatom"),
        (SEED_ARTICLE, 147, 154, "Rosatom"),
        (SEED_ARTICLE, 711, 718, "Rosatom"),
    ]
    assert entity.claim_count == len(claims_of("rosatom", "any")) == 2
    assert entity.event_count == len(events_of("rosatom")) == 1


def test_likhachev_keeps_the_articles_surface_form(client: TestClient) -> None:
    entity = EntityDetail.model_validate(get_json(client, "/entities/alexey-likhachev"))
    assert entity.name == "Alexey Likhachev"
    assert [a.name for a in entity.aliases] == [
        "Alexei Likhachev",
        "Алексей Лихачёв",
        "Алексей Лихачев",
    ]
    surface = [m for m in entity.mentions if m.exact == "Alexander Likhachev"]
    assert [(m.article, m.start, m.end) for m in surface] == [(SEED_ARTICLE, 156, 175)]
    assert TEXT[156:175] == "Alexander Likhachev"
    assert entity.mention_count == 3
    assert [r.predicate.value for r in entity.relations] == ["head_of"]
    assert entity.claim_count == len(claims_of("alexey-likhachev", "any"))
    assert entity.event_count == len(events_of("alexey-likhachev"))


def test_every_entity_detail_matches_the_fact_file(client: TestClient) -> None:
    for key, fact in ENTITIES.items():
        entity = EntityDetail.model_validate(get_json(client, f"/entities/{key}"))
        assert entity.name == fact["name"]
        assert entity.description == fact.get("description")
        assert [a.model_dump() for a in entity.aliases] == fact.get("aliases", [])
        assert entity.external_ids == fact.get("external_ids", {})
        assert entity.mention_count == len(fact["mentions"])
        assert [(m.start, m.end, m.exact) for m in entity.mentions] == [
            resolve(q) for q in fact["mentions"]
        ], key
        assert entity.claim_count == len(claims_of(key, "any")), key
        assert entity.event_count == len(events_of(key)), key
        expected = [
            (r["subject"], r["predicate"], r["object"])
            for r in FACTS["relations"]
            if key in (r["subject"], r["object"])
        ]
        assert [(r.subject.id, r.predicate.value, r.object.id) for r in entity.relations] == (
            expected
        ), key


# --- mentions ----------------------------------------------------------------


def test_mentions_paginate_one_at_a_time_to_the_end(client: TestClient) -> None:
    for key in ("kazakhstan", "kazakhstan-first-nuclear-power-plant", "rosatom", "telegram"):
        detail = EntityDetail.model_validate(get_json(client, f"/entities/{key}"))
        seen: list[Mention] = []
        cursor: str | None = None
        pages = 0
        while True:
            params = {"limit": "1"} if cursor is None else {"limit": "1", "cursor": cursor}
            page = Page[Mention].model_validate(
                get_json(client, f"/entities/{key}/mentions", params)
            )
            assert len(page.items) == 1
            seen += page.items
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                assert page.next is None
                break
            assert pages <= detail.mention_count
        assert len(seen) == detail.mention_count == len(ENTITIES[key]["mentions"]), key
        spans = [(m.article, m.start, m.end) for m in seen]
        assert len(set(spans)) == len(spans), key
        assert seen == detail.mentions
        for m in seen:
            assert m.article == SEED_ARTICLE
            assert TEXT[m.start : m.end] == m.exact
    kazakhstan = Page[Mention].model_validate(get_json(client, "/entities/kazakhstan/mentions"))
    assert [m.start for m in kazakhstan.items] == [203, 464, 521, 620, 889, 977, 1296, 1608, 1971]
    assert [m.exact for m in kazakhstan.items].count("Kazakhstani side") == 1


# --- claims and events of an entity -----------------------------------------


def test_claims_by_role(client: TestClient) -> None:
    for key in ("kursiv-media", "russian-embassy-in-kazakhstan", "rosatom", "kazakhstan"):
        for role in ("claimant", "subject", "any"):
            page = Page[ClaimOut].model_validate(
                get_json(client, f"/entities/{key}/claims", {"role": role})
            )
            assert [local(c.id) for c in page.items] == claims_of(key, role), (key, role)
        default = get_json(client, f"/entities/{key}/claims")
        assert [local(c["id"]) for c in default["items"]] == claims_of(key, "any"), key

    as_claimant = get_json(client, "/entities/kursiv-media/claims?role=claimant")
    assert [local(c["id"]) for c in as_claimant["items"]] == [
        "rosatom-head-seeks-meeting",
        "letter-shared-on-telegram",
        "kursiv-requested-confirmation",
        "referendum-held-on-oct-6",
        "rosatom-head-named-alexander",
    ]
    assert {c["claimant"]["id"] for c in as_claimant["items"]} == {"kursiv-media"}
    assert get_json(client, "/entities/rosatom/claims?role=claimant")["items"] == []


def test_embassy_claims_are_pending(client: TestClient) -> None:
    body = get_json(client, "/entities/russian-embassy-in-kazakhstan/claims?status=pending")
    page = Page[ClaimOut].model_validate(body)
    assert [local(c.id) for c in page.items] == [
        "embassy-asked-mfa-to-facilitate-meeting",
        "russian-side-asks-for-a-date",
        "russian-side-suggested-dates",
    ]
    assert {c.status.value for c in page.items} == {"pending"}
    assert {c.claimant.id for c in page.items} == {"russian-embassy-in-kazakhstan"}
    assert all(
        c.hedge is not None
        and c.hedge.exact == "no response had been received at the time of publication"
        for c in page.items
    )
    # As a subject, the embassy also appears in Kursiv's confirmed report of its own request.
    confirmed = get_json(client, "/entities/russian-embassy-in-kazakhstan/claims?status=confirmed")
    assert [local(c["id"]) for c in confirmed["items"]] == ["kursiv-requested-confirmation"]
    assert confirmed["items"][0]["claimant"]["id"] == "kursiv-media"


def test_events_of_an_entity(client: TestClient) -> None:
    for key in ("rosatom", "kazakhstan", "almaty-region", "olzhas-bektenov", "telegram"):
        page = Page[EventOut].model_validate(get_json(client, f"/entities/{key}/events"))
        assert [local(e.id) for e in page.items] == events_of(key), key
    rosatom = get_json(client, "/entities/rosatom/events")
    assert [local(e["id"]) for e in rosatom["items"]] == ["likhachev-seeks-meeting"]
    roles = [
        p["role"] for p in rosatom["items"][0]["participants"] if p["entity"]["id"] == "rosatom"
    ]
    assert roles == ["requesting_organization"]
    # The location counts: Almaty Region is where the plant is built, not a participant.
    almaty = get_json(client, "/entities/almaty-region/events")
    assert [local(e["id"]) for e in almaty["items"]] == ["npp-construction"]
    assert almaty["items"][0]["location"]["id"] == "almaty-region"
    proposed = get_json(client, "/entities/olzhas-bektenov/events?modality=proposed")
    assert [local(e["id"]) for e in proposed["items"]] == [
        "proposed-meeting-2024-10-28",
        "proposed-meeting-2024-11-14",
    ]


# --- not found ---------------------------------------------------------------


def test_unknown_entity_is_404_on_every_route(client: TestClient) -> None:
    for suffix in ("", "/mentions", "/claims", "/events"):
        response = client.get(f"/entities/no-such-entity{suffix}")
        assert response.status_code == 404, suffix
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "no entity with id 'no-such-entity'",
            "instance": f"/entities/no-such-entity{suffix}",
        }


def _walk(client: TestClient, url: str, limit: int) -> list[str]:
    ids: list[str] = []
    body = get_json(client, f"{url}{'&' if '?' in url else '?'}limit={limit}")
    while True:
        ids += [c["id"] for c in body["items"]]
        if body["next"] is None:
            return ids
        body = get_json(client, body["next"])


def test_an_entitys_claims_page_the_same_in_every_role_and_page_size(client: TestClient) -> None:
    """Each role walks its own index; merged, the pages are those of the plain filter."""
    for entity in ("russian-embassy-in-kazakhstan", "rosatom", "kassym-jomart-tokayev"):
        claims = FACTS["claims"]
        expected = {
            "claimant": [c for c in claims if c["claimant"] == entity],
            "subject": [c for c in claims if entity in c.get("subjects", [])],
            "any": [
                c for c in claims if c["claimant"] == entity or entity in c.get("subjects", [])
            ],
        }
        assert expected["any"], entity
        for role, wanted in expected.items():
            wanted_ids = [f"{SEED_ARTICLE}.{c['id']}" for c in wanted]
            for limit in (1, 2, 3, 50):
                url = f"/entities/{entity}/claims?role={role}"
                assert _walk(client, url, limit) == wanted_ids, (entity, role, limit)
            pending = [f"{SEED_ARTICLE}.{c['id']}" for c in wanted if c["status"] == "pending"]
            url = f"/entities/{entity}/claims?role={role}&status=pending&count=exact"
            assert _walk(client, url, 1) == pending, (entity, role)
            assert get_json(client, url)["total"] == len(pending)
            url = f"/claims?entity={entity}&role={role}&kind__not=request"
            kept = [f"{SEED_ARTICLE}.{c['id']}" for c in wanted if c["kind"] != "request"]
            assert _walk(client, url, 2) == kept, (entity, role)
