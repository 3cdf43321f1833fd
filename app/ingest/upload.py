"""A fact file sent over HTTP: checked and loaded exactly as ``article-facts ingest`` does.

The bytes are validated and every quote located by the reader ingest uses for a file on
disk (``document.resolve_bytes``), and the rows are planned (``load.plan_article``) before
the database is touched; then, in one writer transaction, the rules against what is stored
(``consistency.check_run``, and again per article in ``load.load_article``, with the reviews
it reconciles) and the load itself. A dry run does all of that and rolls the transaction
back, so what it reports is what the upload would do, counted by the same code. An upload
that fails, at any point, leaves the database as it was: its transaction is rolled back
whole.

An upload carries its text inline (``article.text``): ``text_file`` names a file beside a
fact file on disk, which an upload has none of.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from app import changes
from app.ingest.consistency import Declarations, check_run, first_declarations
from app.ingest.document import DEFAULT_LIMITS, FactFileErrors, Limits, resolve_bytes
from app.ingest.load import (
    KINDS,
    ArticlePlan,
    LoadContext,
    LoadRefused,
    load_article,
    plan_article,
)

# What errors name as the file (an upload has no path).
UPLOAD = Path("upload")
OUTCOMES = ("added", "updated", "unchanged", "removed")


@dataclass
class Uploaded:
    """What an upload did, or (dry run) would do."""

    article: str
    outcome: str  # added, updated or unchanged: the article's
    counts: dict[str, dict[str, int]]
    status_changes: list[changes.StatusChange] = field(default_factory=list)
    revision: int | None = None  # the data revision it made (None: unchanged, or dry run)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return self.outcome != "unchanged"

    def body(self) -> dict[str, Any]:
        """The response's body."""
        return {
            "article": self.article,
            "dry_run": self.dry_run,
            "outcome": self.outcome,
            "changed": self.changed,
            "counts": self.counts,
            "status_changes": [
                {"claim": s.claim, "from": s.from_status, "to": s.to_status}
                for s in self.status_changes
            ],
            "revision": self.revision,
        }


def check(
    raw: bytes,
    limits: Limits = DEFAULT_LIMITS,
    *,
    stored: Engine | None = None,
    update_entities: bool = False,
) -> ArticlePlan:
    """Parse, validate and resolve an uploaded fact file, as ingest reads one from disk; what
    loading it writes. Raises FactFileErrors listing every problem, each with its JSON path.

    With ``stored`` (an engine on the database), a file with problems of its own is checked
    against what is stored as well, as far as it can be read: the error lists those problems
    with the others, as ``ingest --check`` does.
    """
    try:
        return plan_article(resolve_bytes(UPLOAD, raw, limits, text_files=False))
    except FactFileErrors as exc:
        if stored is None or exc.document is None:
            raise
        declared = Declarations.of_errors(UPLOAD, exc.document)
        with stored.connect() as conn:
            more = check_run(conn, [declared], update=update_entities)
        raise FactFileErrors(exc.errors + more, exc.document) from None


def upload(
    engine: Engine,
    plan: ArticlePlan,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    override_reviews: bool = False,
    update_entities: bool = False,
    actor: str,
) -> Uploaded:
    """Load a checked fact file in one transaction of the writer ``engine`` (committed unless
    ``dry_run``), checked against what is stored in that transaction as ingest checks a run;
    its changes are recorded as ``actor``'s (the uploading token's name).
    Raises FactFileErrors (the rules across articles, ``reviews.ReviewConflict``) with
    nothing written."""
    with Session(engine) as session:
        transaction = session.begin()
        try:
            conn = session.connection()
            problems = check_run(conn, [plan.declarations], update=update_entities)
            if problems:
                raise FactFileErrors(problems)
            context = LoadContext(
                update_entities=update_entities,
                override_reviews=override_reviews,
                declared=first_declarations([plan.declarations]),
                actor=actor,
            )
            try:
                result = load_article(session, plan, now=now, context=context)
            except LoadRefused as exc:
                raise FactFileErrors(exc.errors) from None
            revision = (
                None if dry_run else changes.record_loads(conn, [(plan.key, result)], now, actor)
            )
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    counts = {
        kind: {o: result.get(kind, o) for o in OUTCOMES if result.get(kind, o)} for kind in KINDS
    }
    outcome = next(o for o in ("added", "updated", "unchanged") if result.get("articles", o))
    return Uploaded(plan.key, outcome, counts, result.status_changes, revision, dry_run)
