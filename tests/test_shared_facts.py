"""A second article about the same plant: references, reports, and what it may not change.

The fact file in ``tests/second/`` is a short wire story (June 2025) written for these
tests. It names the seed's entities by id only (Kazakhstan without its Wikidata id), reports
the seed's referendum and its result (``same_as``), and has an opinion that cannot be
checked, an unnamed source and quantities. Every test runs on SQLite and PostgreSQL.
"""

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from app import queries
from app.cli import cli
from app.db import alembic_config
from app.ingest import pipeline
from app.ingest.document import read_fact_file
from app.ingest.pipeline import IngestError, database_state
from app.main import create_app
from app.models import entity_t
from app.schemas import ClaimDetail, EventDetail, Vocabulary
from app.settings import Settings
from tests.conftest import DATA, SEED_ARTICLE, Ingest, minimal_doc, write_doc
from tests.databases import dump
from tests.seed import get_json

SECOND = Path(__file__).resolve().parent / "second"
SECOND_FILE = SECOND / "steppe-wire-2025-06-14-rosatom-consortium.json"
ARTICLE = "steppe-wire-2025-06-14-rosatom-consortium"
SHARED = (
    "rosatom",
    "kazakhstan",
    "alexey-likhachev",
    "kassym-jomart-tokayev",
    "almaty-region",
    "kazakhstan-first-nuclear-power-plant",
    "kazakhstan-npp-international-consortium",
)
runner = CliRunner()


def second_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SECOND_FILE.read_text("utf-8"))
    return doc


