"""A reviewer's status decisions, and how they combine with a later re-ingest of the article.

A reviewer (a token of scope ``review``) sets a claim's status with a rationale and,
optionally, evidence: ``set_status`` appends it to the claim's history with the token's name
as its ``actor``, makes it the claim's status, and records it as the review in effect
(``claim_review``), with the status the claim's fact file gave at that moment.

The rule when the article's fact file is loaded again (``reconcile``, called by
``app.ingest.load.load_article`` for the CLI and for uploads alike):

- The file still gives the claim the status it gave when the reviewer decided: the
  reviewer's status and rationale stay, whatever else the file changes about the claim.
  Re-ingesting an unchanged claim therefore never undoes a reviewer's decision.
- The file now gives the reviewer's status: nothing to decide; the review stays, and the
  file's new status is remembered as what it says.
- The file gives any other status: the file changed the status after the reviewer did. The
  load is refused, with an error naming the claim, the reviewer, when and what they
  decided, unless the caller overrides reviews (``article-facts ingest --override-reviews``,
  ``POST /fact-files?override_reviews=true``): then the file's status is appended to the
  history by whoever loads it (``ingest``, or the uploading token's name) and the review
  ends.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, delete, func, insert, or_, select, update

from app import changes
from app.errors import APIError, NotFound
from app.ingest.document import FactFileError, FactFileErrors
from app.models import claim_t, history_t, provenance_t, review_t
from app.queries import id_list, in_ids
from app.statements import Statement

if TYPE_CHECKING:
    from app.ingest.load import ArticlePlan


class ReviewConflict(FactFileErrors):
    """A fact file changes the status of claims a reviewer decided after it (see the module)."""


class PreconditionFailed(APIError):
    """The claim changed after the copy the client's If-Match names."""

    status_code = 412


@dataclass(frozen=True, slots=True)
class Review:
    """The review in effect on a claim: the decision (a history entry) and the file's status."""

    claim: str
    file_status: str
    status: str
    rationale: str
    actor: str
    recorded_at: dt.datetime


def reviews_of(conn: Connection, claim_keys: Sequence[str]) -> dict[str, Review]:
    """The reviews in effect on these claims, by claim id."""
    if not claim_keys:
        return {}
    rows = _reviews(conn.dialect.name).rows(conn, id_list(conn, claim_keys))
    return {r[0]: Review(*r) for r in rows}


@cache
def _reviews(dialect: str) -> Statement:
    # Compiled once: ingest asks for every article it changes.
    return Statement(
        select(
            review_t.c.claim_key,
            review_t.c.file_status,
            history_t.c.status,
            history_t.c.rationale,
            history_t.c.actor,
            history_t.c.recorded_at,
        )
        .join(
            history_t,
            (history_t.c.claim_key == review_t.c.claim_key) & (history_t.c.seq == review_t.c.seq),
        )
        .where(in_ids(review_t.c.claim_key, dialect, String))
    )


