"""Search across articles, entities, events and claims, ranked, with the matched words' offsets.

Ranking is bounded: for each type, the ``CANDIDATES`` most recently ingested matching rows
are read (in key order, which both indexes deliver without sorting by relevance) and only
those are scored — ``bm25`` on SQLite (an article's title weighs ``TITLE_WEIGHT`` times its
text), ``ts_rank`` normalised by length on PostgreSQL (title weight A, text weight B) — then
the hits of every type are merged by score. A query matching more rows than that is answered
from the newest ones: narrow it with more words or ``type=``.

Pages are keyset-paginated on (score, type, key) over that candidate set: a cursor holds the
last hit's rounded score, type and integer key, and the next page starts after it.

``matches`` are offsets (Unicode code points) in an article's text of the query's words and
phrases: in the whole text for an article hit; within the anchors (the article's own words)
of a claim or event hit, so a claim whose text is a paraphrase may match none; within the
mentions of an entity hit, in every article that names it (the first ``MENTIONS_READ``
mentions of each entity are read).
"""

import heapq
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, TextClause, func, select, text

from app import fts
from app.models import alias_t, article_t, claim_t, entity_t, event_t, mention_t
from app.queries import id_list, in_ids
from app.statements import Statement

Row = dict[str, Any]
Key = tuple[int, ...]

TYPES = ("article", "entity", "event", "claim")
CANDIDATES = 1000
TITLE_WEIGHT = 4.0
MAX_MATCHES = 50
MENTIONS_READ = 200
LABEL_CHARS = 160
SNIPPET_CHARS = 200
SCALE = 1_000_000  # scores are rounded to 6 decimals, which makes them cursor keys
MAX_SCORE_KEY = 2**31 - 1


@cache
def _scores_sql(dialect: str, name: str) -> Statement:
    """The candidates of one search table, newest first, with their score keys."""
    return Statement(_scores_text(dialect, name))


def _scores_text(dialect: str, name: str) -> TextClause:
    # The score as its cursor key, an integer (see SCALE), computed by the database: a common
    # word has thousands of candidates, which Python would each have to round.
    if dialect == "sqlite":
        table = fts.FTS_TABLES[name]
        weights = f", {TITLE_WEIGHT}, 1.0" if name == "article" else ""
        owner = "a.entity_id" if name == "entity_alias" else f"{table}.rowid"
        join = f" JOIN entity_alias a ON a.id = {table}.rowid" if name == "entity_alias" else ""
        scaled = f"CAST(round(-bm25({table}{weights}) * {SCALE}) AS INTEGER)"
        key = f"max(0, min({MAX_SCORE_KEY}, {scaled}))"
        return text(
            f"SELECT {owner}, {key} FROM {table}{join} "
            f"WHERE {table} MATCH :q ORDER BY {table}.rowid DESC LIMIT :n"
        )
    owner = "t.entity_id" if name == "entity_alias" else "t.id"
    rank = f"ts_rank(t.{fts.SEARCH_VECTOR}, to_tsquery('simple', :q), 1)"
    key = f"GREATEST(0, LEAST({MAX_SCORE_KEY}, round({rank} * {SCALE})::bigint))"
    return text(
        f"SELECT {owner}, {key} "
        f"FROM (SELECT id FROM \"{name}\" WHERE {fts.SEARCH_VECTOR} @@ to_tsquery('simple', :q) "
        f'ORDER BY id DESC LIMIT :n) c JOIN "{name}" t ON t.id = c.id'
    )


def _scores(conn: Connection, name: str, query: fts.Query) -> list[Any]:
    dialect = conn.dialect.name
    q = query.fts5() if dialect == "sqlite" else query.tsquery()
    return _scores_sql(dialect, name).rows(conn, {"q": q, "n": CANDIDATES})


def _candidates(conn: Connection, kind: str, query: fts.Query) -> dict[int, int]:
    """The newest matching rows of one type (at most CANDIDATES), with their score keys."""
    if kind != "entity":
        return dict(_scores(conn, kind, query))  # one row per id, the newest CANDIDATES
    found: dict[int, int] = {}
    for table in ("entity", "entity_alias"):
        for row_id, score in _scores(conn, table, query):
            found[row_id] = max(score, found.get(row_id, 0))
    newest = sorted(found, reverse=True)[:CANDIDATES]
    return {k: found[k] for k in newest}


def _order(hit: Key) -> tuple[int, int, int]:
    score_key, type_index, row_id = hit
    return (-score_key, type_index, -row_id)