def copy_second(folder: Path, doc: dict[str, Any] | None = None) -> Path:
    """The second article (or ``doc``, with its text) in a folder of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SECOND / second_doc()["article"]["text_file"], folder)
    return write_doc(folder / SECOND_FILE.name, doc or second_doc())


def entity_rows(engine: Engine, keys: tuple[str, ...] = SHARED) -> list[Any]:
    columns = (
        entity_t.c.key,
        entity_t.c.name,
        entity_t.c.kind,
        entity_t.c.description,
        entity_t.c.external_ids,
        entity_t.c.provenance_id,
    )
    with engine.connect() as conn:
        return list(
            conn.execute(select(*columns).where(entity_t.c.key.in_(keys)).order_by(entity_t.c.key))
        )


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def both(db_url: str, ingest: Ingest) -> Iterator[TestClient]:
    """The API over the seed and the second article, loaded in that order."""
    ingest(DATA)
    ingest(SECOND)
    with TestClient(create_app(Settings(database_url=db_url, load_seed=False))) as client:
        yield client


def test_references_load_and_change_no_stored_entity(ingest: Ingest, engine: Engine) -> None:
    ingest(DATA)
    before = entity_rows(engine)
    result = ingest(SECOND)
    assert result.changes == []
    assert result.get("articles", "added") == 1
    # The three entities it declares are new; the seven it refers to are as they were.
    assert (result.get("entities", "added"), result.get("entities", "updated")) == (3, 7)
    assert entity_rows(engine) == before
    kazakhstan = next(r for r in entity_rows(engine) if r.key == "kazakhstan")
    assert kazakhstan.external_ids == {"wikidata": "Q232"}
    assert kazakhstan.description == "Country in Central Asia."
    # Again: nothing changes.
    assert not ingest(SECOND).changed


def test_redeclaring_kazakhstan_without_its_wikidata_id_keeps_it(
    ingest: Ingest, engine: Engine, tmp_path: Path
) -> None:
    ingest(DATA)
    doc = second_doc()
    doc["entities"][1] = {
        **doc["entities"][1],
        "name": "Kazakhstan",
        "kind": "country",
        "description": "Country in Central Asia.",
    }
    ingest(copy_second(tmp_path / "full", doc))
    kazakhstan = next(r for r in entity_rows(engine) if r.key == "kazakhstan")
    assert kazakhstan.external_ids == {"wikidata": "Q232"}


def test_a_changed_field_is_refused_unless_asked_and_then_listed(
    db_url: str, ingest: Ingest, engine: Engine, tmp_path: Path
) -> None:
    ingest(DATA)
    doc = second_doc()
    doc["entities"][0]["description"] = "Russia's nuclear company."
    doc["entities"][1]["external_ids"] = {"wikidata": "Q9999", "geonames": "1522867"}
    path = copy_second(tmp_path / "changed", doc)
    before = dump(db_url)
    code, out, err = invoke("ingest", str(path), "--database-url", db_url)
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        f"Error: {path}: $.entities[0].description: entity 'rosatom' has description "
        '"Russian state corporation for nuclear energy (State Atomic Energy Corporation '
        'Rosatom)." in the database; this file gives "Russia\'s nuclear company." (pass '
        "--update-entities to change it, or leave the field out to keep it)",
        f"Error: {path}: $.entities[1].external_ids.wikidata: entity 'kazakhstan' has wikidata "
        'id "Q232" in the database; this file gives "Q9999": an entity has one id per scheme '
        "(pass --update-entities to replace it)",
    ]
    assert dump(db_url) == before
    code, out, err = invoke("ingest", str(path), "--update-entities", "--database-url", db_url)
    assert code == 0, err
    assert out.splitlines()[1:] == [
        "Changed entity 'rosatom': description \"Russian state corporation for nuclear energy "
        '(State Atomic Energy Corporation Rosatom)." → "Russia\'s nuclear company."',
        "Changed entity 'kazakhstan': geonames id \"1522867\" added",
        'Changed entity \'kazakhstan\': wikidata id "Q232" → "Q9999"',
    ]
    kazakhstan = next(r for r in entity_rows(engine) if r.key == "kazakhstan")
    assert kazakhstan.external_ids == {"wikidata": "Q9999", "geonames": "1522867"}
    with engine.connect() as conn:
        found = queries.list_entities(conn, external_id=("wikidata", "Q9999"), limit=5)[0]
        assert [e["id"] for e in found] == ["kazakhstan"]
        assert queries.list_entities(conn, external_id=("wikidata", "Q232"), limit=5)[0] == []


def test_an_external_id_names_one_entity(db_url: str, ingest: Ingest, tmp_path: Path) -> None:
    ingest(DATA)
    doc = second_doc()
    doc["entities"][8]["external_ids"] = {"wikidata": "Q232"}  # ulken, a new entity
    path = copy_second(tmp_path / "dup", doc)
    code, _, err = invoke("ingest", str(path), "--database-url", db_url)
    assert code == 1
    assert err.splitlines()[1] == (
        f'Error: {path}: $.entities[8].external_ids.wikidata: wikidata id "Q232" is already '
        "that of entity 'kazakhstan': give 'kazakhstan' as this entity's id if it is the same "
        "entity"
    )


def test_check_reports_every_problem_of_every_file_at_once(
    db_url: str, ingest: Ingest, tmp_path: Path
) -> None:
    ingest(DATA)
    doc = second_doc()
    doc["entities"][0]["mentions"][0] = "Rosatom"  # ambiguous
    doc["entities"].append({"id": "kazakstan"})  # an id nothing has
    doc["entities"][2]["nickname"] = "Lex"  # not a field
    doc["claims"][2]["anchors"] = ["Rosatom is ready for new projects"]  # not in the text
    doc["events"][1]["same_as"] = f"{SEED_ARTICLE}.referendum-2024"
    path = copy_second(tmp_path / "bad", doc)
    other = write_doc(tmp_path / "bad" / "other.json", minimal_doc(format="article-facts/2"))
    before = dump(db_url)
    ambiguous = (
        f'Error: {path}: $.entities[0].mentions[0]: quote "Rosatom" occurs 4 times in the '
        'article text; add "occurrence" (1 to 4) to say which (or "prefix"/"suffix"): #1 at 0 '
        '"[Rosatom] to lead consor…"; #2 at 151 "…ar corporation [Rosatom] to lead the in…"; '
        '#3 at 728 "… the project.\\n“[Rosatom] is ready for n…"; #4 at 790 "…n Kazakhstan,” '
        "[Rosatom]'s director gen…\""
    )
    missing = (
        f'Error: {path}: $.claims[2].anchors[0]: quote "Rosatom is ready for new projects" is '
        "not in the article text"
    )
    against_the_database = [
        f"Error: {path}: $.entities[10].id: unknown entity 'kazakstan': no stored entity has "
        "this id and no file of this run declares it (did you mean 'kazakhstan'?); to declare "
        "a new entity give its name and kind",
        f"Error: {path}: $.events[1].same_as: no event with id "
        f"'{SEED_ARTICLE}.referendum-2024' is stored or in this run (did you mean "
        f"'{SEED_ARTICLE}.referendum', '{SEED_ARTICLE}.referendum-results'?)",
    ]
    code, out, err = invoke("ingest", "--check", str(tmp_path / "bad"), "--database-url", db_url)
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0].startswith("Checking against ")
    # The file's schema, its quotes, and the rules against the database: in one run.
    assert lines[1:] == [
        f"Error: {other}: $.format: expected 'article-facts/1' (got \"article-facts/2\")",
        f"Error: {path}: $.entities[2].nickname: unknown field",
        ambiguous,
        missing,
        *against_the_database,
    ]
    assert dump(db_url) == before
    # Valid JSON whose quotes fail: the same problems against the database.
    del doc["entities"][2]["nickname"]
    other.unlink()
    copy_second(tmp_path / "bad", doc)
    code, _, err = invoke("ingest", "--check", str(tmp_path / "bad"), "--database-url", db_url)
    assert code == 1
    assert err.splitlines()[1:] == [ambiguous, missing, *against_the_database]
    assert dump(db_url) == before
    code, out, _ = invoke("ingest", "--check", str(SECOND), "--database-url", db_url)
    assert (code, out) == (0, "OK: 1 fact file(s) checked; nothing written\n")
    assert dump(db_url) == before


def test_a_file_with_schema_errors_is_checked_against_the_others_and_the_database(
    db_url: str, ingest: Ingest, tmp_path: Path
) -> None:
    """What an invalid file declares is checked as far as it can be read, and no further:
    its valid fields against what is stored, its references; an entity it declares with an
    invalid kind is still one the other files may refer to."""
    ingest(DATA)
    doc = second_doc()
    doc["claims"][0]["status"] = "maybe"
    doc["entities"].append({"id": "rosatomm"})
    doc["entities"].append({"id": "novatom", "name": "Novatom", "kind": "compnay"})
    doc["entities"][1]["name"] = "Kazakh Republic"  # stored as "Kazakhstan"
    doc["entities"][1]["mentions"].append({"quote": "Kazakh", "occurrence": 99})
    assert len(doc["entities"][1]["mentions"]) == 5
    path = copy_second(tmp_path / "run", doc)
    refers = minimal_doc()
    refers["article"]["id"] = "refers"
    refers["entities"][2] = {"id": "novatom"}  # declared, with an invalid kind, by the other file
    refers["relations"][0]["object"] = "novatom"
    refers["events"][0]["location"] = "novatom"
    write_doc(tmp_path / "run" / "z-refers.json", refers)
    before = dump(db_url)
    code, _, err = invoke("ingest", "--check", str(tmp_path / "run"), "--database-url", db_url)
    assert code == 1
    lines = err.splitlines()[1:]
    assert [line.split(": ")[2] for line in lines] == [
        "$.entities[11].kind",
        "$.claims[0].status",
        "$.entities[1].mentions[4]",
        "$.entities[1].name",
        "$.entities[10].id",
    ]
    assert lines[0].endswith('(got "compnay")') and lines[1].endswith('(got "maybe")')
    assert 'quote "Kazakh" occurs only 5 times, not 99: #1 at 31 ' in lines[2]
    assert lines[3].endswith(
        "entity 'kazakhstan' has name \"Kazakhstan\" in the database; this file gives "
        '"Kazakh Republic" (pass --update-entities to change it, or leave the field out to keep '
        "it)"
    )
    assert lines[4].endswith(
        "unknown entity 'rosatomm': no stored entity has this id and no file of this run "
        "declares it (did you mean 'rosatom', 'novatom'?); to declare a new entity give its "
        "name and kind"
    )
    assert all(line.startswith(f"Error: {path}: ") for line in lines)
    # Without the database's rules: ingest (not --check) stops before migrating or writing.
    with pytest.raises(IngestError) as info:
        ingest(tmp_path / "run")
    assert str(info.value).splitlines() == lines
    assert dump(db_url) == before


def test_check_against_a_database_of_an_older_schema_says_what_it_could_not_check(
    db_url: str, ingest: Ingest, tmp_path: Path
) -> None:
    ingest(DATA)
    doc = second_doc()
    doc["claims"][0]["status"] = "maybe"
    doc["events"][1]["same_as"] = "no-such-article.referendum"  # may be stored: not reported
    doc["entities"].append({"id": "kazakstan"})  # may be stored: not reported
    path = copy_second(tmp_path / "run", doc)
    refers = minimal_doc()
    refers["article"]["id"] = "refers"
    refers["events"].append(
        {"id": "r", "same_as": f"{ARTICLE}.no-such-event", "anchors": ["Bob said"]}
    )
    other = write_doc(tmp_path / "run" / "z-refers.json", refers)
    command.downgrade(alembic_config(db_url), "-1")
    try:
        before = dump(db_url)
        for args in (["--check"], []):
            code, _, err = invoke("ingest", *args, str(tmp_path / "run"), "--database-url", db_url)
            assert code == 1
            lines = err.splitlines()[1:]
            assert [line.split(": ")[1:3] for line in lines[:-1]] == [
                [str(path), "$.claims[0].status"],
                [str(other), "$.events[1].same_as"],
            ]
            assert lines[1].endswith(f"no event 'no-such-event' in article '{ARTICLE}' ({path})")
            assert lines[-1] == (
                "Error: the database's schema is older than this version's, so the files were "
                "not checked against what it stores (only against each other); run "
                "`article-facts migrate`, then check them again"
            )
            assert dump(db_url) == before
        # Files without problems: ingest migrates the database, checks them against what it
        # stores, and loads them.
        code, out, _ = invoke("ingest", str(SECOND), "--database-url", db_url)
        assert code == 0, out
        assert out.startswith("1 article (1 added)")
        assert database_state(db_url) == "ready"
    finally:
        command.upgrade(alembic_config(db_url), "head")


def _carol(doc: dict[str, Any]) -> dict[str, Any]:
    doc["entities"].append({"id": "carol", "name": "Carol", "kind": "person"})
    return doc


def test_what_a_broken_file_declares_is_not_reported_unknown_in_another(
    db_url: str, tmp_path: Path
) -> None:
    """A file with an article id already taken, or of another format, still declares its
    entities for the run's other files; a file that did not validate is told when it reports
    its own article's event, with its other problems."""
    folder = tmp_path / "run"
    folder.mkdir()
    first = write_doc(folder / "0.json", minimal_doc())
    taken = write_doc(folder / "1.json", _carol(minimal_doc()))  # the same article id
    other_format = _carol(minimal_doc(format="article-facts/2"))
    other_format["article"]["id"] = "future"
    other_format["entities"][3]["id"] = "dave"
    future = write_doc(folder / "2.json", other_format)
    refers = minimal_doc()
    refers["article"]["id"] = "refers"
    refers["entities"] += [{"id": "carol"}, {"id": "dave"}, {"id": "erin"}]
    refers["claims"][0]["status"] = "maybe"
    refers["events"].append({"id": "r", "same_as": "refers.meeting", "anchors": ["Bob said"]})
    refers_path = write_doc(folder / "3.json", refers)
    code, _, err = invoke("ingest", "--check", str(folder), "--database-url", db_url)
    assert code == 1
    assert err.splitlines()[1:] == [
        f"Error: {taken}: $.article.id: article 'test-article' is also in {first}",
        f"Error: {future}: $.format: expected 'article-facts/1' (got \"article-facts/2\")",
        f"Error: {refers_path}: $.claims[0].status: Input should be 'confirmed', 'unverified', "
        "'pending', 'disputed', 'refuted' or 'not_checkable' (got \"maybe\")",
        f"Error: {refers_path}: $.events[1].same_as: names an event of this same article",
        f"Error: {refers_path}: $.entities[5].id: unknown entity 'erin': no stored entity has "
        "this id and no file of this run declares it; to declare a new entity give its name "
        "and kind",
    ]


