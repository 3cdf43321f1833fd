"""Full-text search: the query grammar, and matching it against each database's index.

A query is words, ``"quoted phrases"`` and ``prefix*`` words, all of which must occur,
and ``OR`` (upper case) between such groups. The query is parsed here and rebuilt as an
FTS5 ``MATCH`` expression (SQLite) or a ``tsquery`` (PostgreSQL) from its tokens alone, so
no user input ever reaches either syntax; a query that cannot be parsed is a
``QueryError`` whose message is shown to the client.

Both databases index the same tokens: a token is a run of letters, digits and combining
marks (Unicode categories L, N and M, so the vowel signs of हिन्दी and a decomposed
accent stay inside their word), anything else separates tokens, and case is folded.
SQLite's FTS5 ``unicode61`` tokenizer does this when told those categories (diacritics
kept: ``remove_diacritics 0``); PostgreSQL's ``simple`` configuration is given the text
with every run of other characters replaced by a space, so its parser sees the same
tokens (``71.12%`` is the two tokens ``71`` and ``12`` on both). A word written with
punctuation inside is matched as the phrase of its tokens.

Texts are indexed as written. A word with an accent can be written precomposed (``é``,
NFC, what nearly every text uses) or decomposed (``e`` and U+0301, NFD); a query word
matches either, so a search finds both spellings of the same word.

The indexes are created by the migration ``d8e2f3a4b5c6`` and are not models: FTS5
virtual tables on SQLite, to which ingest adds new rows (``index_new_rows``) and triggers
apply updates and deletes, and a generated ``search_vector`` column with a GIN index on
PostgreSQL. ``include_name`` and
``include_object`` keep them out of Alembic's comparison with the models.
"""

import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.sql.expression import TableClause

from app.statements import Statement


def mark_ranges(first: int = 0, last: int = sys.maxunicode) -> list[tuple[int, int]]:
    """The code point ranges of combining marks (Unicode category M) in ``[first, last]``."""
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(first, last + 2):
        mark = cp <= last and unicodedata.category(chr(cp)).startswith("M")
        if mark and start is None:
            start = cp
        elif not mark and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return ranges


