"""An article as one standalone HTML page, every fact highlighted where its anchors say.

Anchors overlap freely (a claim holds entity mentions, two claims may cross), and HTML
elements must nest: ``layout`` nests the highlights that can be nested and splits the
one that crosses another into pieces, each piece its own element carrying the offsets
of the piece (``data-start``/``data-end``) and of its whole anchor
(``data-anchor-start``/``data-anchor-end``), all in Unicode code points.
"""

import hashlib
import heapq
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from importlib.resources import files
from typing import Any

import orjson

from app.models import STATUS_DEFINITIONS, VerificationStatus

# Outer to inner when two highlights cover the same words.
KINDS = ("claim", "event", "attribution", "hedge", "evidence", "time", "mention")
KIND_LABELS = {
    "claim": "Claim",
    "event": "Event",
    "attribution": "Attribution",
    "hedge": "Hedging cue",
    "evidence": "Evidence in the text",
    "time": "Time expression",
    "mention": "Entity mention",
}
KIND_HELP = {
    "claim": "The words of a claim; colour shows its verification status.",
    "event": "What happened, or is planned, proposed, requested.",
    "attribution": "Who the article says makes a claim.",
    "hedge": "The article's own caution about a claim.",
    "evidence": "A passage of the article used as evidence on a claim.",
    "time": "The words that date an event.",
    "mention": "A person, organisation, place or document named.",
}
STATUS_SYMBOLS = {
    "confirmed": "✓",
    "unverified": "?",
    "pending": "…",
    "disputed": "±",
    "refuted": "✗",
    "not_checkable": "○",
}


@dataclass(frozen=True)
class Highlight:
    """One anchor of one fact: ``kind`` and ``fact`` (its id) say which."""

    start: int
    end: int
    kind: str
    fact: str
    status: str | None = None

    @property
    def key(self) -> str:
        return f"{'entity' if self.kind == 'mention' else _owner(self.kind)}:{self.fact}"


def _owner(kind: str) -> str:
    if kind in ("claim", "attribution", "hedge", "evidence"):
        return "claim"
    return "event"


@dataclass
class Node:
    """A piece of a highlight (or the paragraph itself when ``mark`` is None)."""

    start: int
    end: int
    mark: Highlight | None = None
    children: list["Node"] = field(default_factory=list)


def highlights(facts: dict[str, Any]) -> list[Highlight]:
    """Every anchor of the article's facts, as highlights."""
    out: list[Highlight] = []
    for entity in facts["entities"]:
        out += [
            Highlight(m["start"], m["end"], "mention", entity["id"]) for m in entity["mentions"]
        ]
    for event in facts["events"]:
        out += [Highlight(a["start"], a["end"], "event", event["id"]) for a in event["anchors"]]
        anchor = (event["time"] or {}).get("anchor")
        if anchor:
            out.append(Highlight(anchor["start"], anchor["end"], "time", event["id"]))
    for claim in facts["claims"]:
        status = claim["status"]
        out += [
            Highlight(a["start"], a["end"], "claim", claim["id"], status) for a in claim["anchors"]
        ]
        for kind in ("attribution", "hedge"):
            if claim[kind]:
                out.append(Highlight(claim[kind]["start"], claim[kind]["end"], kind, claim["id"]))
        for ev in claim.get("evidence", []):
            if ev["anchor"]:
                a = ev["anchor"]
                out.append(Highlight(a["start"], a["end"], "evidence", claim["id"]))
    # The same passage may be the hedge of several claims, or evidence twice: one is enough.
    return [h for h in dict.fromkeys(out) if h.end > h.start]


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) of each non-blank line of ``text``, in code points."""
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if line.strip():
            yield start, end
        start = end + 1


def layout(start: int, end: int, marks: list[Highlight]) -> Node:
    """The highlights within [start, end) as a tree: nested where they nest, split where
    one crosses another (the remainder continues after the element it crossed)."""
    root = Node(start, end)
    order = {kind: i for i, kind in enumerate(KINDS)}
    queue: list[tuple[int, int, int, int, int, Highlight]] = []
    for seq, h in enumerate(marks):
        s, e = max(h.start, start), min(h.end, end)
        if s < e:
            queue.append((s, -e, order[h.kind], seq, e, h))
    heapq.heapify(queue)
    stack = [root]
    while queue:
        s, _, rank, seq, e, h = heapq.heappop(queue)
        while s >= stack[-1].end:
            stack.pop()
        parent = stack[-1]
        if e > parent.end:
            heapq.heappush(queue, (parent.end, -e, rank, seq, e, h))
            e = parent.end
        node = Node(s, e, h)
        parent.children.append(node)
        stack.append(node)
    return root


def _attrs(node: Node) -> str:
    h = node.mark
    assert h is not None
    classes = ["hl", f"k-{h.kind}"]
    if h.status:
        classes.append(f"s-{h.status}")
    if node.start == h.start:
        classes.append("first")
    attrs = {
        "class": " ".join(classes),
        "data-kind": h.kind,
        "data-id": h.fact,
        "data-key": h.key,
        "data-start": str(node.start),
        "data-end": str(node.end),
        "data-anchor-start": str(h.start),
        "data-anchor-end": str(h.end),
    }
    if h.status:
        attrs["data-status"] = h.status
    if node.start == h.start:
        attrs["tabindex"] = "0"
    return " ".join(f'{k}="{escape(v)}"' for k, v in attrs.items())


def render_node(text: str, node: Node) -> str:
    """The HTML of ``node``: its text escaped, its children as nested spans."""
    out = []
    pos = node.start
    for child in node.children:
        out.append(escape(text[pos : child.start]))
        out.append(f"<span {_attrs(child)}>{render_node(text, child)}</span>")
        pos = child.end
    out.append(escape(text[pos : node.end]))
    return "".join(out)


def render_text(text: str, title: str, marks: list[Highlight]) -> str:
    """The article text as paragraphs (the first as the headline when it is the title)."""
    out = []
    for i, (start, end) in enumerate(paragraphs(text)):
        tag = "h1" if i == 0 and text[start:end].strip() == title.strip() else "p"
        body = render_node(text, layout(start, end, marks))
        out.append(f'<{tag} class="para" data-start="{start}" data-end="{end}">{body}</{tag}>')
    return "\n".join(out)


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element, whatever the strings hold."""
    raw = orjson.dumps(data).decode()
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        raw = raw.replace(char, code)
    return raw


