"""Writes over HTTP: tokens and scopes, uploads, deletions, status changes, drafts, limits.

Every write test runs on SQLite and PostgreSQL; tokens are made with the real command and
fact files go through the real ingest code, as uploads.
"""

import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.cli import cli
from app.db import create_db_engine
from app.extract import missing_modules
from app.main import create_app
from app.settings import Settings
from tests.conftest import DATA, SEED_ARTICLE, TEXT, Ingest, minimal_doc, write_doc
from tests.databases import dump
from tests.server import serve
from tests.test_cli import REFUSE_ARTICLE_1
from tests.writing import bearer, data, inline_seed, make_token, runner, secret_of

CLAIM = f"{SEED_ARTICLE}.rosatom-head-seeks-meeting"
STATUS = f"/claims/{CLAIM}/status"
DECISION = {"status": "confirmed", "rationale": "The ministry confirmed the request."}


@pytest.fixture
def tokens(client: TestClient, db_url: str) -> dict[str, str]:
    """One token of each scope, by scope."""
    return {
        scope: make_token(db_url, f"{scope}-user", scope) for scope in ("write", "review", "admin")
    }


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


# --- tokens and scopes ----------------------------------------------------------------------

WRITES = [
    ("post", "/fact-files", {"json": minimal_doc()}),
    ("delete", f"/articles/{SEED_ARTICLE}", {}),
    ("post", STATUS, {"json": DECISION}),
    ("post", "/drafts", {"json": {"text": TEXT, "published": "2024-10-17", "language": "en"}}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), WRITES, ids=[w[1] for w in WRITES])
def test_a_write_without_a_valid_token_is_a_401_with_a_challenge(
    client: TestClient, db_url: str, method: str, url: str, kwargs: dict[str, Any]
) -> None:
    before = data(db_url)
    for headers, error in (
        ({}, None),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, None),
        (bearer("af_0123456789abcdef_not-the-secret"), "invalid_token"),
        (bearer("nonsense"), "invalid_token"),
    ):
        response = getattr(client, method)(url, headers=headers, **kwargs)
        _problem(response, 401)
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="article-facts"')
        assert (f'error="{error}"' in challenge) == (error is not None)
        assert response.headers["cache-control"] == "no-store"
    assert data(db_url) == before


def test_a_token_without_the_scope_is_a_403_naming_it(
    client: TestClient, tokens: dict[str, str], db_url: str
) -> None:
    before = data(db_url)
    response = client.post("/fact-files", json=minimal_doc(), headers=bearer(tokens["review"]))
    body = _problem(response, 403)
    assert "needs 'write'" in body["detail"] and "review-user" in body["detail"]
    assert 'error="insufficient_scope", scope="write"' in response.headers["www-authenticate"]
    _problem(client.post(STATUS, json=DECISION, headers=bearer(tokens["write"])), 403)
    _problem(client.delete(f"/articles/{SEED_ARTICLE}", headers=bearer(tokens["review"])), 403)
    assert data(db_url) == before
    # admin may do both
    assert client.post(STATUS, json=DECISION, headers=bearer(tokens["admin"])).status_code == 200


def test_a_revoked_token_is_refused_from_the_next_request(client: TestClient, db_url: str) -> None:
    token = make_token(db_url, "carol", "review")
    assert client.post(STATUS, json=DECISION, headers=bearer(token)).status_code == 200
    result = runner.invoke(cli, ["tokens", "revoke", "carol", "--database-url", db_url])
    assert result.exit_code == 0 and result.stdout.strip() == "Revoked token 'carol'."
    response = client.post(STATUS, json=DECISION, headers=bearer(token))
    _problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    # the name may be taken again, by a new token
    again = make_token(db_url, "carol", "review")
    assert client.post(STATUS, json=DECISION, headers=bearer(again)).status_code == 200
    assert client.post(STATUS, json=DECISION, headers=bearer(token)).status_code == 401


def test_the_token_appears_in_no_log_line_error_or_response(
    client: TestClient, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = make_token(db_url, "dave", "write")
    secret = secret_of(token)
    wrong = token[:-4] + "AAAA"
    with caplog.at_level(logging.DEBUG):
        responses = [
            client.post("/fact-files", json=minimal_doc(), headers=bearer(token)),
            client.post("/fact-files", content=b"{", headers=bearer(token)),
            client.post(STATUS, json=DECISION, headers=bearer(token)),
            client.post("/fact-files", json=minimal_doc(), headers=bearer(wrong)),
            client.delete("/articles/nope", headers=bearer(token)),
        ]
    assert [r.status_code for r in responses] == [201, 422, 403, 401, 404]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in caplog.records)
    assert "POST /fact-files 201" in logged  # the access log was on
    for response in responses:
        assert secret not in response.text and secret not in str(response.headers)
    assert secret not in logged and wrong[-20:] not in logged
    # only its hash is stored
    assert not any(secret in str(row) for row in dump(db_url))


