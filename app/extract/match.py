"""Matching what an article names to the entities already stored, by their names and aliases.

The stored names and aliases (in any script) are read once, read-only, from the service's
database. A name found in an article is tried, in this order, and the first rule that gives
exactly one entity wins:

1. **exact**: the name, or its dictionary form, equals a stored name or alias once case,
   punctuation, a leading article and ``ё``/``е`` are set aside;
2. **person**: a surname alone ("Tokayev") or a full name whose surname and first initial
   agree ("Alexander Likhachev" for "Alexey Likhachev") names one stored person;
3. **acronym**: an all-capitals word ("MFA", "CEC") is the initials of one stored name, or an
   alias begins with it;
4. **demonym**: "Russian" or "Kazakhstani" is the adjective of one stored country or region;
5. **fuzzy**: every word of the name matches a word of one stored name (equal, a typo, or the
   same stem: "Kazakh" and "Kazakhstan"), and the stored name's other words appear elsewhere in
   the article or are few ("foreign ministry" for "Ministry of Foreign Affairs of Kazakhstan" in
   an article that names Kazakhstan).

Ambiguity is never resolved by guessing: two equally good candidates give no match.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.extract import ExtractError
from app.models import alias_t, entity_t

STOPWORDS = frozenset(
    "the a an of and for in on at to by with from 's s "
    "и в во на по о об от для с со к при из".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)
# English prepositions after which a name's head noun has come ("Agency of Kazakhstan").
HEAD_ENDS = frozenset("of in on for at to by with from about".split())
PLACE_KINDS = frozenset({"country", "region", "city"})
# Typos in a long word: "Tokaev" for "Tokayev".
FUZZY_WORD = 88.0
STEM_MIN = 4  # a shared beginning this long, with endings that differ by at most …
STEM_SLACK = 4  # … this many letters, is the same word: Kazakh/Kazakhstan, энергетики/энергетика


@lru_cache(maxsize=1 << 16)  # called for every word of every name and description
def normalize(name: str) -> str:
    """Case, punctuation, quotation marks, a leading article and ё set aside."""
    folded = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    folded = re.sub(r"[’'`]s\b", "", folded)
    words = _WORD.findall(folded)
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def content_words(name: str) -> list[str]:
    return [w for w in normalize(name).split() if w not in STOPWORDS]


def same_word(a: str, b: str) -> bool:
    """Equal, the same stem (a long shared beginning), or a typo of a long word."""
    if a == b:
        return True
    if a.isdigit() or b.isdigit():
        return False
    short, long_ = sorted((a, b), key=len)
    if len(short) >= STEM_MIN and long_.startswith(short[: max(STEM_MIN, len(short) - 2)]):
        common = len(_common_prefix(a, b))
        if common >= STEM_MIN and len(long_) - common <= STEM_SLACK:
            return True
    return min(len(a), len(b)) >= 5 and fuzz.ratio(a, b) >= FUZZY_WORD


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def acronym(name: str) -> str | None:
    """Initials of a name's content words ("Central Election Commission" -> "cec")."""
    words = content_words(name)
    return "".join(w[0] for w in words) if len(words) >= 2 else None


@dataclass(frozen=True)
class StoredEntity:
    key: str
    name: str
    kind: str
    aliases: tuple[str, ...]

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Match:
    key: str
    rule: str  # exact, person, acronym, demonym, fuzzy, description


