"""The fact file format: validation, anchor resolution, and the published JSON Schema."""

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.ingest.document import FactFileErrors, json_path, json_schema, read_fact_file
from app.models import TimePrecision
from tests.conftest import SEED_FILE, TEXT, minimal_doc, write_doc

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "app" / "ingest" / "fact-file.schema.json"


def test_minimal_document_resolves_every_anchor(tmp_path: Path) -> None:
    doc = read_fact_file(write_doc(tmp_path / "a.json", minimal_doc()))
    alice = doc.entities[0]
    assert [(m.start, m.end, m.exact) for m in alice.mentions] == [
        (0, 5, "Alice"),
        (64, 69, "Alice"),
    ]
    for entity in doc.entities:
        for m in entity.mentions:
            assert TEXT[m.start : m.end] == m.exact
    event = doc.events[0]
    assert event.time is not None
    assert (event.time.start, event.time.end, event.time.precision) == (
        dt.date(2024, 10, 6),
        dt.date(2024, 10, 6),
        TimePrecision.day,
    )
    assert event.time.anchor is not None and event.time.anchor.exact == "on Oct. 6"
    claim = doc.claims[0]
    assert (
        claim.attribution is not None
        and TEXT[claim.attribution.start : claim.attribution.end] == "Bob said"
    )
    assert doc.title == "Alice meets Bob"
    assert len(doc.sha256) == 64


def test_offsets_count_code_points_not_bytes(tmp_path: Path) -> None:
    text = "«Привет», said the envoy — 😀 twice: «Привет»."
    doc = minimal_doc(
        entities=[
            {
                "id": "e",
                "name": "E",
                "kind": "person",
                "mentions": [{"quote": "«Привет»", "occurrence": 2}, "😀"],
            }
        ],
        events=[],
        claims=[],
        relations=[],
    )
    doc["article"]["text"] = text
    resolved = read_fact_file(write_doc(tmp_path / "a.json", doc))
    second, emoji = resolved.entities[0].mentions
    assert text[second.start : second.end] == "«Привет»"
    assert (emoji.start, emoji.end) == (text.index("😀"), text.index("😀") + 1)


@pytest.mark.parametrize(
    ("value", "start", "end", "precision"),
    [
        ({"date": "2024-11"}, "2024-11-01", "2024-11-30", "month"),
        ({"date": "2024-02"}, "2024-02-01", "2024-02-29", "month"),
        ({"date": "2024"}, "2024-01-01", "2024-12-31", "year"),
        ({"start": "2024-10-11", "end": "2024-10-17"}, "2024-10-11", "2024-10-17", "day"),
        ({"end": "2024-11-30"}, None, "2024-11-30", "day"),
        ({"start": "2024-10-06", "end": "2024-11"}, "2024-10-06", "2024-11-30", "month"),
    ],
)
def test_times_resolve_to_bounds_with_precision(
    tmp_path: Path, value: dict[str, str], start: str | None, end: str, precision: str
) -> None:
    doc = minimal_doc()
    doc["events"][0]["time"] = value
    time = read_fact_file(write_doc(tmp_path / "a.json", doc)).events[0].time
    assert time is not None
    assert (str(time.start) if time.start else None, str(time.end), time.precision.value) == (
        start,
        end,
        precision,
    )


def test_text_file_is_read_byte_for_byte(tmp_path: Path) -> None:
    raw = "Title line\r\nBody with «quotes» and a trailing space \n".encode()
    (tmp_path / "a.txt").write_bytes(raw)
    doc = minimal_doc(entities=[], events=[], claims=[], relations=[])
    doc["article"] = {"id": "x", "text_file": "a.txt"}
    resolved = read_fact_file(write_doc(tmp_path / "a.json", doc))
    assert resolved.text.encode() == raw
    assert resolved.title == "Title line"


Mutation = Callable[[dict[str, Any]], Any]


