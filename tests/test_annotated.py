"""The annotated article page: every highlight where its anchor says, in the HTML and in a browser."""

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from fastapi.testclient import TestClient

from app.anchors.annotated_page import Highlight, Node, layout
from tests.conftest import DATA, SEED_ARTICLE, Ingest, minimal_doc, write_doc
from tests.server import serve

VOID = {"meta", "input", "br", "img", "link", "hr", "wbr", "source", "area", "col", "base"}
KINDS = {"claim", "event", "attribution", "hedge", "evidence", "time", "mention"}


class Getter(Protocol):
    """A test client or an HTTP client: anything that GETs."""

    def get(self, url: str) -> Any: ...


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: "Element | None"
    text: list[str] = field(default_factory=list)

    @property
    def content(self) -> str:
        return "".join(self.text)


class Page(HTMLParser):
    """Every element of a page with its text content (as the DOM's ``textContent``)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self.stack[-1] if self.stack else None
        element = Element(tag, {k: v or "" for k, v in attrs}, parent)
        self.elements.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text.append(data)

    def highlights(self) -> list[Element]:
        return [e for e in self.elements if "hl" in e.attrs.get("class", "").split()]

    def by_id(self, id_: str) -> Element:
        return next(e for e in self.elements if e.attrs.get("id") == id_)


def expected_anchors(client: Getter, article: str) -> set[tuple[str, str, int, int]]:
    """Every (kind, fact id, start, end) the API gives for the article's facts."""
    out: set[tuple[str, str, int, int]] = set()
    base = f"/articles/{article}"
    for e in client.get(f"{base}/entities?limit=500").json()["items"]:
        out |= {("mention", e["id"], m["start"], m["end"]) for m in e["mentions"]}
    for ev in client.get(f"{base}/events?limit=500").json()["items"]:
        out |= {("event", ev["id"], a["start"], a["end"]) for a in ev["anchors"]}
        if ev["time"] and ev["time"]["anchor"]:
            a = ev["time"]["anchor"]
            out.add(("time", ev["id"], a["start"], a["end"]))
    for c in client.get(f"{base}/claims?limit=500").json()["items"]:
        out |= {("claim", c["id"], a["start"], a["end"]) for a in c["anchors"]}
        for kind in ("attribution", "hedge"):
            if c[kind]:
                out.add((kind, c["id"], c[kind]["start"], c[kind]["end"]))
        for ev in client.get(f"/claims/{c['id']}").json()["evidence"]:
            if ev["anchor"]:
                out.add(("evidence", c["id"], ev["anchor"]["start"], ev["anchor"]["end"]))
    return {a for a in out if a[3] > a[2]}


def check_highlights(page: Page, text: str) -> set[tuple[str, str, int, int]]:
    """Each highlight's text is its slice of the article; its pieces cover its anchor exactly.

    Returns the anchors found.
    """
    pieces: dict[tuple[str, str, int, int], list[tuple[int, int]]] = {}
    highlights = page.highlights()
    assert highlights
    for h in highlights:
        a = h.attrs
        start, end = int(a["data-start"]), int(a["data-end"])
        anchor = (
            a["data-kind"],
            a["data-id"],
            int(a["data-anchor-start"]),
            int(a["data-anchor-end"]),
        )
        assert a["data-kind"] in KINDS
        assert h.content == text[start:end], (a, h.content)
        assert anchor[2] <= start < end <= anchor[3], a
        assert f"k-{a['data-kind']}" in a["class"].split()
        pieces.setdefault(anchor, []).append((start, end))
    for (_, _, start, end), spans in pieces.items():
        spans.sort()
        covered = [i for s, e in spans for i in range(s, e)]
        assert len(covered) == len(set(covered)), "pieces overlap"
        # Only the line breaks between paragraphs are left out.
        missing = set(range(start, end)) - set(covered)
        assert all(text[i] == "\n" for i in missing)
        assert spans[0][0] == start and spans[-1][1] == end
    return set(pieces)


def check_paragraphs(page: Page, text: str) -> None:
    paras = [e for e in page.elements if "para" in e.attrs.get("class", "").split()]
    assert paras
    for p in paras:
        assert p.content == text[int(p.attrs["data-start"]) : int(p.attrs["data-end"])]
    assert [p.content for p in paras] == [line for line in text.split("\n") if line.strip()]