# Marks live in the first two planes and in plane 14 (variation selectors); scanning
# only those keeps start-up quick (a test checks the result equals a full scan).
MARKS = mark_ranges(0, 0x1FFFF) + mark_ranges(0xE0000, 0xE0FFF)
_MARK_CLASS = "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in MARKS)
TOKEN = re.compile(f"(?:[^\\W_]|[{_MARK_CLASS}])+")
# TOKEN tests two classes per character, and a class reaching past U+FFFF is a list of
# ranges scanned one by one: 200 µs for a 2 KB article. One class of word characters and
# the marks of the first plane is compiled to a bitmap (45 µs); it also takes "_", which
# ``token_spans`` splits on. Text holding characters past U+FFFF keeps to TOKEN.
_BMP_MARK_CLASS = "".join(
    f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in MARKS if b <= 0xFFFF
)
_BMP_TOKEN = re.compile(f"[\\w{_BMP_MARK_CLASS}]+")
_UNDERSCORE_FREE = re.compile("[^_]+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
MAX_TERMS = 32


def postgres_separators() -> str:
    """A PostgreSQL regular expression for a run of characters that separate tokens."""

    def escape(cp: int) -> str:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"

    marks = "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in MARKS)
    return f"[^[:alnum:]{marks}]+"


def fold(word: str) -> str:
    """A token as the index compares it: lower case, in NFC."""
    return unicodedata.normalize("NFC", word.lower())


# Table -> its FTS5 table (SQLite); the same tables carry `search_vector` on PostgreSQL.
FTS_TABLES = {
    "article": "article_fts",
    "claim": "claim_fts",
    "event": "event_fts",
    "entity": "entity_fts",
    "entity_alias": "entity_alias_fts",
}
# Each table's indexed columns, in its FTS5 table's column order.
INDEXED_COLUMNS = {
    "article": ("title", "text"),
    "claim": ("text",),
    "event": ("summary",),
    "entity": ("name",),
    "entity_alias": ("name",),
}
SEARCH_VECTOR = "search_vector"
_FTS5_SHADOWS = ("data", "idx", "content", "docsize", "config")
FTS_TABLE_NAMES = frozenset(
    [*FTS_TABLES.values(), *(f"{t}_{s}" for t in FTS_TABLES.values() for s in _FTS5_SHADOWS)]
)


class QueryError(ValueError):
    """A search query that cannot be parsed; the message says why, for the client."""


@dataclass(frozen=True)
class Term:
    """One word (a single token) or phrase (several), lower-cased; ``prefix`` marks the last
    token as a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False

    def spellings(self) -> Iterator[tuple[str, ...]]:
        """The term's tokens as composed (NFC), then decomposed (NFD) if that differs."""
        yield self.tokens
        decomposed = tuple(unicodedata.normalize("NFD", t) for t in self.tokens)
        if decomposed != self.tokens:
            yield decomposed

    def matches_at(self, words: Sequence[str], i: int) -> bool:
        """Whether the folded ``words`` (see ``fold``) hold this term starting at index ``i``."""
        n = len(self.tokens)
        if i + n > len(words):
            return False
        for k, token in enumerate(self.tokens):
            word = words[i + k]
            last = k == n - 1
            if not (word.startswith(token) if last and self.prefix else word == token):
                return False
        return True


@dataclass(frozen=True)
class Query:
    """Groups of terms: a text matches when every term of at least one group occurs in it."""

    groups: tuple[tuple[Term, ...], ...]

    @property
    def terms(self) -> list[Term]:
        seen: dict[Term, None] = {}
        for group in self.groups:
            for term in group:
                seen.setdefault(term, None)
        return list(seen)

    def fts5(self) -> str:
        """The FTS5 MATCH expression: every token double-quoted, so never a syntax error."""

        def term(t: Term) -> str:
            star = " *" if t.prefix else ""
            forms = ['"' + " ".join(tokens) + '"' + star for tokens in t.spellings()]
            return forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")"

        return " OR ".join("(" + " AND ".join(term(t) for t in g) + ")" for g in self.groups)

    def tsquery(self) -> str:
        """The PostgreSQL tsquery text, for ``to_tsquery('simple', …)``."""

        def lexeme(token: str, prefix: bool) -> str:
            quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
            return quoted + (":*" if prefix else "")

        def spelling(t: Term, tokens: tuple[str, ...]) -> str:
            last = len(tokens) - 1
            parts = [lexeme(tok, t.prefix and i == last) for i, tok in enumerate(tokens)]
            return "(" + " <-> ".join(parts) + ")"

        def term(t: Term) -> str:
            forms = [spelling(t, tokens) for tokens in t.spellings()]
            return forms[0] if len(forms) == 1 else "(" + " | ".join(forms) + ")"

        return " | ".join("(" + " & ".join(term(t) for t in g) + ")" for g in self.groups)


def token_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) code point offsets of the tokens of ``text``, as ``TOKEN`` finds them."""
    if not text.isascii() and _ASTRAL.search(text):
        return [m.span() for m in TOKEN.finditer(text)]
    if "_" not in text:
        return [m.span() for m in _BMP_TOKEN.finditer(text)]
    spans: list[tuple[int, int]] = []
    for m in _BMP_TOKEN.finditer(text):
        run = m.group()
        if "_" not in run:
            spans.append(m.span())
            continue
        start = m.start()
        spans.extend((start + p.start(), start + p.end()) for p in _UNDERSCORE_FREE.finditer(run))
    return spans


def folded_words(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The tokens of ``text`` at ``spans``, folded (see ``fold``).

    Lower-casing the whole text once is much quicker than folding word by word; it is
    used when it changes no offsets and leaves the text in NFC, and the text has no capital
    sigma (whose lower case depends on the characters after it, which a word lacks).
    """
    lowered = _lowered(text)
    if lowered is not None:
        return [lowered[a:b] for a, b in spans]
    return [fold(text[a:b]) for a, b in spans]


def _lowered(text: str) -> str | None:
    lowered = text.lower()
    if (
        len(lowered) == len(text)
        and "\u03a3" not in text
        and unicodedata.is_normalized("NFC", lowered)
    ):
        return lowered
    return None


def quick_folded(text: str) -> str | None:
    """``text`` lower-cased, if its folded tokens are its slices at their spans and
    ``word_spans`` may search it; else None."""
    if not text.isascii() and _ASTRAL.search(text):
        return None
    return _lowered(text)