# --- POST /fact-files -------------------------------------------------------------------------


def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(
    client: TestClient, tokens: dict[str, str], db_url: str
) -> None:
    before = data(db_url)
    response = client.post(
        "/fact-files?dry_run=true", json=minimal_doc(), headers=bearer(tokens["write"])
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "article": "test-article",
        "dry_run": True,
        "outcome": "added",
        "changed": True,
        "counts": {
            "articles": {"added": 1},
            "entities": {"added": 3},
            "events": {"added": 1},
            "claims": {"added": 1},
        },
        "status_changes": [],
        "revision": None,
    }
    assert data(db_url) == before
    # The seed again, its pending claim now refuted in the file: an update, one status change.
    seed = inline_seed()
    for claim in seed["claims"]:
        if claim["id"] == "rosatom-head-seeks-meeting":
            claim["status"], claim["rationale"] = "refuted", "The embassy denied it."
    body = client.post("/fact-files?dry_run=1", json=seed, headers=bearer(tokens["write"])).json()
    assert body["outcome"] == "updated"
    assert body["counts"]["claims"] == {"updated": 1, "unchanged": 11}
    assert body["status_changes"] == [{"claim": CLAIM, "from": "pending", "to": "refuted"}]
    assert data(db_url) == before


def test_an_invalid_file_is_a_422_listing_every_problem_with_its_json_path(
    client: TestClient, tokens: dict[str, str], db_url: str
) -> None:
    doc = minimal_doc()
    doc["claims"][0]["anchors"] = ["the talks went badly"]
    doc["claims"][0]["status"] = "probably"
    doc["entities"][1]["mentions"] = ["Bob"]
    doc["entities"].append({"id": "rosatomm"})
    before = data(db_url)
    for dry_run in ("false", "true"):
        response = client.post(
            f"/fact-files?dry_run={dry_run}", json=doc, headers=bearer(tokens["write"])
        )
        body = _problem(response, 422)
        # As ingest reports a file: its schema's problems, its quotes' and those against what
        # is stored, together.
        assert [(e["loc"][1], e["type"]) for e in body["errors"]] == [
            ("$.claims[0].status", "fact_file"),
            ("$.entities[1].mentions[0]", "fact_file"),
            ("$.claims[0].anchors[0]", "fact_file"),
            ("$.entities[3].id", "fact_file"),
        ]
        assert body["detail"].startswith("the fact file has 4 problems: $.claims[0].status: ")
        messages = [e["msg"] for e in body["errors"]]
        assert messages[1].startswith('quote "Bob" occurs 2 times in the article text')
        assert '#1 at 10 "Alice met [Bob] in Paris' in messages[1]
        assert messages[2] == 'quote "the talks went badly" is not in the article text'
        assert messages[3].startswith("unknown entity 'rosatomm': no stored entity has this id")
        assert "(did you mean 'rosatom'?)" in messages[3]
    body = _problem(
        client.post("/fact-files", content=b'{"format": ', headers=bearer(tokens["write"])), 422
    )
    assert body["errors"][0]["loc"] == ["body", "line 1, column 12"]
    assert data(db_url) == before


def test_an_upload_gives_its_text_inline(client: TestClient, tokens: dict[str, str]) -> None:
    doc = minimal_doc()
    doc["article"]["text_file"] = "../../../etc/passwd"
    del doc["article"]["text"]
    body = _problem(client.post("/fact-files", json=doc, headers=bearer(tokens["write"])), 422)
    assert body["errors"][0]["loc"] == ["body", "$.article.text_file"]
    assert "inline" in body["errors"][0]["msg"]


def test_an_upload_is_201_then_the_same_file_changes_nothing(
    client: TestClient, tokens: dict[str, str], db_url: str
) -> None:
    auth = bearer(tokens["write"])
    response = client.post("/fact-files", json=minimal_doc(), headers=auth)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "http://testserver/articles/test-article"
    assert response.json()["outcome"] == "added" and response.json()["revision"] == 2
    assert client.get("/articles/test-article").json()["title"] == "Alice meets Bob"
    claim = client.get("/claims/test-article.talks-went-well").json()
    # what an upload records is the uploader's: its token's name
    assert [(h["status"], h["actor"]) for h in claim["history"]] == [("pending", "write-user")]
    added = client.get("/changes?since=1").json()["items"]
    assert [(c["kind"], c["actor"]) for c in added] == [("article_added", "write-user")]
    before = data(db_url)
    again = client.post("/fact-files", json=minimal_doc(), headers=auth)
    assert again.status_code == 200
    assert again.json()["outcome"] == "unchanged" and again.json()["changed"] is False
    assert again.json()["revision"] is None
    assert again.json()["counts"]["claims"] == {"unchanged": 1}
    assert data(db_url) == before


