"""Claim status changes as an Atom feed (RFC 4287), for fact-checkers' feed readers.

Each entry is one status change: its title says the new status and the claim, its author is
who made the change (``ingest`` for the command, else the writing token's name), its
``updated`` time is when it was recorded, and its summary says what changed and why. Its
links are the article as a page with its facts highlighted (what a reader opens) and the
claim in the API. Ids are ``urn:uuid:`` URNs derived from the API's public URL and the
change's number, so they stay the same every time the feed is read.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
ET.register_namespace("", ATOM)


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    updated: dt.datetime
    link: str  # the claim in the API (JSON)
    page: str  # the article as a page, its facts highlighted (HTML)
    author: str
    summary: str
    categories: Sequence[str] = ()


def urn(name: str) -> str:
    """A stable ``urn:uuid:`` id for ``name`` (a URL of this API)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, name).urn


def timestamp(value: dt.datetime) -> str:
    """An RFC 3339 date-time in UTC, as Atom's date constructs require."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def feed(
    *,
    id: str,
    title: str,
    subtitle: str,
    updated: dt.datetime,
    self_url: str,
    alternate_url: str,
    author: str,
    entries: Sequence[Entry],
) -> bytes:
    """The feed document, UTF-8 encoded with its XML declaration."""
    root = ET.Element(f"{{{ATOM}}}feed")
    _add(root, "id", id)
    _add(root, "title", title)
    _add(root, "subtitle", subtitle)
    _add(root, "updated", timestamp(updated))
    _add(root, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    _add(root, "link", rel="alternate", type="application/json", href=alternate_url)
    _add(_add(root, "author"), "name", author)
    _add(root, "generator", "article-facts")
    for e in entries:
        entry = _add(root, "entry")
        _add(entry, "id", e.id)
        _add(entry, "title", e.title)
        _add(entry, "updated", timestamp(e.updated))
        _add(entry, "published", timestamp(e.updated))
        _add(_add(entry, "author"), "name", e.author)
        _add(entry, "link", rel="alternate", type="text/html", href=e.page)
        _add(entry, "link", rel="related", type="application/json", href=e.link)
        for term in e.categories:
            _add(entry, "category", term=term)
        _add(entry, "summary", e.summary, type="text")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