def check_claim_statuses(page: Page, client: Getter, article: str) -> None:
    claims = client.get(f"/articles/{article}/claims?limit=500").json()["items"]
    assert claims
    for claim in claims:
        found = [
            h
            for h in page.highlights()
            if h.attrs["data-kind"] == "claim" and h.attrs["data-id"] == claim["id"]
        ]
        assert found, claim["id"]
        for h in found:
            assert f"s-{claim['status']}" in h.attrs["class"].split()
            assert h.attrs["data-status"] == claim["status"]


# --- the page, through the test client -----------------------------------------


def test_seed_page_highlights_every_anchor(client: TestClient) -> None:
    response = client.get(f"/articles/{SEED_ARTICLE}/annotated")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    text = client.get(f"/articles/{SEED_ARTICLE}").json()["text"]
    page = Page(response.text)
    check_paragraphs(page, text)
    assert check_highlights(page, text) == expected_anchors(client, SEED_ARTICLE)
    check_claim_statuses(page, client, SEED_ARTICLE)
    # The headline is the text's first line, so it is the first paragraph and not repeated.
    h1 = [e for e in page.elements if e.tag == "h1"]
    assert len(h1) == 1 and h1[0].attrs["data-start"] == "0"
    # A claim anchor containing an entity mention nests it.
    nested = next(
        h
        for h in page.highlights()
        if h.attrs["data-kind"] == "mention" and h.attrs["data-id"] == "alexey-likhachev"
    )
    kinds = set()
    parent = nested.parent
    while parent is not None:
        kinds.add(parent.attrs.get("data-kind"))
        parent = parent.parent
    assert "claim" in kinds


def test_no_external_assets(client: TestClient) -> None:
    html = client.get(f"/articles/{SEED_ARTICLE}/annotated").text
    page = Page(html)
    for e in page.elements:
        assert not e.attrs.get("src"), e.attrs
        if e.tag == "link":
            raise AssertionError(f"external stylesheet or icon: {e.attrs}")
    assert "cdn" not in html.lower() and "@import" not in html
    assert "https://fonts" not in html


def test_legend_lists_every_status_and_kind(client: TestClient) -> None:
    page = Page(client.get(f"/articles/{SEED_ARTICLE}/annotated").text)
    statuses = client.get("/verification-statuses").json()
    legend = next(e for e in page.elements if e.attrs.get("class") == "legend")
    for status in statuses:
        assert status["label"] in legend.content
    toggles = {e.attrs["data-toggle"] for e in page.elements if "data-toggle" in e.attrs}
    assert toggles == KINDS


SCRIPT_TEXT = 'Evil <script>alert("x")</script> & Co said </b>hello<!-- "quoted" \'too\'.'


def test_untrusted_text_is_escaped(ingest: Ingest, tmp_path: Path, client: TestClient) -> None:
    doc = minimal_doc()
    doc["article"] |= {"id": "evil", "title": "<b>Bold</b> & title", "text": SCRIPT_TEXT}
    doc["entities"] = [
        {
            "id": "evil-co",
            "name": "<img src=x onerror=alert(1)>",
            "kind": "organization",
            "mentions": ["Evil <script>"],
        }
    ]
    doc["relations"] = []
    doc["events"] = []
    doc["claims"] = [
        {
            "id": "said-hello",
            "text": "</script><script>alert(2)</script>",
            "kind": "statement",
            "claimant": "evil-co",
            "attribution": "Co said",
            "status": "unverified",
            "rationale": "<i>No</i> source & no answer.",
            "anchors": ['</script> & Co said </b>hello<!-- "quoted"'],
        }
    ]
    ingest(write_doc(tmp_path / "evil.json", doc))
    response = client.get("/articles/evil/annotated")
    assert response.status_code == 200
    html = response.text
    assert html.count("<script") == 2  # the data block and the page's own script
    assert "</script><script>" not in html
    assert "<img src=x" not in html
    assert "Evil &lt;script&gt;</span>alert(&quot;x&quot;)<span" in html
    assert "&lt;/b&gt;hello&lt;!-- &quot;quoted&quot;</span>" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; title" in html
    page = Page(html)
    text = SCRIPT_TEXT
    check_paragraphs(page, text)
    found = check_highlights(page, text)
    assert ("mention", "evil-co", 0, 13) in found
    claim = next(a for a in found if a[0] == "claim")
    assert text[claim[2] : claim[3]] == '</script> & Co said </b>hello<!-- "quoted"'
    # The data block is JSON with every '<' escaped, so it parses back to the same strings.
    data = page.by_id("facts").content
    assert "<" not in data
    facts = json.loads(data)
    assert facts["claims"]["evil.said-hello"]["text"] == "</script><script>alert(2)</script>"


