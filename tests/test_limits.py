"""No client can stall the service for the others: time limits, bounded query strings,
stalled export clients, and the headers every response carries."""

import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.http import MAX_QUERY_PARAMETERS, MAX_TARGET_BYTES
from app.ingest.pipeline import run_ingest
from app.main import create_app
from app.settings import Settings
from bench.generate import ensure_corpus
from tests.conftest import DATA, Ingest
from tests.server import serve

CORPUS_ARTICLES = 1000
# What costs work in proportion to the whole corpus: a count and five facets of a list
# filtered by a substring no claim contains, which every claim's text must be read for.
EXPENSIVE = (
    "/claims?count=exact&text__contains=zzzz&facet=claimant&facet=article&facet=kind"
    "&facet=status&facet=month"
)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated fact files of 1,000 articles (about 10,000 claims)."""
    out = tmp_path_factory.mktemp("corpus")
    ensure_corpus(out, CORPUS_ARTICLES, seed=7)
    return out / "facts"


@pytest.fixture(scope="session")
def sqlite_corpus(
    corpus: Path, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A SQLite database holding the corpus, loaded once and copied for each test."""
    path = tmp_path_factory.mktemp("corpus-db") / "corpus.db"
    shutil.copyfile(sqlite_template, path)
    run_ingest(f"sqlite:///{path}", [corpus], show_progress=False)
    return path


