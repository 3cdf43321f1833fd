"""A check of draft fact files against the fact-file shapes that drafts use.

It reads the JSON by itself (not through the ingest code) and says what is wrong, with the
JSON path, as a list of problems: every anchor must resolve to exactly one place in the text
(a string, ``{quote, occurrence}``, or ``{quote, prefix, suffix}`` whose joined words occur
once), an entity is either a reference to a stored id (``id`` and ``mentions`` only) or a new
entity with a name and a kind, a claimant is an entity id of the file or an unnamed source,
and vocabularies are closed.
"""

import datetime as dt
import re
from pathlib import Path
from typing import Any

from app.models import ClaimKind, EntityKind, EventKind, EventModality

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,119}$")
PARTIAL_DATE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")
STATUSES = {"confirmed", "unverified", "pending", "disputed", "refuted", "not_checkable"}


def resolve(text: str, anchor: Any) -> tuple[int, int] | str:
    """Where an anchor stands in the text, or what is wrong with it."""
    if isinstance(anchor, str):
        anchor = {"quote": anchor}
    if not isinstance(anchor, dict) or not isinstance(anchor.get("quote"), str):
        return f"not an anchor: {anchor!r}"
    if set(anchor) - {"quote", "occurrence", "prefix", "suffix"}:
        return f"unknown anchor fields: {sorted(set(anchor) - {'quote', 'occurrence', 'prefix', 'suffix'})}"
    quote = anchor["quote"]
    if not quote:
        return "empty quote"
    starts = [m.start() for m in re.finditer(re.escape(quote), text)]
    if "occurrence" in anchor:
        if "prefix" in anchor or "suffix" in anchor:
            return "occurrence together with prefix/suffix"
        n = anchor["occurrence"]
        if not isinstance(n, int) or not 1 <= n <= len(starts):
            return f"occurrence {n!r} of {quote!r} (it occurs {len(starts)} times)"
        return starts[n - 1], starts[n - 1] + len(quote)
    prefix, suffix = anchor.get("prefix", ""), anchor.get("suffix", "")
    fits = [
        s for s in starts if text[:s].endswith(prefix) and text.startswith(suffix, s + len(quote))
    ]
    if len(fits) != 1:
        return f"{quote!r} with prefix {prefix!r} and suffix {suffix!r} occurs {len(fits)} times"
    return fits[0], fits[0] + len(quote)


def problems(doc: dict[str, Any], text: str, stored: set[str]) -> list[str]:
    """Every problem of a draft; an empty list when it is well formed."""
    out: list[str] = []

    def anchor(where: str, value: Any) -> None:
        found = resolve(text, value)
        if isinstance(found, str):
            out.append(f"{where}: {found}")

    if doc.get("format") != "article-facts/1":
        out.append("$.format: not article-facts/1")
    prov = doc.get("provenance", {})
    if set(prov) != {"extractor", "extractor_version", "model", "model_version", "reviewed"}:
        out.append(f"$.provenance: fields {sorted(prov)}")
    elif prov["reviewed"] is not False:
        out.append("$.provenance.reviewed: a draft is not reviewed")
    article = doc["article"]
    if not SLUG.match(article["id"]):
        out.append(f"$.article.id: {article['id']!r}")
    dt.date.fromisoformat(article["published"])
    ids: set[str] = set()
    for i, e in enumerate(doc["entities"]):
        where = f"$.entities[{i}]"
        if not SLUG.match(e["id"]) or e["id"] in ids:
            out.append(f"{where}.id: {e['id']!r} not a slug, or repeated")
        ids.add(e["id"])
        if "name" in e:
            if e["id"] in stored:
                out.append(f"{where}: a new entity with a stored id {e['id']!r}")
            if e["kind"] not in EntityKind.__members__:
                out.append(f"{where}.kind: {e['kind']!r}")
        elif set(e) != {"id", "mentions"} or e["id"] not in stored:
            out.append(f"{where}: a reference must be a stored id with mentions only")
        for j, m in enumerate(e["mentions"]):
            anchor(f"{where}.mentions[{j}]", m)
    events: set[str] = set()
    for i, ev in enumerate(doc["events"]):
        where = f"$.events[{i}]"
        events.add(ev["id"])
        if (
            ev["kind"] not in EventKind.__members__
            or ev["modality"] not in EventModality.__members__
        ):
            out.append(f"{where}: kind {ev['kind']!r} or modality {ev['modality']!r}")
        if ev["status"] not in STATUSES:
            out.append(f"{where}.status: {ev['status']!r}")
        time = ev.get("time")
        if time is not None:
            for key in ("date", "start", "end"):
                if key in time and not PARTIAL_DATE.match(time[key]):
                    out.append(f"{where}.time.{key}: {time[key]!r}")
            if "anchor" in time:
                anchor(f"{where}.time.anchor", time["anchor"])
            if not time.get("note"):
                out.append(f"{where}.time.note: missing")
        for p in ev["participants"]:
            if p["entity"] not in ids:
                out.append(f"{where}.participants: {p['entity']!r} not an entity of the file")
        if ev.get("location") is not None and ev["location"] not in ids:
            out.append(f"{where}.location: {ev['location']!r}")
        for j, a in enumerate(ev["anchors"]):
            anchor(f"{where}.anchors[{j}]", a)
    for i, c in enumerate(doc["claims"]):
        where = f"$.claims[{i}]"
        if c["kind"] not in ClaimKind.__members__ or c["status"] not in STATUSES:
            out.append(f"{where}: kind {c['kind']!r} or status {c['status']!r}")
        claimant = c["claimant"]
        if isinstance(claimant, str):
            if claimant not in ids:
                out.append(f"{where}.claimant: {claimant!r} not an entity of the file")
        elif set(claimant) - {"unnamed", "anchor"} or not claimant.get("unnamed"):
            out.append(f"{where}.claimant: {claimant!r}")
        elif "anchor" in claimant:
            anchor(f"{where}.claimant.anchor", claimant["anchor"])
        for key in ("attribution", "hedge"):
            if key in c:
                anchor(f"{where}.{key}", c[key])
        for s in c["subjects"]:
            if s not in ids:
                out.append(f"{where}.subjects: {s!r}")
        for e in c["events"]:
            if e not in events:
                out.append(f"{where}.events: {e!r}")
        if not c["anchors"]:
            out.append(f"{where}.anchors: empty")
        for j, a in enumerate(c["anchors"]):
            anchor(f"{where}.anchors[{j}]", a)
        for j, q in enumerate(c.get("quantities", [])):
            if not isinstance(q["value"], int | float) or not q["unit"]:
                out.append(f"{where}.quantities[{j}]: {q!r}")
            anchor(f"{where}.quantities[{j}].anchor", q["anchor"])
    return out


def draft_text(path: Path, doc: dict[str, Any]) -> str:
    """The text a draft's ``text_file`` names, read as ingest reads it."""
    raw = (path.parent / str(doc["article"]["text_file"])).read_bytes()
    return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