def test_unknown_article_is_a_problem(client: TestClient) -> None:
    response = client.get("/articles/nope/annotated")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no article with id 'nope'"
    response = client.get(f"/articles/{SEED_ARTICLE}/annotated?offset_unit=utf16")
    assert response.status_code == 422
    assert "unknown parameter" in response.json()["detail"]


# --- the layout, on its own ----------------------------------------------------


def _shape(node: Node) -> list[Any]:
    return [(c.mark.kind if c.mark else None, c.start, c.end, _shape(c)) for c in node.children]


def test_layout_nests_and_splits_crossing_highlights() -> None:
    claim = Highlight(0, 10, "claim", "c", "pending")
    mention = Highlight(2, 4, "mention", "m")
    event = Highlight(8, 14, "event", "e")  # crosses the claim's end
    tree = layout(0, 20, [mention, event, claim])
    assert _shape(tree) == [
        ("claim", 0, 10, [("mention", 2, 4, []), ("event", 8, 10, [])]),
        ("event", 10, 14, []),
    ]
    # Same words: the claim is outside, the mention inside; a paragraph clips both.
    same = layout(3, 6, [Highlight(0, 9, "mention", "m"), Highlight(0, 9, "claim", "c")])
    assert _shape(same) == [("claim", 3, 6, [("mention", 3, 6, [])])]


# --- the page, in a real browser -----------------------------------------------

ASTRAL_TEXT = "Ann 😀 met Bob in 𝔓aris.\nBob 🇰🇿 said the talks went well, and Ann agreed."


def _astral_doc() -> dict[str, Any]:
    doc = minimal_doc()
    doc["article"] |= {"id": "astral", "title": "Ann meets Bob", "text": ASTRAL_TEXT}
    doc["entities"] = [
        {"id": "ann", "name": "Ann", "kind": "person", "mentions": ["Ann 😀", "Ann agreed"]},
        {
            "id": "bob",
            "name": "Bob",
            "kind": "person",
            "mentions": [{"quote": "Bob", "occurrence": 2}],
        },
        {"id": "paris", "name": "Paris", "kind": "city", "mentions": ["𝔓aris"]},
    ]
    doc["relations"] = []
    del doc["events"][0]["time"]
    doc["events"][0] |= {
        "anchors": ["met Bob in 𝔓aris.\nBob 🇰🇿 said"],
        "location": "paris",
        "participants": [{"entity": "ann", "role": "participant"}],
    }
    doc["claims"][0] |= {
        "anchors": ["🇰🇿 said the talks went well, and Ann"],
        "attribution": "Bob 🇰🇿 said",
        "subjects": ["ann"],
        "evidence": [],
    }
    return doc


def dump_dom(url: str, profile: Path) -> str:
    """The page's DOM once its script has run, as headless Chromium serialises it."""
    chromium = shutil.which("chromium")
    assert chromium is not None
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        "--dump-dom",
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium binary on PATH")
def test_highlights_in_a_browser(db_url: str, ingest: Ingest, tmp_path: Path) -> None:
    ingest(DATA, write_doc(tmp_path / "astral.json", _astral_doc()))
    with (
        serve(db_url, APP_LOAD_SEED="false") as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        pages = {}
        for article in (SEED_ARTICLE, "astral"):
            page = pages[article] = Page(
                dump_dom(f"{server.url}/articles/{article}/annotated", tmp_path / "profile")
            )
            text = api.get(f"/articles/{article}").json()["text"]
            check_paragraphs(page, text)
            assert check_highlights(page, text) == expected_anchors(api, article)
            check_claim_statuses(page, api, article)
            # The page's script ran (its hash is in the Content-Security-Policy): the panel
            # lists every claim.
            details = page.by_id("details").content
            assert "Claims in this article" in details
            for claim in api.get(f"/articles/{article}/claims?limit=500").json()["items"]:
                assert claim["text"] in details
    # Offsets count code points: the emoji before an anchor do not shift it.
    astral = pages["astral"]
    paris = next(h for h in astral.highlights() if h.attrs["data-id"] == "paris")
    assert paris.content == "𝔓aris"
    assert (int(paris.attrs["data-start"]), int(paris.attrs["data-end"])) == (17, 22)
    # The event crosses a paragraph break and the claim crosses the attribution: both split.
    event = [h.content for h in astral.highlights() if h.attrs["data-kind"] == "event"]
    assert "".join(event) == "met Bob in 𝔓aris.Bob 🇰🇿 said"
    assert len(event) >= 2
    claim = [h.content for h in astral.highlights() if h.attrs["data-kind"] == "claim"]
    assert "".join(claim) == "🇰🇿 said the talks went well, and Ann"
    assert len(claim) >= 2
