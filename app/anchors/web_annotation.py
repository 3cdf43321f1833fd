"""Anchors as W3C Web Annotations (https://www.w3.org/TR/annotation-model/).

Each anchor of a fact becomes one Annotation whose target is the article's text, chosen
by a TextQuoteSelector (the exact words, with up to 32 code points of context either
side) and a TextPositionSelector (start and end offsets in Unicode code points, as the
model defines them: never in UTF-16 code units, whatever a client's strings count).
"""

from typing import Any
from urllib.parse import quote

from app.models import STATUS_DEFINITIONS, VerificationStatus

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
MEDIA_TYPE = f'application/ld+json; profile="{CONTEXT}"'
QUOTE_CONTEXT = 32
MOTIVATIONS = {
    "mention": "identifying",
    "event": "describing",
    "time": "describing",
    "claim": "assessing",
    "attribution": "describing",
    "hedge": "describing",
    "evidence": "linking",
}

# Outer facts first when two anchors cover the same words.
ORDER = ("claim", "event", "attribution", "hedge", "evidence", "time", "mention")


def _text(value: str, purpose: str) -> dict[str, Any]:
    return {"type": "TextualBody", "value": value, "purpose": purpose, "format": "text/plain"}


def _resource(url: str) -> dict[str, Any]:
    return {"id": url, "format": "application/json"}


def _url(base: str, collection: str, key: str) -> str:
    return f"{base}/{collection}/{quote(key, safe='')}"


class Builder:
    """Builds the annotations of one article."""

    def __init__(self, article: dict[str, Any], base: str) -> None:
        self.text: str = article["text"]
        self.base = base
        self.source = _url(base, "articles", article["id"])
        self.scope = article["url"]
        self.article = article["id"]
        self.items: list[tuple[int, int, int, str, dict[str, Any]]] = []

    def add(self, id_: str, kind: str, anchor: dict[str, Any], body: list[dict[str, Any]]) -> None:
        start, end = anchor["start"], anchor["end"]
        quote_selector = {"type": "TextQuoteSelector", "exact": self.text[start:end]}
        prefix = self.text[max(0, start - QUOTE_CONTEXT) : start]
        suffix = self.text[end : end + QUOTE_CONTEXT]
        if prefix:
            quote_selector["prefix"] = prefix
        if suffix:
            quote_selector["suffix"] = suffix
        target: dict[str, Any] = {
            "source": self.source,
            "selector": [
                quote_selector,
                {
                    "type": "TextPositionSelector",
                    "start": start,
                    "end": end,
                },
            ],
        }
        if self.scope:
            target["scope"] = self.scope
        annotation = {
            "id": id_,
            "type": "Annotation",
            "motivation": MOTIVATIONS[kind],
            "body": body,
            "target": target,
        }
        rank = ORDER.index(kind)
        self.items.append((start, -end, rank, id_, annotation))

    def sorted(self) -> list[dict[str, Any]]:
        return [item[-1] for item in sorted(self.items)]


def annotations(
    article: dict[str, Any],
    facts: dict[str, Any],
    base: str,
) -> list[dict[str, Any]]:
    """One Annotation per anchor of every fact of ``article``, in reading order."""
    b = Builder(article, base)
    for entity in facts["entities"]:
        url = _url(base, "entities", entity["id"])
        body = [
            _text(entity["name"], "identifying"),
            _text(entity["kind"], "classifying"),
            _resource(url),
        ]
        for m in entity["mentions"]:
            b.add(f"{url}#mention-{b.article}-{m['start']}-{m['end']}", "mention", m, body)
    for event in facts["events"]:
        url = _url(base, "events", event["id"])
        body = [
            _text(event["summary"], "describing"),
            _text(event["kind"], "classifying"),
            _resource(url),
        ]
        for i, a in enumerate(event["anchors"]):
            b.add(f"{url}#anchor-{i}", "event", a, body)
        time = event["time"]
        if time and time["anchor"]:
            start, end = (str(time[k]) if time[k] else ".." for k in ("start", "end"))
            when = start if start == end else f"{start}/{end}"
            b.add(
                f"{url}#time",
                "time",
                time["anchor"],
                [_text(f"{when} ({time['precision']})", "describing"), _resource(url)],
            )
    for claim in facts["claims"]:
        url = _url(base, "claims", claim["id"])
        info = STATUS_DEFINITIONS[VerificationStatus(claim["status"])]
        assessment = info["label"] + (f": {claim['rationale']}" if claim["rationale"] else "")
        link = _resource(url)
        body = [
            _text(claim["text"], "describing"),
            _text(assessment, "assessing"),
            _text(claim["status"], "tagging"),
            link,
        ]
        for i, a in enumerate(claim["anchors"]):
            b.add(f"{url}#anchor-{i}", "claim", a, body)
        said = f"the claim “{claim['text']}”"
        if claim["attribution"]:
            who = (claim["claimant"] or {}).get("name") or "its claimant"
            text = f"Attributes {said} to {who}."
            b.add(
                f"{url}#attribution",
                "attribution",
                claim["attribution"],
                [_text(text, "describing"), link],
            )
        if claim["hedge"]:
            text = f"The article's hedging cue on {said}."
            b.add(f"{url}#hedge", "hedge", claim["hedge"], [_text(text, "describing"), link])
        for i, ev in enumerate(claim.get("evidence", [])):
            if ev["anchor"]:
                text = f"Evidence from {ev['source']} ({ev['stance']}) on {said}."
                b.add(
                    f"{url}#evidence-{i}",
                    "evidence",
                    ev["anchor"],
                    [_text(text, "describing"), link],
                )
    return b.sorted()
