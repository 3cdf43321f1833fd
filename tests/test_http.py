"""HTTP around the routes: ETag and Last-Modified from the data revision, 304s, HEAD, gzip, CORS."""

import datetime as dt
import gzip
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import ValidationError
from sqlalchemy import Engine, event

from app.http import accepts_gzip
from app.main import create_app
from app.settings import Settings
from tests.conftest import DATA, SEED_ARTICLE, Ingest, minimal_doc, write_doc

IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}
CLAIM = f"/claims/{SEED_ARTICLE}.rosatom-head-named-alexander"
VALIDATORS = ("etag", "last-modified", "cache-control", "vary")


def get(client: TestClient, url: str, **headers: str) -> Response:
    return client.get(url, headers={**IDENTITY, **headers})


def revision(tag: str) -> int:
    """The data revision a tag of this API was made at: `"<revision>-<digest>"`."""
    return int(tag.strip('"').split("-", 1)[0])


def assert_not_modified(response: Response, tag: str) -> None:
    assert response.status_code == 304, response.text
    assert response.content == b""
    assert response.headers["etag"] == tag
    assert response.headers["cache-control"] == "public, max-age=60"
    assert "last-modified" in response.headers
    assert response.headers["vary"].startswith("Accept, Accept-Encoding")
    assert "content-type" not in response.headers


# --- ETag and Last-Modified ---------------------------------------------------


def test_a_get_has_a_strong_etag_stable_across_identical_requests(client: TestClient) -> None:
    first, second = get(client, "/claims?status=pending"), get(client, "/claims?status=pending")
    assert first.status_code == second.status_code == 200
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert revision(tag) == 1  # the seed was the first ingest that changed anything
    assert second.headers["etag"] == tag
    assert second.content == first.content
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["vary"].startswith("Accept, Accept-Encoding")
    # What the representation varies on is part of its tag.
    others = {
        get(client, "/claims?status=refuted").headers["etag"],
        get(client, "/claims").headers["etag"],
        get(client, CLAIM).headers["etag"],
        get(client, "/claims?status=pending", Accept="application/json").headers["etag"],
        get(client, "/claims?status=pending", Host="api.example").headers["etag"],
    }
    assert len(others) == 5 and tag not in others