def search(
    conn: Connection,
    q: str,
    *,
    types: Sequence[str] | None = None,
    after: Key | None = None,
    limit: int,
) -> tuple[list[Row], Key | None]:
    """One page of hits for the query ``q`` (valid: see ``fts.parse``), best first."""
    query = fts.parse(q)
    wanted = [t for t in TYPES if not types or t in types]
    # Hits as their sort keys (see _order), so that they sort as plain tuples.
    ordered: list[tuple[int, int, int]] = []
    for kind in wanted:
        index = TYPES.index(kind)
        ordered += [
            (-key, index, -row_id) for row_id, key in _candidates(conn, kind, query).items()
        ]
    if after is not None:
        last = _order((tuple(after) + (0, 0, 0))[:3])
        ordered = [h for h in ordered if h > last]
    best = heapq.nsmallest(limit + 1, ordered)
    hits = [(-score, index, -row_id) for score, index, row_id in best]
    page, rest = hits[:limit], hits[limit:]
    items = _items(conn, query, page)
    return items, (page[-1] if rest else None)


# --- the page's hits ---------------------------------------------------------


def _spans(text_: str, terms: Sequence[fts.Term]) -> list[tuple[int, int]]:
    """Code-point spans in ``text_`` of every occurrence of any of the terms."""
    folded = fts.quick_folded(text_) if all(len(t.tokens) == 1 for t in terms) else None
    if folded is None:
        return _token_spans(text_, terms)
    spans = {s for t in terms for s in fts.word_spans(folded, t.tokens[0], t.prefix)}
    return sorted(spans)


def _token_spans(text_: str, terms: Sequence[fts.Term]) -> list[tuple[int, int]]:
    """``_spans`` by tokenising the whole text: phrases need the words after a match."""
    found = fts.token_spans(text_)
    words = fts.folded_words(text_, found)
    spans: set[tuple[int, int]] = set()
    for term in terms:
        first, size = term.tokens[0], len(term.tokens)
        starts_only = term.prefix and size == 1
        for i, word in enumerate(words):
            # Most words are not the term's first token: test that before the whole term.
            if (word.startswith(first) if starts_only else word == first) and (
                term.matches_at(words, i)
            ):
                spans.add((found[i][0], found[i + size - 1][1]))
    return sorted(spans)


def _matches(
    article: str, pieces: Iterable[tuple[int, str]], terms: Sequence[fts.Term]
) -> list[Row]:
    """Matches within pieces of an article's text, each given as (its offset, its text)."""
    out: list[Row] = []
    for offset, piece in pieces:
        out.extend(_located(article, offset, piece, _spans(piece, terms)))
    out.sort(key=lambda m: (m["start"], m["end"]))
    return out[:MAX_MATCHES]


def _located(article: str, offset: int, piece: str, spans: Iterable[tuple[int, int]]) -> list[Row]:
    """The matches at ``spans`` of a piece of an article's text that starts at ``offset``."""
    return [
        {"article": article, "start": offset + a, "end": offset + b, "exact": piece[a:b]}
        for a, b in spans
    ]


