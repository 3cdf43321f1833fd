"""How the facts are assessed and anchored: the methodology, as data and as a page."""

from html import escape
from typing import Any

from app.anchors.web_annotation import MOTIVATIONS, QUOTE_CONTEXT
from app.models import STATUS_DEFINITIONS, VerificationStatus

ANCHORS = {
    "unit": "codepoint",
    "summary": (
        "An anchor is where a fact stands in its article: `start` and `end` count Unicode code "
        "points of the article text exactly as received (no normalisation, no markup), `end` "
        "exclusive, as the W3C Web Annotation TextPositionSelector requires."
    ),
    "rules": [
        "`exact` always equals the text from `start` to `end` (`text[start:end]` in Python); "
        "ingest verifies it for every anchor.",
        "Fact files write anchors as quotes; ingest finds each quote in the text and computes "
        "its offsets. A quote that occurs more than once names its occurrence (1-based, in "
        "reading order); a quote that is missing, or ambiguous without an occurrence, is refused.",
        "A text file's leading byte order mark is not part of the text; line ends are kept as "
        "they are, and each counts as one code point per character (CRLF is two).",
        "Anchors may overlap and nest: a claim's words often contain entity mentions, and an "
        "event and a claim may share words.",
    ],
}

OFFSET_UNITS = [
    {
        "value": "codepoint",
        "default": True,
        "description": (
            "Unicode code points, as stored, as Python indexes strings, and as W3C Web "
            "Annotation selectors count."
        ),
    },
    {
        "value": "utf16",
        "default": False,
        "description": (
            "UTF-16 code units, as JavaScript, Java and the DOM index strings: a character "
            "outside the Basic Multilingual Plane (most emoji, some CJK) counts 2. Accepted by "
            "every route whose responses carry anchors (and `overlaps` is then read in it too); "
            "on `/articles/{id}/annotations` the offsets of the TextPositionSelector are then "
            "UTF-16, which departs from the W3C model, so use it only to slice JavaScript strings."
        ),
    },
]

CROSSWALKS = {
    "claimreview": {
        "vocabulary": "https://schema.org/ClaimReview",
        "field": "claimreview_rating",
        "description": (
            "The alternateName of a ClaimReview's reviewRating, as fact-checkers publish it."
        ),
    },
    "fever": {
        "vocabulary": "https://fever.ai/",
        "field": "fever_label",
        "description": (
            "The FEVER shared task's three labels: evidence SUPPORTS or REFUTES the claim, or "
            "there is NOT ENOUGH INFO."
        ),
    },
}

# Why a status may have no counterpart in a crosswalk (null in its mapping).
NOT_CHECKABLE_NOTE = {
    "claimreview": (
        "`not_checkable` (an opinion, prediction or promise) gets no rating: its ClaimReview "
        "has no `reviewRating`, and its `reviewBody` gives the status and the rationale."
    ),
    "fever": "`not_checkable` gets no FEVER label: FEVER's labels judge claims that can be "
    "true or false.",
}

MOTIVATION_NOTES = {
    "mention": "an entity mention identifies who or what the words name",
    "event": "an event anchor is described by the event's summary",
    "time": "a time expression is described by the date it resolves to",
    "claim": "a claim's words are assessed: the body gives the status and its rationale",
    "attribution": "an attribution is described by who it attributes the claim to",
    "hedge": "a hedging cue is described as such, with the claim it qualifies",
    "evidence": "a passage used as evidence is linked to the claim it bears on",
}


def methodology() -> dict[str, Any]:
    """The methodology as JSON."""
    return {
        "statuses": [{"status": s.value, **STATUS_DEFINITIONS[s]} for s in VerificationStatus],
        "crosswalks": {
            name: {
                "vocabulary": about["vocabulary"],
                "description": about["description"],
                "mapping": {
                    s.value: STATUS_DEFINITIONS[s][field]  # type: ignore[literal-required]
                    for s in VerificationStatus
                },
                "unmapped": NOT_CHECKABLE_NOTE[name],
            }
            for name, about in CROSSWALKS.items()
            for field in [about["field"]]
        },
        "anchors": ANCHORS,
        "offset_units": OFFSET_UNITS,
        "web_annotation": {
            "context": "http://www.w3.org/ns/anno.jsonld",
            "selectors": [
                f"TextQuoteSelector: `exact`, with `prefix` and `suffix` of up to {QUOTE_CONTEXT} "
                "code points of the text around it",
                "TextPositionSelector: `start` and `end`",
            ],
            "motivations": [
                {"anchor": kind, "motivation": MOTIVATIONS[kind], "why": note}
                for kind, note in MOTIVATION_NOTES.items()
            ],
        },
    }


