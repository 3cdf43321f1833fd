"""Operating the service: readiness, logs, settings at start-up, concurrency, shutdown."""

import json
import logging
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from alembic import command
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import alembic_config
from app.logs import ACCESS_LOGGER, JSONFormatter, log_config
from app.main import create_app
from app.settings import Settings
from tests.conftest import DATA, SEED_ARTICLE, minimal_doc, write_doc
from tests.databases import is_sqlite
from tests.server import serve

SCRIPT = Path(sys.executable).with_name("article-facts")


def test_readyz_when_the_schema_is_behind_is_503(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "base")
    try:
        with TestClient(create_app(Settings(database_url=db_url))) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["schema"].startswith("at None, code expects ")
    finally:
        command.upgrade(alembic_config(db_url), "head")


def test_readyz_when_the_database_is_unreachable_is_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unreachable: OperationalError"}


def test_each_request_is_logged_once_with_its_status_and_duration(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/claims", params={"status": "pending", "limit": 2})
        client.get("/claims/no-such-claim")
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [(r.method, r.path, r.status) for r in records] == [  # type: ignore[attr-defined]
        ("GET", "/claims?status=pending&limit=2", 200),
        ("GET", "/claims/no-such-claim", 404),
    ]
    assert all(r.duration_ms >= 0 for r in records)  # type: ignore[attr-defined]
    assert records[0].getMessage().startswith("GET /claims?status=pending&limit=2 200 ")
    assert records[0].getMessage().endswith("ms")


def test_the_access_log_can_be_turned_off(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with (
        TestClient(create_app(Settings(database_url=db_url, access_log=False))) as client,
        caplog.at_level(logging.INFO, logger=ACCESS_LOGGER),
    ):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == ACCESS_LOGGER]


def test_json_log_lines_carry_the_request_fields() -> None:
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.__dict__.update(method="GET", path="/x", status=200, duration_ms=1.25)
    line = json.loads(JSONFormatter().format(record))
    assert line["message"] == "GET /x"
    assert (line["level"], line["logger"]) == ("info", ACCESS_LOGGER)
    assert (line["method"], line["path"], line["status"], line["duration_ms"]) == (
        "GET",
        "/x",
        200,
        1.25,
    )
    assert line["time"].endswith("+00:00")


def test_log_config_follows_the_settings() -> None:
    text_config = log_config(Settings(log_level="warning"))
    assert text_config["root"]["level"] == "WARNING"
    assert "format" in text_config["formatters"]["default"]
    # Request lines follow the level: at warning they are silenced with the rest of INFO.
    assert "level" not in text_config["loggers"][ACCESS_LOGGER]
    json_config = log_config(Settings(log_format="json"))
    assert json_config["formatters"]["default"] == {"()": "app.logs.JSONFormatter"}


def test_uvloop_without_its_extra_is_refused_with_the_way_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if it were not installed
    with pytest.raises(ValidationError, match=r"pip install 'article-facts\[uvloop\]'"):
        Settings(event_loop="uvloop")
    assert Settings(event_loop="asyncio").event_loop == "asyncio"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("APP_PORT", "eighty", "APP_PORT: Input should be a valid integer"),
        ("APP_DATABASE_URL", "mysql://db/facts", "APP_DATABASE_URL: Value error, must be a"),
        ("APP_LOG_FORMAT", "xml", "APP_LOG_FORMAT: Input should be 'text' or 'json'"),
        ("APP_DB_POOL_SIZE", "0", "APP_DB_POOL_SIZE: Input should be greater than or equal to 1"),
        ("APP_EVENT_LOOP", "trio", "APP_EVENT_LOOP: Input should be 'asyncio' or 'uvloop'"),
    ],
)
def test_serve_refuses_invalid_settings_before_starting(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    env = {"APP_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", name: value, "PATH": ""}
    proc = subprocess.run(
        [str(SCRIPT), "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: invalid settings: ")
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(
    ("chosen", "loop"),
    [(None, "asyncio.unix_events._UnixSelectorEventLoop"), ("uvloop", "uvloop.Loop")],
    ids=["default", "uvloop"],
)
def test_serve_runs_on_the_event_loop_chosen(db_url: str, chosen: str | None, loop: str) -> None:
    env = {"APP_EVENT_LOOP": chosen} if chosen else {}
    with serve(db_url, **env) as server:
        assert httpx.get(f"{server.url}/claims?limit=1", timeout=10).status_code == 200
    assert f"Event loop: {loop}" in server.output()


def test_several_workers_answer_without_waiting_for_acks(db_url: str) -> None:
    """With Nagle's algorithm on, each response would wait ~40 ms for a delayed ACK."""
    with serve(db_url, APP_WORKERS="2") as server, httpx.Client(base_url=server.url) as client:
        client.get("/healthz")
        started = time.perf_counter()
        for _ in range(20):
            assert client.get("/healthz").status_code == 200
        elapsed = time.perf_counter() - started
    assert elapsed < 0.4, f"20 requests on one connection took {elapsed:.2f} s"


@contextmanager
def reads_blocked(url: str) -> Iterator[None]:
    """Hold a lock that makes the server's next read wait until the block ends."""
    if is_sqlite(url):
        # Exclusive locking mode keeps other connections out entirely; they wait in their
        # busy handler. (The server has no connection open yet: /healthz uses none.)
        conn = sqlite3.connect(make_url(url).database or "", isolation_level=None, timeout=10)
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("UPDATE article SET title = title")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as pg:
            pg.execute(text("LOCK TABLE article IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                pg.rollback()
    finally:
        engine.dispose()


def _wait_until_blocked(url: str) -> None:
    """Return once the server's read is waiting for the lock (PostgreSQL shows it)."""
    if is_sqlite(url):
        time.sleep(1.0)  # SQLite has no view of waiting readers; a request takes milliseconds
        return
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                waiting = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar()
            if waiting:
                return
            time.sleep(0.05)
        raise AssertionError("the request never reached the database")
    finally:
        engine.dispose()


@pytest.mark.parametrize("on_loop", [False, True], ids=["threads", "event-loop"])
def test_sigterm_lets_the_request_in_flight_finish(db_url: str, on_loop: bool) -> None:
    """In both places database calls can run, a read waiting for a lock when SIGTERM comes
    still gets its answer, and then the server stops.

    In worker threads (PostgreSQL's default) the event loop stays free meanwhile, so the
    server can be seen refusing new connections; on the event loop (SQLite's default) the
    waiting read holds the worker until it ends.
    """
    with serve(db_url, APP_DB_ON_LOOP=str(on_loop).lower()) as server:
        answers: list[httpx.Response] = []
        request = threading.Thread(
            target=lambda: answers.append(httpx.get(f"{server.url}/articles", timeout=30))
        )
        with reads_blocked(db_url):
            request.start()
            _wait_until_blocked(db_url)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert server.process.poll() is None, "the server stopped with a request in flight"
            if not on_loop:
                with pytest.raises(httpx.ConnectError):
                    httpx.get(f"{server.url}/healthz", timeout=2)  # no new connections
            assert not answers
        request.join(timeout=30)
        assert answers and answers[0].status_code == 200
        assert [a["id"] for a in answers[0].json()["items"]] == [SEED_ARTICLE]
        # Uvicorn ends by re-raising the signal, so the exit is "terminated by SIGTERM".
        assert server.process.wait(timeout=30) == -signal.SIGTERM
        if not on_loop:  # on the loop the read has ended before the signal is handled
            assert "Waiting for connections to close" in server.output()


READS = [
    "/claims?status=pending",
    "/claims?limit=5",
    "/articles",
    "/entities/alice/claims",
    "/entities/alice",
    "/entities/paris/mentions",
    "/events?kind=meeting",
    f"/articles/{SEED_ARTICLE}",
    "/readyz",
]


def _batch(folder: Path, prefix: str, count: int, status: str) -> Path:
    """``count`` small articles that all name the same three entities."""
    folder.mkdir(exist_ok=True)
    for i in range(count):
        doc = minimal_doc()
        doc["article"]["id"] = f"{prefix}-{i}"
        doc["claims"][0]["status"] = status
        write_doc(folder / f"{prefix}-{i}.json", doc)
    return folder


def test_concurrent_ingests_while_the_api_serves_reads(db_url: str, tmp_path: Path) -> None:
    """Two ingests adding the same new entities at once, and a reader: no errors anywhere."""
    per_batch = 8
    with serve(db_url, APP_LOG_FORMAT="json") as server:
        failures: list[str] = []
        reads = 0
        done = threading.Event()

        def read() -> None:
            nonlocal reads
            with httpx.Client(base_url=server.url, timeout=30) as http:
                while not done.is_set():
                    for path in READS:
                        response = http.get(path)
                        reads += 1
                        if response.status_code != 200 and not (
                            path.startswith("/entities/") and response.status_code == 404
                        ):
                            failures.append(f"{path}: {response.status_code} {response.text}")

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for status in ("pending", "confirmed"):  # first adds, then updates in place
                ingests = [
                    subprocess.Popen(
                        [str(SCRIPT), "ingest", str(_batch(tmp_path / p, p, per_batch, status))],
                        env={"APP_DATABASE_URL": db_url, "PATH": ""},
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    for p in ("a", "b")
                ]
                for ingest in ingests:
                    out, err = ingest.communicate(timeout=120)
                    assert ingest.returncode == 0, err
                    assert err.startswith("Database: ") and err.count("\n") == 1, err
        finally:
            done.set()
            reader.join(timeout=60)
        assert failures == []
        assert reads >= len(READS)

        with httpx.Client(base_url=server.url) as http:
            articles = http.get("/articles", params={"limit": 100}).json()["items"]
            assert len(articles) == 1 + 2 * per_batch
            claims = http.get("/entities/alice/claims", params={"limit": 100}).json()["items"]
            assert len(claims) == 2 * per_batch
            assert {c["status"] for c in claims} == {"confirmed"}
            history = http.get(f"/claims/{claims[0]['id']}").json()["history"]
            assert [h["status"] for h in history] == ["pending", "confirmed"]
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == ACCESS_LOGGER]
    assert len(access) >= reads
    assert {"method", "path", "status", "duration_ms", "time", "level"} <= set(access[0])


def _healthcheck(*args: str, port: str) -> subprocess.CompletedProcess[str]:
    # A proxy nobody listens on: the local check must not go through it.
    env = {"APP_PORT": port, "PATH": "", "http_proxy": "http://127.0.0.1:9"}
    return subprocess.run([*args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_healthcheck_follows_readiness(db_url: str) -> None:
    """Both forms of the container health check: the CLI command and the light module."""
    forms = [[str(SCRIPT), "healthcheck"], [sys.executable, "-m", "app.healthcheck"]]
    with serve(db_url, APP_LOAD_SEED="false") as server:
        port = server.url.rsplit(":", 1)[1]
        for form in forms:
            proc = _healthcheck(*form, port=port)
            assert proc.returncode == 1
            assert f"{server.url}/readyz: 503" in proc.stdout + proc.stderr
        subprocess.run(
            [str(SCRIPT), "ingest", str(DATA)],
            env={"APP_DATABASE_URL": db_url, "PATH": ""},
            check=True,
            capture_output=True,
        )
        for form in forms:
            proc = _healthcheck(*form, port=port)
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.strip() == f"{server.url}/readyz: 200"
    for form in forms:
        proc = _healthcheck(*form, port=port)  # nothing listens any more
        assert proc.returncode == 1
        assert proc.stderr.startswith(f"Error: {server.url}/readyz: ")


def test_pages_that_need_no_data_answer_while_the_database_is_down(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert client.get("/methodology").status_code == 200
        assert client.get("/schema/fact-file").status_code == 200
        assert client.get("/docs").status_code == 200