def test_an_uploaded_file_and_the_same_file_ingested_from_disk_are_one_version(
    client: TestClient, tokens: dict[str, str], tmp_path: Path, ingest: Ingest, db_url: str
) -> None:
    raw = json.dumps(minimal_doc()).encode()
    (tmp_path / "a.json").write_bytes(raw)
    ingest(tmp_path / "a.json")
    before = data(db_url)
    response = client.post(
        "/fact-files",
        content=raw,
        headers={**bearer(tokens["write"]), "Content-Type": "application/json"},
    )
    assert response.json()["outcome"] == "unchanged"
    assert data(db_url) == before


def test_an_entity_id_of_another_kind_is_refused_against_what_is_stored(
    client: TestClient, tokens: dict[str, str], db_url: str
) -> None:
    doc = minimal_doc()
    doc["entities"][2]["id"] = "rosatom"  # an organization in the seed
    doc["relations"][0]["object"] = "rosatom"
    doc["events"][0]["location"] = "rosatom"
    before = data(db_url)
    body = _problem(client.post("/fact-files", json=doc, headers=bearer(tokens["write"])), 422)
    assert [e["loc"] for e in body["errors"]] == [
        ["body", "$.entities[2].name"],
        ["body", "$.entities[2].kind"],
    ]
    assert 'has kind "organization" in the database' in body["errors"][1]["msg"]
    assert data(db_url) == before


def test_bodies_over_the_limit_are_a_413_before_they_are_read(
    settings: Settings, ingest: Ingest, db_url: str
) -> None:
    ingest(DATA)
    token = make_token(db_url, "erin", "write")
    small = Settings(database_url=db_url, load_seed=False, max_upload_bytes=1000)
    with TestClient(create_app(small)) as client:
        body = json.dumps(minimal_doc()).encode()
        assert len(body) > 1000
        headers = {**bearer(token), "Content-Type": "application/json"}
        response = client.post("/fact-files", content=body, headers=headers)
        problem = _problem(response, 413)
        assert problem["title"] == "Content Too Large"
        assert problem["detail"] == (
            f"the request body is {len(body):,} bytes; this server accepts at most 1,000 "
            "(APP_MAX_UPLOAD_BYTES)"
        )

        def chunks() -> Iterator[bytes]:  # no Content-Length: sent as it comes
            for _ in range(1000):
                yield b" " * 100

        response = client.post("/fact-files", content=chunks(), headers=headers)
        assert _problem(response, 413)["detail"].startswith(
            "the request body is more than 1,000 bytes"
        )
        _problem(
            client.post(STATUS, json={**DECISION, "rationale": "x" * 2000}, headers=headers), 413
        )


def test_a_server_refuses_a_large_body_before_it_arrives(db_url: str, ingest: Ingest) -> None:
    """Over a socket: the 413 comes back while the client has sent only the headers."""
    ingest(DATA)
    token = make_token(db_url, "hank", "write")
    with serve(db_url, APP_MAX_UPLOAD_BYTES="1000") as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /fact-files HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {token}\r\n".encode()
                + b"Content-Length: 50000000\r\n\r\n{"
            )
            answer = ""
            while not answer.endswith("}"):
                received = sock.recv(65536).decode("latin-1")
                if not received:
                    break
                answer += received
        assert answer.startswith("HTTP/1.1 413 "), answer
        assert "50,000,000 bytes; this server accepts at most 1,000" in answer
    assert secret_of(token) not in server.output()


def test_write_requests_are_strict(client: TestClient, tokens: dict[str, str], db_url: str) -> None:
    auth = bearer(tokens["admin"])
    before = data(db_url)
    body = _problem(
        client.post("/fact-files?dry_run=true&dry_run=false", json=minimal_doc(), headers=auth),
        422,
    )
    assert body["errors"][0]["loc"] == ["query", "dry_run"]
    assert "given 2 times" in body["errors"][0]["msg"]
    _problem(client.post("/fact-files?dryrun=true", json=minimal_doc(), headers=auth), 422)
    _problem(
        client.post(
            "/fact-files",
            content=json.dumps(minimal_doc()),
            headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
        ),
        415,
    )
    _problem(
        client.post(
            STATUS, content=b"\xff\xfe", headers={**auth, "Content-Type": "application/json"}
        ),
        422,
    )
    _problem(client.post(STATUS, json={"status": "true", "rationale": "x"}, headers=auth), 422)
    bad_date = {
        **DECISION,
        "evidence": [{"source": "a", "stance": "supports", "url": "https://a.example", "date": 0}],
    }
    _problem(client.post(STATUS, json=bad_date, headers=auth), 422)
    _problem(client.post(STATUS, json={**DECISION, "actor": "mallory"}, headers=auth), 422)
    assert data(db_url) == before