def test_a_run_that_fails_creates_no_database(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["entities"].append({"id": "nobody"})
    path = write_doc(tmp_path / "a.json", doc)
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with pytest.raises(IngestError, match=r"\$\.entities\[3\]\.id: unknown entity 'nobody'"):
        pipeline.run_ingest(url, [path])
    assert not (tmp_path / "new.db").exists()


def test_a_database_of_a_newer_schema_is_checked_against_nothing_and_not_loaded(
    db_url: str, ingest: Ingest, engine: Engine
) -> None:
    ingest(DATA)
    with engine.begin() as conn:
        (current,) = conn.exec_driver_sql("SELECT version_num FROM alembic_version").one()
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'fffffffffff1'")
    try:
        before = dump(db_url)
        for args in (["--check"], []):
            code, _, err = invoke("ingest", *args, str(SECOND), "--database-url", db_url)
            assert code == 1
            assert err.splitlines()[1:] == [
                "Error: the database's schema is newer than this version of article-facts "
                "knows, so the files were not checked against what it stores (only against "
                "each other), and nothing can be loaded into it; use the version of "
                "article-facts that migrated it"
            ]
            assert dump(db_url) == before
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{current}'")


def test_the_referendum_is_one_event_reported_by_two_articles(both: TestClient) -> None:
    first, report = f"{SEED_ARTICLE}.referendum", f"{ARTICLE}.referendum"
    body = both.get(f"/events/{first}").json()
    EventDetail.model_validate(body)
    reports = [
        {
            "id": first,
            "article": SEED_ARTICLE,
            "published": "2024-10-17",
            "anchors": [
                {
                    "start": 1296,
                    "end": 1407,
                    "exact": "Kazakhstan held a nationwide referendum on the construction of "
                    "a nuclear power plant (NPP) in the Almaty region",
                }
            ],
        },
        {
            "id": report,
            "article": ARTICLE,
            "published": "2025-06-14",
            "anchors": [{"start": 496, "end": 529, "exact": "the referendum of October 6, 2024"}],
        },
    ]
    assert (body["same_as"], body["reports"]) == (None, reports)
    assert f"{ARTICLE}.referendum-result" in body["claims"]
    other = both.get(f"/events/{report}").json()
    assert (other["same_as"], other["reports"]) == (first, reports)
    # The report is the event: its kind, time, place and status are the first report's.
    for field in ("kind", "summary", "location", "participants", "status", "modality"):
        assert other[field] == body[field], field
    assert other["time"] == {**body["time"], "anchor": None}
    # Lists show each report, marked; first_report keeps one item per event.
    with_reports = both.get("/events", params={"kind": "referendum"}).json()["items"]
    assert [(e["id"], e["same_as"]) for e in with_reports] == [(first, None), (report, first)]
    second = both.get(f"/articles/{ARTICLE}/events").json()["items"]
    assert [e["id"] for e in second] == [
        f"{ARTICLE}.rosatom-selected",
        report,
        f"{ARTICLE}.other-bidders",
    ]


def test_a_reported_claim_appears_in_both_articles_for_claimreview(both: TestClient) -> None:
    first = f"{SEED_ARTICLE}.referendum-result-71-12"
    detail = ClaimDetail.model_validate(both.get(f"/claims/{ARTICLE}.referendum-result").json())
    assert detail.same_as == first
    assert [r.article for r in detail.reports] == [SEED_ARTICLE, ARTICLE]
    assert detail.status.value == "confirmed" and [h.status.value for h in detail.history] == [
        "confirmed"
    ]
    review = both.get(f"/claims/{first}", params={"format": "claimreview"}).json()
    item = review["itemReviewed"]
    assert [a["identifier"] for a in item["appearance"]] == [SEED_ARTICLE, ARTICLE]
    assert item["firstAppearance"]["identifier"] == SEED_ARTICLE
    assert item["firstAppearance"]["datePublished"] == "2024-10-17"


def test_an_opinion_is_not_checkable_and_never_true(both: TestClient) -> None:
    key = f"{ARTICLE}.rosatom-ready"
    claim = both.get(f"/claims/{key}").json()
    assert (claim["kind"], claim["status"]) == ("opinion", "not_checkable")
    review = both.get(f"/claims/{key}", params={"format": "claimreview"}).json()
    assert "reviewRating" not in review
    assert review["reviewBody"].startswith("Not checkable: ")
    reviews = both.get(f"/articles/{ARTICLE}/claims", params={"format": "claimreview"}).text
    unrated = [r for r in json.loads(reviews)["@graph"] if "reviewRating" not in r]
    assert [r["identifier"] for r in unrated] == [key, f"{ARTICLE}.sanctions-risk"]
    assert all('"True"' not in json.dumps(r) for r in unrated)
    statuses = {s["status"]: s for s in both.get("/verification-statuses").json()}
    assert statuses["not_checkable"]["claims"] == 2
    assert (
        statuses["not_checkable"]["claimreview_rating"],
        statuses["not_checkable"]["fever_label"],
    ) == (None, None)
    methodology = both.get("/methodology").json()
    assert methodology["crosswalks"]["claimreview"]["mapping"]["not_checkable"] is None
    assert "no `reviewRating`" in methodology["crosswalks"]["claimreview"]["unmapped"]
    assert methodology["crosswalks"]["fever"]["mapping"]["not_checkable"] is None


def test_unnamed_sources_quantities_and_times_known_only_from_a_note(both: TestClient) -> None:
    claim = both.get(f"/claims/{ARTICLE}.sanctions-risk").json()
    assert claim["claimant"] == {
        "id": None,
        "name": "some Kazakhs concerned about safety",
        "kind": None,
        "anchor": {"start": 1019, "end": 1054, "exact": "Some Kazakhs concerned about safety"},
    }
    review = both.get(f"/claims/{ARTICLE}.sanctions-risk?format=claimreview").json()
    assert review["itemReviewed"]["author"] == {
        "@type": "Person",
        "name": "some Kazakhs concerned about safety",
        "description": "an unnamed source",
    }
    capacity = both.get(f"/claims/{ARTICLE}.plant-capacity").json()
    assert capacity["quantities"] == [
        {"value": 2.4, "unit": "GW", "anchor": {"start": 460, "end": 473, "exact": "2.4 gigawatts"}}
    ]
    event = both.get(f"/events/{ARTICLE}.other-bidders").json()
    assert event["time"] == {
        "start": None,
        "end": None,
        "precision": None,
        "anchor": None,
        "note": "Before publication; the article gives no date.",
    }
    # A date window never matches a time known only from its note.
    dated = both.get("/events", params={"date_from": "2025-01-01"}).json()["items"]
    assert [e["id"] for e in dated] == [
        f"{SEED_ARTICLE}.npp-construction",
        f"{ARTICLE}.rosatom-selected",
    ]


def test_lists_filter_on_quantities_reports_and_provenance(both: TestClient) -> None:
    def claims(**filters: Any) -> list[str]:
        body = get_json(both, "/claims", {"limit": 100, **filters})
        return [c["id"].rpartition(".")[2] for c in body["items"]]

    assert claims(has_quantity="true") == ["plant-capacity", "population"]
    assert claims(quantity_unit="GW") == ["plant-capacity"]
    assert claims(quantity_min=1_000, quantity_unit="people") == ["population"]
    assert claims(quantity_min=1, quantity_max=10) == ["plant-capacity"]
    assert claims(quantity_max=1) == []
    assert len(claims(has_quantity="false")) == 16
    assert claims(first_report="false") == ["referendum-result"]
    assert len(claims(first_report="true")) == 17
    assert len(claims(reviewed="true")) == 18 and claims(reviewed="false") == []
    assert claims(extractor="article-facts draft") == []
    refused = get_json(both, "/claims", {"quantity_min": 10, "quantity_max": 1}, status=422)
    assert refused["errors"][0]["msg"] == "must not be less than quantity_min (10)"
    assert get_json(both, "/claims", {"quantity_min": "nan"}, status=422)
    events = get_json(both, "/events", {"reviewed": "false", "limit": 100})["items"]
    assert [(e["id"], e["provenance"]) for e in events] == [
        (
            f"{ARTICLE}.rosatom-selected",
            {
                "extractor": "article-facts draft",
                "extractor_version": "0.1",
                "model": None,
                "model_version": None,
                "reviewed": False,
            },
        )
    ]
    drafted = get_json(both, "/events", {"extractor": "article-facts draft"})["items"]
    assert [e["id"] for e in drafted] == [f"{ARTICLE}.rosatom-selected"]
    assert len(get_json(both, "/events", {"extractor": "person", "limit": 100})["items"]) == 15
    assert len(get_json(both, "/entities", {"reviewed": "true", "limit": 100})["items"]) == 23
    assert get_json(both, "/entities", {"reviewed": "false"})["items"] == []


def test_an_entity_is_found_by_its_external_id(both: TestClient) -> None:
    found = get_json(both, "/entities", {"external_id": "wikidata:Q232", "fields": "name"})
    assert found["items"] == [{"id": "kazakhstan", "name": "Kazakhstan"}]
    assert get_json(both, "/entities", {"external_id": "wikidata:Q1"})["items"] == []
    refused = get_json(both, "/entities", {"external_id": "Q232"}, status=422)
    assert refused["errors"][0]["loc"] == ["query", "external_id"]


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("kaz", "kazakhstan"),
        ("KAZAKHSTAN", "kazakhstan"),
        ("Republic of Kaz", "kazakhstan"),
        ("tokay", "kassym-jomart-tokayev"),
        ("Токаев", "kassym-jomart-tokayev"),
        ("лихачев", "alexey-likhachev"),
        ("Лихачёв", "alexey-likhachev"),
        ("росатом", "rosatom"),
        ("ulken", "ulken"),
        ("kassym jo", "kassym-jomart-tokayev"),
        ("  kassym-JOMART ", "kassym-jomart-tokayev"),
    ],
)
def test_entity_lookup_as_you_type(both: TestClient, typed: str, first: str) -> None:
    found = get_json(both, "/entities/suggest", {"q": typed, "limit": 5})["items"]
    assert found and found[0]["id"] == first, found
    assert set(found[0]) == {"id", "name", "kind", "matched"}