def word_spans(folded: str, word: str, prefix: bool = False) -> list[tuple[int, int]]:
    """The spans of the tokens equal to ``word`` (or, with ``prefix``, starting with it)
    in a text folded by ``quick_folded``: found by substring search, without tokenising."""
    spans = []
    size = len(word)
    start = folded.find(word)
    while start >= 0:
        before = folded[start - 1] if start else " "
        if before == "_" or not _BMP_TOKEN.match(before):
            run = _BMP_TOKEN.match(folded, start)
            if run is not None:
                end = folded.find("_", start, run.end())
                end = run.end() if end < 0 else end
                if end - start == size or (prefix and end - start > size):
                    spans.append((start, end))
        start = folded.find(word, start + 1)
    return spans


def tokens(text: str) -> list[str]:
    """The folded tokens of ``text`` (see ``fold``), split as both indexes split them."""
    return folded_words(text, token_spans(text))


def _pieces(text: str) -> list[tuple[str, bool, bool]]:
    """Split a query into (text, is_phrase, is_prefix) pieces; quotes must balance."""
    pieces: list[tuple[str, bool, bool]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError(
                    f"unbalanced quote: the phrase opened at character {i + 1} is never closed "
                    '(write "…" around a phrase)'
                )
            prefix = end + 1 < n and text[end + 1] == "*"
            pieces.append((text[i + 1 : end], True, prefix))
            i = end + 2 if prefix else end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] != '"':
                j += 1
            word = text[i:j]
            pieces.append((word, False, word.endswith("*")))
            i = j
    return pieces


def parse(text: str) -> Query:
    """Parse a user's query; raise QueryError with a readable message when it has none."""
    if "\x00" in text:
        raise QueryError("must not contain NUL characters")
    groups: list[list[Term]] = [[]]
    count = 0
    for piece, phrase, prefix in _pieces(text):
        if piece == "OR" and not phrase:
            if not groups[-1]:
                raise QueryError("OR must stand between two words or phrases")
            groups.append([])
            continue
        found = tuple(tokens(piece))
        if not found:
            continue  # punctuation alone, or an empty phrase, matches nothing and asks nothing
        count += 1
        if count > MAX_TERMS:
            raise QueryError(f"too many words or phrases: at most {MAX_TERMS}")
        groups[-1].append(Term(found, prefix))
    if not groups[-1]:
        if len(groups) > 1:
            raise QueryError("OR must stand between two words or phrases")
        raise QueryError("no words to search for: a query needs letters or digits")
    return Query(tuple(tuple(g) for g in groups))


# A query of at most this many plain words or phrases, with no prefix and no OR, is light:
# each term is one look-up in the index.
LIGHT_TERMS = 4


def light(text: str) -> bool:
    """Whether a (valid) query is cheap whatever the size of the corpus: a few plain words or
    phrases. Prefixes expand to every word they start, and ORs add up."""
    query = parse(text)
    if len(query.groups) > 1:
        return False
    terms = query.groups[0]
    return len(terms) <= LIGHT_TERMS and not any(term.prefix for term in terms)


def check(text: str | None) -> str | None:
    """A query parameter validator: the text, if it parses."""
    if text is not None:
        parse(text)
    return text


# --- matching in SQL ---------------------------------------------------------


def _fts5_match(index: str, expression: Any) -> ColumnElement[bool]:
    return literal_column(index).op("MATCH", is_comparison=True)(expression)


def _fts5_rowids(name: str, expression: Any) -> Any:
    fts = table(FTS_TABLES[name], column("rowid"))
    return select(fts.c.rowid).where(_fts5_match(fts.name, expression))


def sqlite_index(target: Table) -> TableClause:
    """SQLite: the FTS5 index of ``target``, whose ``rowid`` is the row's id.

    A statement that joins it, matches it with ``index_matches`` and orders by its rowid
    walks the matches in id order without collecting them first (FTS5 returns them in
    rowid order), so a page of a common word costs a page, not every match.
    """
    return table(FTS_TABLES[target.name], column("rowid"))


def index_matches(index: TableClause, operand: Any) -> ColumnElement[bool]:
    """SQLite: ``index`` (see ``sqlite_index``) matches ``operand``, a query as ``expression``
    gives it or a bound parameter holding one."""
    return _fts5_match(index.name, operand)