@pytest.mark.parametrize("fail", ["upload", "status", "delete"])
def test_a_write_that_fails_half_way_leaves_the_database_exactly_as_it_was(
    settings: Settings, ingest: Ingest, db_url: str, fail: str
) -> None:
    """A real failure of the database in the middle of each write's transaction."""
    ingest(DATA)
    token = make_token(db_url, "frank", "admin")
    engine = create_db_engine(db_url)
    # A trigger refuses what each write does last (or in its middle): a claim's insert, the
    # change recorded after a status change or a deletion.
    target = {"upload": "claim", "status": "data_change", "delete": "data_change"}[fail]
    statements = [
        s.replace("BEFORE INSERT ON article", f"BEFORE INSERT ON {target}").replace(
            "NEW.key = 'article-1'",
            "1 = 1" if target == "data_change" else "NEW.key = 'test-article.talks-went-well'",
        )
        for s in REFUSE_ARTICLE_1[engine.dialect.name]
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    try:
        before = data(db_url)
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            auth = bearer(token)
            response = {
                "upload": lambda: client.post("/fact-files", json=minimal_doc(), headers=auth),
                "status": lambda: client.post(STATUS, json=DECISION, headers=auth),
                "delete": lambda: client.delete(f"/articles/{SEED_ARTICLE}", headers=auth),
            }[fail]()
            body = _problem(response, 500)
            assert body["detail"] == "internal error; the server log has the details"
            assert "disk on fire" not in response.text
        assert data(db_url) == before
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                f"DROP TRIGGER refuse ON {target}"
                if engine.dialect.name == "postgresql"
                else "DROP TRIGGER refuse"
            )
        engine.dispose()


# --- DELETE /articles/{id} --------------------------------------------------------------------


def test_deleting_an_article_keeps_shared_entities_and_histories(
    client: TestClient, tokens: dict[str, str], db_url: str
) -> None:
    second = minimal_doc()
    second["entities"].append(
        {"id": "rosatom", "name": "Rosatom", "kind": "organization", "mentions": []}
    )
    auth = bearer(tokens["write"])
    assert client.post("/fact-files", json=second, headers=auth).status_code == 201
    reviewed = client.post(STATUS, json=DECISION, headers=bearer(tokens["review"]))
    assert reviewed.status_code == 200
    entities = {
        e["id"] for e in client.get(f"/articles/{SEED_ARTICLE}/entities?limit=500").json()["items"]
    }

    response = client.delete(f"/articles/{SEED_ARTICLE}", headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "article": SEED_ARTICLE,
        "deleted": True,
        "entities": len(entities) - 1,  # all but rosatom, which the second article declares
        "events": 13,
        "claims": 12,
        "revision": 4,
    }
    assert client.get(f"/articles/{SEED_ARTICLE}").status_code == 404
    assert client.get(f"/claims/{CLAIM}").status_code == 404
    assert client.get("/entities/kazakhstan").status_code == 404
    rosatom = client.get("/entities/rosatom").json()
    assert (rosatom["name"], rosatom["mention_count"], rosatom["claim_count"]) == ("Rosatom", 0, 0)
    assert client.get("/search", params={"q": "Likhachev"}).json()["items"] == []
    assert [a["id"] for a in client.get("/articles").json()["items"]] == ["test-article"]
    _problem(client.delete(f"/articles/{SEED_ARTICLE}", headers=auth), 404)
    # the status history stays with the claim's id: loaded again, the claim continues it
    seed = inline_seed()
    assert client.post("/fact-files", json=seed, headers=auth).status_code == 201
    history = client.get(f"/claims/{CLAIM}").json()["history"]
    assert [(h["status"], h["actor"]) for h in history] == [
        ("pending", "ingest"),
        ("confirmed", "review-user"),
    ]
    kinds = [(c["kind"], c["actor"]) for c in client.get("/changes?since=3").json()["items"]]
    assert kinds == [("article_deleted", "write-user"), ("article_added", "write-user")]


# --- POST /claims/{id}/status -------------------------------------------------------------------


