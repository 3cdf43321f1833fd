"""Errors as problem+json (404, 405, 422), no 500 for any parameter, and the health checks."""

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import PROBLEM_JSON
from app.ingest.document import json_schema
from app.schemas import (
    ArticleSummary,
    ClaimOut,
    EntitySummary,
    EventOut,
    Health,
    Page,
    Problem,
)
from tests.conftest import SEED_ARTICLE

CLAIMS_ACCEPTS = [
    "article",
    "claimant",
    "cursor",
    "entity",
    "event",
    "kind",
    "limit",
    "published_from",
    "published_to",
    "q",
    "role",
    "status",
]
LISTS: dict[str, tuple[type[Any], list[str]]] = {
    "/claims": (Page[ClaimOut], CLAIMS_ACCEPTS),
    "/events": (
        Page[EventOut],
        [
            "article",
            "cursor",
            "date_from",
            "date_to",
            "entity",
            "kind",
            "limit",
            "modality",
            "q",
            "status",
        ],
    ),
    "/entities": (Page[EntitySummary], ["article", "cursor", "kind", "limit", "q"]),
    "/articles": (
        Page[ArticleSummary],
        [
            "cursor",
            "entity",
            "language",
            "limit",
            "published_from",
            "published_to",
            "publisher",
            "q",
        ],
    ),
}