def test_entity_lookup_ranks_and_filters(both: TestClient, engine: Engine, db_url: str) -> None:
    with engine.connect() as conn:
        found = queries.suggest_entities(conn, q="kazakhstan", limit=4)
        # The exact name, then names starting so, shortest first.
        assert found[0] == {
            "id": "kazakhstan",
            "name": "Kazakhstan",
            "kind": "country",
            "matched": "Kazakhstan",
        }
        # Then names starting so (shortest first), before names with a later word that does.
        assert found[1]["id"] == "kazakhstan-first-nuclear-power-plant"
        assert [e["id"] for e in found[2:]] == [
            "government-of-kazakhstan",
            "kazakhstan-agency-for-atomic-energy",
        ]
        bodies = queries.suggest_entities(conn, q="kaz", kinds=["government_body"], limit=50)
        assert bodies and {e["kind"] for e in bodies} == {"government_body"}
        assert get_json(both, "/entities/suggest", {"q": "kaz", "kind": "government_body"}) == {
            "items": bodies[:10]
        }
        alias = queries.suggest_entities(conn, q="Госкорпорация", limit=5)
        assert alias == [
            {
                "id": "rosatom",
                "name": "Rosatom",
                "kind": "organization",
                "matched": "Госкорпорация «Росатом»",
            }
        ]
        assert queries.suggest_entities(conn, q="…", limit=5) == []
        assert queries.suggest_entities(conn, q="zzzz", limit=5) == []
    assert get_json(both, "/entities/suggest", {"q": "zzzz"}) == {"items": []}
    for bad in ({}, {"q": ""}, {"q": "kaz", "limit": 0}, {"q": "kaz", "limit": 101}):
        assert get_json(both, "/entities/suggest", bad, status=422)
    code, out, _ = invoke("entities", "find", "Лихачёв", "--database-url", db_url)
    assert code == 0
    assert out.split() == ["id", "name", "kind", "matched"] + out.split()[4:]
    assert "alexey-likhachev" in out and "Алексей Лихачев" in out
    code, _, err = invoke("entities", "find", "zzzz", "--database-url", db_url)
    assert code == 1 and "No entity matches 'zzzz'" in err