def _when(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def reconcile(conn: Connection, plan: "ArticlePlan", *, override: bool) -> "ArticlePlan":
    """The plan to load, with the reviewers' statuses kept where the file leaves them be.

    Raises ReviewConflict, before writing anything, for every claim whose status the file
    changes after a reviewer decided it, unless ``override``. Runs in the loader's writer
    transaction, so no review can slip in between this check and the load.
    """
    keys = [f"{plan.key}.{c.local}" for c in plan.claims]
    found = reviews_of(conn, keys)
    if not found:
        return plan
    claims = list(plan.claims)
    problems: list[FactFileError] = []
    agreed: list[tuple[str, str]] = []  # (claim, the file's new status)
    overridden: list[str] = []
    for i, (key, claim) in enumerate(zip(keys, plan.claims, strict=True)):
        review = found.get(key)
        if review is None or claim.same_as is not None:
            continue  # a report's status is its first report's
        said = claim.values["status"]
        if said in (review.file_status, review.status):
            if said != review.file_status:
                agreed.append((key, said))
            values = {**claim.values, "status": review.status, "rationale": review.rationale}
            claims[i] = replace(claim, values=values)
        elif override:
            overridden.append(key)
        else:
            problems.append(
                FactFileError(
                    plan.declarations.path,
                    f"$.claims[{i}].status",
                    f"claim {key!r} was set to {review.status!r} by reviewer {review.actor!r} "
                    f"on {_when(review.recorded_at)} ({review.rationale}), after this file "
                    f"gave it {review.file_status!r}; the file now gives {said!r}. Give "
                    f"{review.file_status!r} or {review.status!r} to keep the review, or "
                    "override it (ingest --override-reviews, or override_reviews=true)",
                )
            )
    if problems:
        raise ReviewConflict(problems)
    for key, said in agreed:
        conn.execute(update(review_t).where(review_t.c.claim_key == key).values(file_status=said))
    if overridden:
        conn.execute(delete(review_t).where(review_t.c.claim_key.in_(overridden)))
    return replace(plan, claims=tuple(claims))


def _mark_reviewed(conn: Connection, claim: str) -> None:
    """A claim a reviewer decided has been reviewed by a person: a machine draft's claim
    leaves the review queue (``reviewed=false``), keeping who made it."""
    # Here, not at the top: the loader imports this module to reconcile reviews.
    from app.ingest.document import Provenance
    from app.ingest.load import LoadContext, provenance_id

    row = conn.execute(
        select(
            provenance_t.c.extractor,
            provenance_t.c.extractor_version,
            provenance_t.c.model,
            provenance_t.c.model_version,
        )
        .join(claim_t, claim_t.c.provenance_id == provenance_t.c.id)
        .where(claim_t.c.key == claim, provenance_t.c.reviewed.is_(False))
    ).first()
    if row is None:
        return  # a person's fact, or one reviewed already
    reviewed = Provenance(*row, reviewed=True)
    conn.execute(
        update(claim_t)
        .where(claim_t.c.key == claim)
        .values(provenance_id=provenance_id(conn, reviewed, LoadContext()))
    )


def set_status(
    conn: Connection,
    claim: str,
    *,
    status: str,
    rationale: str,
    evidence: list[dict[str, Any]] | None,
    actor: str,
    now: dt.datetime,
    if_match: Sequence[int] | None = None,
) -> int:
    """Record a reviewer's decision on ``claim`` in the caller's writer transaction; the data
    revision it makes.

    ``if_match`` holds the data revisions of the copies the client says it has seen (from
    their ETags): the change is refused (PreconditionFailed) unless the claim has not
    changed since one of them. Raises NotFound for an unknown claim.
    """
    # A claim other articles report too has one status, its first report's, which every
    # report shows: asked of any report, the decision is the first report's.
    row = conn.execute(
        select(claim_t.c.status, claim_t.c.same_as_key).where(claim_t.c.key == claim)
    ).first()
    if row is None:
        raise NotFound(f"no claim with id {claim!r}")
    before = str(row[0])
    claim = row[1] or claim
    if if_match is not None:
        if not if_match:
            raise PreconditionFailed(
                "If-Match names no ETag of this API (a weak tag never matches); send the ETag "
                f"of GET /claims/{claim}"
            )
        changed = changes.claim_changed_at(conn, claim)
        current = changes.current_revision(conn)
        if not any(changed <= seen <= current for seen in if_match):
            raise PreconditionFailed(
                f"claim {claim!r} changed at revision {changed}, after the copy If-Match names; "
                "get it again (GET /claims/{id}) and send its new ETag"
            )
    last = conn.execute(
        select(func.max(history_t.c.seq)).where(history_t.c.claim_key == claim)
    ).scalar()
    seq = int(last or 0) + 1
    conn.execute(
        insert(history_t).values(
            claim_key=claim,
            seq=seq,
            status=status,
            rationale=rationale,
            recorded_at=now,
            actor=actor,
            evidence=evidence or None,
        )
    )
    conn.execute(
        update(claim_t)
        .where(or_(claim_t.c.key == claim, claim_t.c.same_as_key == claim))
        .values(status=status, rationale=rationale)
    )
    _mark_reviewed(conn, claim)
    kept = conn.execute(select(review_t.c.seq).where(review_t.c.claim_key == claim)).first()
    if kept is None:
        # No review in effect: the claim's status so far is its fact file's.
        conn.execute(insert(review_t).values(claim_key=claim, seq=seq, file_status=before))
    else:
        conn.execute(update(review_t).where(review_t.c.claim_key == claim).values(seq=seq))
    revision = changes.publish(conn, now)
    changes.record(
        conn,
        revision,
        now,
        article=changes.article_of(claim),
        statuses=[changes.StatusChange(claim, before, status, rationale)],
        actor=actor,
    )
    return revision