def test_the_etag_changes_with_an_ingest_that_changes_data_only(
    client: TestClient, ingest: Ingest, tmp_path: Path
) -> None:
    before = get(client, "/claims")
    assert ingest(DATA).changed is False
    same = get(client, "/claims")
    assert same.headers["etag"] == before.headers["etag"]
    assert same.headers["last-modified"] == before.headers["last-modified"]

    assert ingest(write_doc(tmp_path / "a.json", minimal_doc())).changed is True
    after = get(client, "/claims")
    assert revision(after.headers["etag"]) == revision(before.headers["etag"]) + 1
    assert parsedate_to_datetime(after.headers["last-modified"]) >= parsedate_to_datetime(
        before.headers["last-modified"]
    )
    assert len(after.json()["items"]) == len(before.json()["items"]) + 1
    # The copy a client made before the ingest is no longer current.
    stale = get(client, "/claims", **{"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200 and stale.headers["etag"] == after.headers["etag"]


def test_if_none_match_naming_the_tag_is_a_304(client: TestClient) -> None:
    tag = get(client, CLAIM).headers["etag"]
    weak = f"W/{tag}"
    for condition in (tag, f'"other", {tag}', weak, f'"a", {weak}, "b"', "*"):
        assert_not_modified(get(client, CLAIM, **{"If-None-Match": condition}), tag)
    other = get(client, CLAIM, **{"If-None-Match": '"1-someothertag"'})
    assert other.status_code == 200 and other.headers["etag"] == tag
    assert other.json()["status"] == "refuted"


def test_a_matching_tag_is_answered_before_the_route_runs_its_queries(client: TestClient) -> None:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    tag = get(client, "/claims").headers["etag"]
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert_not_modified(get(client, "/claims", **{"If-None-Match": tag}), tag)
        assert len(statements) == 1 and "FROM data_revision" in statements[0], statements
        statements.clear()
        assert get(client, "/claims").status_code == 200
        assert len(statements) > 1
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_if_none_match_star_does_not_turn_an_error_into_a_304(client: TestClient) -> None:
    response = get(client, "/claims/nope", **{"If-None-Match": "*"})
    assert response.status_code == 404
    assert response.json()["detail"] == "no claim with id 'nope'"


def test_last_modified_and_if_modified_since(client: TestClient) -> None:
    response = get(client, CLAIM)
    last_modified = parsedate_to_datetime(response.headers["last-modified"])
    assert last_modified.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - last_modified) < dt.timedelta(minutes=5)
    tag = response.headers["etag"]

    for since in (last_modified, last_modified + dt.timedelta(hours=1)):
        header = format_datetime(since, usegmt=True)
        assert_not_modified(get(client, CLAIM, **{"If-Modified-Since": header}), tag)
    earlier = format_datetime(last_modified - dt.timedelta(seconds=1), usegmt=True)
    for headers in (
        {"If-Modified-Since": earlier},
        {"If-Modified-Since": "yesterday"},
        # If-None-Match, when present, decides alone.
        {"If-Modified-Since": response.headers["last-modified"], "If-None-Match": '"x"'},
    ):
        again = get(client, CLAIM, **headers)
        assert again.status_code == 200 and again.content == response.content, headers


def test_errors_have_no_validators_and_are_not_stored(client: TestClient) -> None:
    for url, status in (("/claims/nope", 404), ("/claims?limit=0", 422), ("/nowhere", 404)):
        response = get(client, url)
        assert response.status_code == status, url
        assert response.headers["content-type"] == "application/problem+json"
        assert "etag" not in response.headers and "last-modified" not in response.headers
        assert response.headers["cache-control"] == "no-store"


def test_health_checks_are_never_stored_nor_validated(client: TestClient) -> None:
    for url in ("/healthz", "/readyz"):
        response = get(client, url, **{"If-None-Match": "*"})
        assert response.status_code == 200 and response.json()["status"] == "ok", url
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers and "last-modified" not in response.headers
        assert response.headers["vary"] == "Accept, Accept-Encoding, Origin"


@pytest.fixture
def tuned(db_url: str, client: TestClient) -> Iterator[TestClient]:
    """The seed served with a short max-age and two allowed origins."""
    settings = Settings(
        database_url=db_url,
        load_seed=False,
        cache_max_age=5,
        cors_origins="https://a.example,https://b.example",
    )
    with TestClient(create_app(settings)) as tuned:
        yield tuned


def test_max_age_is_a_setting(tuned: TestClient) -> None:
    assert get(tuned, "/claims").headers["cache-control"] == "public, max-age=5"


def test_the_openapi_document_and_static_files_have_their_own_validators(
    client: TestClient,
) -> None:
    for url in ("/openapi.json", "/static/swagger-ui.css"):
        response = get(client, url)
        assert response.status_code == 200, url
        tag = response.headers["etag"]
        assert get(client, url).headers["etag"] == tag
        again = get(client, url, **{"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"", url
        assert again.headers["etag"] == tag
    assert "last-modified" in get(client, "/static/swagger-ui.css").headers


# --- HEAD -------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/claims?status=pending", CLAIM, "/docs", "/openapi.json"])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_head_answers_the_get_headers_without_the_body(
    client: TestClient, url: str, encoding: str
) -> None:
    headers = {"Accept-Encoding": encoding}
    got = client.get(url, headers=headers)
    head = client.head(url, headers=headers)
    assert got.status_code == head.status_code == 200
    assert got.content and head.content == b""
    assert dict(head.headers) == dict(got.headers)
    if encoding == "identity":
        assert int(head.headers["content-length"]) == len(got.content)
    conditional = client.head(url, headers={**headers, "If-None-Match": got.headers["etag"]})
    assert conditional.status_code == 304 and conditional.content == b""


def test_head_of_a_missing_resource_is_a_404_without_body(client: TestClient) -> None:
    response = client.head("/claims/nope")
    assert response.status_code == 404 and response.content == b""
    assert response.headers["content-type"] == "application/problem+json"


def test_other_methods_are_a_405_allowing_get_and_head(client: TestClient) -> None:
    response = client.delete(CLAIM)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["title"] == "Method Not Allowed"


def test_head_is_not_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    methods = {method for item in spec["paths"].values() for method in item}
    assert "head" not in methods and methods <= {"get", "post", "delete"}


# --- gzip -------------------------------------------------------------------


def test_large_responses_are_gzipped_when_asked_with_their_own_tag(client: TestClient) -> None:
    plain = get(client, "/claims")
    assert len(plain.content) > 1024 and "content-encoding" not in plain.headers
    with client.stream("GET", "/claims", headers=GZIP) as packed:
        raw = b"".join(packed.iter_raw())
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) == len(raw) < len(plain.content)
    assert orjson.loads(gzip.decompress(raw)) == plain.json()
    tag, gzip_tag = plain.headers["etag"], packed.headers["etag"]
    assert gzip_tag != tag and revision(gzip_tag) == revision(tag)

    assert_not_modified(
        client.get("/claims", headers={**GZIP, "If-None-Match": gzip_tag}), gzip_tag
    )
    assert_not_modified(get(client, "/claims", **{"If-None-Match": tag}), tag)
    # A client that does not take gzip does not hold the gzip body.
    assert get(client, "/claims", **{"If-None-Match": gzip_tag}).status_code == 200


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000, identity", False),
        ("*;q=0, identity", False),
        ("br, *;q=0", False),
        ("deflate", False),
        ("identity", False),
        ("gzip;q=nope", False),
    ],
)
def test_gzip_follows_the_quality_the_client_gives_it(
    client: TestClient, accept_encoding: str, gzipped: bool
) -> None:
    assert accepts_gzip(accept_encoding.encode()) is gzipped
    with client.stream("GET", "/claims", headers={"Accept-Encoding": accept_encoding}) as sent:
        raw = b"".join(sent.iter_raw())
    assert (sent.headers.get("content-encoding") == "gzip") is gzipped
    body = gzip.decompress(raw) if gzipped else raw
    assert orjson.loads(body)["items"]
    assert sent.headers["etag"].endswith('-gzip"') is gzipped