def test_every_vocabulary_value_has_a_definition(client: TestClient) -> None:
    from app.ingest.document import json_schema
    from app.vocabularies import VOCABULARIES, vocabularies

    body = vocabularies()
    assert get_json(client, "/vocabularies") == body
    assert [Vocabulary.model_validate(v).name for v in body] == [v.name for v in VOCABULARIES]
    for vocabulary in VOCABULARIES:
        assert set(vocabulary.definitions) == set(vocabulary.enum)
        assert all(len(d) > 10 for d in vocabulary.definitions.values())
    schema = json_schema()["$defs"]
    assert {c["const"] for c in schema["RelationPredicate"]["oneOf"]} >= {
        "attacked",
        "invaded",
        "opposes",
        "member_of",
        "supplier_of",
    }
    for name in ("EntityKind", "RelationPredicate", "EventKind", "ClaimKind", "VerificationStatus"):
        assert all(value["description"] for value in schema[name]["oneOf"]), name
    statuses = next(v for v in body if v["name"] == "verification_status")["values"]
    assert statuses[-1] == {
        "value": "not_checkable",
        "definition": "An opinion, prediction, promise or other statement that cannot be true "
        "or false; never given a true/false rating.",
        "label": "Not checkable",
        "claimreview_rating": None,
        "fever_label": None,
    }
    assert queries.vocabularies() == body
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    for vocabulary in VOCABULARIES:
        if vocabulary.name != "verification_status":
            for value in vocabulary.values():
                assert f"| `{value['value']}` | {value['definition']} |" in readme, value


