"""Files ingest refuses, and how it says so: sizes, special files, duplicate keys, encodings,
quotes that nearly match; and what killing it leaves behind."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app import queries
from app.cli import cli
from app.db import alembic_config, create_db_engine, upgrade
from app.ingest.document import DEFAULT_LIMITS, FactFileErrors, Limits, read_fact_file
from tests.conftest import DATA, SEED_FILE, TEXT, Ingest, minimal_doc, write_doc
from tests.seed import FACTS, resolve

SCRIPT = Path(sys.executable).with_name("article-facts")
SECOND = Path(__file__).resolve().parent / "second"


def problems(path: Path, limits: Limits = DEFAULT_LIMITS) -> list[tuple[str, str]]:
    with pytest.raises(FactFileErrors) as info:
        read_fact_file(path, limits)
    return [(e.where, e.problem) for e in info.value.errors]


def test_the_seed_loads_with_the_offsets_it_always_had() -> None:
    """Quotes still match anywhere in the text, counted as before: every anchor the seed's
    file writes lands where an independent search of the text puts it."""
    doc = read_fact_file(SEED_FILE)
    for entity, written in zip(doc.entities, FACTS["entities"], strict=True):
        assert [(m.start, m.end, m.exact) for m in entity.mentions] == [
            resolve(q) for q in written.get("mentions", [])
        ]
    for claim, written in zip(doc.claims, FACTS["claims"], strict=True):
        assert [(a.start, a.end, a.exact) for a in claim.anchors] == [
            resolve(q) for q in written["anchors"]
        ]


def test_a_text_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("Title\n" + "word " * 400, "utf-8")
    doc = minimal_doc()
    doc["article"] = {"id": "big", "text_file": "big.txt"}
    path = write_doc(tmp_path / "a.json", doc)
    assert problems(path, Limits(max_article_bytes=1000)) == [
        (
            "$.article.text_file",
            "'big.txt' is 2,006 bytes; the limit is 1,000 (APP_MAX_ARTICLE_BYTES)",
        )
    ]
    doc["article"] = {"id": "big", "text": "Title\n" + "word " * 400}
    assert problems(write_doc(path, doc), Limits(max_article_bytes=1000))[0] == (
        "$.article.text",
        "is 2,006 bytes; the limit is 1,000 (APP_MAX_ARTICLE_BYTES)",
    )
    assert problems(path, Limits(max_fact_file_bytes=100)) == [
        (
            "$",
            f"the file is {path.stat().st_size:,} bytes; the limit is 100 (APP_MAX_FACT_FILE_BYTES)",
        )
    ]


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    doc = minimal_doc()
    doc["article"] = {"id": "pipe", "text_file": "pipe.txt"}
    path = write_doc(tmp_path / "a.json", doc)
    found: list[list[tuple[str, str]]] = []
    reader = threading.Thread(target=lambda: found.append(problems(path)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading the text file waited on the pipe"
    assert found == [
        [("$.article.text_file", "'pipe.txt' is a named pipe (FIFO), not a regular file")]
    ]
    os.mkfifo(tmp_path / "facts.json")
    assert problems(tmp_path / "facts.json") == [
        ("$", "the file is a named pipe (FIFO), not a regular file")
    ]


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    text = json.dumps(minimal_doc(), ensure_ascii=False)
    text = text.replace('"kind": "person"', '"kind": "person", "kind": "city"', 1)
    text = text.replace('"status": "pending"', '"status": "pending", "status": "confirmed"', 1)
    path = write_doc(tmp_path / "dup.json", text)
    assert problems(path) == [
        (
            "$.entities[0].kind",
            'the key "kind" is given 2 times in one object (give each key once)',
        ),
        (
            "$.claims[0].status",
            'the key "status" is given 2 times in one object (give each key once)',
        ),
    ]
    # A key's text inside a string value is not a key.
    doc = minimal_doc()
    doc["claims"][0]["rationale"] = 'He said "kind": "person" twice.'
    read_fact_file(write_doc(tmp_path / "ok.json", doc))


@pytest.mark.parametrize(
    ("depth", "problem"),
    [
        (300, (("$", "arrays and objects are nested too deeply (more than 254 levels)"),)),
        (2000, (("line 1, column 1398", "invalid JSON: depth limit exceeded"),)),
    ],
)
def test_json_nested_too_deeply_is_an_error(
    tmp_path: Path, depth: int, problem: tuple[tuple[str, str], ...]
) -> None:
    raw = json.dumps(minimal_doc()).replace('"aliases": [', '"aliases": ' + "[" * depth, 1)
    raw = raw.replace('"language": "en"}]', '"language": "en"}' + "]" * depth, 1)
    path = tmp_path / "deep.json"
    path.write_text(raw, "utf-8")
    assert tuple(problems(path)) == problem


def test_binary_and_non_utf8_fact_files_say_so(tmp_path: Path) -> None:
    (tmp_path / "latin.json").write_bytes(
        '{"format": "article-facts/1", "x": "café"}'.encode("latin-1")
    )
    assert problems(tmp_path / "latin.json") == [
        ("$", "not UTF-8 text (byte 39 cannot be decoded); save it as UTF-8")
    ]
    (tmp_path / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert problems(tmp_path / "binary.json") == [
        ("$", "not UTF-8 text: it holds NUL bytes (a binary file?)")
    ]
    code = CliRunner().invoke(cli, ["ingest", "--check", str(tmp_path / "binary.json")])
    assert code.exit_code == 1
    assert "surrogates" not in code.stderr and "not UTF-8 text" in code.stderr


def test_a_quote_that_nearly_matches_says_how_it_differs(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["article"]["text"] = "Le café de Zoë. Bob said «yes» – twice."
    doc["entities"] = [
        {"id": "cafe", "name": "Café", "kind": "facility", "mentions": ["cafe\u0301"]}
    ]
    doc["relations"], doc["events"] = [], []
    doc["claims"][0].update(
        {"claimant": "cafe", "subjects": [], "events": [], "evidence": [], "attribution": None}
    )
    doc["claims"][0]["anchors"] = ['Bob said "yes" - twice']
    found = problems(write_doc(tmp_path / "a.json", doc))
    assert found == [
        (
            "$.entities[0].mentions[0]",
            'quote "cafe\u0301" is not in the article text; the text has "café" at 3, which differs '
            "from the quote only by Unicode normalisation (an accented letter written as one "
            "character in one and as a letter and a combining mark in the other): quote the "
            "text's own characters",
        ),
        (
            "$.claims[0].anchors[0]",
            'quote "Bob said \\"yes\\" - twice" is not in the article text; the closest is '
            '"Bob said «yes» – twice" at 16, which differs from the quote in letter case, '
            "quotation marks, dashes or spacing",
        ),
    ]


def test_prefix_and_suffix_pick_an_appearance(tmp_path: Path) -> None:
    doc = minimal_doc()
    doc["entities"][1]["mentions"] = [
        {"quote": "Bob", "prefix": "Alice met "},
        {"quote": "Bob", "suffix": " said"},
    ]
    resolved = read_fact_file(write_doc(tmp_path / "a.json", doc))
    assert [(m.start, m.exact) for m in resolved.entities[1].mentions] == [(10, "Bob"), (34, "Bob")]
    doc["entities"][1]["mentions"] = [
        {"quote": "Bob", "prefix": "Carol met "},
        {"quote": "Bob", "occurrence": 1, "suffix": " said"},
        {"quote": "e", "prefix": "Alic"},
    ]
    assert problems(write_doc(tmp_path / "b.json", doc)) == [
        (
            "$.entities[1].mentions[1]",
            "give 'occurrence' or 'prefix'/'suffix' to pick the words, not both",
        ),
    ]
    del doc["entities"][1]["mentions"][1]
    found = problems(write_doc(tmp_path / "b.json", doc))
    assert found[0] == (
        "$.entities[1].mentions[0]",
        'quote "Bob" never has prefix "Carol met " around it; it occurs 2 time(s): #1 at 10 '
        '"Alice met [Bob] in Paris on Oc…"; #2 at 34 "…ris on Oct. 6. [Bob] said the talks…"',
    )
    assert found[1][0] == "$.entities[1].mentions[1]"
    assert "still occurs 2 times" in found[1][1] and "(inside a longer word)" in found[1][1]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_ingest_leaves_no_worker_processes(tmp_path: Path, sig: signal.Signals) -> None:
    folder = tmp_path / "facts"
    folder.mkdir()
    for i in range(600):
        doc = minimal_doc()
        doc["article"]["id"] = f"article-{i}"
        doc["article"]["text"] = TEXT + " Padding." * 3000
        write_doc(folder / f"{i:04}.json", doc)
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    proc = subprocess.Popen(
        [str(SCRIPT), "ingest", str(folder), "--database-url", url, "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the run never started its worker processes"
        proc.send_signal(sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_shared_fact_tables_go_down_and_up_with_their_data(
    client: TestClient, db_url: str, ingest: Ingest
) -> None:
    """The migration of the lookup, external id, report and provenance tables, both ways."""
    ingest(SECOND)
    before = client.get("/claims/kursiv-2024-10-17-rosatom-meeting.referendum-result-71-12").json()
    command.downgrade(alembic_config(db_url), "1c2d3e4f5a6b")
    upgrade(db_url)
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:
            # Filled again from the stored names, aliases and external ids.
            assert queries.suggest_entities(conn, q="Росатом", limit=1)[0]["id"] == "rosatom"
            found = queries.list_entities(conn, external_id=("wikidata", "Q232"), limit=1)[0]
            assert [e["id"] for e in found] == ["kazakhstan"]
    finally:
        engine.dispose()
    # The claim with an unnamed source could not be kept; the rest is back once reloaded.
    missing = client.get("/claims/steppe-wire-2025-06-14-rosatom-consortium.sanctions-risk")
    assert missing.status_code == 404
    ingest(SECOND)
    after = client.get("/claims/kursiv-2024-10-17-rosatom-meeting.referendum-result-71-12").json()
    assert after == before


def test_the_data_revision_moves_once_per_committed_batch(
    db_url: str, ingest: Ingest, tmp_path: Path
) -> None:
    engine = create_db_engine(db_url)
    try:

        def revision() -> int:
            with engine.connect() as conn:
                # No row yet in a database emptied by the tests: the first change adds it.
                found = conn.exec_driver_sql("SELECT revision FROM data_revision").scalar()
                return int(found or 0)

        start = revision()
        ingest(DATA, SECOND)  # two articles, one batch
        assert revision() == start + 1
        ingest(DATA, SECOND)  # nothing changed
        assert revision() == start + 1
    finally:
        engine.dispose()
