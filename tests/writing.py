"""Helpers for the tests of writes: tokens made through the real command, inline fact files."""

import copy
import json
from typing import Any

from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import DATA, SEED_FILE
from tests.databases import dump

runner = CliRunner()


def make_token(db_url: str, name: str, scope: str) -> str:
    """A token made with `article-facts tokens create`: the last word of its last line."""
    result = runner.invoke(
        cli, ["tokens", "create", name, "--scope", scope, "--database-url", db_url]
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1].split()[-1]


def secret_of(token: str) -> str:
    """The secret part of ``af_<key>_<secret>`` (which may itself hold underscores)."""
    prefix, key, secret = token.split("_", 2)
    assert (prefix, len(key)) == ("af", 16)
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def inline_seed() -> dict[str, Any]:
    """The seed's fact file with its text inline, as an upload carries it."""
    doc: dict[str, Any] = json.loads(SEED_FILE.read_text("utf-8"))
    text_file = doc["article"].pop("text_file")
    doc["article"]["text"] = (DATA / text_file).read_text("utf-8")
    return copy.deepcopy(doc)


def data(db_url: str) -> list[Any]:
    """The database's full content but its tokens (a valid token's use is recorded)."""
    return [
        row
        for row in dump(db_url)
        if not (isinstance(row, str) and row.startswith('INSERT INTO "api_token"'))
        and not (isinstance(row, tuple) and row[0] == "api_token")
    ]
