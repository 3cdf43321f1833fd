"""Bearer tokens of the write API: created, listed and revoked from the command line.

A token is ``af_<key>_<secret>``: the ``key`` (16 hex digits) finds the token's row, and the
``secret`` (43 characters, 256 random bits) is never stored, only its SHA-256, which a
request's secret is compared with in constant time (``hmac.compare_digest``). A fast hash is
enough for a secret of 256 random bits: no dictionary holds it. The whole token is shown
once, when it is created; it never appears in a log line, an error or a response.

Each token has a name, the ``actor`` its writes are recorded under, and one scope:
``write`` (upload fact files, delete articles, drafts), ``review`` (change a claim's
status) or ``admin`` (both). Revoking a token takes effect on the next request: every
request looks its token up. A revoked token keeps its row, so ``tokens list --all`` still
shows who a name in the history was; a new token may take the name again.
"""

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, insert, select, update

from app.models import INGEST_ACTOR, token_t

PREFIX = "af_"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,199}")
# A token's last use is written at most this often: a busy client must not turn every
# request into a write.
LAST_USED_EVERY = dt.timedelta(seconds=60)


class Scope(StrEnum):
    write = "write"
    review = "review"
    admin = "admin"


# What each scope may do.
GRANTS = {
    Scope.write: frozenset({Scope.write}),
    Scope.review: frozenset({Scope.review}),
    Scope.admin: frozenset({Scope.write, Scope.review, Scope.admin}),
}


class TokenError(Exception):
    """A token command refused its input; the message says why."""


@dataclass(frozen=True, slots=True)
class Token:
    """A valid token, as a request that presented it sees it (never its secret)."""

    id: int
    name: str
    scope: Scope
    last_used_at: dt.datetime | None

    def allows(self, scope: Scope) -> bool:
        return scope in GRANTS[self.scope]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def check_name(name: str) -> str:
    """``name`` if it can name a token; TokenError otherwise."""
    if not NAME_PATTERN.fullmatch(name):
        raise TokenError(
            f"{name!r} cannot name a token: use 1 to 200 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    if name == INGEST_ACTOR:
        raise TokenError(f"{name!r} is the actor of `article-facts ingest`; pick another name")
    return name


def create(conn: Connection, name: str, scope: Scope, *, now: dt.datetime) -> str:
    """Store a new token in the caller's writer transaction and return it (shown once)."""
    check_name(name)
    taken = conn.execute(
        select(token_t.c.id).where(token_t.c.name == name, token_t.c.revoked_at.is_(None))
    ).first()
    if taken is not None:
        raise TokenError(f"a token named {name!r} exists; revoke it first, or pick another name")
    key = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        insert(token_t).values(
            key=key, name=name, scope=scope.value, secret_sha256=_digest(secret), created_at=now
        )
    )
    return f"{PREFIX}{key}_{secret}"


def revoke(conn: Connection, name: str, *, now: dt.datetime) -> None:
    """Revoke the token named ``name`` (in the caller's writer transaction)."""
    done = conn.execute(
        update(token_t)
        .where(token_t.c.name == name, token_t.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    if not done:
        raise TokenError(f"no token named {name!r} (see: article-facts tokens list)")


@dataclass(frozen=True, slots=True)
class Listed:
    name: str
    scope: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def listed(conn: Connection, *, revoked: bool = False) -> list[Listed]:
    """The tokens, oldest first: names, scopes, creation, last use (and revocation)."""
    query = select(
        token_t.c.name,
        token_t.c.scope,
        token_t.c.created_at,
        token_t.c.last_used_at,
        token_t.c.revoked_at,
    ).order_by(token_t.c.id)
    if not revoked:
        query = query.where(token_t.c.revoked_at.is_(None))
    return [
        Listed(r[0], r[1], _utc(r[2]) or r[2], _utc(r[3]), _utc(r[4]))
        for r in conn.execute(query).all()
    ]


def verify(conn: Connection, token: str) -> Token | None:
    """The token ``token`` names, if it is valid and not revoked; None otherwise."""
    if not token.startswith(PREFIX):
        return None
    key, _, secret = token[len(PREFIX) :].partition("_")
    if not key or not secret:
        return None
    row = conn.execute(
        select(
            token_t.c.id,
            token_t.c.name,
            token_t.c.scope,
            token_t.c.secret_sha256,
            token_t.c.revoked_at,
            token_t.c.last_used_at,
        ).where(token_t.c.key == key)
    ).first()
    if row is None:
        return None
    # Constant time: how long the comparison takes says nothing of where the digests differ.
    if not hmac.compare_digest(_digest(secret), row.secret_sha256) or row.revoked_at is not None:
        return None
    return Token(row.id, row.name, Scope(row.scope), _utc(row.last_used_at))


def stale(token: Token, now: dt.datetime) -> bool:
    """Whether the token's recorded last use is old enough to be written again."""
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY


def touch(conn: Connection, token: Token, *, now: dt.datetime) -> None:
    """Record the token's use (in the caller's writer transaction)."""
    conn.execute(update(token_t).where(token_t.c.id == token.id).values(last_used_at=now))
