"""The `article-facts` command: exit codes, messages, and the database after bad input."""

import copy
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from app import fts
from app.cli import cli
from app.db import alembic_config, create_db_engine, schema_revision
from app.ingest import pipeline
from app.ingest.document import json_schema, read_fact_file
from app.settings import get_settings
from tests.conftest import DATA, SEED_ARTICLE, minimal_doc, write_doc
from tests.databases import dump, is_sqlite
from tests.server import serve
from tests.test_ingest_document import BAD_DOCUMENTS

runner = CliRunner()


def _file_bytes(url: str) -> bytes:
    """The SQLite file itself (unchanged means not even a page was rewritten)."""
    return Path(url.removeprefix("sqlite:///")).read_bytes() if is_sqlite(url) else b""


def invoke(*args: str) -> tuple[int, str, str]:
    """Exit code, standard output, and standard error without the line naming the database
    (see ``test_commands_say_which_database_they_use``)."""
    result = runner.invoke(cli, list(args))
    err = result.stderr
    first, _, rest = err.partition("\n")
    if first.startswith(("Database: ", "Checking against ")):
        err = rest
    return result.exit_code, result.stdout, err


def test_ingest_seed_then_again_says_nothing_changed(db_url: str) -> None:
    url = db_url
    code, out, _ = invoke("ingest", str(DATA), "--database-url", url)
    assert code == 0
    assert out.startswith("1 article (1 added); ")
    assert "claims (" in out and "added)" in out
    code, out, _ = invoke("ingest", str(DATA), "--database-url", url)
    assert code == 0
    assert out.startswith("Nothing changed: 1 article (1 unchanged); ")


@pytest.mark.parametrize(
    ("case", "mutate", "where", "problem"), BAD_DOCUMENTS, ids=[b[0] for b in BAD_DOCUMENTS]
)
def test_bad_input_exits_1_and_leaves_the_database_unchanged(
    tmp_path: Path, db_url: str, case: str, mutate: object, where: str, problem: str
) -> None:
    url = db_url
    assert invoke("ingest", str(DATA), "--database-url", url)[0] == 0
    good = write_doc(tmp_path / "a-good.json", minimal_doc())
    before = dump(url)
    before_bytes = _file_bytes(url)

    doc = copy.deepcopy(minimal_doc())
    doc["article"]["id"] = "bad-article"
    mutate(doc)  # type: ignore[operator]
    bad = write_doc(tmp_path / "b-bad.json", doc)
    # The good file comes first: it must not be written either.
    code, out, err = invoke("ingest", str(good), str(bad), "--database-url", url)
    assert code == 1
    assert out == ""
    assert err.startswith(f"Error: {bad}: {where}: ")
    assert problem in err.splitlines()[0]
    assert "Traceback" not in err
    assert dump(url) == before
    assert _file_bytes(url) == before_bytes