def test_the_claimreview_author_is_part_of_every_tag(db_url: str, client: TestClient) -> None:
    """Changing who answers for the statuses changes ClaimReview bodies, so their tags too."""
    url = f"{CLAIM}?format=claimreview"
    before = get(client, url)
    settings = Settings(database_url=db_url, load_seed=False, claimreview_author="Desk X")
    with TestClient(create_app(settings)) as other:
        after = get(other, url)
        assert after.json() != before.json()
        assert after.headers["etag"] != before.headers["etag"]
        assert get(other, url, **{"If-None-Match": before.headers["etag"]}).status_code == 200


def test_small_responses_are_not_gzipped(client: TestClient) -> None:
    url = "/entities?limit=1"
    small = client.get(url, headers=GZIP)
    assert small.status_code == 200 and small.json()["items"][0]["id"]
    assert len(small.content) < 1024 and "content-encoding" not in small.headers
    tag = small.headers["etag"]
    assert tag == get(client, url).headers["etag"]
    assert_not_modified(client.get(url, headers={**GZIP, "If-None-Match": tag}), tag)


# --- CORS -------------------------------------------------------------------


def test_any_origin_may_read_by_default_with_the_validators_exposed(client: TestClient) -> None:
    response = get(client, "/claims?limit=1", Origin="https://news.example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"ETag", "Link", "Last-Modified"} <= exposed
    not_modified = get(
        client,
        "/claims?limit=1",
        Origin="https://news.example",
        **{"If-None-Match": response.headers["etag"]},
    )
    assert not_modified.status_code == 304
    assert not_modified.headers["access-control-allow-origin"] == "*"


def test_a_preflight_allows_reads_and_conditional_headers(client: TestClient) -> None:
    response = client.options(
        "/claims",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "HEAD", "OPTIONS"}
    assert response.headers["access-control-allow-headers"].lower() == "if-none-match"
    refused = client.options(
        "/claims",
        headers={"Origin": "https://news.example", "Access-Control-Request-Method": "DELETE"},
    )
    assert refused.status_code == 400


def test_configured_origins_only(tuned: TestClient) -> None:
    allowed = get(tuned, "/claims?limit=1", Origin="https://b.example")
    assert allowed.headers["access-control-allow-origin"] == "https://b.example"
    assert "Origin" in allowed.headers["vary"]
    other = get(tuned, "/claims?limit=1", Origin="https://c.example")
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    preflight = tuned.options(
        "/claims",
        headers={"Origin": "https://c.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400


def test_no_origins_means_no_cors_headers(db_url: str, client: TestClient) -> None:
    settings = Settings(database_url=db_url, load_seed=False, cors_origins=())
    with TestClient(create_app(settings)) as plain:
        response = get(plain, "/claims?limit=1", Origin="https://news.example")
        assert response.status_code == 200 and "etag" in response.headers
        assert not any(h.startswith("access-control-") for h in response.headers)


# --- settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("*", ("*",)),
        ("https://a.example", ("https://a.example",)),
        (
            " https://a.example , http://b.example:8080,",
            ("https://a.example", "http://b.example:8080"),
        ),
        ("", ()),
    ],
)
def test_cors_origins_are_read_as_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: tuple[str, ...]
) -> None:
    monkeypatch.setenv("APP_CORS_ORIGINS", value)
    assert Settings(_env_file=None).cors_origins == origins


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("APP_CORS_ORIGINS", "https://a.example/", "is not an origin"),
        ("APP_CORS_ORIGINS", "a.example", "is not an origin"),
        ("APP_CORS_ORIGINS", "*,https://a.example", "cannot be combined"),
        ("APP_CORS_ORIGINS", '["https://a.example"]', "is not an origin"),
        ("APP_CACHE_MAX_AGE", "-1", "greater than or equal to 0"),
        ("APP_CACHE_MAX_AGE", "a minute", "valid integer"),
    ],
)
def test_invalid_http_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None)


def test_http_settings_defaults() -> None:
    settings = Settings(_env_file=None)
    assert (settings.cache_max_age, settings.cors_origins) == (60, ("*",))