PAGE_STYLE = """
body { margin: 0; background: #f3f4f6; color: #1f2328;
  font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
main { max-width: 52rem; margin: 2rem auto 4rem; background: #fff; border: 1px solid #d8dee4;
  border-radius: 10px; padding: 2rem 2.6rem; }
h1 { font: 700 1.8rem/1.3 Georgia, serif; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem;
  border-bottom: 1px solid #d8dee4; }
th { font-size: .78rem; text-transform: uppercase; letter-spacing: .06em; color: #59636e; }
code { background: #f3f4f6; padding: .05rem .3rem; border-radius: 4px; font-size: .9em; }
a { color: #0a58ca; }
"""


def _code(text: str) -> str:
    """Escape ``text`` and set its `backquoted` parts as code."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def methodology_html(data: dict[str, Any]) -> str:
    """The methodology as a readable page."""
    claimreview = data["crosswalks"]["claimreview"]["mapping"]
    fever = data["crosswalks"]["fever"]["mapping"]
    statuses = "".join(
        f"<tr><td><code>{escape(s['status'])}</code></td><td>{escape(s['definition'])}</td>"
        f"<td>{escape(claimreview[s['status']] or 'none')}</td>"
        f"<td>{escape(fever[s['status']] or 'none')}</td></tr>"
        for s in data["statuses"]
    )
    unmapped = "".join(
        f"<li>{_code(about['unmapped'])}</li>" for about in data["crosswalks"].values()
    )
    rules = "".join(f"<li>{_code(r)}</li>" for r in data["anchors"]["rules"])
    units = "".join(
        f"<tr><td><code>{escape(u['value'])}</code>{' (default)' if u['default'] else ''}</td>"
        f"<td>{_code(u['description'])}</td></tr>"
        for u in data["offset_units"]
    )
    wa = data["web_annotation"]
    motivations = "".join(
        f"<tr><td>{escape(m['anchor'])}</td><td><code>{escape(m['motivation'])}</code></td>"
        f"<td>{escape(m['why'])}</td></tr>"
        for m in wa["motivations"]
    )
    selectors = "".join(f"<li>{_code(s)}</li>" for s in wa["selectors"])
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Methodology · article-facts</title>
<style>{PAGE_STYLE}</style>
</head>
<body>
<main>
<h1>Methodology</h1>
<p>How article-facts assesses claims and ties every fact to the words of its article.
The same content is served as JSON at
<a href="methodology?format=json">/methodology?format=json</a>.</p>
<h2>Verification statuses</h2>
<p>One closed vocabulary for claims and events, with its crosswalks to
<a href="{escape(data["crosswalks"]["claimreview"]["vocabulary"])}">schema.org ClaimReview</a>
ratings and FEVER labels.</p>
<table>
<thead><tr><th>Status</th><th>Meaning</th><th>ClaimReview</th><th>FEVER</th></tr></thead>
<tbody>{statuses}</tbody>
</table>
<ul>{unmapped}</ul>
<h2>Anchors</h2>
<p>{_code(data["anchors"]["summary"])}</p>
<ul>{rules}</ul>
<h2>Offset units</h2>
<table>
<thead><tr><th><code>offset_unit</code></th><th>Offsets count</th></tr></thead>
<tbody>{units}</tbody>
</table>
<h2>W3C Web Annotations</h2>
<p><code>/articles/{{id}}/annotations</code> serves one Annotation per anchor
(JSON-LD context <code>{escape(wa["context"])}</code>), its target selected by:</p>
<ul>{selectors}</ul>
<table>
<thead><tr><th>Anchor</th><th>Motivation</th><th>Why</th></tr></thead>
<tbody>{motivations}</tbody>
</table>
</main>
</body>
</html>
"""
