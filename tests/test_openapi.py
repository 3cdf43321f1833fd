"""The OpenAPI document, its examples, and the offline Swagger UI and ReDoc pages."""

import datetime as dt
import json
import os
import re
from typing import Any

from fastapi.testclient import TestClient

from app import tokens
from app.api.examples import EXAMPLES_FILE
from app.db import create_db_engine
from tests.conftest import SEED_ARTICLE, minimal_doc

# Each documented example is the real response to one of these requests on the seed.
EXAMPLE_REQUESTS = {
    "list_articles": "/articles?limit=1",
    "get_article": f"/articles/{SEED_ARTICLE}",
    "article_entities": f"/articles/{SEED_ARTICLE}/entities?limit=2",
    "article_events": f"/articles/{SEED_ARTICLE}/events?limit=1",
    "article_claims": f"/articles/{SEED_ARTICLE}/claims?status=pending&limit=1",
    "list_entities": "/entities?limit=2",
    "get_entity": "/entities/rosatom",
    "entity_mentions": "/entities/alexey-likhachev/mentions?limit=2",
    "entity_claims": "/entities/russian-embassy-in-kazakhstan/claims?limit=1",
    "entity_events": "/entities/kassym-jomart-tokayev/events?limit=1",
    "list_events": "/events?kind=meeting&limit=1",
    "get_event": f"/events/{SEED_ARTICLE}.proposed-meeting-2024-10-28",
    "list_claims": "/claims?status=pending&limit=1",
    "get_claim": f"/claims/{SEED_ARTICLE}.embassy-asked-mfa-to-facilitate-meeting",
    "verification_statuses": "/verification-statuses",
    "vocabularies": "/vocabularies",
    "suggest_entities": "/entities/suggest?q=tok&limit=3",
    "fact_file_schema": "/schema/fact-file",
    "healthz": "/healthz",
    "readyz": "/readyz",
    "article_annotations": f"/articles/{SEED_ARTICLE}/annotations?limit=2",
    "methodology": "/methodology",
    "article_facts": f"/articles/{SEED_ARTICLE}/facts?overlaps=419,448",
    "list_changes": "/changes?limit=2",
}
RECORDED_AT = "2024-10-17T12:00:00+00:00"


def _normalise(body: Any) -> Any:
    """Make a live response comparable with the committed example (times, host)."""
    text = json.dumps(body, ensure_ascii=False)
    text = re.sub(r'"recorded_at": "[^"]+"', f'"recorded_at": "{RECORDED_AT}"', text)
    text = text.replace("http://testserver", "http://127.0.0.1:8000")
    return json.loads(text)


def _live_examples(client: TestClient) -> dict[str, Any]:
    examples = {}
    for name, url in EXAMPLE_REQUESTS.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        if name == "fact_file_schema":
            body = {k: body[k] for k in ("$schema", "$id", "title", "type", "required")}
        examples[name] = _normalise(body)
    return examples


def _live_write_examples(client: TestClient) -> dict[str, Any]:
    """The writes' examples: real answers to writes made after the reads above."""
    engine = create_db_engine(client.app.state.settings.database_url, writer=True)  # type: ignore[attr-defined]
    with engine.begin() as conn:
        token = tokens.create(conn, "alice", tokens.Scope.admin, now=dt.datetime.now(dt.UTC))
    engine.dispose()
    auth = {"Authorization": f"Bearer {token}"}
    claim = f"{SEED_ARTICLE}.rosatom-head-seeks-meeting"
    evidence = {
        "source": "Ministry of Foreign Affairs of Kazakhstan",
        "stance": "supports",
        "url": "https://www.gov.kz/memleket/entities/mfa",
        "date": "2024-10-21",
    }
    writes = {
        "upload_fact_file": client.post(
            "/fact-files?dry_run=true", json=minimal_doc(), headers=auth
        ),
        "change_status": client.post(
            f"/claims/{claim}/status",
            json={
                "status": "confirmed",
                "rationale": "The Ministry confirmed the request for a meeting.",
                "evidence": [evidence],
            },
            headers=auth,
        ),
        "delete_article": client.delete(f"/articles/{SEED_ARTICLE}", headers=auth),
    }
    examples = {}
    for name, response in writes.items():
        assert response.status_code == 200, (name, response.text)
        examples[name] = _normalise(response.json())
    return examples


def test_examples_are_real_responses(client: TestClient) -> None:
    live = _live_examples(client)
    live.update(_live_write_examples(client))
    if os.environ.get("UPDATE_EXAMPLES"):
        EXAMPLES_FILE.write_text(json.dumps(live, ensure_ascii=False, indent=2) + "\n", "utf-8")
    committed = json.loads(EXAMPLES_FILE.read_text("utf-8"))
    assert committed == live, "app/api/examples.json is stale: rerun with UPDATE_EXAMPLES=1"


def test_every_route_has_a_description_and_an_example(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["description"]
    operations = [(path, op) for path, item in spec["paths"].items() for op in item.values()]
    assert len(operations) >= 18
    for path, op in operations:
        assert op.get("summary") and op.get("description"), path
        # JSON, or the one media type the route answers (an HTML page, JSON-LD).
        content = op["responses"]["200"]["content"]
        ok = content.get("application/json") or next(iter(content.values()))
        assert "example" in ok or "examples" in ok, f"{path} has no example"
        if "{" in path:
            assert "404" in op["responses"], f"{path} does not document its 404"
        problem = op["responses"]["422"]["content"]["application/problem+json"]["schema"]
        assert problem["properties"]["detail"]


def test_query_parameters_are_described(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for op in item.values():
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    assert param.get("description"), (path, param["name"])


def test_docs_pages_use_only_local_assets(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200
        html = response.text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert urls, page
        for url in urls:
            assert url.startswith("/"), f"{page} loads {url} from outside the app"
        assert "cdn" not in html.lower()
        assert "fonts.googleapis" not in html
    assets = {
        "swagger-ui-bundle.js": 100_000,
        "swagger-ui.css": 10_000,
        "redoc.standalone.js": 100_000,
        "favicon.png": 100,
    }
    for asset, least in assets.items():
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200
        assert len(response.content) > least, asset
