"""GET /events and /events/{id}: filters, date windows, time with precision, participants."""

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.errors import PROBLEM_JSON
from app.schemas import EventDetail, EventOut, Page
from tests.conftest import SEED_ARTICLE, Ingest, minimal_doc, write_doc
from tests.seed import FACTS, TEXT, get_json

EVENTS: dict[str, dict[str, Any]] = {e["id"]: e for e in FACTS["events"]}
OTHER = "other-article"


def eid(local_id: str, article: str = SEED_ARTICLE) -> str:
    return f"{article}.{local_id}"


def ids(body: Any) -> list[str]:
    page = Page[EventOut].model_validate(body)
    return [e.id for e in page.items]


def seed_ids(predicate: Any) -> list[str]:
    return [eid(k) for k, e in EVENTS.items() if predicate(e)]


def span(event: dict[str, Any]) -> tuple[dt.date | None, dt.date | None] | None:
    """The days a seed event's time covers (the seed uses whole days only)."""
    time = event.get("time")
    if time is None:
        return None
    if "date" in time:
        day = dt.date.fromisoformat(time["date"])
        return day, day
    start, end = time.get("start"), time.get("end")
    return (
        dt.date.fromisoformat(start) if start else None,
        dt.date.fromisoformat(end) if end else None,
    )


def overlaps(event: dict[str, Any], date_from: dt.date | None, date_to: dt.date | None) -> bool:
    bounds = span(event)
    if bounds is None:
        return False
    start, end = bounds
    if date_from is not None and end is not None and end < date_from:
        return False
    return not (date_to is not None and start is not None and start > date_to)


# --- list and filters --------------------------------------------------------


def test_list_in_ingest_order(client: TestClient) -> None:
    body = get_json(client, "/events")
    assert ids(body) == [eid(k) for k in EVENTS]
    assert len(body["items"]) == 13
    assert (body["limit"], body["next"], body["next_cursor"]) == (50, None, None)
    first = body["items"][0]
    assert first["id"] == eid("referendum")
    assert first["article"] == SEED_ARTICLE
    assert (first["kind"], first["modality"], first["status"]) == (
        "referendum",
        "occurred",
        "confirmed",
    )
    assert first["location"] == {"id": "kazakhstan", "name": "Kazakhstan", "kind": "country"}


def _takes_part(entity: str) -> Any:
    return lambda e: (
        e.get("location") == entity or any(p["entity"] == entity for p in e["participants"])
    )


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"status": "pending"}, seed_ids(lambda e: e["status"] == "pending")),
    ({"status": ["pending", "confirmed"]}, seed_ids(lambda e: True)),
    ({"status": "disputed"}, []),
    ({"kind": "meeting"}, seed_ids(lambda e: e["kind"] == "meeting")),
    (
        {"kind": ["letter", "publication"]},
        [eid("embassy-letter"), eid("letter-published-on-telegram")],
    ),
    (
        {"modality": "requested"},
        [eid("likhachev-seeks-meeting"), eid("requested-meeting-by-end-of-november")],
    ),
    ({"modality": ["planned"]}, [eid("npp-construction"), eid("npp-project-financing")]),
    ({"entity": "olzhas-bektenov"}, seed_ids(_takes_part("olzhas-bektenov"))),
    ({"entity": "kazakhstan"}, seed_ids(_takes_part("kazakhstan"))),
    ({"entity": "no-such-entity"}, []),
    ({"article": SEED_ARTICLE}, seed_ids(lambda e: True)),
    ({"article": "no-such-article"}, []),
    ({"q": "Referendum"}, seed_ids(lambda e: "referendum" in e["summary"].lower())),
    ({"q": "no such words"}, []),
    (
        {"status": "pending", "kind": "meeting", "modality": "proposed"},
        [eid("proposed-meeting-2024-10-28"), eid("proposed-meeting-2024-11-14")],
    ),
]


def test_filters(client: TestClient) -> None:
    for params, expected in FILTERS:
        assert ids(get_json(client, "/events", params)) == expected, params
    assert len(seed_ids(lambda e: e["status"] == "pending")) == 5
    assert ids(get_json(client, "/events?entity=olzhas-bektenov")) == [
        eid("likhachev-seeks-meeting"),
        eid("requested-meeting-by-end-of-november"),
        eid("proposed-meeting-2024-10-28"),
        eid("proposed-meeting-2024-11-14"),
    ]


# --- date windows ------------------------------------------------------------


