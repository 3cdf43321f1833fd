"""A fact file sent over HTTP: checked and loaded exactly as ``article-facts ingest`` does.

The bytes are parsed and validated (``document.parse_fact_file``), every quote is located
(``document.resolve``) and the rows are planned (``load.plan_article``) before the database
is touched; then, in one writer transaction, the checks against what is stored
(``load.entity_conflicts``, and the reviews ``load.load_article`` reconciles) and the load
itself. A dry run does all of that and rolls the transaction back, so what it reports is
what the upload would do, counted by the same code. An upload that fails, at any point,
leaves the database as it was: its transaction is rolled back whole.

An upload carries its text inline (``article.text``): ``text_file`` names a file beside a
fact file on disk, which an upload has none of.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from app import changes
from app.ingest.document import FactFileError, FactFileErrors, parse_fact_file, resolve
from app.ingest.load import KINDS, ArticlePlan, entity_conflicts, load_article, plan_article

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


def check(raw: bytes) -> ArticlePlan:
    """Parse, validate and resolve an uploaded fact file; what loading it writes.

    Raises FactFileErrors listing every problem, each with its JSON path.
    """
    doc = parse_fact_file(UPLOAD, raw)
    text = doc.article.text
    if text is None:
        raise FactFileErrors(
            [
                FactFileError(
                    UPLOAD,
                    "$.article.text_file",
                    "an upload gives the article's text inline, in 'text': 'text_file' names "
                    "a file beside a fact file on disk",
                )
            ]
        )
    # The source digest ``read_fact_file`` computes for a file on disk, so a file uploaded
    # and the same file ingested from disk are the same version of the article.
    digest = hashlib.sha256(raw + b"\0" + text.encode("utf-8")).hexdigest()
    return plan_article(resolve(UPLOAD, doc, text, digest))


def upload(
    engine: Engine,
    plan: ArticlePlan,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    override_reviews: bool = False,
) -> Uploaded:
    """Load a checked fact file in one transaction of the writer ``engine`` (committed unless
    ``dry_run``). Raises FactFileErrors (a conflict with stored entities) and
    ``reviews.ReviewConflict``, with nothing written."""
    with Session(engine) as session:
        transaction = session.begin()
        try:
            conflicts = entity_conflicts(session, [plan.declarations])
            if conflicts:
                raise FactFileErrors(conflicts)
            result = load_article(session, plan, now=now, override_reviews=override_reviews)
            revision = (
                changes.current_revision(session.connection())
                if result.changed and not dry_run
                else None
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