def test_the_published_schema_takes_the_second_article_and_one_text() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from app.ingest.document import json_schema

    schema = json_schema()
    jsonschema.validate(second_doc(), schema)
    doc = minimal_doc()
    doc["article"]["text_file"] = "a.txt"  # both text and text_file
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
    del doc["article"]["text"], doc["article"]["text_file"]  # neither
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
    report = {"id": "r", "same_as": "a.b", "anchors": ["Alice"], "kind": "meeting"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**minimal_doc(), "events": [report]}, schema)


def test_a_file_edited_between_check_and_load_is_not_loaded(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """Edited after its check to take another article's id, a file is not loaded at all."""
    folder = tmp_path / "facts"
    folder.mkdir()
    for i in range(2):
        doc = minimal_doc()
        doc["article"]["id"] = f"article-{i}"
        write_doc(folder / f"{i}.json", doc)
    monkeypatch.setattr(pipeline, "KEEP_CHECKED", 1)
    reads: list[str] = []

    def read(path: Path, *rest: Any) -> Any:
        reads.append(path.name)
        if len(reads) == 3:  # both checked, 0.json loaded: 1.json, read again, now says 0's id
            changed = minimal_doc()
            changed["article"]["id"] = "article-0"
            changed["article"]["title"] = "Overwritten"
            write_doc(path, changed)
        return read_fact_file(path, *rest)

    monkeypatch.setattr(pipeline, "read_fact_file", read)
    with pytest.raises(IngestError) as info:
        pipeline.run_ingest(db_url, [folder])
    assert str(info.value).endswith(
        f"Error: {folder / '1.json'}: the file changed after it was checked; nothing of it was "
        "loaded; 1 earlier article(s) of this run were loaded"
    )
    with TestClient(create_app(Settings(database_url=db_url, load_seed=False))) as client:
        articles = client.get("/articles").json()["items"]
    assert [(a["id"], a["title"]) for a in articles] == [("article-0", "Alice meets Bob")]


def test_overlapping_runs_cannot_give_one_entity_two_kinds(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """A run checked before another wrote: its load sees what the other wrote, and stops."""
    a, b = minimal_doc(), minimal_doc()
    a["article"]["id"], b["article"]["id"] = "run-a", "run-b"
    b["entities"][2]["kind"] = "region"  # "paris", new to both runs
    path_a = write_doc(tmp_path / "a.json", a)
    path_b = write_doc(tmp_path / "b.json", b)
    load = pipeline.ingest_documents

    def other_run_first(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(pipeline, "ingest_documents", load)
        pipeline.run_ingest(db_url, [path_b])  # checked and loaded while run A waits
        return load(*args, **kwargs)

    monkeypatch.setattr(pipeline, "ingest_documents", other_run_first)
    with pytest.raises(IngestError) as info:
        pipeline.run_ingest(db_url, [path_a])
    assert str(info.value).splitlines() == [
        f"Error: {path_a}: $.entities[2].kind: entity 'paris' has kind \"region\" in the "
        'database; this file gives "city" (pass --update-entities to change it, or leave the '
        "field out to keep it); if it is a different entity, give it another id",
        f"Error: {path_a}: the database changed after the check; nothing of this file was loaded",
    ]
    with engine.connect() as conn:
        rows = conn.execute(select(entity_t.c.key, entity_t.c.kind)).all()
        articles = conn.exec_driver_sql("SELECT key FROM article").scalars().all()
    assert dict(rows)["paris"] == "region"
    assert list(articles) == ["run-b"]


def test_a_report_must_name_a_stored_fact_or_one_of_the_run(
    db_url: str, ingest: Ingest, tmp_path: Path
) -> None:
    # Both in one run, the report first in file order: the reported article loads first.
    folder = tmp_path / "run"
    shutil.copytree(DATA, folder)
    copy_second(folder / "a-first")
    result = ingest(folder)
    assert result.get("articles", "added") == 2
    doc = second_doc()
    doc["claims"][1]["same_as"] = f"{SEED_ARTICLE}.rosatom-ready"
    with pytest.raises(IngestError, match=r"\$\.claims\[1\]\.same_as: no claim with id"):
        ingest(copy_second(tmp_path / "x", doc))
    circle_a = minimal_doc()
    circle_a["article"]["id"] = "circle-a"
    circle_a["events"].append({"id": "r", "same_as": "circle-b.meeting", "anchors": ["Bob said"]})
    circle_b = copy.deepcopy(circle_a)
    circle_b["article"]["id"] = "circle-b"
    circle_b["events"][1]["same_as"] = "circle-a.meeting"
    (tmp_path / "circle").mkdir()
    write_doc(tmp_path / "circle" / "a.json", circle_a)
    write_doc(tmp_path / "circle" / "b.json", circle_b)
    with pytest.raises(IngestError, match="report each other's facts in a circle"):
        ingest(tmp_path / "circle")


def test_lookup_forgets_an_alias_no_article_gives_any_more(
    ingest: Ingest, engine: Engine, tmp_path: Path
) -> None:
    ingest(DATA)
    ingest(SECOND)

    def found(typed: str) -> list[str]:
        with engine.connect() as conn:
            return [e["matched"] for e in queries.suggest_entities(conn, q=typed, limit=5)]

    doc = second_doc()
    doc["entities"][1]["aliases"] = [{"name": "Great Steppe Country", "language": "en"}]
    ingest(copy_second(tmp_path / "renamed", doc))
    assert found("great steppe") == ["Great Steppe Country"]
    assert found("steppe c") == ["Great Steppe Country"]
    doc["entities"][1]["aliases"] = [{"name": "RK", "language": "en"}]
    ingest(copy_second(tmp_path / "renamed", doc))
    assert found("great steppe") == found("steppe c") == []
    assert found("rk") == ["RK"]
    doc["entities"] = [e for e in doc["entities"] if e["id"] != "kazakhstan"]
    doc["events"][0]["participants"] = doc["events"][0]["participants"][1:]
    doc["events"][0].pop("location")
    doc["claims"][2]["subjects"] = ["rosatom"]
    doc["claims"][5]["subjects"] = []
    ingest(copy_second(tmp_path / "renamed", doc))
    assert found("rk") == []
    assert found("kazakhstan")[0] == "Kazakhstan"  # the seed still names it