def test_a_reviewer_changes_a_status_with_a_rationale_and_evidence(
    client: TestClient, tokens: dict[str, str]
) -> None:
    before = client.get(f"/claims/{CLAIM}")
    evidence = {
        "source": "Ministry of Foreign Affairs",
        "stance": "supports",
        "url": "https://example.org/mfa",
        "date": "2024-10-21",
    }
    response = client.post(
        STATUS, json={**DECISION, "evidence": [evidence]}, headers=bearer(tokens["review"])
    )
    assert response.status_code == 200, response.text
    claim = response.json()
    assert claim["status"] == "confirmed" and claim["rationale"] == DECISION["rationale"]
    last = claim["history"][-1]
    assert (last["status"], last["actor"], last["evidence"]) == (
        "confirmed",
        "review-user",
        [evidence],
    )
    assert last["recorded_at"].endswith("+00:00")
    assert response.headers["etag"].startswith('"2-')
    assert response.headers["content-location"] == f"http://testserver/claims/{CLAIM}"
    assert client.get(f"/claims/{CLAIM}").json() == claim
    assert client.get(f"/claims/{CLAIM}").headers["etag"] != before.headers["etag"]
    _problem(
        client.post("/claims/nope/status", json=DECISION, headers=bearer(tokens["review"])), 404
    )


def test_a_reviewed_draft_claim_leaves_the_review_queue(
    client: TestClient, tokens: dict[str, str]
) -> None:
    doc = minimal_doc()
    drafted = {"extractor": "article-facts draft", "extractor_version": "0.1", "reviewed": False}
    doc["provenance"] = drafted
    response = client.post("/fact-files", json=doc, headers=bearer(tokens["write"]))
    assert response.status_code == 201, response.text
    queue = client.get("/claims", params={"reviewed": "false"}).json()["items"]
    assert [c["id"] for c in queue] == ["test-article.talks-went-well"]
    response = client.post(
        "/claims/test-article.talks-went-well/status",
        json={"status": "unverified", "rationale": "Only Bob says so."},
        headers=bearer(tokens["review"]),
    )
    assert response.status_code == 200, response.text
    assert response.json()["provenance"] == {
        "extractor": "article-facts draft",
        "extractor_version": "0.1",
        "model": None,
        "model_version": None,
        "reviewed": True,
    }
    assert client.get("/claims", params={"reviewed": "false"}).json()["items"] == []
    # The article's other facts are still waiting for a person.
    assert client.get("/events", params={"reviewed": "false"}).json()["items"]


def test_if_match_makes_a_status_change_conditional(
    client: TestClient, tokens: dict[str, str], db_url: str
) -> None:
    auth = bearer(tokens["review"])
    tag = client.get(f"/claims/{CLAIM}").headers["etag"]
    other = client.get(f"/claims/{SEED_ARTICLE}.russian-side-asks-for-a-date").headers["etag"]
    # another claim's change does not make this copy stale
    changed = client.post(
        f"/claims/{SEED_ARTICLE}.russian-side-asks-for-a-date/status",
        json=DECISION,
        headers={**auth, "If-Match": other},
    )
    assert changed.status_code == 200
    first = client.post(STATUS, json=DECISION, headers={**auth, "If-Match": tag})
    assert first.status_code == 200
    before = data(db_url)
    stale = client.post(
        STATUS, json={"status": "disputed", "rationale": "x"}, headers={**auth, "If-Match": tag}
    )
    body = _problem(stale, 412)
    assert "changed at revision 3" in body["detail"]
    for weak in (f"W/{tag}", '"garbage"', ""):
        _problem(client.post(STATUS, json=DECISION, headers={**auth, "If-Match": weak}), 412)
    assert data(db_url) == before
    fresh = client.get(f"/claims/{CLAIM}").headers["etag"]
    # each answer's ETag is good for the next change; one current tag in a list is enough
    for condition in ("{fresh}", "{fresh}", "{tag}, {fresh}", "*"):
        condition = condition.format(tag=tag, fresh=fresh)
        ok = client.post(STATUS, json=DECISION, headers={**auth, "If-Match": condition})
        assert ok.status_code == 200, (condition, ok.text)
        fresh = ok.headers["etag"]
    # a re-ingest of the claim's article that changes it also makes copies stale
    seed = inline_seed()
    seed["claims"][0]["text"] += " (corrected)"
    assert client.post("/fact-files", json=seed, headers=bearer(tokens["write"])).status_code == 200
    _problem(client.post(STATUS, json=DECISION, headers={**auth, "If-Match": fresh}), 412)


def _seed_with(claim_id: str, **changes: str) -> dict[str, Any]:
    seed = inline_seed()
    for claim in seed["claims"]:
        if claim["id"] == claim_id:
            claim.update(changes)
    return seed


