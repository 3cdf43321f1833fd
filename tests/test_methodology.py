"""The methodology: JSON by default, a page for people, the same content in both."""

import pytest
from fastapi.testclient import TestClient

from app.api.meta import wants_html

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_json_by_default(empty_client: TestClient) -> None:
    response = empty_client.get("/methodology")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]
    body = response.json()
    vocabulary = empty_client.get("/verification-statuses").json()
    assert [s["status"] for s in body["statuses"]] == [s["status"] for s in vocabulary]
    for ours, served in zip(body["statuses"], vocabulary, strict=True):
        for key in ("label", "definition", "claimreview_rating", "fever_label"):
            assert ours[key] == served[key]
        status = ours["status"]
        assert body["crosswalks"]["claimreview"]["mapping"][status] == served["claimreview_rating"]
        assert body["crosswalks"]["fever"]["mapping"][status] == served["fever_label"]
    assert body["crosswalks"]["claimreview"]["mapping"]["refuted"] == "False"
    assert body["crosswalks"]["fever"]["mapping"]["confirmed"] == "SUPPORTS"
    assert body["anchors"]["unit"] == "codepoint"
    assert any("occurrence" in rule for rule in body["anchors"]["rules"])
    assert any("`exact` always equals" in rule for rule in body["anchors"]["rules"])
    units = {u["value"]: u for u in body["offset_units"]}
    assert set(units) == {"codepoint", "utf16"}
    assert units["codepoint"]["default"] and not units["utf16"]["default"]
    assert "counts 2" in units["utf16"]["description"]
    motivations = {m["anchor"]: m["motivation"] for m in body["web_annotation"]["motivations"]}
    assert motivations["claim"] == "assessing" and motivations["mention"] == "identifying"


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/methodology", "text/html"),
        ("/methodology", BROWSER),
        ("/methodology?format=html", "application/json"),
    ],
)
def test_html_when_asked(empty_client: TestClient, url: str, accept: str) -> None:
    response = empty_client.get(url, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert html.startswith("<!doctype html>")
    for status in empty_client.get("/methodology").json()["statuses"]:
        assert f"<code>{status['status']}</code>" in html
        assert status["definition"] in html
    assert "NOT ENOUGH INFO" in html and "Disputed" in html
    assert "<code>utf16</code>" in html and "TextPositionSelector" in html


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/methodology?format=json", BROWSER),
        ("/methodology", "application/json"),
        ("/methodology", "*/*"),
        ("/methodology", "text/html;q=0.5, application/json"),
    ],
)
def test_json_when_asked(empty_client: TestClient, url: str, accept: str) -> None:
    response = empty_client.get(url, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["anchors"]["unit"] == "codepoint"


def test_bad_parameters(empty_client: TestClient) -> None:
    response = empty_client.get("/methodology?format=xml")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "format"]
    response = empty_client.get("/methodology?lang=en")
    assert response.status_code == 422
    assert "unknown parameter" in response.json()["detail"]


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("", False),
        ("*/*", False),
        ("text/html", True),
        (BROWSER, True),
        ("application/json, text/html", False),
        ("application/json;q=0.4, text/html;q=0.6", True),
        ("text/html;q=nonsense", False),
        ("TEXT/HTML", True),
    ],
)
def test_accept_negotiation(accept: str, html: bool) -> None:
    assert wants_html(accept) is html