def _set(path: list[str | int], value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


BAD_DOCUMENTS: list[tuple[str, Mutation, str, str]] = [
    (
        "quote not in text",
        _set(["claims", 0, "anchors", 0], "the talks went badly"),
        "$.claims[0].anchors[0]",
        'quote "the talks went badly" is not in the article text',
    ),
    (
        "ambiguous quote",
        _set(["entities", 1, "mentions", 0], "Bob"),
        "$.entities[1].mentions[0]",
        'quote "Bob" occurs 2 times in the article text; add "occurrence" (1 to 2) to say which',
    ),
    (
        "occurrence past the end",
        _set(["entities", 2, "mentions", 0], {"quote": "Paris", "occurrence": 2}),
        "$.entities[2].mentions[0]",
        'quote "Paris" occurs only once, not 2',
    ),
    (
        "undefined entity",
        _set(["claims", 0, "claimant"], "carol"),
        "$.claims[0].claimant",
        "entity 'carol' is not defined in this file",
    ),
    (
        "undefined event",
        _set(["claims", 0, "events", 0], "dinner"),
        "$.claims[0].events[0]",
        "event 'dinner' is not defined in this file",
    ),
    (
        "undefined location",
        _set(["events", 0, "location"], "london"),
        "$.events[0].location",
        "entity 'london' is not defined in this file",
    ),
    (
        "duplicate entity id",
        _set(["entities", 1, "id"], "alice"),
        "$.entities[1].id",
        "duplicate entity id 'alice' (first used at entities[0])",
    ),
    (
        "unknown status",
        _set(["claims", 0, "status"], "true"),
        "$.claims[0].status",
        "Input should be 'confirmed', 'unverified', 'pending', 'disputed' or 'refuted' (got \"true\")",
    ),
    (
        "unknown entity kind",
        _set(["entities", 0, "kind"], "wizard"),
        "$.entities[0].kind",
        '(got "wizard")',
    ),
    (
        "unknown event kind",
        _set(["events", 0, "kind"], "party"),
        "$.events[0].kind",
        '(got "party")',
    ),
    (
        "date that is not a date",
        _set(["events", 0, "time", "date"], "2024-02-30"),
        "$.events[0].time.date",
        "'2024-02-30' is not a valid date",
    ),
    (
        "date in the wrong form",
        _set(["events", 0, "time", "date"], "6 Oct 2024"),
        "$.events[0].time.date",
        "String should match pattern",
    ),
    (
        "publication date",
        _set(["article", "published"], "yesterday"),
        "$.article.published",
        "Input should be a valid date",
    ),
    (
        "unknown field",
        _set(["claims", 0, "verdict"], "true"),
        "$.claims[0].verdict",
        "unknown field",
    ),
    (
        "missing field",
        lambda d: d["claims"][0].pop("rationale"),
        "$.claims[0].rationale",
        "field required",
    ),
    (
        "wrong format version",
        _set(["format"], "article-facts/2"),
        "$.format",
        "expected 'article-facts/1' (got \"article-facts/2\")",
    ),
    (
        "start after end",
        _set(["events", 0, "time"], {"start": "2024-11-01", "end": "2024-10-01"}),
        "$.events[0].time",
        "start 2024-11-01 is after end 2024-10-01",
    ),
    (
        "bad slug",
        _set(["entities", 0, "id"], "Alice Example"),
        "$.entities[0].id",
        "String should match pattern",
    ),
    (
        "empty quote",
        _set(["claims", 0, "anchors", 0], ""),
        "$.claims[0].anchors[0].quote",
        "String should have at least 1 character",
    ),
    (
        "subject listed twice",
        _set(["claims", 0, "subjects"], ["alice", "alice"]),
        "$.claims[0].subjects[1]",
        "'alice' is listed twice",
    ),
]


@pytest.mark.parametrize(
    ("case", "mutate", "where", "problem"), BAD_DOCUMENTS, ids=[b[0] for b in BAD_DOCUMENTS]
)
def test_bad_documents_name_the_place_and_the_problem(
    tmp_path: Path, case: str, mutate: Mutation, where: str, problem: str
) -> None:
    doc = copy.deepcopy(minimal_doc())
    mutate(doc)
    path = write_doc(tmp_path / "bad.json", doc)
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(path)
    errors = info.value.errors
    assert errors[0].where == where, errors
    assert problem in errors[0].problem
    assert errors[0].path == str(path)
    assert str(errors[0]).startswith(f"{path}: {where}: ")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["claims"][0]["claimant"] = "nobody"
    doc["claims"][0]["anchors"] = ["not there"]
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(write_doc(tmp_path / "bad.json", doc))
    assert {e.where for e in info.value.errors} == {
        "$.claims[0].claimant",
        "$.claims[0].anchors[0]",
    }


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        ('{"format": "article-facts/1",\n  "article": {', "line 2, column 15", "invalid JSON"),
        ("[1, 2]", "$", "a fact file is a JSON object"),
        ("", "line 1, column 1", "invalid JSON"),
    ],
)
def test_malformed_json_names_line_and_column(
    tmp_path: Path, content: str, where: str, problem: str
) -> None:
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(write_doc(tmp_path / "bad.json", content))
    assert info.value.errors[0].where == where
    assert problem in info.value.errors[0].problem


def test_missing_and_undecodable_text_files(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["article"] = {"id": "x", "text_file": "missing.txt"}
    with pytest.raises(FactFileErrors, match=r"\$\.article\.text_file: cannot read 'missing.txt'"):
        read_fact_file(write_doc(tmp_path / "a.json", doc))
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    doc["article"] = {"id": "x", "text_file": "latin1.txt"}
    with pytest.raises(FactFileErrors, match=r"'latin1.txt' is not valid UTF-8 \(byte 3\)"):
        read_fact_file(write_doc(tmp_path / "a.json", doc))


def test_text_and_text_file_are_exclusive(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["article"]["text_file"] = "a.txt"
    with pytest.raises(
        FactFileErrors, match=r"\$\.article: give exactly one of 'text' or 'text_file'"
    ):
        read_fact_file(write_doc(tmp_path / "a.json", doc))


def test_json_path_rendering() -> None:
    assert json_path(["claims", 3, "status"]) == "$.claims[3].status"
    assert json_path(["external_ids", "not a name"]) == '$.external_ids["not a name"]'


def test_seed_fact_file_resolves() -> None:
    doc = read_fact_file(SEED_FILE)
    for entity in doc.entities:
        for m in entity.mentions:
            assert doc.text[m.start : m.end] == m.exact
    assert len(doc.entities) >= 15 and len(doc.events) >= 10 and len(doc.claims) >= 10


def test_committed_json_schema_matches_the_models() -> None:
    assert json.loads(SCHEMA_FILE.read_text("utf-8")) == json_schema(), (
        "app/ingest/fact-file.schema.json is stale: run `article-facts schema > app/ingest/fact-file.schema.json`"
    )


def test_seed_file_validates_against_the_published_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(SEED_FILE.read_text("utf-8")), json_schema())