class StoredEntities:
    """The stored entities, indexed by every form of their names."""

    def __init__(self, entities: Iterable[StoredEntity]) -> None:
        self.entities = {e.key: e for e in entities}
        self._exact: dict[str, set[str]] = defaultdict(set)
        self._surname: dict[str, set[str]] = defaultdict(set)
        self._acronym: dict[str, set[str]] = defaultdict(set)
        self._stem: dict[str, set[tuple[str, str]]] = defaultdict(set)  # stem -> (key, form)
        for e in self.entities.values():
            for form in e.forms:
                norm = normalize(form)
                if not norm:
                    continue
                self._exact[norm].add(e.key)
                words = norm.split()
                if e.kind == "person" and len(words) >= 2:
                    self._surname[words[-1]].add(e.key)
                initials = acronym(form)
                if initials and len(initials) >= 2:
                    self._acronym[initials].add(e.key)
                first = form.split()[0] if form.split() else ""
                if len(first) >= 2 and first.isupper() and form != first:
                    self._acronym[normalize(first)].add(e.key)
                for word in content_words(form):
                    self._stem[word[:STEM_MIN]].add((e.key, form))

    def __len__(self) -> int:
        return len(self.entities)

    @property
    def keys(self) -> set[str]:
        return set(self.entities)

    def kind(self, key: str) -> str:
        return self.entities[key].kind

    def match(
        self,
        surface: str,
        *,
        normal: str | None = None,
        person: bool = False,
        demonym: bool = False,
        context: frozenset[str] = frozenset(),
    ) -> Match | None:
        """The one stored entity a name found in an article refers to, or None."""
        for form in dict.fromkeys([surface, normal or surface]):
            found = _one(self._exact.get(normalize(form), set()))
            if found:
                return Match(found, "exact")
        words = normalize(normal or surface).split()
        if not words:
            return None
        if person:
            found = self._person(words)
            if found:
                return Match(found, "person")
        if len(words) == 1 and surface.strip().isupper() and len(surface.strip()) >= 2:
            found = _one(self._acronym.get(words[0], set()))
            if found:
                return Match(found, "acronym")
        if demonym:
            found = self._demonym(words)
            return Match(found, "demonym") if found else None
        found = self._fuzzy(surface if normal is None else normal, person, context)
        return Match(found, "fuzzy") if found else None

    def may_match(self, surface: str) -> bool:
        """Whether :meth:`match` could find anything for a name: a word of it begins like a
        word of a stored name, or it is one word in capitals (an acronym)."""
        stripped = surface.strip()
        if stripped.isupper() and " " not in stripped:
            return True
        return any(w[:STEM_MIN] in self._stem for w in content_words(surface))

    def by_head(self, head: str, context: frozenset[str]) -> Match | None:
        """The one stored entity a description with this head noun refers to in an article
        with these content words: its name or an alias has the head noun, and every other word
        of it is a word of the article ("the government" for "Government of Kazakhstan" in an
        article that names Kazakhstan). None when no entity or several fit."""
        word = normalize(head)
        if not word:
            return None
        found = set()
        for key, form in self._stem.get(word[:STEM_MIN], set()):
            if not same_word(word, _head(form)):
                continue
            rest = [w for w in content_words(form) if not same_word(w, word)]
            if all(any(same_word(w, c) for c in context) for w in rest):
                found.add(key)
        one = _one(found)
        return Match(one, "description") if one else None

    def _person(self, words: list[str]) -> str | None:
        candidates = self._surname.get(words[-1], set())
        if len(words) == 1:
            return _one(candidates)
        agreeing = {
            key
            for key in candidates
            if any(
                normalize(form).split()[0][:1] == words[0][:1]
                for form in self.entities[key].forms
                if len(normalize(form).split()) >= 2
            )
        }
        return _one(agreeing)

    def _demonym(self, words: list[str]) -> str | None:
        if len(words) != 1:
            return None
        word = words[0]
        found = set()
        for key, form in self._stem.get(word[:STEM_MIN], set()):
            if self.entities[key].kind not in PLACE_KINDS:
                continue
            name = normalize(form)
            if " " in name or word == name:
                continue
            # Russia -> Russian, Kazakhstan -> Kazakhstani, Kazakhstan -> Kazakhstan's
            if word.startswith(name.rstrip("aeiouy")) and 0 < len(word) - len(name) <= 3:
                found.add(key)
        return _one(found)

    def _fuzzy(self, name: str, person: bool, context: frozenset[str]) -> str | None:
        words = content_words(name)
        if not words:
            return None
        candidates: set[tuple[str, str]] = set()
        for word in words:
            candidates |= self._stem.get(word[:STEM_MIN], set())
        best: dict[str, float] = {}
        for key, form in candidates:
            if (self.entities[key].kind == "person") != person:
                continue
            stored = content_words(form)
            if len(words) == 1 and len(stored) == 1:
                # One word against one word: only a typo of a long name.
                ok = len(words[0]) >= 6 and fuzz.ratio(words[0], stored[0]) >= FUZZY_WORD
                score = 1.0 if ok else 0.0
            else:
                score = _cover(words, stored, context, _head(form))
            if score > best.get(key, 0.0):
                best[key] = score
        if not best:
            return None
        top = max(best.values())
        if top <= 0.0:
            return None
        return _one({key for key, score in best.items() if score == top})