def cursor(payload: Any) -> str:
    """A cursor in the API's own encoding (url-safe base64 of JSON, unpadded)."""
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def problem(response: Any, status: int) -> dict[str, Any]:
    """Check a problem+json response and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    Problem.model_validate(body)
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def names(body: dict[str, Any]) -> list[str]:
    """The parameter each listed error is about."""
    return [e["loc"][1] for e in body["errors"]]


@pytest.fixture
def lenient(client: TestClient) -> Iterator[TestClient]:
    """The same app, answering 500 instead of raising, so a test can assert the status."""
    # Not entered as a context manager: the app is already started by `client`.
    lenient = TestClient(client.app, raise_server_exceptions=False)
    yield lenient
    lenient.close()


# --- 404 ---------------------------------------------------------------------


def test_unknown_ids_are_404_problems(client: TestClient) -> None:
    cases = [
        ("/articles/nope", "no article with id 'nope'"),
        ("/articles/nope/claims", "no article with id 'nope'"),
        ("/entities/nope", "no entity with id 'nope'"),
        ("/entities/nope/mentions", "no entity with id 'nope'"),
        ("/events/nope", "no event with id 'nope'"),
        ("/claims/nope", "no claim with id 'nope'"),
        (f"/claims/{SEED_ARTICLE}", f"no claim with id {SEED_ARTICLE!r}"),
    ]
    for url, detail in cases:
        body = problem(client.get(url), 404)
        assert body == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": detail,
            "instance": url,
        }


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    for url in ("/nope", "/claims/x/y", "/articles/x/authors"):
        body = problem(client.get(url), 404)
        assert body["title"] == "Not Found"
        assert body["detail"] == f"no route matches {url}; see /docs for the API"
        assert set(body) == {"type", "title", "status", "detail", "instance"}


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.post("/claims")
    body = problem(response, 405)
    assert body["title"] == "Method Not Allowed"
    assert response.headers["allow"] == "GET, HEAD"


# --- 422: bad values ---------------------------------------------------------


BAD_VALUES: list[tuple[str, dict[str, str], str]] = [
    ("/claims", {"status": "bogus"}, "status"),
    ("/events", {"date_from": "2024-13-01"}, "date_from"),
    ("/events", {"date_to": "tomorrow"}, "date_to"),
    ("/claims", {"limit": "abc"}, "limit"),
    ("/claims", {"cursor": "garbage"}, "cursor"),
    ("/entities", {"kind": "planet"}, "kind"),
    ("/claims", {"role": "boss"}, "role"),
    ("/events", {"modality": "maybe"}, "modality"),
    ("/articles", {"published_from": "yesterday"}, "published_from"),
    ("/claims", {"published_to": "2024-02-30"}, "published_to"),
    ("/claims", {"q": ""}, "q"),
    ("/entities", {"q": "x" * 201}, "q"),
    ("/entities/rosatom/claims", {"status": "bogus"}, "status"),
    ("/entities/rosatom/events", {"date_to": "2024-1-1x"}, "date_to"),
    (f"/articles/{SEED_ARTICLE}/entities", {"kind": "planet"}, "kind"),
    (f"/articles/{SEED_ARTICLE}/claims", {"limit": "0"}, "limit"),
]


def test_bad_values_are_422_problems_naming_the_parameter(client: TestClient) -> None:
    for url, params, name in BAD_VALUES:
        body = problem(client.get(url, params=params), 422)
        assert body["title"] == "Unprocessable Content"
        assert body["detail"].startswith(f"query parameter {name!r}: "), (url, body["detail"])
        assert names(body) == [name], url
        error = body["errors"][0]
        assert error["loc"][0] == "query"
        assert isinstance(error["msg"], str) and error["msg"]
        assert error["msg"] in body["detail"]
        assert error["input"] == params[name], url


def test_specific_messages(client: TestClient) -> None:
    status = problem(client.get("/claims?status=bogus"), 422)
    assert status["detail"] == (
        "query parameter 'status': Input should be "
        "'confirmed', 'unverified', 'pending', 'disputed', 'refuted' or 'not_checkable'"
    )
    date = problem(client.get("/events?date_from=2024-13-01"), 422)
    assert "month value is outside expected range of 1-12" in date["detail"]
    limit = problem(client.get("/claims?limit=501"), 422)
    assert limit["detail"] == "query parameter 'limit': Input should be less than or equal to 500"
    bad_cursor = problem(client.get("/claims?cursor=garbage"), 422)
    assert bad_cursor["detail"] == (
        "query parameter 'cursor': not a cursor this API issued; use the `next_cursor` of a page"
    )
    assert bad_cursor["errors"] == [
        {
            "loc": ["query", "cursor"],
            "msg": "not a cursor this API issued; use the `next_cursor` of a page",
            "type": "value_error",
            "input": "garbage",
        }
    ]


def test_errors_list_each_bad_value(client: TestClient) -> None:
    body = problem(client.get("/events?status=bogus&date_from=2024-13-01&limit=abc"), 422)
    assert sorted(names(body)) == ["date_from", "limit", "status"]
    for name in ("status", "date_from", "limit"):
        assert f"query parameter {name!r}" in body["detail"]
    assert {e["input"] for e in body["errors"]} == {"bogus", "2024-13-01", "abc"}


def test_errors_list_a_bad_cursor_with_the_other_bad_values(client: TestClient) -> None:
    body = problem(client.get("/events?cursor=garbage&status=bogus"), 422)
    assert sorted(names(body)) == ["cursor", "status"]


def test_cursors_the_api_did_not_issue_are_422(lenient: TestClient) -> None:
    bad = [
        "garbage",
        "!!!!",
        "x" * 201,
        cursor(b"not json"),
        cursor([1]),
        cursor({"after": 1}),
        cursor(["claims"]),
        cursor(["claims", -1]),
        cursor(["claims", True]),
        cursor(["claims", "3"]),
        cursor(["claims", 1.5]),
        cursor(["claims", 2**31]),
        cursor(["mentions", 1]),
    ]
    for value in bad:
        body = problem(lenient.get("/claims", params={"cursor": value}), 422)
        assert names(body) == ["cursor"], value
    issued = lenient.get("/claims", params={"limit": "1"}).json()["next_cursor"]
    good = lenient.get("/claims", params={"cursor": issued, "limit": "1"})
    assert good.status_code == 200
    assert (
        good.json()["items"][0]["id"] == f"{SEED_ARTICLE}.embassy-asked-mfa-to-facilitate-meeting"
    )


def test_a_cursor_beyond_64_bits_is_422_not_500(lenient: TestClient) -> None:
    for after in (2**63, 2**64 - 1):
        response = lenient.get("/claims", params={"cursor": cursor({"after": after})})
        assert response.status_code == 422, (after, response.status_code, response.text)
        assert names(response.json()) == ["cursor"]


def test_a_text_filter_with_a_nul_character_does_not_match_everything(client: TestClient) -> None:
    for url in ("/claims", "/events", "/entities", "/articles"):
        response = client.get(url, params={"q": "\x00"})
        if response.status_code == 422:
            assert names(response.json()) == ["q"]
        else:
            assert response.status_code == 200
            assert response.json()["items"] == [], url


# --- 422: unknown parameters ------------------------------------------------


def _accepted(detail: str) -> list[str]:
    """The parameter names a 422 for an unknown parameter says the route accepts."""
    listed = detail.split("this route accepts: ", 1)[1].split(", and field__operator")[0]
    return listed.split(", ")


def test_a_misspelt_parameter_is_422_naming_it_and_the_accepted_ones(client: TestClient) -> None:
    body = problem(client.get("/claims?stauts=pending"), 422)
    assert body["detail"].startswith(
        "query parameter 'stauts': unknown parameter; this route accepts: "
    )
    assert set(CLAIMS_ACCEPTS) <= set(_accepted(body["detail"]))
    assert names(body) == ["stauts"]
    for url, (_, accepts) in LISTS.items():
        body = problem(client.get(url, params={"kinds": "x"}), 422)
        listed = _accepted(body["detail"])
        assert set(accepts) <= set(listed) and listed == sorted(listed), url
        assert "field__operator filters on: " in body["detail"], url
    body = problem(client.get("/healthz", params={"verbose": "1"}), 422)
    assert body["detail"].endswith("this route accepts: none")
    claim = f"/claims/{SEED_ARTICLE}.referendum-held-on-oct-6"
    body = problem(client.get(claim, params={"verbose": "1"}), 422)
    assert body["detail"].endswith("this route accepts: format, offset_unit")


def test_errors_list_every_unknown_parameter(client: TestClient) -> None:
    body = problem(client.get("/claims?stauts=pending&knid=quote"), 422)
    assert sorted(names(body)) == ["knid", "stauts"]


# --- never 500 ---------------------------------------------------------------


_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "0", "-1", "1", "500", "501", "1e3", "2024-10-17", "2024-13-01", "pending", "%", "_"]
    ),
)


@pytest.mark.parametrize("url", list(LISTS))
@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_arbitrary_parameters_never_answer_500(
    lenient: TestClient, url: str, data: st.DataObject
) -> None:
    model, accepts = LISTS[url]
    params = data.draw(
        st.lists(st.tuples(st.sampled_from([*accepts, "zzz"]), _values), min_size=1, max_size=4)
    )
    response = lenient.get(url, params=tuple(params))
    assert response.status_code in (200, 422), (params, response.status_code, response.text)
    if response.status_code == 200:
        model.model_validate(response.json())
    else:
        assert response.headers["content-type"] == PROBLEM_JSON
        body = Problem.model_validate(response.json())
        assert body.errors


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(key=st.text(min_size=1, max_size=40))
def test_arbitrary_ids_never_answer_500(lenient: TestClient, key: str) -> None:
    for resource in ("claims", "events", "entities", "articles"):
        response = lenient.get(f"/{resource}/{quote(key, safe='')}")
        # 422 for ids the API refuses outright (NUL characters); never a 500.
        assert response.status_code in (200, 404, 422), (resource, key, response.text)


# --- health and the published schema ----------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert Health.model_validate(response.json()) == Health(status="ok", checks={})


def test_readyz_on_the_seed(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "schema": "ok", "data": "ok"},
    }
    Health.model_validate(response.json())


def test_readyz_without_data_is_503(empty_client: TestClient) -> None:
    response = empty_client.get("/readyz")
    assert response.status_code == 503
    health = Health.model_validate(response.json())
    assert health.status == "unavailable"
    assert health.checks == {"database": "ok", "schema": "ok", "data": "no article loaded"}
    # The process itself is fine.
    assert empty_client.get("/healthz").status_code == 200


def test_fact_file_schema(client: TestClient) -> None:
    response = client.get("/schema/fact-file")
    assert response.status_code == 200
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["format"]["const"] == "article-facts/1"
    assert set(schema["required"]) >= {"format", "article"}
    assert schema == json_schema()