def test_a_re_ingest_keeps_a_reviewers_decision_unless_the_file_changes_it(
    client: TestClient, tokens: dict[str, str], db_url: str, tmp_path: Path
) -> None:
    write, review = bearer(tokens["write"]), bearer(tokens["review"])
    local = CLAIM.split(".", 1)[1]
    assert client.post(STATUS, json=DECISION, headers=review).status_code == 200

    # The same file again, and then with the claim's text changed: the decision stays.
    for seed in (inline_seed(), _seed_with(local, text="Rosatom's head seeks a meeting.")):
        response = client.post("/fact-files", json=seed, headers=write)
        assert response.status_code == 200 and response.json()["status_changes"] == []
        claim = client.get(f"/claims/{CLAIM}").json()
        assert (claim["status"], claim["rationale"]) == ("confirmed", DECISION["rationale"])
        assert [h["actor"] for h in claim["history"]] == ["ingest", "review-user"]

    # The file now changes the status: refused, naming the review; nothing written.
    changed = _seed_with(local, status="refuted", rationale="The embassy denied it.")
    before = data(db_url)
    for dry_run in ("true", "false"):
        body = _problem(
            client.post(f"/fact-files?dry_run={dry_run}", json=changed, headers=write), 409
        )
        (error,) = body["errors"]
        assert error["loc"] == ["body", "$.claims[0].status"]
        assert error["type"] == "review_conflict"
        assert error["msg"].startswith(
            f"claim {CLAIM!r} was set to 'confirmed' by reviewer 'review-user' on "
        )
        assert "after this file gave it 'pending'; the file now gives 'refuted'" in error["msg"]
    assert data(db_url) == before

    # From the command line too, with the same message.
    path = write_doc(tmp_path / "changed.json", changed)
    result = runner.invoke(cli, ["ingest", str(path), "--database-url", db_url])
    assert result.exit_code == 1
    assert f"Error: {path}: $.claims[0].status: claim {CLAIM!r} was set to" in result.stderr
    assert data(db_url) == before

    # Overridden: the file's status is appended as its uploader's, and the review ends.
    response = client.post("/fact-files?override_reviews=true", json=changed, headers=write)
    assert response.status_code == 200, response.text
    assert response.json()["status_changes"] == [
        {"claim": CLAIM, "from": "confirmed", "to": "refuted"}
    ]
    claim = client.get(f"/claims/{CLAIM}").json()
    assert [(h["status"], h["actor"]) for h in claim["history"]] == [
        ("pending", "ingest"),
        ("confirmed", "review-user"),
        ("refuted", "write-user"),
    ]
    back = _seed_with(local, status="pending")
    assert client.post("/fact-files", json=back, headers=write).status_code == 200
    assert client.get(f"/claims/{CLAIM}").json()["status"] == "pending"


def test_a_file_that_comes_to_agree_with_the_reviewer_ends_no_review(
    client: TestClient, tokens: dict[str, str], tmp_path: Path, db_url: str
) -> None:
    write, review = bearer(tokens["write"]), bearer(tokens["review"])
    local = CLAIM.split(".", 1)[1]
    assert client.post(STATUS, json=DECISION, headers=review).status_code == 200
    agreeing = _seed_with(local, status="confirmed", rationale="Confirmed since.")
    assert client.post("/fact-files", json=agreeing, headers=write).status_code == 200
    assert client.get(f"/claims/{CLAIM}").json()["rationale"] == DECISION["rationale"]
    # the file said 'confirmed' last: a later edit that keeps it never conflicts
    edited = _seed_with(local, status="confirmed", rationale="Confirmed since.", text="Edited.")
    assert client.post("/fact-files", json=edited, headers=write).status_code == 200
    # while giving 'pending' again is a change of the file's: refused
    old = _seed_with(local, text="Edited.")
    _problem(client.post("/fact-files", json=old, headers=write), 409)
    # from the command line, --override-reviews lets it through
    path = write_doc(tmp_path / "old.json", old)
    result = runner.invoke(
        cli, ["ingest", str(path), "--override-reviews", "--database-url", db_url]
    )
    assert result.exit_code == 0, result.output
    claim = client.get(f"/claims/{CLAIM}").json()
    assert claim["status"] == "pending"
    # what the command loads is the command's, what an upload loads its uploader's
    assert claim["history"][-1]["actor"] == "ingest"
    feed = client.get("/changes", params={"limit": 500}).json()["items"]
    assert [c["actor"] for c in feed if c["kind"] == "status_changed"][-1] == "ingest"
    assert {c["actor"] for c in feed if c["kind"] == "article_updated"} == {"ingest", "write-user"}


# --- POST /drafts -----------------------------------------------------------------------------


DRAFTED = {"text": "Alice meets Bob\n" + TEXT, "published": "2024-10-17", "language": "en"}