@pytest.fixture
def corpus_url(
    backend: str, db_url: str, corpus: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    """This test's database, holding the corpus."""
    if backend == "sqlite":
        path = tmp_path / "corpus.db"
        shutil.copyfile(request.getfixturevalue("sqlite_corpus"), path)
        return f"sqlite:///{path}"
    run_ingest(db_url, [corpus], show_progress=False)
    return db_url


# --- time limits ----------------------------------------------------------------------


def _too_expensive(response: Any) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["title"] == "Unprocessable Content"
    assert "APP_QUERY_TIMEOUT_MS" in body["detail"] and "Narrow the list" in body["detail"]
    assert body["errors"][0]["type"] == "too_expensive"
    assert response.headers["cache-control"] == "no-store"


def test_counts_and_facets_past_the_time_limit_are_refused_on_sqlite(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = tmp_path / "corpus.db"
    shutil.copyfile(request.getfixturevalue("sqlite_corpus"), path)
    url = f"sqlite:///{path}"
    with TestClient(create_app(Settings(database_url=url, query_timeout_ms=5))) as client:
        _too_expensive(client.get(EXPENSIVE))
        # A search that prefixes every letter reads most of the index.
        every_letter = " OR ".join(f"{c}*" for c in "abcdefghijklmnopqrstuvw")
        _too_expensive(client.get("/search", params={"q": every_letter}))
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert client.get(EXPENSIVE).status_code == 200  # the default second is plenty here


@contextmanager
def lock_claims(url: str) -> Iterator[None]:
    """Hold PostgreSQL's strongest lock on the claims table: any read of it must wait."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE claim IN ACCESS EXCLUSIVE MODE"))
            yield
            conn.rollback()
    finally:
        engine.dispose()


def test_statements_past_the_time_limit_are_refused_on_postgresql(
    request: pytest.FixtureRequest, ingest: Ingest, backend: str, db_url: str
) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's statement_timeout")
    ingest(DATA)
    with TestClient(create_app(Settings(database_url=db_url, query_timeout_ms=300))) as client:
        with lock_claims(db_url):
            started = time.monotonic()
            _too_expensive(client.get("/claims?count=exact"))
            assert time.monotonic() - started < 5
            assert client.get("/entities?limit=1").status_code == 200


def test_others_are_served_while_an_expensive_request_is_cut_off(
    corpus_url: str, backend: str
) -> None:
    """The expensive request runs in a thread until its time limit; the event loop goes on
    serving everyone else meanwhile."""
    limit = "40" if backend == "sqlite" else "500"
    with serve(corpus_url, APP_QUERY_TIMEOUT_MS=limit, APP_ACCESS_LOG="false") as server:
        for _ in range(3):  # warm the caches, so that only the time limit cuts it short
            httpx.get(f"{server.url}/claims?limit=5", timeout=10)
        span: list[float] = []
        answers: list[httpx.Response] = []

        def expensive() -> None:
            span.append(time.monotonic())
            answers.append(httpx.get(server.url + EXPENSIVE, timeout=30))
            span.append(time.monotonic())

        # On PostgreSQL the claims table is locked, so the statement waits until its limit.
        locked = lock_claims(corpus_url) if backend == "postgresql" else nullcontext()
        served = []
        with locked, httpx.Client(base_url=server.url, timeout=10) as client:
            worker = threading.Thread(target=expensive)
            worker.start()
            while worker.is_alive():
                sent = time.monotonic()
                assert client.get("/entities?limit=5").status_code == 200
                assert client.get("/healthz").status_code == 200
                served.append((sent, time.monotonic()))
            worker.join()
        _too_expensive(answers[0])
        start, end = span
        during = [(a, b) for a, b in served if a >= start and b <= end]
        assert during, (served, span)


# --- query strings ------------------------------------------------------------------------


def test_an_oversized_request_target_is_414_before_anything_reads_it(client: TestClient) -> None:
    for path in ("/healthz", "/claims", "/nope"):
        response = client.get(f"{path}?{'x' * MAX_TARGET_BYTES}")
        assert response.status_code == 414
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["detail"].endswith(f"this server accepts at most {MAX_TARGET_BYTES:,}")
        assert response.headers["cache-control"] == "no-store"
    assert client.get(f"/claims?q={'x' * 100}").status_code == 200


def test_too_many_parameters_are_one_small_422(client: TestClient) -> None:
    many = "&".join(f"p{i}=1" for i in range(8000))  # what took 1.4 s and answered 7.5 MB
    response = client.get(f"/healthz?{many[: MAX_TARGET_BYTES - 100]}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "too_many_parameters"
    assert len(response.content) < 1000
    # Just under the limit, every unknown parameter is one problem, and the answer is bounded.
    some = "&".join(f"p{i}=1" for i in range(MAX_QUERY_PARAMETERS - 1))
    response = client.get(f"/claims?{some}")
    assert response.status_code == 422
    body = response.json()
    assert len(body["errors"]) == 50
    assert body["detail"].endswith("and 49 more problems")
    assert len(response.content) < 60_000


def test_long_inputs_are_cut_in_a_422(client: TestClient) -> None:
    response = client.get(f"/claims?colour={'x' * 5000}")
    (error,) = response.json()["errors"]
    assert error["input"] == "x" * 1000 + "…"


# --- stalled clients ----------------------------------------------------------------------


def _stalled_client(url: str, path: str) -> socket.socket:
    """A client that asks for ``path`` and never reads the answer."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_backends(url: str) -> int:
    """How many of PostgreSQL's other backends work in this database: the server's running a
    statement, or a vacuum or analyze (seen by its lock, since a role without
    pg_read_all_stats sees no autovacuum worker's activity). Nothing to count on SQLite,
    which runs inside the server's process."""
    if not url.startswith("postgresql"):
        return 0
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                        " AND pid <> pg_backend_pid() AND datname = current_database())"
                        " + (SELECT count(*) FROM pg_locks WHERE locktype = 'relation'"
                        " AND mode = 'ShareUpdateExclusiveLock' AND pid <> pg_backend_pid()"
                        " AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database()))"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _wait_until_idle(pid: int, url: str, timeout: float = 60) -> None:
    """Until the server's process has used almost no CPU for a second, and the database
    runs nothing else: what the server had started is done, or waits on its clients."""
    deadline = time.monotonic() + timeout
    used = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _cpu_seconds(pid)
        if now - used < 0.05 and not _busy_backends(url):
            return
        used = now
    raise AssertionError("the server stayed busy")


def test_stalled_export_clients_do_not_freeze_the_server(corpus_url: str) -> None:
    """Fifty clients ask for a full export (7 MB each) and never read it: the others are
    served as usual, and SIGTERM still stops the server within its grace period."""
    grace = 3
    with serve(corpus_url, APP_SHUTDOWN_TIMEOUT=str(grace), APP_ACCESS_LOG="false") as server:
        stalled = [_stalled_client(server.url, "/claims?format=ndjson") for _ in range(50)]
        try:
            # every export has filled its client's buffers
            _wait_until_idle(server.process.pid, corpus_url)
            with httpx.Client(base_url=server.url, timeout=10) as client:
                health, lists = [], []
                for _ in range(10):
                    started = time.monotonic()
                    assert client.get("/healthz").status_code == 200
                    health.append(time.monotonic() - started)
                    started = time.monotonic()
                    response = client.get("/claims", params={"limit": 50, "status": "pending"})
                    assert response.status_code == 200 and len(response.json()["items"]) == 50
                    lists.append(time.monotonic() - started)
            assert max(health) < 0.1, health
            assert max(lists) < 1, lists
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(timeout=grace + 10)
            assert time.monotonic() - started < grace + 2
        finally:
            for sock in stalled:
                sock.close()


# --- headers and links ----------------------------------------------------------------


def test_every_response_says_nosniff(client: TestClient) -> None:
    for path in ("/claims", "/healthz", "/nope", "/claims?x=1", "/docs", "/openapi.json"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
    assert client.post("/claims").headers["x-content-type-options"] == "nosniff"


def test_a_405_is_not_stored(client: TestClient) -> None:
    response = client.post("/claims")
    assert response.status_code == 405
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["allow"] == "GET, HEAD"


def test_links_start_with_the_public_url_whatever_host_a_client_sends(
    db_url: str, ingest: Ingest
) -> None:
    ingest(DATA)
    public = "https://facts.example.org/api"
    settings = Settings(database_url=db_url, public_url=public)
    with TestClient(create_app(settings)) as client:
        headers = {"Host": "evil.example"}
        body = client.get("/claims?limit=1", headers=headers).json()
        assert body["next"].startswith(f"{public}/claims?limit=1&cursor=")
        review = client.get("/claims?limit=1&format=claimreview", headers=headers).json()
        assert review["@graph"][0]["url"].startswith(f"{public}/claims/")
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        body = client.get("/claims?limit=1", headers={"Host": "other.example"}).json()
        assert body["next"].startswith("http://other.example/claims?")


@pytest.mark.parametrize(
    "value", ["facts.example.org", "https://facts.example.org/", "https://a.org/x?y=1"]
)
def test_a_public_url_must_be_a_base_url(value: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        Settings(public_url=value)
