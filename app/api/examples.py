"""Response examples for the OpenAPI document: real responses of the seed article.

``examples.json`` holds them; ``tests/test_openapi.py`` checks it still matches what
the API answers on the seed, and rewrites it when run with ``UPDATE_EXAMPLES=1``.
"""

from functools import cache
from pathlib import Path
from typing import Any

import orjson

EXAMPLES_FILE = Path(__file__).with_name("examples.json")


@cache
def _examples() -> dict[str, Any]:
    if not EXAMPLES_FILE.is_file():
        return {}
    data: dict[str, Any] = orjson.loads(EXAMPLES_FILE.read_bytes())
    return data


def example(name: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry that shows the example called ``name`` for status 200."""
    body = _examples().get(name)
    if body is None:
        return {}
    return {200: {"content": {"application/json": {"example": body}}}}


def content(media_type: str, name: str) -> dict[str, Any]:
    """The example called ``name``, shown for ``media_type`` (a response's ``content``)."""
    body = example(name).get(200, {}).get("content", {}).get("application/json", {})
    return {media_type: body}
