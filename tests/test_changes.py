"""The change feed: /changes in the cursor contract, its ETags, and the Atom feed (RFC 4287)."""

import re
from typing import Any
from xml.etree import ElementTree as ET

import feedparser
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import alembic_config, create_db_engine, upgrade
from tests.conftest import SEED_ARTICLE, minimal_doc
from tests.writing import bearer, inline_seed, make_token, runner

A = "{http://www.w3.org/2005/Atom}"
CLAIM = f"{SEED_ARTICLE}.rosatom-head-seeks-meeting"
OTHER = f"{SEED_ARTICLE}.russian-side-asks-for-a-date"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@pytest.fixture
def written(client: TestClient, db_url: str) -> TestClient:
    """The seed, then: a new article uploaded, two status changes by a reviewer, a deletion."""
    write = bearer(make_token(db_url, "desk", "write"))
    review = bearer(make_token(db_url, "alice", "review"))
    assert client.post("/fact-files", json=minimal_doc(), headers=write).status_code == 201
    for claim, status in ((CLAIM, "confirmed"), (OTHER, "disputed")):
        decision = {"status": status, "rationale": f"Checked: {status}."}
        assert (
            client.post(f"/claims/{claim}/status", json=decision, headers=review).status_code == 200
        )
    assert client.delete("/articles/test-article", headers=write).status_code == 200
    return client