def tsquery(query: Query | Any) -> Any:
    """``to_tsquery`` of a parsed query, or of a bound parameter holding its ``tsquery()``."""
    text = query.tsquery() if isinstance(query, Query) else query
    return func.to_tsquery(literal_column("'simple'"), text)


def vector_match(name: str, query: Query | Any) -> ColumnElement[bool]:
    """PostgreSQL: the row of table ``name`` (not aliased in the statement) matches."""
    vector: ColumnElement[Any] = literal_column(f'"{name}".{SEARCH_VECTOR}')
    result: ColumnElement[bool] = vector.op("@@", is_comparison=True)(tsquery(query))
    return result


def expression(dialect: str, text: str) -> str:
    """The query ``text`` as the database's full-text engine reads it (FTS5 or tsquery)."""
    query = parse(text)
    return query.fts5() if dialect == "sqlite" else query.tsquery()


def matches(dialect: str, target: Table, text: str) -> ColumnElement[bool]:
    """Rows of ``target`` whose indexed text matches the query ``text``."""
    return matching(dialect, target, expression(dialect, text))


def matching(dialect: str, target: Table, operand: Any) -> ColumnElement[bool]:
    """Rows of ``target`` whose indexed text matches ``operand``: a query as ``expression``
    gives it, or a bound parameter holding one (a statement reused for other queries).

    ``target`` is one of the indexed tables; on PostgreSQL the statement must use it
    under its own name.
    """
    if dialect == "sqlite":
        return target.c.id.in_(_fts5_rowids(target.name, operand))
    return vector_match(target.name, operand)


# --- SQLite: adding new rows to the index ---------------------------------------


@cache
def _index_rows(name: str, where: str) -> Statement:
    columns = ", ".join(f'"{c}"' for c in INDEXED_COLUMNS[name])
    return Statement(
        text(
            f"INSERT INTO {FTS_TABLES[name]}(rowid, {columns}) "
            f'SELECT id, {columns} FROM "{name}" WHERE {where}'
        )
    )


def index_new_rows(conn: Connection, name: str, ids: Sequence[int]) -> None:
    """SQLite: add the rows of table ``name`` with these ids, just inserted, to its index.

    Triggers keep the FTS5 tables in step when a row is updated or deleted; a new row is
    added by ingest, a statement per table and article (a trigger costs some 60 µs a row).
    Nothing to do on PostgreSQL, whose index is a generated column.
    """
    if ids and conn.dialect.name == "sqlite":
        statement = _index_rows(name, "id IN (SELECT value FROM json_each(:ids))")
        statement.execute(conn, {"ids": orjson.dumps(list(ids)).decode()})


def merge_indexes(conn: Connection) -> None:
    """SQLite: merge each search index into one segment, in ``conn``'s transaction.

    Every batch of new rows adds segments to an FTS5 index, which merges them only a few
    at a time, and a query looks each word up in every segment: after a large load, finding
    a rare word costs about a quarter less in a merged index. Merging rewrites the whole
    index (about 3 s for 100,000 articles). Nothing to do on PostgreSQL.
    """
    if conn.dialect.name == "sqlite":
        for table in FTS_TABLES.values():
            conn.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('optimize')")


def index_new_aliases(conn: Connection, article_id: int, entity_ids: Sequence[int]) -> None:
    """SQLite: add the aliases just inserted for these entities in this article to the index."""
    if entity_ids and conn.dialect.name == "sqlite":
        where = "article_id = :article AND entity_id IN (SELECT value FROM json_each(:entities))"
        statement = _index_rows("entity_alias", where)
        statement.execute(
            conn, {"article": article_id, "entities": orjson.dumps(list(entity_ids)).decode()}
        )


# --- Alembic: the indexes are not models --------------------------------------


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave the FTS5 tables and their shadow tables out of reflection."""
    return not (type_ == "table" and name in FTS_TABLE_NAMES)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave the search columns, their indexes and the FTS5 tables out of the comparison."""
    if type_ == "table":
        return name not in FTS_TABLE_NAMES
    if type_ == "column":
        return not (name == SEARCH_VECTOR and compare_to is None)
    if type_ == "index":
        return not (name or "").endswith(f"_{SEARCH_VECTOR}")
    return True
