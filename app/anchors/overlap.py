"""Facts by position: which facts of an article have an anchor overlapping a character range."""

from typing import Any

Row = dict[str, Any]


def _anchors(kind: str, item: Row) -> list[Row]:
    """Every span of the article text a fact is tied to."""
    if kind == "entities":
        return list(item.get("mentions") or [])
    spans = list(item.get("anchors") or [])
    if kind == "events":
        time = item.get("time") or {}
        spans.append(time.get("anchor"))
    else:
        spans += [item.get("attribution"), item.get("hedge")]
        spans += [e.get("anchor") for e in item.get("evidence") or []]
    return [s for s in spans if s]


def overlapping(facts: dict[str, list[Row]], start: int, end: int) -> dict[str, list[Row]]:
    """The facts with at least one span overlapping ``[start, end)``, each with those spans.

    Spans are half-open code-point ranges, as anchors are: ``[400, 520)`` and ``[520, 530)``
    do not overlap.
    """
    out: dict[str, list[Row]] = {}
    for kind, items in facts.items():
        kept = []
        for item in items:
            spans = [a for a in _anchors(kind, item) if a["start"] < end and a["end"] > start]
            if spans:
                kept.append({**item, "overlapping": sorted(spans, key=lambda a: a["start"])})
        out[kind] = kept
    return out
