"""The fact file format: validation, anchor resolution, and the published JSON Schema."""

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

from app.ingest.consistency import Declarations
from app.ingest.document import (
    LANGUAGE_TAG_MAX_LENGTH,
    SLUG_MAX_LENGTH,
    ClaimIn,
    EventIn,
    FactFileErrors,
    ResolvedClaim,
    ResolvedEvent,
    json_path,
    json_schema,
    read_fact_file,
)
from app.models import (
    ClaimKind,
    EntityKind,
    EventKind,
    EventModality,
    EvidenceStance,
    RelationPredicate,
    TimePrecision,
    VerificationStatus,
)
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
    assert isinstance(event, ResolvedEvent) and event.time is not None
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
    event = read_fact_file(write_doc(tmp_path / "a.json", doc)).events[0]
    assert isinstance(event, ResolvedEvent)
    time = event.time
    assert time is not None
    assert (str(time.start) if time.start else None, str(time.end), str(time.precision)) == (
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


def test_text_file_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbf" + "Title «line»\nAlice spoke.".encode())
    doc = minimal_doc(entities=[], events=[], claims=[], relations=[])
    doc["entities"] = [{"id": "alice", "name": "Alice", "kind": "person", "mentions": ["Alice"]}]
    doc["article"] = {"id": "x", "text_file": "a.txt"}
    resolved = read_fact_file(write_doc(tmp_path / "a.json", doc))
    assert resolved.text == "Title «line»\nAlice spoke."
    assert resolved.title == "Title «line»"
    assert [(m.start, m.end) for m in resolved.entities[0].mentions] == [(13, 18)]
    # A UTF-8 error still names the byte of the file, counting the mark.
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbfcaf\xe9")
    with pytest.raises(FactFileErrors, match=r"'a.txt' is not valid UTF-8 \(byte 6\)"):
        read_fact_file(tmp_path / "a.json")


def test_a_byte_order_mark_is_not_part_of_an_inline_text_either(tmp_path: Path) -> None:
    """Inline `text` and `text_file` treat a leading byte order mark alike."""
    doc = minimal_doc(entities=[], events=[], claims=[], relations=[])
    doc["entities"] = [{"id": "body", "name": "Body", "kind": "other", "mentions": ["Body"]}]
    doc["article"] = {"id": "x", "text": "\ufeff Title line \nBody."}
    inline = read_fact_file(write_doc(tmp_path / "a.json", doc))
    (tmp_path / "a.txt").write_bytes("\ufeff Title line \nBody.".encode())
    doc["article"] = {"id": "x", "text_file": "a.txt"}
    from_file = read_fact_file(write_doc(tmp_path / "b.json", doc))
    for resolved in (inline, from_file):
        assert resolved.title == "Title line"
        assert resolved.text == " Title line \nBody."
        assert [(m.start, m.end) for m in resolved.entities[0].mentions] == [(13, 17)]


@pytest.mark.parametrize("name", ["a.txt", "./a.txt", "sub/../a.txt", "sub/b.txt"])
def test_text_file_inside_the_folder_is_read(tmp_path: Path, name: str) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Title\n", "utf-8")
    (tmp_path / "sub" / "b.txt").write_text("Title\n", "utf-8")
    doc = minimal_doc(entities=[], events=[], claims=[], relations=[])
    doc["article"] = {"id": "x", "text_file": name}
    assert read_fact_file(write_doc(tmp_path / "a.json", doc)).text == "Title\n"


def test_text_file_symlinked_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret\n", "utf-8")
    folder = tmp_path / "facts"
    folder.mkdir()
    (folder / "a.txt").symlink_to(outside)
    doc = minimal_doc(entities=[], events=[], claims=[], relations=[])
    doc["article"] = {"id": "x", "text_file": "a.txt"}
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(write_doc(folder / "a.json", doc))
    assert [(e.where, e.problem) for e in info.value.errors] == [
        ("$.article.text_file", "must be a path inside the fact file's folder (got 'a.txt')")
    ]
    # A symlink that stays inside the folder is fine.
    (folder / "real.txt").write_text("Title\n", "utf-8")
    (folder / "b.txt").symlink_to(folder / "real.txt")
    doc["article"]["text_file"] = "b.txt"
    assert read_fact_file(write_doc(folder / "a.json", doc)).text == "Title\n"


def test_text_file_with_a_nul_character(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbf" + "Tïtle\nBo\x00dy".encode())
    doc = minimal_doc(entities=[], events=[], claims=[], relations=[])
    doc["article"] = {"id": "x", "text_file": "a.txt"}
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(write_doc(tmp_path / "a.json", doc))
    # The offset counts code points of the text, as anchors do.
    assert [(e.where, e.problem) for e in info.value.errors] == [
        ("$.article.text_file", "'a.txt' contains a NUL character at offset 8")
    ]


def test_every_nul_character_is_reported_with_its_path(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["article"]["title"] = "Alice\x00"
    doc["entities"][1]["aliases"] = [{"name": "B\x00b"}]
    doc["claims"][0]["evidence"][0]["summary"] = "\x00"
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(write_doc(tmp_path / "a.json", doc))
    assert [(e.where, e.problem) for e in info.value.errors] == [
        ("$.article.title", "must not contain NUL characters"),
        ("$.entities[1].aliases[0].name", "must not contain NUL characters"),
        ("$.claims[0].evidence[0].summary", "must not contain NUL characters"),
    ]


def test_strict_parsing_still_takes_enum_values_and_iso_dates(tmp_path: Path) -> None:
    doc = {"$schema": "https://article-facts.dev/schema/article-facts-1.json", **minimal_doc()}
    doc["claims"][0]["evidence"][0]["date"] = "2024-10-18"
    resolved = read_fact_file(write_doc(tmp_path / "a.json", doc))
    assert resolved.article.published == dt.date(2024, 10, 17)
    assert resolved.entities[0].source.kind is EntityKind.person
    assert resolved.relations[0].source.predicate is RelationPredicate.located_in
    event = resolved.events[0].source
    assert isinstance(event, EventIn)
    assert (event.kind, event.modality, event.status) == (
        EventKind.meeting,
        EventModality.occurred,
        VerificationStatus.unverified,
    )
    claim = resolved.claims[0].source
    assert isinstance(claim, ClaimIn)
    assert (claim.kind, claim.status) == (ClaimKind.statement, VerificationStatus.pending)
    assert claim.evidence[0].stance is EvidenceStance.no_answer
    assert claim.evidence[0].date == dt.date(2024, 10, 18)


def test_a_url_alone_is_enough_evidence(tmp_path: Path) -> None:
    doc = minimal_doc()
    evidence = doc["claims"][0]["evidence"][0]
    del evidence["anchor"]
    evidence["url"] = "https://example.org/alice"
    resolved = read_fact_file(write_doc(tmp_path / "a.json", doc))
    claim = resolved.claims[0]
    assert isinstance(claim, ResolvedClaim)
    assert claim.evidence[0].anchor is None
    assert claim.evidence[0].source.url == "https://example.org/alice"


def test_the_same_words_may_anchor_different_facts(tmp_path: Path) -> None:
    doc = minimal_doc()
    # Two entities may share a mention, and a relation may be stated both ways.
    doc["entities"][1]["mentions"].append({"quote": "Alice", "occurrence": 1})
    doc["relations"] = [
        {"subject": "alice", "predicate": "related_to", "object": "bob"},
        {"subject": "bob", "predicate": "related_to", "object": "alice"},
        {"subject": "alice", "predicate": "works_for", "object": "bob"},
    ]
    resolved = read_fact_file(write_doc(tmp_path / "a.json", doc))
    assert len(resolved.relations) == 3
    assert resolved.entities[1].mentions[-1] == resolved.entities[0].mentions[0]


def test_duplicates_are_all_reported(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["entities"][0]["mentions"] = ["Alice met", "Alice met", {"quote": "Alice met"}]
    doc["relations"] = [
        {"subject": "alice", "predicate": "related_to", "object": "bob"},
        {"subject": "alice", "predicate": "related_to", "object": "bob", "anchors": ["Bob said"]},
        {"subject": "bob", "predicate": "part_of", "object": "bob"},
    ]
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(write_doc(tmp_path / "a.json", doc))
    assert [(e.where, e.problem) for e in info.value.errors] == [
        ("$.entities[0].mentions[1]", 'same words as mentions[0] ("Alice met" at 0)'),
        ("$.entities[0].mentions[2]", 'same words as mentions[0] ("Alice met" at 0)'),
        ("$.relations[1]", "'alice' related_to 'bob' is listed twice (first at relations[0])"),
        ("$.relations[2].object", "a relation needs two different entities"),
    ]


def test_slugs_and_language_tags_fit_their_columns() -> None:
    def length(table: str, column: str) -> int:
        value = getattr(SQLModel.metadata.tables[table].c[column].type, "length", None)
        assert isinstance(value, int), (table, column)
        return value

    assert SLUG_MAX_LENGTH <= length("article", "key")
    assert SLUG_MAX_LENGTH <= length("entity", "key")
    assert SLUG_MAX_LENGTH <= length("event_participant", "role")
    # Public ids of events and claims are '<article id>.<local id>'.
    assert 2 * SLUG_MAX_LENGTH + 1 <= length("event", "key")
    assert 2 * SLUG_MAX_LENGTH + 1 <= length("claim", "key")
    assert LANGUAGE_TAG_MAX_LENGTH <= length("article", "language")
    assert LANGUAGE_TAG_MAX_LENGTH <= length("entity_alias", "language")
    schema = json_schema()
    assert schema["$defs"]["ArticleIn"]["properties"]["id"]["maxLength"] == SLUG_MAX_LENGTH


Mutation = Callable[[dict[str, Any]], Any]


def _set(path: list[str | int], value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _text_file(name: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        del doc["article"]["text"]
        doc["article"]["text_file"] = name

    return mutate


def _relation_to_itself(doc: dict[str, Any]) -> None:
    doc["relations"][0]["object"] = doc["relations"][0]["subject"]


def _relation_twice(doc: dict[str, Any]) -> None:
    doc["relations"].append(copy.deepcopy(doc["relations"][0]))


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
        "Input should be 'confirmed', 'unverified', 'pending', 'disputed', 'refuted' or 'not_checkable' (got \"true\")",
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
        "schema under its Python name",
        _set(["schema_"], "https://article-facts.dev/schema/article-facts-1.json"),
        "$.schema_",
        "unknown field",
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
    # Strict types: JSON values are taken as they are, never coerced.
    (
        "publication date as a timestamp",
        _set(["article", "published"], 1729123200),
        "$.article.published",
        "Input should be a valid date (got 1729123200)",
    ),
    (
        "publication date with a time",
        _set(["article", "published"], "2024-10-17T00:00:00"),
        "$.article.published",
        'Input should be a valid date in the format YYYY-MM-DD, unexpected extra characters at the end of the input (got "2024-10-17T00:00:00")',
    ),
    (
        "evidence date as a timestamp",
        _set(["claims", 0, "evidence", 0, "date"], 1729123200),
        "$.claims[0].evidence[0].date",
        "Input should be a valid date (got 1729123200)",
    ),
    (
        "occurrence as a boolean",
        _set(["entities", 0, "mentions", 0, "occurrence"], True),
        "$.entities[0].mentions[0].occurrence",
        "Input should be a valid integer (got true)",
    ),
    (
        "occurrence as a float",
        _set(["entities", 0, "mentions", 0, "occurrence"], 1.0),
        "$.entities[0].mentions[0].occurrence",
        "Input should be a valid integer (got 1.0)",
    ),
    (
        "occurrence as a string",
        _set(["entities", 0, "mentions", 0, "occurrence"], "1"),
        "$.entities[0].mentions[0].occurrence",
        'Input should be a valid integer (got "1")',
    ),
    (
        "event date as a number",
        _set(["events", 0, "time", "date"], 2024),
        "$.events[0].time.date",
        "Input should be a valid string (got 2024)",
    ),
    (
        "date in Arabic-Indic digits",
        _set(["events", 0, "time", "date"], "٢٠٢٤-١٠-٠٦"),
        "$.events[0].time.date",
        "String should match pattern",
    ),
    (
        "quote that is a number",
        _set(["claims", 0, "anchors", 0], 5),
        "$.claims[0].anchors[0]",
        "a quote is a string, or an object with 'quote' and 'occurrence'",
    ),
    # Lengths that fit the database columns.
    (
        "article id longer than 120",
        _set(["article", "id"], "a" * 121),
        "$.article.id",
        "String should have at most 120 characters",
    ),
    (
        "participant role longer than 120",
        _set(["events", 0, "participants", 0, "role"], "r" * 121),
        "$.events[0].participants[0].role",
        "String should have at most 120 characters",
    ),
    (
        "language tag longer than 35",
        _set(["article", "language"], "en-" + "-".join(["abcdefgh"] * 4)),
        "$.article.language",
        "String should have at most 35 characters",
    ),
    (
        "alias language tag longer than 35",
        _set(["entities", 0, "aliases", 0, "language"], "en-" + "-".join(["abcdefgh"] * 4)),
        "$.entities[0].aliases[0].language",
        "String should have at most 35 characters",
    ),
    # NUL characters, anywhere.
    (
        "NUL in a claim",
        _set(["claims", 0, "text"], "The talks\x00 went well."),
        "$.claims[0].text",
        "must not contain NUL characters",
    ),
    (
        "NUL in the inline text",
        _set(["article", "text"], "Alice\x00" + TEXT),
        "$.article.text",
        "must not contain NUL characters",
    ),
    (
        "NUL in a key",
        _set(["entities", 0, "external_ids"], {"wiki\x00data": "Q1"}),
        '$.entities[0].external_ids["wiki\\u0000data"]',
        "a key must not contain NUL characters",
    ),
    # The text file stays in the fact file's folder.
    (
        "text file given by an absolute path",
        _text_file("/etc/hostname"),
        "$.article.text_file",
        "must be a path inside the fact file's folder (got '/etc/hostname')",
    ),
    (
        "text file above the fact file's folder",
        _text_file("../../x.txt"),
        "$.article.text_file",
        "must be a path inside the fact file's folder (got '../../x.txt')",
    ),
    (
        "evidence with neither anchor nor url",
        lambda d: d["claims"][0]["evidence"][0].pop("anchor"),
        "$.claims[0].evidence[0]",
        "give an 'anchor' (words of this article) or a 'url'",
    ),
    # Duplicates that would store identical rows.
    (
        "same mention twice",
        _set(["entities", 2, "mentions"], ["Paris", {"quote": "Paris", "occurrence": 1}]),
        "$.entities[2].mentions[1]",
        'same words as mentions[0] ("Paris" at 17)',
    ),
    (
        "same anchor twice",
        _set(["claims", 0, "anchors"], ["the talks went well", "the talks went well"]),
        "$.claims[0].anchors[1]",
        "same words as anchors[0]",
    ),
    (
        "relation to itself",
        _relation_to_itself,
        "$.relations[0].object",
        "a relation needs two different entities",
    ),
    (
        "same relation twice",
        _relation_twice,
        "$.relations[1]",
        "is listed twice (first at relations[0])",
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
    for claim in doc.claims:
        assert isinstance(claim, ResolvedClaim)
        for evidence in claim.evidence:
            assert evidence.anchor is not None or evidence.source.url, evidence
            if "later" in evidence.source.source:
                assert evidence.source.url and "world-news247.net" in evidence.source.url
            if "this article" in evidence.source.source:
                assert evidence.anchor is not None, evidence


def test_committed_json_schema_matches_the_models() -> None:
    assert json.loads(SCHEMA_FILE.read_text("utf-8")) == json_schema(), (
        "app/ingest/fact-file.schema.json is stale: run `article-facts schema > app/ingest/fact-file.schema.json`"
    )


def test_seed_file_validates_against_the_published_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(SEED_FILE.read_text("utf-8")), json_schema())


def test_published_schema_asks_evidence_for_an_anchor_or_a_url() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = minimal_doc()
    jsonschema.validate(doc, json_schema())
    del doc["claims"][0]["evidence"][0]["anchor"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema())
    doc["claims"][0]["evidence"][0]["url"] = "https://example.org/alice"
    jsonschema.validate(doc, json_schema())


def test_an_integer_past_64_bits_is_shown_in_its_error(tmp_path: Path) -> None:
    """JSON allows any integer; the error quoting one must not fail where orjson would."""
    doc = minimal_doc()
    doc["entities"][0]["external_ids"] = {"wikidata": 2**70}
    with pytest.raises(FactFileErrors) as caught:
        read_fact_file(write_doc(tmp_path / "a.json", doc))
    (error,) = caught.value.errors
    assert error.where == "$.entities[0].external_ids.wikidata"
    assert error.problem.endswith(f"(got {2**70})")


# --- what a file with errors declares, for the checks across files ---------------------


def _refused(doc: dict[str, Any], tmp_path: Path) -> tuple[Path, FactFileErrors]:
    """``doc`` written as a file, and the errors reading it raises."""
    path = write_doc(tmp_path / "a.json", doc)
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(path)
    return path, info.value


def _declared(doc: dict[str, Any], tmp_path: Path) -> Declarations:
    path, refused = _refused(doc, tmp_path)
    return Declarations.of_errors(path, refused.document)


def test_a_file_whose_quotes_fail_declares_all_it_gives(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["entities"].append({"id": "paris-ref"})
    doc["entities"].append({"id": "alice", "name": "Alicia", "kind": "person"})  # twice
    doc["claims"][0]["anchors"] = ["not in the text"]
    doc["events"].append({"id": "r", "same_as": "other.meeting", "anchors": ["Bob said"]})
    doc["events"].append({"id": "s", "same_as": "test-article.meeting", "anchors": ["Bob said"]})
    declared = _declared(doc, tmp_path)
    assert not declared.complete
    assert declared.article == "test-article"
    # The second 'alice' and the report of its own article are the file's own errors.
    assert [(d.index, d.key, d.name, d.partial) for d in declared.entities] == [
        (0, "alice", "Alice Example", False),
        (1, "bob", "Bob Example", False),
        (2, "paris", "Paris", False),
        (3, "paris-ref", None, False),
    ]
    assert declared.events == ("meeting",)
    assert declared.claims == ("talks-went-well",)
    assert declared.reports == (("events", 1, "r", "other.meeting"),)


def test_an_invalid_file_declares_what_can_be_read_of_it(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["claims"][0]["status"] = "maybe"
    doc["entities"][0]["kind"] = "persn"  # an attempted declaration: not a reference
    doc["entities"][1]["external_ids"] = {"wikidata": 7, "viaf": "42", "Bad Key": "x"}
    doc["entities"][1]["nickname"] = "B"  # not a field: what identifies the entity is valid
    doc["entities"][2]["id"] = "Not A Slug"  # nothing to refer to
    doc["entities"].append({"id": "ref", "description": 5})  # a reference all the same
    doc["entities"].append({"id": "bob", "name": "Robert"})  # given twice: the first counts
    doc["events"].append({"id": "r", "same_as": "not a public id", "anchors": ["Bob said"]})
    doc["events"].append({"id": "s", "same_as": "other.meeting"})  # no anchors
    doc["events"].append({"id": "Bad Id", "same_as": "other.meeting"})
    doc["claims"].append("not an object")
    declared = _declared(doc, tmp_path)
    assert not declared.complete and declared.digest == ""
    assert declared.article == "test-article"
    assert [
        (d.index, d.key, d.name, d.kind, d.external_ids, d.partial) for d in declared.entities
    ] == [
        (0, "alice", "Alice Example", None, (), True),
        (1, "bob", "Bob Example", "person", (("viaf", "42"),), False),
        (3, "ref", None, None, (), False),
    ]
    # A report too broken to follow is still an id another file may report.
    assert declared.events == ("meeting", "r")
    assert declared.reports == (
        ("events", 2, "s", "other.meeting"),
        ("events", 3, "", "other.meeting"),
    )
    assert declared.claims == ("talks-went-well",)


def test_a_file_of_another_shape_declares_what_it_can(tmp_path: Path) -> None:
    doc = minimal_doc(format="article-facts/2")
    doc["article"] = ["not", "an", "object"]
    doc["relations"] = {"alice": {}}
    declared = _declared(doc, tmp_path)
    assert declared.article is None
    assert [d.key for d in declared.entities] == ["alice", "bob", "paris"]
    assert Declarations.of_errors(tmp_path / "x.json", None).entities == ()


def test_the_valid_items_of_an_invalid_file_are_resolved_in_the_same_run(tmp_path: Path) -> None:
    """Its schema errors, and every problem of its quotes, times and references: of the
    items valid on their own, all of them, named by their place in the file."""
    doc = minimal_doc()
    doc["entities"].insert(0, {"id": "zed", "name": "Zed", "kind": "persn", "mentions": ["Zed"]})
    doc["entities"].append({"id": "bob", "name": "Bob", "kind": "person"})
    meets = {"subject": "alice", "predicate": "meets", "object": "bob", "anchors": []}
    located = doc["relations"][0]
    doc["relations"] = [
        meets,  # no such predicate
        located,
        located,  # twice
        {"subject": "zed", "predicate": "located_in", "object": "paris", "anchors": []},
        {"subject": "nobody", "predicate": "located_in", "object": "paris", "anchors": []},
    ]
    doc["events"][0]["time"]["date"] = "2024-13-01"
    doc["claims"][0]["status"] = "maybe"
    doc["claims"][0]["anchors"] = ["not in the text"]
    errors = _refused(doc, tmp_path)[1].errors
    assert [e.where for e in errors] == [
        "$.entities[0].kind",
        "$.relations[0].predicate",
        "$.claims[0].status",
        "$.entities[0].mentions[0]",
        "$.entities[4].id",
        "$.relations[2]",
        "$.relations[4].subject",
        "$.events[0].time.date",
        "$.claims[0].anchors[0]",
    ]
    assert all(e.problem.startswith("Input should be ") for e in errors[:3])
    assert [e.problem for e in errors[3:]] == [
        'quote "Zed" is not in the article text',
        "duplicate entity id 'bob' (first used at entities[2])",
        "'bob' located_in 'paris' is listed twice (first at relations[1])",
        "entity 'nobody' is not defined in this file",
        "'2024-13-01' is not a valid date",
        'quote "not in the text" is not in the article text',
    ]


def _wheres(doc: dict[str, Any], tmp_path: Path) -> list[tuple[str, str]]:
    return [(e.where, e.problem) for e in _refused(doc, tmp_path)[1].errors]


def test_an_invalid_file_is_told_of_its_reports_of_its_own_article(tmp_path: Path) -> None:
    own = {"id": "rep", "same_as": "test-article.meeting", "anchors": ["Bob said"]}
    doc = minimal_doc()
    doc["article"]["published"] = "2024-13-45"  # the article itself is invalid
    doc["events"].append(own)
    doc["claims"].append({**own, "status": "confirmed"})  # a report says no status
    found = _wheres(doc, tmp_path)
    assert [w for w, _ in found] == [
        "$.article.published",
        "$.claims[1].status",
        "$.events[1].same_as",
        "$.claims[1].same_as",
    ]
    assert found[2:] == [
        ("$.events[1].same_as", "names an event of this same article"),
        ("$.claims[1].same_as", "names a claim of this same article"),
    ]


def test_without_its_text_a_file_is_still_checked_for_references_and_times(
    tmp_path: Path,
) -> None:
    doc = minimal_doc()
    del doc["article"]["text"]
    doc["article"]["text_file"] = "missing.txt"
    doc["relations"][0]["subject"] = "nobody"
    doc["events"][0]["time"]["date"] = "2024-13-01"
    doc["events"].append({"id": "rep", "same_as": "test-article.meeting", "anchors": ["Bob"]})
    found = _wheres(doc, tmp_path)
    assert [w for w, _ in found] == [
        "$.article.text_file",
        "$.relations[0].subject",
        "$.events[0].time.date",
        "$.events[1].same_as",
    ]


def test_whole_integers_keep_an_item_valid_and_lists_that_are_not_lists_hide_nothing(
    tmp_path: Path,
) -> None:
    doc = minimal_doc()
    doc["claims"][0]["status"] = "maybe"
    doc["entities"][1]["mentions"].append({"quote": "Bob", "occurrence": 10**22})
    assert [w for w, _ in _wheres(doc, tmp_path)] == [
        "$.claims[0].status",
        "$.entities[1].mentions[2]",
    ]
    doc = minimal_doc()
    doc["entities"] = {"alice": {}}  # every reference to an entity is to something unread
    found = _wheres(doc, tmp_path)
    assert [w for w, _ in found] == ["$.entities"]


def test_an_id_given_by_a_valid_and_an_invalid_item_is_given_twice(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["entities"].insert(0, {"id": "bob", "name": "Bob", "kind": "persn"})
    doc["entities"].append({"id": "alice", "name": "Alice", "kind": "persn"})
    found = _wheres(doc, tmp_path)
    assert [(w, p.split(" (")[0]) for w, p in found if w.endswith(".id")] == [
        ("$.entities[2].id", "duplicate entity id 'bob'"),
        ("$.entities[4].id", "duplicate entity id 'alice'"),
    ]
    assert found[-1][1].endswith("(first used at entities[1])")