def test_date_window_keeps_events_whose_time_overlaps_it(client: TestClient) -> None:
    november = ids(get_json(client, "/events?date_from=2024-11-01&date_to=2024-11-30"))
    assert november == [
        eid("requested-meeting-by-end-of-november"),
        eid("proposed-meeting-2024-11-14"),
    ]

    after_vote = ids(get_json(client, "/events?date_from=2024-10-07"))
    assert eid("referendum") not in after_vote
    assert eid("tokayev-consortium-statement") not in after_vote
    assert eid("referendum-results") in after_vote  # 2024-10-06..2024-10-17 reaches past it

    late_november = ids(get_json(client, "/events?date_from=2024-11-20"))
    # The requested window ends 2024-11-30; construction has no end at all.
    assert late_november == [eid("requested-meeting-by-end-of-november"), eid("npp-construction")]

    vote_day = ids(get_json(client, "/events?date_from=2024-10-06&date_to=2024-10-06"))
    assert vote_day == [
        eid("referendum"),
        eid("referendum-results"),
        eid("tokayev-consortium-statement"),
        eid("ministry-funding-clarification"),
    ]
    # An event without a time never matches a date window.
    everything = ids(get_json(client, "/events?date_from=1900-01-01&date_to=2999-12-31"))
    assert eid("npp-project-financing") not in everything
    assert len(everything) == len(EVENTS) - 1


def test_date_windows_agree_with_the_fact_file(client: TestClient) -> None:
    windows = [
        ("2024-10-06", None),
        ("2024-10-07", None),
        ("2024-10-18", None),
        (None, "2024-10-05"),
        (None, "2024-10-11"),
        ("2024-10-12", "2024-10-16"),
        ("2024-10-28", "2024-10-28"),
        ("2024-12-01", "2025-08-07"),
        ("2025-08-08", None),
        ("2030-01-01", None),
    ]
    for date_from, date_to in windows:
        params = {k: v for k, v in (("date_from", date_from), ("date_to", date_to)) if v}
        lo = dt.date.fromisoformat(date_from) if date_from else None
        hi = dt.date.fromisoformat(date_to) if date_to else None
        expected = seed_ids(lambda e, lo=lo, hi=hi: overlaps(e, lo, hi))
        assert ids(get_json(client, "/events", params)) == expected, params
    assert ids(get_json(client, "/events?date_from=2030-01-01")) == [eid("npp-construction")]
    assert ids(get_json(client, "/events?date_to=2024-10-05")) == []