def test_unreadable_inputs(tmp_path: Path, db_url: str) -> None:
    url = db_url
    code, _, err = invoke("ingest", str(tmp_path / "missing.json"), "--database-url", url)
    assert (code, err.strip()) == (
        1,
        f"Error: {tmp_path / 'missing.json'}: no such file or directory",
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = invoke("ingest", str(empty), "--database-url", url)
    assert code == 1 and "no fact files (*.json) found" in err
    write_doc(tmp_path / "bad.json", "{not json")
    code, _, err = invoke("ingest", str(tmp_path / "bad.json"), "--database-url", url)
    assert code == 1 and err.startswith(
        f"Error: {tmp_path / 'bad.json'}: line 1, column 2: invalid JSON"
    )


def test_same_article_in_two_files_is_refused(tmp_path: Path, db_url: str) -> None:
    url = db_url
    a = write_doc(tmp_path / "a.json", minimal_doc())
    b = write_doc(tmp_path / "b.json", minimal_doc())
    code, _, err = invoke("ingest", str(a), str(b), "--database-url", url)
    assert code == 1
    assert err.strip() == f"Error: {b}: $.article.id: article 'test-article' is also in {a}"


def test_folder_ingest_with_several_files(tmp_path: Path, db_url: str) -> None:
    url = db_url
    for i in range(3):
        doc = minimal_doc()
        doc["article"]["id"] = f"article-{i}"
        write_doc(tmp_path / f"{i}.json", doc)
    code, out, _ = invoke("ingest", str(tmp_path), "--database-url", url)
    assert code == 0
    # Entities are counted per article that declares them: the shared ones gain mentions.
    assert out.strip() == (
        "3 articles (3 added); 9 entities (3 added, 6 updated); 3 events (3 added); "
        "3 claims (3 added)"
    )


def _articles(folder: Path, count: int) -> Path:
    """``count`` small fact files, ``0.json`` …, of articles ``article-0`` …"""
    folder.mkdir()
    for i in range(count):
        doc = minimal_doc()
        doc["article"]["id"] = f"article-{i}"
        write_doc(folder / f"{i}.json", doc)
    return folder


def test_a_run_larger_than_memory_keeps_reads_the_rest_again(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past KEEP_CHECKED articles, the load reads files again: same database, same summary."""
    folder = _articles(tmp_path / "facts", 4)
    monkeypatch.setattr(pipeline, "KEEP_CHECKED", 1)
    reads: list[str] = []

    def read(path: Path, *_: Any) -> Any:
        reads.append(path.name)
        return read_fact_file(path)

    monkeypatch.setattr(pipeline, "read_fact_file", read)
    code, out, _ = invoke("ingest", str(folder), "--database-url", db_url)
    assert code == 0, out
    assert out.strip().startswith("4 articles (4 added); 12 entities (3 added, 9 updated)")
    # Every file checked once; all but the first read again to be loaded.
    assert reads == ["0.json", "1.json", "2.json", "3.json", "1.json", "2.json", "3.json"]


def test_a_large_run_is_checked_in_several_processes(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same load, and the same first error in file order, when checked in parallel."""
    folder = _articles(tmp_path / "facts", 6)
    monkeypatch.setattr(pipeline, "KEEP_CHECKED", 1)
    monkeypatch.setattr(pipeline, "PARALLEL_FILES", 2)
    monkeypatch.setattr(pipeline, "WORKER_PROCESSES", 2)
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    for name in ("2.json", "4.json"):
        (bad / name).write_text('{"format": "article-facts/1"', "utf-8")
    # What a file with errors declares comes back from its process for the checks across files.
    doc = json.loads((bad / "5.json").read_text("utf-8"))
    doc["claims"][0]["status"] = "maybe"
    doc["entities"].append({"id": "nobody"})
    write_doc(bad / "5.json", doc)
    code, _, err = invoke("ingest", str(bad), "--database-url", db_url)
    assert code == 1
    # Every bad file is reported, in file order.
    assert err.splitlines() == [
        f"Error: {bad / '2.json'}: line 1, column 29: invalid JSON: unexpected end of data",
        f"Error: {bad / '4.json'}: line 1, column 29: invalid JSON: unexpected end of data",
        f"Error: {bad / '5.json'}: $.claims[0].status: Input should be 'confirmed', "
        "'unverified', 'pending', 'disputed', 'refuted' or 'not_checkable' (got \"maybe\")",
        f"Error: {bad / '5.json'}: $.entities[3].id: unknown entity 'nobody': no stored entity "
        "has this id and no file of this run declares it; to declare a new entity give its "
        "name and kind",
    ], err
    code, out, _ = invoke("ingest", str(folder), "--database-url", db_url)
    assert code == 0, out
    assert out.strip().startswith("6 articles (6 added); 18 entities (3 added, 15 updated)")


def test_a_file_changed_between_check_and_load_stops_the_run(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _articles(tmp_path / "facts", 2)
    monkeypatch.setattr(pipeline, "KEEP_CHECKED", 1)
    reads: list[str] = []

    def read(path: Path, *_: Any) -> Any:
        reads.append(path.name)
        if len(reads) == 3:  # both checked, 0.json loaded: 1.json is read again, now broken
            path.write_text("{", "utf-8")
        return read_fact_file(path)

    monkeypatch.setattr(pipeline, "read_fact_file", read)
    code, _, err = invoke("ingest", str(folder), "--database-url", db_url)
    assert code == 1
    # What is wrong with it now, then what became of the run.
    assert err.splitlines() == [
        f"Error: {folder / '1.json'}: line 1, column 2: invalid JSON: unexpected end of data",
        f"Error: {folder / '1.json'}: the file changed after it was checked; nothing of it was "
        "loaded; 1 earlier article(s) of this run were loaded",
    ]


def test_progress_bar_on_a_terminal(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = db_url
    for i in range(2):
        doc = minimal_doc()
        doc["article"]["id"] = f"article-{i}"
        write_doc(tmp_path / f"{i}.json", doc)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    result = pipeline.run_ingest(url, [tmp_path], show_progress=True, console=console)
    assert result.get("articles", "added") == 2
    assert "Loading" in screen.getvalue() and "2/2" in screen.getvalue()


def test_schema_command_prints_the_published_schema() -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    assert json.loads(out) == json_schema()


def test_migrate_command(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    code, out, _ = invoke("migrate", "--database-url", f"sqlite:///{path}")
    assert code == 0 and "Database at head" in out
    assert path.exists()


def test_migrate_command_on_each_database(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "base")
    code, out, _ = invoke("migrate", "--database-url", db_url)
    assert code == 0 and "Database at head" in out
    engine = create_db_engine(db_url)
    try:
        current, head = schema_revision(engine)
    finally:
        engine.dispose()
    assert current == head is not None
    password = make_url(db_url).password
    assert not password or (f":{password}@" not in out and ":***@" in out)


def test_invalid_settings_fail_with_a_clear_message() -> None:
    code, _, err = invoke("migrate", "--database-url", "mysql://x")
    assert code == 1
    assert "Error: invalid settings: APP_DATABASE_URL:" in err


def test_serve_migrates_loads_the_seed_and_answers(db_url: str) -> None:
    """The README's first command, for real: a server process on an empty database."""
    with serve(db_url) as server:
        body = httpx.get(f"{server.url}/claims", params={"status": "pending"}).json()
        assert body["items"] and all(c["status"] == "pending" for c in body["items"])
        assert all(c["article"] == SEED_ARTICLE for c in body["items"])
        assert httpx.get(f"{server.url}/readyz").json()["status"] == "ok"
    assert "Loaded seed from" in server.output()


def test_an_entity_id_reused_for_another_kind_is_refused(tmp_path: Path, db_url: str) -> None:
    url = db_url
    first = write_doc(tmp_path / "a.json", minimal_doc())
    assert invoke("ingest", str(first), "--database-url", url)[0] == 0
    before = dump(url)
    other = minimal_doc()
    other["article"]["id"] = "second-article"
    other["entities"][2]["kind"] = "person"  # "paris", already a city in test-article
    second = write_doc(tmp_path / "b.json", other)
    code, _, err = invoke("ingest", str(second), "--database-url", url)
    assert code == 1
    assert err.strip() == (
        f"Error: {second}: $.entities[2].kind: entity 'paris' has kind \"city\" in the "
        'database; this file gives "person" (pass --update-entities to change it, or leave the '
        "field out to keep it); if it is a different entity, give it another id"
    )
    assert dump(url) == before
    # Not even the article that declared it may change a stored kind unasked.
    mine = minimal_doc()
    mine["entities"][2]["kind"] = "region"
    assert invoke("ingest", str(write_doc(first, mine)), "--database-url", url)[0] == 1
    assert dump(url) == before
    code, out, _ = invoke("ingest", str(first), "--update-entities", "--database-url", url)
    assert code == 0
    assert out.splitlines()[1:] == ['Changed entity \'paris\': kind "city" → "region"']


def test_two_files_of_one_run_giving_an_entity_two_kinds(tmp_path: Path, db_url: str) -> None:
    url = db_url
    write_doc(tmp_path / "a.json", minimal_doc())
    other = minimal_doc()
    other["article"]["id"] = "second-article"
    other["entities"][0]["kind"] = "organization"
    b = write_doc(tmp_path / "b.json", other)
    code, _, err = invoke("ingest", str(tmp_path), "--database-url", url)
    assert code == 1
    assert err.strip() == (
        f"Error: {b}: $.entities[0].kind: entity 'alice' has kind \"person\" in "
        f'{tmp_path / "a.json"} of this run; this file gives "organization" (pass '
        "--update-entities to change it, or leave the field out to keep it); if it is a "
        "different entity, give it another id"
    )


def test_database_failures_are_one_line_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("article-facts")
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    for args in (["ingest", str(DATA)], ["migrate"]):
        proc = subprocess.run(
            [str(script), *args, "--database-url", url], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 1
        assert proc.stderr.strip().splitlines() == [
            f"Database: {tmp_path / 'missing-dir' / 'x.db'} (SQLite)",
            "Error: database: unable to open database file",
        ]


REFUSE_ARTICLE_1 = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON article WHEN NEW.key = 'article-1' "
        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NEW.key = 'article-1' THEN RAISE EXCEPTION 'disk on fire'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON article FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


def test_a_database_failure_mid_run_rolls_back_that_article_and_says_so(
    tmp_path: Path, db_url: str
) -> None:
    url = db_url
    engine = create_db_engine(url)
    with engine.begin() as conn:
        for statement in REFUSE_ARTICLE_1[engine.dialect.name]:
            conn.exec_driver_sql(statement)
    try:
        for i in range(2):
            doc = minimal_doc()
            doc["article"]["id"] = f"article-{i}"
            write_doc(tmp_path / f"{i}.json", doc)
        code, _, err = invoke("ingest", str(tmp_path), "--database-url", url)
        assert code == 1
        assert err.strip() == (
            f"Error: {tmp_path / '1.json'}: database: disk on fire (1 earlier article(s) of this run were loaded)"
        )
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT key FROM article").all() == [("article-0",)]
            assert conn.exec_driver_sql("SELECT count(*) FROM claim").scalar() == 1
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "DROP TRIGGER refuse ON article"
                if engine.dialect.name == "postgresql"
                else "DROP TRIGGER refuse"
            )
        engine.dispose()


def test_an_entity_kind_fixed_in_every_article_at_once(tmp_path: Path, db_url: str) -> None:
    url = db_url
    docs = []
    for i in range(2):
        doc = minimal_doc()
        doc["article"]["id"] = f"article-{i}"
        docs.append(doc)
        write_doc(tmp_path / f"{i}.json", doc)
    assert invoke("ingest", str(tmp_path), "--database-url", url)[0] == 0
    for i, doc in enumerate(docs):
        doc["entities"][2]["kind"] = "region"
        write_doc(tmp_path / f"{i}.json", doc)
    code, out, err = invoke("ingest", str(tmp_path), "--database-url", url)
    assert (code, err) == (1, err)
    assert "pass --update-entities to change it" in err
    code, out, err = invoke("ingest", str(tmp_path), "--update-entities", "--database-url", url)
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == ['Changed entity \'paris\': kind "city" → "region"']


def test_settings_errors_print_brackets_and_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_DATABASE_URL", "postgresql+psycopg//af:[s3cret]@host/db")
    get_settings.cache_clear()
    try:
        code, _, err = invoke("migrate")
    finally:
        get_settings.cache_clear()
    assert code == 1
    assert err.startswith("Error: invalid settings: APP_DATABASE_URL: ")
    assert "cannot be parsed" in err and "s3cret" not in err
    monkeypatch.setenv("APP_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("APP_ROOT_PATH", "[facts]")
    assert "[facts]" not in invoke("migrate")[2]  # the value is not echoed either way


def test_a_run_writing_a_large_share_of_the_articles_merges_the_search_indexes(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged: list[str] = []
    merge = fts.merge_indexes

    def recorded(conn: Any) -> None:
        merged.append(conn.dialect.name)
        merge(conn)

    monkeypatch.setattr(fts, "merge_indexes", recorded)
    url = db_url
    assert invoke("ingest", str(_articles(tmp_path / "first", 20)), "--database-url", url)[0] == 0
    assert len(merged) == 1  # 20 of 20 articles
    later = tmp_path / "later"
    later.mkdir()
    write_doc(later / "late.json", minimal_doc(article={**minimal_doc()["article"], "id": "late"}))
    assert invoke("ingest", str(later), "--database-url", url)[0] == 0
    assert len(merged) == 1  # 1 of 21: left to the index's own merging
    if is_sqlite(url):
        engine = create_db_engine(url)
        try:
            with engine.begin() as conn:
                for table in fts.FTS_TABLES.values():
                    conn.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
                found = conn.exec_driver_sql(
                    "SELECT count(*) FROM article_fts WHERE article_fts MATCH 'alice'"
                ).scalar()
                assert found == 21
        finally:
            engine.dispose()


def test_a_failed_merge_of_the_search_indexes_is_a_warning(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(conn: Any) -> None:
        raise OperationalError("INSERT INTO article_fts …", {}, Exception("disk on fire"))

    monkeypatch.setattr(fts, "merge_indexes", fail)
    code, out, err = invoke("ingest", str(_articles(tmp_path / "a", 3)), "--database-url", db_url)
    assert code == 0
    assert out.startswith("3 articles (3 added); ")
    assert err.strip() == "Warning: the search indexes were not merged: disk on fire"
    assert invoke("ingest", str(tmp_path / "a"), "--database-url", db_url)[1].startswith(
        "Nothing changed: 3 articles (3 unchanged)"
    )


def test_help_shows_no_python_types() -> None:
    for args in (
        ["--help"],
        ["ingest", "--help"],
        ["serve", "--help"],
        ["migrate", "--help"],
        ["entities", "find", "--help"],
        ["healthcheck", "--help"],
    ):
        code, out, _ = invoke(*args)
        assert code == 0, args
        assert "<bool>" not in out and "<str>" not in out and "{" not in out, (args, out)
    assert "--update-entities" in invoke("ingest", "--help")[1]


def test_commands_say_which_database_they_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        f"Database: {tmp_path / 'article-facts.db'} (SQLite), the default: a file in the "
        "working directory (APP_DATABASE_URL or --database-url choose another)"
    )
    url = f"sqlite:///{tmp_path / 'other.db'}"
    result = runner.invoke(cli, ["ingest", str(DATA), "--database-url", url])
    assert result.stderr.splitlines()[0] == f"Database: {tmp_path / 'other.db'} (SQLite)"
    result = runner.invoke(cli, ["ingest", "--check", str(DATA), "--database-url", url])
    assert result.stderr.splitlines()[0] == f"Checking against {tmp_path / 'other.db'} (SQLite)"
    assert result.stdout == "OK: 1 fact file(s) checked; nothing written\n"


def test_check_creates_no_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never.db'}"
    code, out, err = invoke("ingest", "--check", str(DATA), "--database-url", url)
    assert (code, err) == (0, "")
    assert not (tmp_path / "never.db").exists()
    code, _, err = invoke("entities", "find", "kaz", "--database-url", url)
    assert code == 1 and err.startswith("Error: no ingested data in ")