def _head(form: str) -> str:
    """The word a name is about: "Agency" in "Atomic Energy Agency of Kazakhstan", "plant" in
    "first nuclear power plant", «Правительство» in «Правительство Республики Казахстан»."""
    words = normalize(form).split()
    cut = next((i for i, w in enumerate(words) if w in HEAD_ENDS), None)
    if cut is not None:  # "Agency of Kazakhstan", "embassy in Kazakhstan", "letter on the plant"
        return words[cut - 1] if cut else words[-1]
    if re.search(r"[а-яё]", form.casefold()):
        return words[0]
    return words[-1]


def _cover(words: list[str], stored: list[str], context: frozenset[str], head: str) -> float:
    """How well a name matches a stored name: 0 when it does not (or misses the stored name's
    head word), else the share of the stored name's words it or the article's context accounts
    for (its own words count double)."""
    if len(words) < 2 or len(words) > len(stored) + 1:
        return 0.0
    used: set[int] = set()
    for word in words:
        hit = next((j for j, s in enumerate(stored) if j not in used and same_word(word, s)), None)
        if hit is None:
            return 0.0
        used.add(hit)
    if not any(same_word(head, stored[j]) for j in used):
        return 0.0
    missing = [s for j, s in enumerate(stored) if j not in used]
    supported = [s for s in missing if any(same_word(s, c) for c in context)]
    if len(missing) - len(supported) > 1 or (missing and len(used) < len(missing)):
        return 0.0
    return (2 * len(used) + len(supported)) / (2 * len(stored))


def _one(keys: set[str]) -> str | None:
    return next(iter(keys)) if len(keys) == 1 else None


def _read_only_url(url: str) -> str:
    """The URL opened read-only; a SQLite file must exist (never created by reading it)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ExtractError(f"Error: database: not a database URL: {url!r}") from None
    if parsed.get_backend_name() != "sqlite":
        return url
    database = parsed.database or ""
    if not database or database == ":memory:" or not Path(database).is_file():
        raise ExtractError(
            f"Error: database {parsed.render_as_string(hide_password=True)}: no such database "
            "file (give the service's database with --database-url, or --no-database)"
        )
    path = Path(database).resolve().as_posix()
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def load_stored(url: str) -> StoredEntities:
    """Every stored entity's name, kind and aliases, read without writing anything."""
    engine = create_engine(_read_only_url(url))
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(entity_t.c.id, entity_t.c.key, entity_t.c.name, entity_t.c.kind)
            ).all()
            aliases: dict[int, list[str]] = defaultdict(list)
            for entity_id, name in conn.execute(
                select(alias_t.c.entity_id, alias_t.c.name).order_by(alias_t.c.id)
            ):
                if name not in aliases[entity_id]:
                    aliases[entity_id].append(name)
            conn.rollback()
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        problem = str(orig or exc).strip().splitlines()[0]
        raise ExtractError(f"Error: database {shown}: {problem}") from None
    finally:
        engine.dispose()
    return StoredEntities(
        StoredEntity(key, name, kind, tuple(aliases.get(row_id, ())))
        for row_id, key, name, kind in rows
    )