def _clip(value: str, limit: int, around: int = 0) -> str:
    """``value`` on one line, cut to about ``limit`` characters around position ``around``."""
    if len(value) <= limit:
        return " ".join(value.split())
    lo = max(0, min(around - limit // 3, len(value) - limit))
    hi = lo + limit
    return ("…" if lo else "") + " ".join(value[lo:hi].split()) + ("…" if hi < len(value) else "")


def _snippet(value: str, spans: Sequence[tuple[int, int]]) -> str:
    """``value`` cut around the first of its matched ``spans``."""
    return _clip(value, SNIPPET_CHARS, spans[0][0] if spans else 0)


def _hit(kind: str, key: str, label: str, snippet: str, score_key: int) -> Row:
    return {
        "type": kind,
        "id": key,
        "label": _clip(label, LABEL_CHARS),
        "snippet": snippet,
        "score": score_key / SCALE,
    }


@cache
def _article_hits(dialect: str) -> Statement:
    columns = (article_t.c.id, article_t.c.key, article_t.c.title, article_t.c.text)
    return Statement(select(*columns).where(in_ids(article_t.c.id, dialect)))


@cache
def _anchored_hits(dialect: str, kind: str) -> Statement:
    """Event or claim hits: the matched text, and the anchors that place it in the article."""
    table, field = (event_t, "summary") if kind == "event" else (claim_t, "text")
    return Statement(
        select(
            table.c.id,
            table.c.key,
            table.c[field].label("value"),
            table.c.anchors,
            article_t.c.key.label("article"),
        )
        .join(article_t, article_t.c.id == table.c.article_id)
        .where(in_ids(table.c.id, dialect))
    )


@cache
def _entity_statements(dialect: str) -> tuple[Statement, Statement, Statement]:
    """An entity hit's aliases, its first ``MENTIONS_READ`` mentions, and the entity."""
    aliases = (
        select(alias_t.c.entity_id, alias_t.c.name)
        .where(in_ids(alias_t.c.entity_id, dialect))
        .group_by(alias_t.c.entity_id, alias_t.c.name)
        .order_by(alias_t.c.entity_id, func.min(alias_t.c.id))
    )
    numbered = (
        select(
            mention_t.c.entity_id,
            article_t.c.key.label("article"),
            mention_t.c.start,
            mention_t.c.exact,
            func.row_number()
            .over(
                partition_by=mention_t.c.entity_id,
                order_by=(mention_t.c.article_id, mention_t.c.start),
            )
            .label("n"),
        )
        .join(article_t, article_t.c.id == mention_t.c.article_id)
        .where(in_ids(mention_t.c.entity_id, dialect))
        .subquery()
    )
    mentions = (
        select(numbered)
        .where(numbered.c.n <= MENTIONS_READ)
        .order_by(numbered.c.entity_id, numbered.c.n)
    )
    entities = select(entity_t.c.id, entity_t.c.key, entity_t.c.name).where(
        in_ids(entity_t.c.id, dialect)
    )
    return Statement(aliases), Statement(mentions), Statement(entities)


def _items(conn: Connection, query: fts.Query, page: Sequence[Key]) -> list[Row]:
    terms = query.terms
    ids: dict[str, list[int]] = defaultdict(list)
    for _, index, row_id in page:
        ids[TYPES[index]].append(row_id)
    built: dict[tuple[int, int], Row] = {}
    scores = {(index, row_id): score_key for score_key, index, row_id in page}

    def add(kind: str, row_id: int, item: Row) -> None:
        built[(TYPES.index(kind), row_id)] = item

    dialect = conn.dialect.name
    if ids["article"]:
        rows = _article_hits(dialect).rows(conn, id_list(conn, ids["article"]))
        for pk, key, title, text_ in rows:
            spans = _spans(text_, terms)  # once, for both the snippet and the matches
            item = _hit("article", key, title, _snippet(text_, spans), scores[(0, pk)])
            item["article"] = key
            item["matches"] = _located(key, 0, text_, spans[:MAX_MATCHES])
            add("article", pk, item)
    for kind in ("event", "claim"):
        if not ids[kind]:
            continue
        rows = _anchored_hits(dialect, kind).rows(conn, id_list(conn, ids[kind]))
        for pk, key, value, anchored, article in rows:
            score = scores[(TYPES.index(kind), pk)]
            item = _hit(kind, key, value, _snippet(value, _spans(value, terms)), score)
            item["article"] = article
            anchors = [(a["start"], a["exact"]) for a in anchored or []]
            item["matches"] = _matches(article, anchors, terms)
            add(kind, pk, item)
    if ids["entity"]:
        _entities(conn, ids["entity"], terms, scores, add)
    return [built[(index, row_id)] for _, index, row_id in page if (index, row_id) in built]


def _entities(
    conn: Connection,
    entity_ids: Sequence[int],
    terms: Sequence[fts.Term],
    scores: dict[tuple[int, int], int],
    add: Any,
) -> None:
    aliases, mentions_read, entities = _entity_statements(conn.dialect.name)
    params = id_list(conn, entity_ids)
    names: dict[int, list[str]] = defaultdict(list)
    for entity_id, alias in aliases.rows(conn, params):
        names[entity_id].append(alias)
    mentions: dict[int, list[Any]] = defaultdict(list)
    for mention in mentions_read.rows(conn, params):
        mentions[mention[0]].append(mention)
    for pk, key, name in entities.rows(conn, params):
        # The snippet is the name, or else the first alias, holding a matched word.
        snippet = next((n for n in (name, *names[pk]) if _spans(n, terms)), name)
        item = _hit("entity", key, name, _clip(snippet, SNIPPET_CHARS), scores[(1, pk)])
        item["article"] = None
        matches: list[Row] = []
        for _, article, start, exact, _n in mentions[pk]:
            matches.extend(_matches(article, [(start, exact)], terms))
        item["matches"] = matches[:MAX_MATCHES]
        add("entity", pk, item)