def _asset(name: str) -> str:
    return (files("app.anchors") / "templates" / name).read_text("utf-8")


def _csp_hash(source: str) -> str:
    return "'sha256-" + b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def _legend() -> str:
    items = []
    for kind in KINDS:
        if kind == "claim":
            continue
        items.append(
            f'<li><label title="{escape(KIND_HELP[kind])}"><input type="checkbox" checked '
            f'data-toggle="{kind}"> <span class="swatch k-{kind}">{KIND_LABELS[kind]}</span>'
            "</label></li>"
        )
    statuses = []
    for status in VerificationStatus:
        info = STATUS_DEFINITIONS[status]
        statuses.append(
            f'<li title="{escape(info["definition"])}"><span class="swatch k-claim s-{status} '
            f'first">{escape(info["label"])}</span></li>'
        )
    return (
        '<div class="legend-group"><h2>Claims, by verification status</h2>'
        '<label class="toggle"><input type="checkbox" checked data-toggle="claim"> show</label>'
        f'<ul class="statuses">{"".join(statuses)}</ul></div>'
        f'<div class="legend-group"><h2>Other highlights</h2><ul class="kinds">{"".join(items)}'
        "</ul></div>"
    )


def render_page(
    article: dict[str, Any], facts: dict[str, Any], api: str
) -> tuple[str, dict[str, str]]:
    """The standalone page (no external asset) and the headers to send with it."""
    marks = highlights(facts)
    style, script = _asset("annotated.css"), _asset("annotated.js")
    data = {
        "api": api,
        "article": {k: article[k] for k in ("id", "title", "url", "publisher", "published")},
        "entities": {e["id"]: e for e in facts["entities"]},
        "events": {e["id"]: e for e in facts["events"]},
        "claims": {c["id"]: c for c in facts["claims"]},
        "statuses": {s.value: STATUS_DEFINITIONS[s] for s in VerificationStatus},
        "symbols": STATUS_SYMBOLS,
        "labels": KIND_LABELS,
    }
    meta = [
        escape(article["publisher"] or ""),
        escape(str(article["published"] or "")),
        escape(article["language"] or ""),
    ]
    source = ""
    if article["url"] and str(article["url"]).startswith(("https://", "http://")):
        source = f'<a href="{escape(article["url"])}" rel="noreferrer noopener">original</a>'
    counts = article["counts"]
    text = render_text(article["text"], article["title"], marks)
    headline = "" if text.startswith("<h1") else f"<h1>{escape(article['title'])}</h1>"
    page = f"""<!doctype html>
<html lang="{escape(article["language"] or "und")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(article["title"])} · article-facts</title>
<style>{style}</style>
</head>
<body>
<header class="top">
  <div class="brand">article-facts</div>
  <nav><a href="{escape(api)}/articles/{escape(article["id"])}">JSON</a>
  <a href="{escape(api)}/articles/{escape(article["id"])}/annotations">Web Annotations</a>
  <a href="{escape(api)}/methodology?format=html">Methodology</a>
  <a href="{escape(api)}/docs">API docs</a></nav>
</header>
<div class="layout">
<main>
  <article id="article" data-article="{escape(article["id"])}">
    <p class="meta">{" · ".join(m for m in meta if m)}{" · " + source if source else ""}</p>
    {headline}
    <div class="text">
{text}
    </div>
  </article>
</main>
<aside id="panel" aria-live="polite">
  <section class="legend" aria-label="Legend">{_legend()}</section>
  <p class="counts">{counts["claims"]} claims · {counts["events"]} events ·
  {counts["entities"]} entities</p>
  <section id="details" class="details">
    <p class="hint">Select a highlight to see its facts.</p>
  </section>
</aside>
</div>
<script type="application/json" id="facts">{_script_json(data)}</script>
<script>{script}</script>
</body>
</html>
"""
    csp = (
        f"default-src 'none'; style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
    return page, {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff"}
