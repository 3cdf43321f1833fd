"""The seed fact file and text as the tests read them, independently of the ingest code."""

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import DATA, SEED_ARTICLE, SEED_FILE

FACTS: dict[str, Any] = json.loads(SEED_FILE.read_text("utf-8"))
TEXT_BYTES = (DATA / FACTS["article"]["text_file"]).read_bytes()
TEXT = TEXT_BYTES.decode("utf-8")


def get_json(client: TestClient, url: str, params: Any = None, status: int = 200) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == status, response.text
    return response.json()


def local(key: str) -> str:
    """The fact file's id of an event or claim whose public id is `<article>.<id>`."""
    article, _, rest = key.partition(".")
    assert article == SEED_ARTICLE
    return rest


def nth(text: str, quote: str, occurrence: int = 1) -> int:
    start = -1
    for _ in range(occurrence):
        start = text.find(quote, start + 1)
        assert start != -1, quote
    return start


def resolve(quote: str | dict[str, Any]) -> tuple[int, int, str]:
    """Where a fact-file quote stands in the seed text, computed independently of ingest."""
    words, occurrence = (
        (quote, 1) if isinstance(quote, str) else (quote["quote"], quote.get("occurrence", 1))
    )
    start = nth(TEXT, words, occurrence)
    return start, start + len(words), words