def test_open_start_and_partial_dates(client: TestClient, ingest: Ingest, tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["article"]["id"] = OTHER
    base = doc["events"][0]
    doc["events"] = [
        {**base, "id": "talks-before", "time": {"end": "2024-09-30"}, "anchors": ["Bob said"]},
        {**base, "id": "talks-in-november", "time": {"date": "2024-11"}, "anchors": ["the talks"]},
        {**base, "id": "talks-in-2023", "time": {"date": "2023"}, "anchors": ["went well"]},
    ]
    doc["claims"][0]["events"] = []
    ingest(write_doc(tmp_path / "other.json", doc))

    def other(params: str) -> list[str]:
        found = ids(get_json(client, f"/events?article={OTHER}&{params}"))
        return [i.removeprefix(f"{OTHER}.") for i in found]

    before = EventDetail.model_validate(get_json(client, f"/events/{OTHER}.talks-before"))
    assert before.time is not None
    assert (before.time.start, before.time.end, str(before.time.precision)) == (
        None,
        dt.date(2024, 9, 30),
        "day",
    )
    assert before.time.anchor is None
    assert other("date_to=1900-01-01") == ["talks-before"]
    assert other("date_from=2024-09-30") == ["talks-before", "talks-in-november"]
    assert other("date_from=2024-10-01") == ["talks-in-november"]

    month = EventDetail.model_validate(get_json(client, f"/events/{OTHER}.talks-in-november"))
    assert month.time is not None
    assert (month.time.start, month.time.end, str(month.time.precision)) == (
        dt.date(2024, 11, 1),
        dt.date(2024, 11, 30),
        "month",
    )
    assert other("date_from=2024-11-30") == ["talks-in-november"]
    assert other("date_from=2024-12-01") == []

    year = EventDetail.model_validate(get_json(client, f"/events/{OTHER}.talks-in-2023"))
    assert year.time is not None
    assert (year.time.start, year.time.end, str(year.time.precision)) == (
        dt.date(2023, 1, 1),
        dt.date(2023, 12, 31),
        "year",
    )
    assert other("date_from=2023-12-31&date_to=2023-12-31") == ["talks-before", "talks-in-2023"]


# --- detail ------------------------------------------------------------------


def test_detail_has_time_anchor_participants_and_claims(client: TestClient) -> None:
    body = get_json(client, f"/events/{eid('proposed-meeting-2024-10-28')}")
    event = EventDetail.model_validate(body)
    assert event.id == eid("proposed-meeting-2024-10-28")
    assert event.article == SEED_ARTICLE
    assert (event.kind.value, event.modality.value, event.status.value) == (
        "meeting",
        "proposed",
        "pending",
    )
    assert event.summary == EVENTS["proposed-meeting-2024-10-28"]["summary"]
    assert event.time is not None
    assert (event.time.start, event.time.end, str(event.time.precision)) == (
        dt.date(2024, 10, 28),
        dt.date(2024, 10, 28),
        "day",
    )
    assert event.time.anchor is not None
    assert event.time.anchor.model_dump() == {"start": 1082, "end": 1089, "exact": "Oct. 28"}
    assert TEXT[1082:1089] == "Oct. 28"
    assert event.time.note == EVENTS["proposed-meeting-2024-10-28"]["time"]["note"]
    assert event.location is None
    assert [(p.entity.id, p.entity.name, p.role) for p in event.participants] == [
        ("russia", "Russia", "proposer"),
        ("alexey-likhachev", "Alexey Likhachev", "participant"),
        ("olzhas-bektenov", "Olzhas Bektenov", "participant"),
    ]
    assert [(a.start, a.end, a.exact) for a in event.anchors] == [
        (1042, 1089, "tentatively suggested meeting on either Oct. 28")
    ]
    assert event.claims == [eid("russian-side-suggested-dates")]


def test_referendum_detail(client: TestClient) -> None:
    event = EventDetail.model_validate(get_json(client, f"/events/{eid('referendum')}"))
    assert event.location is not None
    assert event.location.model_dump() == {
        "id": "kazakhstan",
        "name": "Kazakhstan",
        "kind": "country",
    }
    assert event.time is not None
    assert event.time.anchor is not None
    assert event.time.anchor.exact == "On Oct. 6"
    assert TEXT[event.time.anchor.start : event.time.anchor.end] == "On Oct. 6"
    assert event.claims == [eid("referendum-held-on-oct-6"), eid("referendum-result-71-12")]
    # "later" occurs twice; the fact file picks the second.
    clarification = EventDetail.model_validate(
        get_json(client, f"/events/{eid('ministry-funding-clarification')}")
    )
    assert clarification.time is not None and clarification.time.anchor is not None
    later = TEXT.find("later", TEXT.find("later") + 1)
    assert clarification.time.anchor.model_dump() == {
        "start": later,
        "end": later + 5,
        "exact": "later",
    }
    assert TEXT[later - 29 : later + 5] == "Ministry of National Economy later"
    financing = EventDetail.model_validate(
        get_json(client, f"/events/{eid('npp-project-financing')}")
    )
    assert financing.time is None


def test_every_detail_matches_the_fact_file(client: TestClient) -> None:
    for key, fact in EVENTS.items():
        event = EventDetail.model_validate(get_json(client, f"/events/{eid(key)}"))
        assert event.kind.value == fact["kind"]
        assert event.status.value == fact["status"]
        assert event.modality.value == fact.get("modality", "occurred")
        assert (event.location.id if event.location else None) == fact.get("location")
        assert [(p.entity.id, p.role) for p in event.participants] == [
            (p["entity"], p["role"]) for p in fact["participants"]
        ], key
        assert [a.exact for a in event.anchors] == fact["anchors"], key
        for a in event.anchors:
            assert TEXT[a.start : a.end] == a.exact
        got = (event.time.start, event.time.end) if event.time else None
        assert got == span(fact), key
        assert event.claims == [
            eid(c["id"]) for c in FACTS["claims"] if key in c.get("events", [])
        ], key


def test_unknown_event_is_404(client: TestClient) -> None:
    # The public id is `<article>.<local id>`; the local id alone is not an event.
    for key in ("no-such-event", "referendum", f"{SEED_ARTICLE}.no-such-event"):
        response = client.get(f"/events/{key}")
        assert response.status_code == 404, key
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": f"no event with id {key!r}",
            "instance": f"/events/{key}",
        }