@pytest.mark.skipif(not missing_modules(), reason="the extract extra is installed")
def test_drafts_are_a_501_without_the_extractor(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/drafts", json=DRAFTED, headers=bearer(tokens["write"]))
    body = _problem(response, 501)
    assert "draft extractor" in body["detail"] and "not installed" in body["detail"]
    assert "pip install 'article-facts[extract]'" in body["detail"]
    _problem(client.post("/drafts", json=DRAFTED, headers=bearer(tokens["review"])), 403)
    _problem(client.post("/drafts", json={"text": ""}, headers=bearer(tokens["write"])), 422)


@pytest.mark.skipif(bool(missing_modules()), reason="needs the extract extra")
def test_a_draft_over_http_reuses_stored_ids_and_uploads_as_it_is(
    client: TestClient, tokens: dict[str, str], db_url: str
) -> None:
    """The seed's text, drafted against the stored seed: its entities are the stored ones."""
    text = (DATA / "000_b1f888410de66621.txt").read_text("utf-8")
    article = {"text": text, "published": "2024-10-17", "language": "en", "id": "again"}
    response = client.post(
        "/drafts", json={**article, "publisher": "Kursiv.media"}, headers=bearer(tokens["write"])
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    drafted = response.json()
    assert drafted["article"]["text"] == text and drafted["article"]["id"] == "again"
    assert drafted["provenance"]["reviewed"] is False
    references = {e["id"] for e in drafted["entities"] if "name" not in e}
    assert {"rosatom", "kazakhstan", "alexey-likhachev", "kursiv-media"} <= references
    before = data(db_url)
    checked = client.post("/fact-files?dry_run=true", json=drafted, headers=bearer(tokens["write"]))
    assert checked.status_code == 200, checked.text
    assert checked.json()["outcome"] == "added"
    assert data(db_url) == before
    # Every fact of the draft waits for a person.
    loaded = client.post("/fact-files", json=drafted, headers=bearer(tokens["write"]))
    assert loaded.status_code == 201, loaded.text
    queue = client.get("/claims", params={"reviewed": "false", "article": "again"}).json()
    assert len(queue["items"]) == len(drafted["claims"])
    _problem(
        client.post("/drafts", json={**DRAFTED, "id": "Bad Id"}, headers=bearer(tokens["write"])),
        422,
    )
    _problem(
        client.post("/drafts", json={**DRAFTED, "language": "fr"}, headers=bearer(tokens["write"])),
        422,
    )


# --- the OpenAPI document, CORS, and reads behind tokens -------------------------------------------


def test_writes_are_documented_with_their_security_scheme(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "af_<key>_<secret>",
        "description": spec["components"]["securitySchemes"]["token"]["description"],
    }
    writes = {
        (path, method)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if op.get("security") == [{"token": []}]
    }
    assert writes == {
        ("/fact-files", "post"),
        ("/articles/{article_id}", "delete"),
        ("/claims/{claim_id}/status", "post"),
        ("/drafts", "post"),
    }
    body = spec["paths"]["/fact-files"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/FactFile"}
    # A claim of the file: a claim of its own, or a report of another article's.
    assert spec["components"]["schemas"]["FactFile"]["properties"]["claims"]["items"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/ClaimIn"},
            {"$ref": "#/components/schemas/ClaimReportIn"},
        ]
    }
    assert "security" not in spec["paths"]["/claims"]["get"]


def test_browsers_may_write_only_from_the_origins_named(settings: Settings, ingest: Ingest) -> None:
    ingest(DATA)
    preflight = {
        "Origin": "https://desk.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    with TestClient(create_app(settings)) as client:
        refused = client.options("/fact-files", headers=preflight)
        assert refused.status_code == 400
        read = client.get("/claims?limit=1", headers={"Origin": "https://desk.example"})
        assert read.headers["access-control-allow-origin"] == "*"
    allowed = Settings(
        database_url=settings.database_url,
        load_seed=False,
        cors_write_origins="https://desk.example",
    )
    with TestClient(create_app(allowed)) as client:
        ok = client.options("/fact-files", headers=preflight)
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://desk.example"
        assert "POST" in ok.headers["access-control-allow-methods"]
        assert "authorization" in ok.headers["access-control-allow-headers"]
        other = client.options(
            "/fact-files", headers={**preflight, "Origin": "https://else.example"}
        )
        assert other.status_code == 400
        read = client.get("/claims?limit=1", headers={"Origin": "https://else.example"})
        assert read.status_code == 200 and read.headers["access-control-allow-origin"] == "*"
        write = client.post(
            "/fact-files", json=minimal_doc(), headers={"Origin": "https://desk.example"}
        )
        assert write.status_code == 401
        assert "Location" in write.headers["access-control-expose-headers"]


def test_reads_may_require_a_token(settings: Settings, ingest: Ingest, db_url: str) -> None:
    ingest(DATA)
    token = make_token(db_url, "reader", "review")
    locked = Settings(database_url=db_url, load_seed=False, read_requires_token=True)
    with TestClient(create_app(locked)) as client:
        for url in ("/claims", f"/claims/{CLAIM}", "/changes", "/changes.atom", "/nope"):
            response = client.get(url)
            _problem(response, 401)
            assert response.headers["www-authenticate"] == 'Bearer realm="article-facts"'
            assert client.head(url).status_code == 401
        assert client.get("/claims", headers=bearer("af_x_y")).status_code == 401
        assert client.get("/claims", headers=bearer(token)).status_code == 200
        for url in ("/healthz", "/readyz", "/docs", "/openapi.json", "/static/swagger-ui.css"):
            assert client.get(url).status_code == 200, url
        spec = client.get("/openapi.json").json()
        assert spec["paths"]["/claims"]["get"]["security"] == [{"token": []}]
        assert "security" not in spec["paths"]["/healthz"]["get"]
        result = runner.invoke(cli, ["tokens", "revoke", "reader", "--database-url", db_url])
        assert result.exit_code == 0
        assert client.get("/claims", headers=bearer(token)).status_code == 401


def test_tokens_record_their_last_use(client: TestClient, db_url: str) -> None:
    token = make_token(db_url, "gina", "review")
    listing = runner.invoke(cli, ["tokens", "list", "--database-url", db_url]).stdout
    assert listing.splitlines()[1].split()[-1] == "never"
    assert client.post(STATUS, json=DECISION, headers=bearer(token)).status_code == 200
    listing = runner.invoke(cli, ["tokens", "list", "--database-url", db_url]).stdout
    (row,) = [line for line in listing.splitlines() if line.startswith("gina")]
    assert row.split()[:2] == ["gina", "review"] and row.endswith("UTC")
    assert "never" not in row


# --- concurrency ----------------------------------------------------------------------------------


def test_concurrent_uploads_and_status_changes_while_the_api_serves_reads(
    db_url: str, ingest: Ingest
) -> None:
    """Two uploaders sharing entities, a reviewer and a reader at once: no error, nothing lost."""
    ingest(DATA)
    writer, reviewer = (
        make_token(db_url, "uploader", "write"),
        make_token(db_url, "reviewer", "review"),
    )
    per_uploader, decisions = 6, 12
    statuses = ["confirmed", "disputed", "refuted", "pending"]
    with serve(db_url, APP_LOG_FORMAT="json") as server:
        failures: list[str] = []
        done = threading.Event()

        def check(response: httpx.Response, *ok: int) -> None:
            if response.status_code not in ok:
                failures.append(f"{response.request.url}: {response.status_code} {response.text}")

        def upload(prefix: str) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                for i in range(per_uploader):
                    doc = minimal_doc()
                    doc["article"]["id"] = f"{prefix}-{i}"
                    check(http.post("/fact-files", json=doc, headers=bearer(writer)), 201)

        def review() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                for i in range(decisions):
                    decision = {"status": statuses[i % 4], "rationale": f"decision {i}"}
                    check(http.post(STATUS, json=decision, headers=bearer(reviewer)), 200)

        def read() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                while not done.is_set():
                    for url in (
                        "/claims?limit=5",
                        f"/claims/{CLAIM}",
                        "/changes?limit=5",
                        "/changes.atom",
                    ):
                        check(http.get(url), 200)

        reader = threading.Thread(target=read)
        reader.start()
        workers = [threading.Thread(target=upload, args=(p,)) for p in ("a", "b")]
        workers.append(threading.Thread(target=review))
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        done.set()
        reader.join(timeout=60)
        assert failures == []
        with httpx.Client(base_url=server.url) as http:
            articles = http.get("/articles", params={"limit": 100}).json()["items"]
            assert len(articles) == 1 + 2 * per_uploader
            history = http.get(f"/claims/{CLAIM}").json()["history"]
            assert [h["rationale"] for h in history if h["actor"] == "reviewer"] == [
                f"decision {i}" for i in range(decisions)
            ]
            feed = http.get("/changes", params={"limit": 500}).json()["items"]
            assert sum(c["kind"] == "article_added" for c in feed) == 1 + 2 * per_uploader
            assert sum(c["actor"] == "reviewer" for c in feed) == decisions
            assert [c["revision"] for c in feed] == sorted(c["revision"] for c in feed)
    assert secret_of(writer) not in server.output()
    assert secret_of(reviewer) not in server.output()
