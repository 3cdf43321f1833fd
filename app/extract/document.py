"""The draft document: a fact file that marks itself as a machine draft, every fact anchored.

Anchors are written as quotes. A quote that occurs once is a plain string; a repeated one gets
the few words around it that make it unique (``prefix`` and ``suffix``, as in a W3C
TextQuoteSelector), so that it survives an edit elsewhere in the text; only where no context of
up to three words on either side is unique does it fall back to ``occurrence``. An entity
already stored is a reference: its id and mentions, nothing that would overwrite what is stored.
"""

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from typing import Any

from app.extract.claims import DraftClaim
from app.extract.entities import Entities, slugify
from app.extract.events import DraftEvent
from app.extract.match import content_words
from app.extract.times import TimeExpression

FORMAT = "article-facts/1"
EXTRACTOR = "article-facts-draft"
CONTEXT_WORDS = 3
_WORD_AND_SPACE = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class ArticleMeta:
    id: str
    title: str
    text_file: str | None  # None: the text goes inline (a draft over HTTP)
    published: dt.date
    language: str
    publisher: str | None
    url: str | None
    model: str
    model_version: str


class Quotes:
    """Anchors as quotes that find exactly one place in the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: dict[str, list[int]] = {}

    def _occurrences(self, quote: str) -> list[int]:
        starts = self._starts.get(quote)
        if starts is None:
            starts = []
            i = self.text.find(quote)
            while i != -1:
                starts.append(i)
                i = self.text.find(quote, i + 1)
            self._starts[quote] = starts
        return starts

    def _before(self, start: int, words: int) -> str:
        """The ``words`` words before ``start``, with the spaces after them."""
        parts = _WORD_AND_SPACE.findall(self.text[max(0, start - 200) : start])
        return "".join(parts[-words:]) if len(parts) >= words else self.text[:start]

    def _after(self, end: int, words: int) -> str:
        m = re.match(rf"(?:\s*\S+){{{words}}}", self.text[end : end + 200])
        return m.group() if m else self.text[end:]

    def _unique(self, quote: str, prefix: str, suffix: str) -> bool:
        found = 0
        for i in self._occurrences(quote):
            if self.text[:i].endswith(prefix) and self.text.startswith(suffix, i + len(quote)):
                found += 1
        return found == 1

    def anchor(self, start: int, end: int) -> str | dict[str, Any]:
        quote = self.text[start:end]
        starts = self._occurrences(quote)
        if len(starts) == 1:
            return quote
        for n in range(1, CONTEXT_WORDS + 1):
            prefix, suffix = self._before(start, n), self._after(end, n)
            for p, s in ((prefix, ""), ("", suffix), (prefix, suffix)):
                if (p or s) and self._unique(quote, p, s):
                    out: dict[str, Any] = {"quote": quote}
                    if p:
                        out["prefix"] = p
                    if s:
                        out["suffix"] = s
                    return out
        return {"quote": quote, "occurrence": starts.index(start) + 1}


@cache
def _extractor_version() -> str:
    return version("article-facts")


def _time(quotes: Quotes, time: TimeExpression) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if time.date is not None:
        out["date"] = time.date
    else:
        if time.interval_start is not None:
            out["start"] = time.interval_start
        if time.interval_end is not None:
            out["end"] = time.interval_end
    out["anchor"] = quotes.anchor(time.start, time.end)
    out["note"] = time.note
    return out


def _claim_id(text: str, used: set[str]) -> str:
    words = content_words(text)[:6]
    base = slugify(" ".join(words))[:60].strip("-") or "claim"
    out, n = base, 2
    while out in used:
        out, n = f"{base}-{n}", n + 1
    used.add(out)
    return out


def _number(value: float) -> float | int:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def build_document(
    meta: ArticleMeta,
    text: str,
    entities: Entities,
    events: list[DraftEvent],
    claims: list[DraftClaim],
) -> dict[str, Any]:
    """The draft fact file as a JSON-ready dict."""
    quotes = Quotes(text)
    article: dict[str, Any] = {"id": meta.id, "title": meta.title}
    if meta.text_file is None:
        article["text"] = text
    else:
        article["text_file"] = meta.text_file
    if meta.url:
        article["url"] = meta.url
    if meta.publisher:
        article["publisher"] = meta.publisher
    article["published"] = meta.published.isoformat()
    article["language"] = meta.language

    entity_docs: list[dict[str, Any]] = []
    for e in entities.items:
        mentions = [quotes.anchor(a, b) for a, b in e.mentions]
        if e.stored:
            entity_docs.append({"id": e.id, "mentions": mentions})
        else:
            entity_docs.append({"id": e.id, "name": e.name, "kind": e.kind, "mentions": mentions})

    pending_sentences = {c.sentence for c in claims if c.status == "pending"}
    event_docs: list[dict[str, Any]] = []
    for ev in events:
        doc: dict[str, Any] = {
            "id": ev.id,
            "kind": ev.kind,
            "summary": ev.summary,
            "time": _time(quotes, ev.time),
        }
        if ev.location:
            doc["location"] = ev.location
        doc["participants"] = [{"entity": p, "role": "participant"} for p in ev.participants]
        doc["modality"] = ev.modality
        doc["status"] = "pending" if ev.sentence in pending_sentences else "unverified"
        doc["anchors"] = [quotes.anchor(ev.start, ev.end)]
        event_docs.append(doc)

    used: set[str] = set()
    claim_docs: list[dict[str, Any]] = []
    for c in claims:
        claimant: str | dict[str, Any]
        if c.claimant is not None:
            claimant = c.claimant
        else:
            description, start, end = c.unnamed or ("an unnamed source", -1, -1)
            claimant = {"unnamed": description}
            if start >= 0:
                claimant["anchor"] = quotes.anchor(start, end)
        doc = {"id": _claim_id(c.text, used), "text": c.text, "kind": c.kind, "claimant": claimant}
        if c.attribution is not None:
            doc["attribution"] = quotes.anchor(*c.attribution)
        doc["subjects"] = c.subjects
        doc["events"] = [ev.id for ev in events if ev.sentence == c.sentence]
        doc["status"] = c.status
        doc["rationale"] = c.rationale
        if c.hedge is not None:
            doc["hedge"] = quotes.anchor(*c.hedge)
        doc["anchors"] = [quotes.anchor(c.start, c.end)]
        if c.quantities:
            doc["quantities"] = [
                {"value": _number(q.value), "unit": q.unit, "anchor": quotes.anchor(q.start, q.end)}
                for q in c.quantities
            ]
        claim_docs.append(doc)

    return {
        "format": FORMAT,
        "provenance": {
            "extractor": EXTRACTOR,
            "extractor_version": _extractor_version(),
            "model": meta.model,
            "model_version": meta.model_version,
            "reviewed": False,
        },
        "article": article,
        "entities": entity_docs,
        "events": event_docs,
        "claims": claim_docs,
    }