def _all(client: TestClient, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while url:
        page = client.get(url).json()
        items += page["items"]
        url = page["next"]
    return items


def test_changes_lists_every_write_oldest_first(written: TestClient) -> None:
    page = written.get("/changes").json()
    assert page["revision"] == 5 and page["next"] is None
    assert [
        (c["revision"], c["kind"], c["article"], c["claim"], c["from"], c["to"], c["actor"])
        for c in page["items"]
    ] == [
        (1, "article_added", SEED_ARTICLE, None, None, None, "ingest"),
        (2, "article_added", "test-article", None, None, None, "desk"),
        (3, "status_changed", SEED_ARTICLE, CLAIM, "pending", "confirmed", "alice"),
        (4, "status_changed", SEED_ARTICLE, OTHER, "pending", "disputed", "alice"),
        (5, "article_deleted", "test-article", None, None, None, "desk"),
    ]
    assert page["items"][2]["rationale"] == "Checked: confirmed."
    assert all(RFC3339.fullmatch(c["recorded_at"]) for c in page["items"])
    assert [c["revision"] for c in written.get("/changes?since=3").json()["items"]] == [4, 5]
    assert written.get("/changes?since=5").json()["items"] == []


def test_changes_pages_by_cursor_and_keeps_since(written: TestClient) -> None:
    first = written.get("/changes?since=1&limit=2")
    assert first.status_code == 200
    assert first.headers["link"] == f'<{first.json()["next"]}>; rel="next"'
    assert "since=1" in first.json()["next"]
    assert [c["revision"] for c in _all(written, "/changes?since=1&limit=2")] == [2, 3, 4, 5]
    cursor = first.json()["next_cursor"]
    assert written.get(f"/changes?since=2&cursor={cursor}").status_code == 422
    assert written.get(f"/claims?cursor={cursor}").status_code == 422
    for bad in (
        "since=-1",
        "since=x",
        "limit=0",
        "limit=501",
        "cursor=nope",
        "sinse=1",
        "since=1&since=2",
    ):
        response = written.get(f"/changes?{bad}")
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"


def test_changes_carry_an_etag_that_moves_with_every_write(
    written: TestClient, db_url: str
) -> None:
    response = written.get("/changes?since=4")
    tag = response.headers["etag"]
    assert tag.startswith('"5-')
    assert written.get("/changes?since=4", headers={"If-None-Match": tag}).status_code == 304
    review = bearer(make_token(db_url, "bob", "review"))
    decision = {"status": "refuted", "rationale": "Denied."}
    assert written.post(f"/claims/{CLAIM}/status", json=decision, headers=review).status_code == 200
    again = written.get("/changes?since=4", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.headers["etag"].startswith('"6-')
    assert [c["actor"] for c in again.json()["items"]] == ["desk", "bob"]


def test_an_unchanged_re_ingest_records_nothing(client: TestClient, db_url: str) -> None:
    write = bearer(make_token(db_url, "desk", "write"))
    seed = inline_seed()
    seed["claims"][0]["status"] = "refuted"
    assert client.post("/fact-files", json=seed, headers=write).json()["revision"] == 2
    assert client.post("/fact-files", json=seed, headers=write).json()["changed"] is False
    items = client.get("/changes?since=1").json()["items"]
    claim = f"{SEED_ARTICLE}.{seed['claims'][0]['id']}"
    assert [(c["kind"], c["claim"], c["from"], c["to"], c["actor"]) for c in items] == [
        ("article_updated", None, None, None, "desk"),
        ("status_changed", claim, seed_status(claim, client), "refuted", "desk"),
    ]


def seed_status(claim: str, client: TestClient) -> str:
    """The status the seed gave a claim (its history's first entry)."""
    return str(client.get(f"/claims/{claim}").json()["history"][0]["status"])


# --- the Atom feed ------------------------------------------------------------------------------


def _text(element: ET.Element, tag: str) -> str:
    found = element.findall(A + tag)
    assert len(found) == 1, f"exactly one atom:{tag} in {element.tag}"
    return found[0].text or ""


def assert_atom(document: bytes) -> ET.Element:
    """The requirements of RFC 4287 on a feed and its entries (section 4.1)."""
    root = ET.fromstring(document)
    assert root.tag == A + "feed"
    for tag in ("id", "title", "updated"):
        assert _text(root, tag)
    assert RFC3339.fullmatch(_text(root, "updated"))
    assert re.match(r"[a-z][a-z0-9+.-]*:", _text(root, "id"))  # an IRI
    selves = [link for link in root.findall(A + "link") if link.get("rel") == "self"]
    assert len(selves) == 1 and selves[0].get("href", "").startswith("http")
    feed_author = root.findall(A + "author")
    entries = root.findall(A + "entry")
    ids = set()
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert _text(entry, tag)
        assert RFC3339.fullmatch(_text(entry, "updated"))
        ids.add(_text(entry, "id"))
        links = entry.findall(A + "link")
        alternates = [
            (link.get("type"), link.get("hreflang"))
            for link in links
            if link.get("rel", "alternate") == "alternate"
        ]
        assert alternates and len(alternates) == len(set(alternates))  # at most one per type
        assert all(link.get("href", "").startswith("http") for link in links)
        # every entry has an author, its own or the feed's
        authors = entry.findall(A + "author") or feed_author
        assert authors and all(_text(a, "name") for a in authors)
        # no content, so a summary is required to say what the entry is
        assert entry.find(A + "content") is not None or _text(entry, "summary")
    assert len(ids) == len(entries)
    return root


def test_the_atom_feed_meets_rfc_4287_and_a_feed_reader_shows_it(written: TestClient) -> None:
    response = written.get("/changes.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.headers["etag"].startswith('"5-')
    root = assert_atom(response.content)
    entries = root.findall(A + "entry")
    assert [_text(e.find(A + "author"), "name") for e in entries] == ["alice", "alice"]  # type: ignore[arg-type]
    newest = entries[0]
    assert _text(newest, "title").startswith("Disputed: ")
    assert _text(newest, "summary") == (
        f"alice changed the status of claim {OTHER} from pending to disputed: Checked: disputed."
    )
    links = {link.get("rel"): link.get("href") for link in newest.findall(A + "link")}
    assert links == {
        "alternate": f"http://testserver/articles/{SEED_ARTICLE}/annotated",
        "related": f"http://testserver/claims/{OTHER}",
    }
    assert written.get(f"/articles/{SEED_ARTICLE}/annotated").status_code == 200
    # the same ids every time it is read
    assert written.get("/changes.atom").content == response.content

    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    assert parsed.feed.title == "article-facts: claim status changes"
    assert [(e.author, e.link, e.tags[0].term) for e in parsed.entries] == [
        ("alice", f"http://testserver/articles/{SEED_ARTICLE}/annotated", "disputed"),
        ("alice", f"http://testserver/articles/{SEED_ARTICLE}/annotated", "confirmed"),
    ]
    assert parsed.entries[1].title.startswith("Confirmed: Rosatom's head is seeking a meeting")
    assert all(e.updated_parsed and e.id.startswith("urn:uuid:") for e in parsed.entries)


def test_the_feed_is_also_changes_with_an_atom_accept(written: TestClient) -> None:
    feed = written.get("/changes?since=3&limit=1", headers={"Accept": "application/atom+xml"})
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert len(assert_atom(feed.content).findall(A + "entry")) == 1
    assert written.get(
        "/changes", headers={"Accept": "application/json, application/atom+xml;q=0.5"}
    ).json()["items"]
    assert (
        written.get("/changes", headers={"Accept": "*/*"}).headers["content-type"]
        == "application/json"
    )
    refused = written.get("/changes", headers={"Accept": "text/csv"})
    assert (
        refused.status_code == 406 and refused.headers["content-type"] == "application/problem+json"
    )
    cursor = written.get("/changes?limit=1").json()["next_cursor"]
    atom_page = written.get(
        f"/changes?limit=1&cursor={cursor}", headers={"Accept": "application/atom+xml"}
    )
    assert atom_page.status_code == 422
    empty = written.get("/changes.atom?since=5")
    root = assert_atom(empty.content)
    assert root.findall(A + "entry") == []


def test_the_feed_uses_the_public_url_for_its_ids_and_links(db_url: str, ingest: Any) -> None:
    from app.main import create_app
    from app.settings import Settings
    from tests.conftest import DATA

    ingest(DATA)
    review = bearer(make_token(db_url, "alice", "review"))
    settings = Settings(
        database_url=db_url, load_seed=False, public_url="https://facts.example.org"
    )
    with TestClient(create_app(settings)) as client:
        decision = {"status": "confirmed", "rationale": "Yes."}
        assert (
            client.post(f"/claims/{CLAIM}/status", json=decision, headers=review).status_code == 200
        )
        root = assert_atom(client.get("/changes.atom", headers={"Host": "evil.example"}).content)
    hrefs = [link.get("href", "") for link in root.iter(A + "link")]
    assert hrefs and all(h.startswith("https://facts.example.org/") for h in hrefs)


# --- the migration ------------------------------------------------------------------------------


def test_the_migration_records_what_the_database_holds(client: TestClient, db_url: str) -> None:
    """Upgrading a loaded database lists its articles and status changes in the feed."""
    seed = inline_seed()
    seed["claims"][0]["status"] = "refuted"
    write = bearer(make_token(db_url, "desk", "write"))
    assert client.post("/fact-files", json=seed, headers=write).status_code == 200
    before = client.get(f"/claims/{SEED_ARTICLE}.{seed['claims'][0]['id']}").json()["history"]
    command.downgrade(alembic_config(db_url), "1c2d3e4f5a6b")
    upgrade(db_url)
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT revision, kind, article, claim, from_status, to_status, actor FROM data_change ORDER BY id"
                )
            ).all()
            actors = (
                conn.execute(text("SELECT DISTINCT actor FROM claim_status_change")).scalars().all()
            )
    finally:
        engine.dispose()
    claim = f"{SEED_ARTICLE}.{seed['claims'][0]['id']}"
    assert [tuple(r) for r in rows] == [
        (2, "article_added", SEED_ARTICLE, None, None, None, "ingest"),
        (2, "status_changed", SEED_ARTICLE, claim, before[0]["status"], "refuted", "ingest"),
    ]
    # the downgrade dropped who made each change: the upgrade can only say "ingest"
    assert actors == ["ingest"]
    after = client.get(f"/claims/{claim}").json()["history"]
    assert [h["actor"] for h in before] == ["ingest", "desk"]
    assert after == [{**h, "actor": "ingest"} for h in before]


# --- tokens on the command line -------------------------------------------------------------------


def test_token_commands(db_url: str) -> None:
    from app.cli import cli

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, [*args, "--database-url", db_url])
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("tokens", "create", "alice", "--scope", "review")
    assert code == 0
    lines = out.strip().splitlines()
    assert (
        lines[0] == "Created token 'alice' with scope review. Keep it now, it is not shown again:"
    )
    assert re.fullmatch(r"af_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", lines[-1])
    code, _, err = run("tokens", "create", "alice", "--scope", "write")
    assert (code, err.strip()) == (
        1,
        "Error: a token named 'alice' exists; revoke it first, or pick another name",
    )
    for name in ("ingest", "has space", "_under", "x" * 201):
        code, _, err = run("tokens", "create", name, "--scope", "write")
        assert code == 1 and err.startswith("Error: "), name
    code, _, err = run("tokens", "create", "bob", "--scope", "owner")
    assert code == 2 and "owner" in err
    code, out, _ = run("tokens", "list")
    assert out.splitlines()[0].split() == ["NAME", "SCOPE", "CREATED", "LAST", "USED"]
    assert out.splitlines()[1].split()[:2] == ["alice", "review"]
    assert run("tokens", "revoke", "alice")[0] == 0
    code, _, err = run("tokens", "revoke", "alice")
    assert (code, err.strip()) == (
        1,
        "Error: no token named 'alice' (see: article-facts tokens list)",
    )
    assert run("tokens", "list")[1].strip() == "No tokens."
    code, out, _ = run("tokens", "list", "--all")
    assert out.splitlines()[1].split()[:2] == ["alice", "review"]
    assert out.splitlines()[1].endswith("UTC") and "REVOKED" in out.splitlines()[0]
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT key, secret_sha256 FROM api_token")).all()
    finally:
        engine.dispose()
    assert len(stored) == 1 and len(stored[0][1]) == 64
    assert lines[-1].split("_")[1] == stored[0][0]
