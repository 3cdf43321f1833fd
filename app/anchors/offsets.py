"""Offsets in UTF-16 code units, for clients whose strings count them (JavaScript, Java, C#).

Anchors are stored as Unicode code point offsets, the unit of the W3C Web Annotation
model and of Python strings. The two agree until a text holds a character outside the
Basic Multilingual Plane (an emoji, a rare CJK ideograph), which is one code point but
two UTF-16 code units. With ``offset_unit=utf16`` every ``start`` and ``end`` of a
response, and the ``overlaps`` range given to ``/articles/{id}/facts``, count UTF-16
code units of the article text instead.
"""

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

from fastapi import Query
from sqlalchemy import Connection, select

from app.models import article_t

OffsetUnit = Literal["codepoint", "utf16"]

OffsetUnitQuery = Annotated[
    OffsetUnit,
    Query(
        description="What every `start` and `end` counts: Unicode code points (the default, "
        "the W3C Web Annotation unit) or UTF-16 code units (JavaScript string indexes). They "
        "differ only after a character outside the Basic Multilingual Plane, such as an "
        "emoji; see `/methodology`."
    ),
]


def _astral(text: str) -> bool:
    return any(ord(c) >= 0x10000 for c in text)


def utf16_offsets(text: str) -> Callable[[int], int]:
    """Map a code point offset of ``text`` to its UTF-16 code unit offset.

    Offsets past the end (a range given as input may reach beyond the text) map past
    the end, one unit per code point.
    """
    if not _astral(text):
        return lambda i: i
    table = [0]
    for c in text:
        table.append(table[-1] + (2 if ord(c) >= 0x10000 else 1))
    last = len(text)

    def offset(i: int) -> int:
        return table[i] if i <= last else table[last] + i - last

    return offset


def codepoint_offset(text: str, unit: int) -> int | None:
    """The code point offset at UTF-16 offset ``unit`` of ``text``.

    None when ``unit`` falls inside a surrogate pair, i.e. in the middle of a character.
    Offsets past the end map past the end, as code point offsets would.
    """
    if not _astral(text):
        return unit
    units = 0
    for i, c in enumerate(text):
        if units >= unit:
            return i if units == unit else None
        units += 2 if ord(c) >= 0x10000 else 1
    return len(text) + (unit - units) if unit >= units else None


def _span(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and type(value.get("start")) is int
        and type(value.get("end")) is int
    )


def _articles(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        if isinstance(value.get("article"), str):
            found.add(value["article"])
        for inner in value.values():
            _articles(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _articles(inner, found)


def _convert(value: Any, article: str | None, maps: dict[str, Callable[[int], int]]) -> Any:
    if isinstance(value, dict):
        if isinstance(value.get("article"), str):
            article = value["article"]
        out = {k: _convert(v, article, maps) for k, v in value.items()}
        if _span(value) and article in maps:
            offset = maps[article]
            out["start"], out["end"] = offset(value["start"]), offset(value["end"])
        return out
    if isinstance(value, list):
        return [_convert(inner, article, maps) for inner in value]
    return value


def article_texts(conn: Connection, keys: Iterable[str]) -> dict[str, str]:
    """The text of each article in ``keys`` that exists."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = conn.execute(select(article_t.c.key, article_t.c.text).where(article_t.c.key.in_(keys)))
    return {row.key: row.text for row in rows}


def to_utf16(conn: Connection, value: Any, article: str | None = None) -> Any:
    """A copy of the response ``value`` with every anchor's offsets in UTF-16 code units.

    An anchor belongs to the nearest enclosing object with an ``article`` id, else to
    ``article``. Only texts with characters outside the Basic Multilingual Plane change.
    """
    found: set[str] = set() if article is None else {article}
    _articles(value, found)
    maps = {
        key: utf16_offsets(text)
        for key, text in article_texts(conn, found).items()
        if _astral(text)
    }
    return _convert(value, article, maps) if maps else value


def in_unit(conn: Connection, value: Any, unit: OffsetUnit, article: str | None = None) -> Any:
    """``value`` with its offsets in ``unit`` (they are stored in code points)."""
    return to_utf16(conn, value, article) if unit == "utf16" else value
