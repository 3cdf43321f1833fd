"""Fixtures: a fresh migrated database per test, data loaded through the real ingest.

Every test that uses a database runs on SQLite and on PostgreSQL; the PostgreSQL runs are
skipped, with the reason shown, unless TEST_DATABASE_URL names a throwaway database.
"""

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import app.main
from app.db import create_db_engine, upgrade
from app.ingest.load import LoadResult
from app.ingest.pipeline import run_ingest
from app.main import create_app
from app.settings import Settings
from tests.databases import NO_POSTGRES, TEST_DATABASE_URL, empty_postgres, reset_postgres

BACKENDS = ["sqlite", "postgresql"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEED_FILE = DATA / "kursiv-2024-10-17-rosatom-meeting.json"
SEED_ARTICLE = "kursiv-2024-10-17-rosatom-meeting"


# Each test builds its own app: a full collection at every start-up would cost more than the
# test itself.
app.main.FREEZE_AT_STARTUP = False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once, copied for each test that needs one."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """The PostgreSQL test database, migrated once per run; skipped without TEST_DATABASE_URL."""
    if not TEST_DATABASE_URL:
        pytest.skip(NO_POSTGRES)
    reset_postgres(TEST_DATABASE_URL)
    engine = create_db_engine(TEST_DATABASE_URL)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test that touches a database runs once per backend."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A migrated database holding no data, for this test alone."""
    if backend == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    engine: Engine = request.getfixturevalue("postgres_engine")
    empty_postgres(engine)
    return TEST_DATABASE_URL


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


Ingest = Callable[..., LoadResult]


@pytest.fixture
def ingest(db_url: str) -> Ingest:
    """Load fact files through the same code path as `article-facts ingest`."""

    def run(*paths: Path, **options: Any) -> LoadResult:
        return run_ingest(db_url, list(paths), **options)

    return run


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, load_seed=False)


@pytest.fixture
def client(settings: Settings, ingest: Ingest) -> Iterator[TestClient]:
    """The API over a database holding the seed article."""
    ingest(DATA)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def clients(tmp_path: Path, postgres_engine: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    """The seed and one more article, loaded into a fresh SQLite file and into PostgreSQL."""
    second = minimal_doc()
    second["article"]["id"] = "second-article"
    files = [DATA, write_doc(tmp_path / "second.json", second)]
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    upgrade(sqlite_url)
    empty_postgres(postgres_engine)
    for url in (sqlite_url, TEST_DATABASE_URL):
        run_ingest(url, files)
    with (
        TestClient(create_app(Settings(database_url=sqlite_url))) as on_sqlite,
        TestClient(create_app(Settings(database_url=TEST_DATABASE_URL))) as on_postgres,
    ):
        yield on_sqlite, on_postgres


@pytest.fixture
def empty_client(settings: Settings) -> Iterator[TestClient]:
    """The API over a migrated database with no article."""
    with TestClient(create_app(settings)) as client:
        yield client


TEXT = "Alice met Bob in Paris on Oct. 6. Bob said the talks went well. Alice said nothing."


def minimal_doc(**overrides: Any) -> dict[str, Any]:
    """A small valid fact file (inline text) to vary in tests."""
    doc: dict[str, Any] = {
        "format": "article-facts/1",
        "article": {
            "id": "test-article",
            "title": "Alice meets Bob",
            "text": TEXT,
            "published": "2024-10-17",
            "language": "en",
            "publisher": "Test Times",
            "url": "https://example.org/a",
        },
        "entities": [
            {
                "id": "alice",
                "name": "Alice Example",
                "kind": "person",
                "aliases": [{"name": "A. Example", "language": "en"}],
                "mentions": [
                    {"quote": "Alice", "occurrence": 1},
                    {"quote": "Alice", "occurrence": 2},
                ],
            },
            {
                "id": "bob",
                "name": "Bob Example",
                "kind": "person",
                "mentions": [{"quote": "Bob", "occurrence": 1}, {"quote": "Bob", "occurrence": 2}],
            },
            {"id": "paris", "name": "Paris", "kind": "city", "mentions": ["Paris"]},
        ],
        "relations": [
            {"subject": "bob", "predicate": "located_in", "object": "paris", "anchors": []}
        ],
        "events": [
            {
                "id": "meeting",
                "kind": "meeting",
                "summary": "Alice met Bob in Paris.",
                "time": {"date": "2024-10-06", "anchor": "on Oct. 6"},
                "location": "paris",
                "participants": [
                    {"entity": "alice", "role": "participant"},
                    {"entity": "bob", "role": "participant"},
                ],
                "status": "unverified",
                "anchors": ["Alice met Bob in Paris on Oct. 6"],
            }
        ],
        "claims": [
            {
                "id": "talks-went-well",
                "text": "The talks went well.",
                "kind": "statement",
                "claimant": "bob",
                "attribution": "Bob said",
                "subjects": ["alice", "bob"],
                "events": ["meeting"],
                "status": "pending",
                "rationale": "Only Bob says so.",
                "anchors": ["the talks went well"],
                "evidence": [
                    {
                        "source": "Alice",
                        "source_entity": "alice",
                        "stance": "no_answer",
                        "anchor": "Alice said nothing",
                    }
                ],
            }
        ],
    }
    doc.update(overrides)
    return doc


def write_doc(path: Path, doc: dict[str, Any] | str) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False), "utf-8")
    return path
