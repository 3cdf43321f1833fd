"""Entity recognition: the named things of an article, their kinds, and every mention.

Names come from the recogniser (spaCy's PERSON, ORG, GPE … for English, natasha's PER, ORG,
LOC for Russian), from a few general patterns the recognisers miss (a name in quotation
marks after the word for what it is: the channel «…», компания «…»; an acronym defined in
parentheses, and its later uses; the article's publisher), and from the article's noun
phrases that match a stored entity (:mod:`app.extract.match`). Each mention is then given to
a stored entity, to a new entity of the draft, or dropped (a demonym of nothing known).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from app.extract.match import (
    Match,
    StoredEntities,
    StoredEntity,
    acronym,
    content_words,
    normalize,
    same_word,
)
from app.extract.parse import Parsed

# The recogniser's labels as entity kinds; None: not an entity by itself (a demonym).
KIND_OF_LABEL: dict[str, str | None] = {
    "PERSON": "person",
    "PER": "person",
    "ORG": "organization",
    "GPE": "country",
    "LOC": "region",
    "FAC": "facility",
    "NORP": None,
    "PRODUCT": "other",
    "EVENT": "other",
    "WORK_OF_ART": "document",
    "LAW": "document",
}
# Words of a name (or their beginnings, for Russian's endings) that say more about its kind.
KIND_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "government_body",
        (
            "ministry",
            "ministries",
            "commission",
            "committee",
            "embassy",
            "consulate",
            "government",
            "parliament",
            "senate",
            "agency",
            "administration",
            "department",
            "council",
            "court",
            "prosecutor",
            "police",
            "mazhilis",
            "akimat",
            "cabinet",
            "authority",
            "authorities",
            "ombudsman",
            "inspectorate",
            "министерств",
            "комисси",
            "комитет",
            "посольств",
            "консульств",
            "правительств",
            "парламент",
            "сенат",
            "агентств",
            "администрац",
            "ведомств",
            "совет",
            "суд",
            "прокуратур",
            "полици",
            "мажилис",
            "акимат",
            "департамент",
            "управлени",
            "мид",
        ),
    ),
    (
        "media_outlet",
        (
            "media",
            "news",
            "newspaper",
            "times",
            "tv",
            "radio",
            "press",
            "magazine",
            "газет",
            "информагентств",
            "телеканал",
            "издани",
            "радио",
            "медиа",
            "новост",
            "журнал",
        ),
    ),
    (
        "company",
        (
            "company",
            "corp",
            "corporation",
            "inc",
            "ltd",
            "llc",
            "plc",
            "jsc",
            "bank",
            "компани",
            "корпораци",
            "банк",
            "ао",
            "тоо",
            "пао",
            "ооо",
            "госкорпораци",
        ),
    ),
    (
        "facility",
        (
            "plant",
            "station",
            "mine",
            "port",
            "airport",
            "refinery",
            "factory",
            "dam",
            "bridge",
            "станци",
            "завод",
            "электростанци",
            "аэропорт",
            "порт",
            "месторождени",
            "шахт",
            "рудник",
            "аэс",
            "тэц",
            "гэс",
        ),
    ),
    (
        "region",
        (
            "region",
            "oblast",
            "province",
            "district",
            "county",
            "област",
            "регион",
            "район",
            "край",
            "округ",
        ),
    ),
    ("city", ("city", "город")),
    ("channel", ("channel", "канал")),
)
REGION_WORDS = frozenset(
    {"region", "oblast", "province", "district", "county", "область", "области", "районе"}
)
# The word before a quoted name that says what it names.
QUOTED_NAME_KINDS = {
    "channel": "channel",
    "newspaper": "media_outlet",
    "magazine": "media_outlet",
    "website": "media_outlet",
    "outlet": "media_outlet",
    "company": "company",
    "party": "organization",
    "foundation": "organization",
    "movement": "organization",
    "project": "project",
    "program": "project",
    "programme": "project",
    "канал": "channel",
    "газета": "media_outlet",
    "издание": "media_outlet",
    "журнал": "media_outlet",
    "сайт": "media_outlet",
    "компания": "company",
    "госкорпорация": "company",
    "корпорация": "company",
    "ао": "company",
    "тоо": "company",
    "пао": "company",
    "ооо": "company",
    "партия": "organization",
    "фонд": "organization",
    "движение": "organization",
    "проект": "project",
    "программа": "project",
}
QUOTED = re.compile(r"[«“\"]([^«»“”\"\n]{2,120}?)[,.]?[»”\"]")
ACRONYM_DEFINITION = re.compile(r"\(([A-ZА-ЯЁ]{2,6})\)")
DOMAIN = re.compile(r"\w\.(media|kz|ru|com|org|net|info|news|tv|uz|kg)\b", re.IGNORECASE)
POSSESSIVE = frozenset({"'s", "’s", "'", "’"})
LEADING = frozenset({"the", "a", "an"})


# Each kind's cues, as words and as beginnings of words (cues of four letters or more).
_CUES = tuple(
    (kind, frozenset(cues), tuple(c for c in cues if len(c) >= 4)) for kind, cues in KIND_CUES
)
# Codes of CLDR's territories that are no country.
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@cache
def country_names() -> frozenset[str]:
    """The names of the world's countries in English and Russian (CLDR's, through Babel),
    normalised: the recogniser's GPE label does not tell a country from a city or a state."""
    from babel import Locale

    return frozenset(
        normalize(name)
        for language in ("en", "ru")
        for code, name in Locale(language).territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )


def kind_of(label: str | None, name: str, normal: str | None = None) -> str:
    """An entity kind for a name: its words' cue first, then the recogniser's label (a place
    is a country when it has a country's name, in its dictionary form for Russian, and a
    city otherwise)."""
    if DOMAIN.search(name):
        return "media_outlet"
    words = normalize(name).split()
    base = KIND_OF_LABEL.get(label or "", None) or "other"
    if base == "person":
        return "person"
    if label == "GPE":
        countries = country_names()
        named = normalize(name) in countries or normalize(normal or name) in countries
        base = "country" if named else "city"
    for kind, exact, beginnings in _CUES:
        if any(w in exact or w.startswith(beginnings) for w in words):
            if kind == "channel" and base != "other":
                continue
            return kind
    return base


@dataclass
class Candidate:
    start: int
    end: int
    label: str | None  # the recogniser's label, or None for a pattern's
    kind: str | None
    normal: str
    source: str  # ner, quoted, acronym, stored, publisher
    match: Match | None = None
    cued: bool = False  # the kind comes from a word before the name ("corporation Rosatom")

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class DraftEntity:
    id: str
    name: str
    kind: str
    stored: bool
    mentions: list[tuple[int, int]] = field(default_factory=list)
    rule: str | None = None  # how a stored entity was recognised
    acronyms: set[str] = field(default_factory=set)


@dataclass
class Entities:
    """The draft's entities, and which entity each mention belongs to."""

    items: list[DraftEntity]
    spans: list[tuple[int, int, str]]  # (start, end, entity id), in text order
    publisher: str | None  # id of the publisher's entity
    context: frozenset[str] = frozenset()  # the article's content words

    def add(self, start: int, end: int, entity: DraftEntity) -> None:
        """One more mention of an entity of the draft."""
        entity.mentions.append((start, end))
        entity.mentions.sort()
        self.spans.append((start, end, entity.id))
        self.spans.sort()

    def at(self, start: int, end: int, prefer: int | None = None) -> str | None:
        """The entity named within [start, end): the mention covering ``prefer`` if any, else
        the first mention inside the range."""
        inside = [s for s in self.spans if s[0] >= start and s[1] <= end]
        if prefer is not None:
            for s in inside:
                if s[0] <= prefer < s[1]:
                    return s[2]
        return inside[0][2] if inside else None

    def within(self, start: int, end: int) -> list[str]:
        """Entity ids named within [start, end), once each, in text order."""
        return list(dict.fromkeys(s[2] for s in self.spans if s[0] >= start and s[1] <= end))

    def by_id(self, entity_id: str) -> DraftEntity:
        return next(e for e in self.items if e.id == entity_id)


class Taken:
    """The characters that mentions already cover, to test a new span in one step."""

    def __init__(self, length: int, spans: Iterable[tuple[int, int]] = ()) -> None:
        self.mask = bytearray(length)
        for start, end in spans:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        self.mask[start:end] = b"\x01" * (end - start)

    def overlaps(self, start: int, end: int) -> bool:
        return 1 in self.mask[start:end]


# --- finding candidates --------------------------------------------------------------------


def _trim(parsed: Parsed, start: int, end: int) -> tuple[int, int]:
    """Without a leading article, a trailing possessive or punctuation and outer spaces."""
    text = parsed.text
    while True:
        first_word = re.match(r"(\w+)\s+", text[start:end])
        if first_word and first_word.group(1).lower() in LEADING:
            start += first_word.end()
            continue
        break
    end = start + len(text[start:end].rstrip())
    for suffix in ("'s", "’s"):
        if text[start:end].endswith(suffix):
            end -= len(suffix)
    stripped = text[start:end].rstrip(" ,.;:»”\"'’)")
    stripped_start = len(text[start:end]) - len(text[start:end].lstrip(" «“\"'‘("))
    return start + stripped_start, start + len(stripped)


def _ner_candidates(parsed: Parsed) -> list[Candidate]:
    out: list[Candidate] = []
    for span in parsed.spans:
        if span.label not in KIND_OF_LABEL:
            continue
        # natasha's LOC covers countries and cities as well as regions
        span_label = "GPE" if parsed.language == "ru" and span.label == "LOC" else span.label
        pieces: list[tuple[int, int, str | None]] = []
        # "Kazakhstan’s Ministry of Foreign Affairs": the possessor is a name of its own.
        cut = next(
            (
                t
                for t in parsed.tokens[span.first : span.last + 1]
                if t.text in POSSESSIVE and span.first < t.i < span.last
            ),
            None,
        )
        if cut is not None and span_label == "ORG":
            pieces.append((span.start, cut.start, "GPE"))
            pieces.append((parsed.tokens[cut.i + 1].start, span.end, span_label))
        else:
            pieces.append((span.start, span.end, span_label))
        for start, end, label in pieces:
            start, end = _trim(parsed, start, end)
            if end - start < 2:
                continue
            normal = span.normal if (start, end) == (span.start, span.end) else None
            # "the Almaty region": a place and the word for it are one name.
            after = parsed.token_at(end + 1)
            if (
                label in ("GPE", "LOC")
                and after is not None
                and parsed.tokens[after].text.lower() in REGION_WORDS
                and parsed.text[end : parsed.tokens[after].start].isspace()
            ):
                end = parsed.tokens[after].end
                normal = None
            # "Shymkent airport", "the Aktau port": a place and the facility it names are one
            # name, the facility's (the noun is the place's head, or they modify one noun).
            elif label in ("GPE", "LOC") and after is not None and parsed.language == "en":
                noun = parsed.tokens[after]
                place = parsed.tokens[span.last]
                if (
                    noun.pos == "NOUN"
                    and kind_of(None, noun.text) == "facility"
                    and parsed.text[end : noun.start].isspace()
                    and (place.head == noun.i or place.head == noun.head != noun.i)
                ):
                    end, label, normal = noun.end, "FAC", None
            # "the Russian embassy": a demonym and the body it qualifies are one name.
            if label == "NORP" and after is not None:
                noun = parsed.tokens[after]
                body = kind_of(None, noun.text)
                if (
                    noun.pos == "NOUN"
                    and parsed.tokens[span.last].head == noun.i
                    and parsed.text[end : noun.start].isspace()
                    and body in ("government_body", "media_outlet", "company")
                ):
                    end, label, normal = noun.end, "ORG", None
            surface = parsed.text[start:end]
            kind = kind_of(label, surface, normal) if label != "NORP" else None
            cued = False
            before = parsed.token_at(start - 2) if start >= 2 else None
            if kind is not None and before is not None:
                word = parsed.tokens[before]
                name_tokens = set(parsed.tokens_in(start, end))
                linked = word.head in name_tokens or any(
                    parsed.tokens[i].head == word.i for i in name_tokens
                )
                if (
                    word.pos == "NOUN"
                    and linked
                    and word.end == start - 1
                    and word.text.islower()
                    and kind_of(None, word.text) not in ("other", kind)
                ):
                    kind, cued = kind_of(None, word.text), True
            out.append(Candidate(start, end, label, kind, normal or surface, "ner", cued=cued))
    return out


def _quoted_candidates(parsed: Parsed) -> list[Candidate]:
    out = []
    for m in QUOTED.finditer(parsed.text):
        name = m.group(1).strip()
        if not name[:1].isupper() or len(name.split()) > 10:
            continue
        before = re.search(r"(\w+)\s*$", parsed.text[: m.start()])
        if before is None:
            continue
        word = before.group(1).lower()
        kind = QUOTED_NAME_KINDS.get(word)
        if kind is None:
            continue
        start = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
        out.append(Candidate(start, start + len(name), None, kind, name, "quoted"))
    return out


def _acronym_candidates(parsed: Parsed) -> list[Candidate]:
    """ "nuclear power plant (NPP)": the long form, the acronym, and its later uses."""
    out: list[Candidate] = []
    text = parsed.text
    for m in ACRONYM_DEFINITION.finditer(text):
        letters = m.group(1).lower()
        words = list(re.finditer(r"[\w-]+", text[max(0, m.start() - 200) : m.start()]))
        base = max(0, m.start() - 200)
        picked: list[re.Match[str]] = []
        need = list(letters)
        for w in reversed(words):
            if not need:
                break
            if w.group().lower() in ("of", "and", "the", "for", "и", "по"):
                if picked:
                    continue
                break
            if w.group()[0].lower() == need[-1]:
                picked.append(w)
                need.pop()
            else:
                break
        if need or not picked:
            continue
        start, end = base + picked[-1].start(), base + picked[0].end()
        long_form = text[start:end]
        kind = kind_of("ORG", long_form)
        out.append(Candidate(start, end, None, kind, long_form, "acronym"))
        for use in re.finditer(rf"\b{re.escape(m.group(1))}\b", text):
            out.append(Candidate(use.start(), use.end(), None, kind, long_form, "acronym"))
    return out


def _publisher_candidates(parsed: Parsed, publisher: str | None) -> list[Candidate]:
    if not publisher:
        return []
    return [
        Candidate(m.start(), m.end(), None, "media_outlet", publisher, "publisher")
        for m in re.finditer(rf"(?<!\w){re.escape(publisher)}(?!\w)", parsed.text, re.IGNORECASE)
    ]


def _phrases(parsed: Parsed) -> Iterable[tuple[int, int]]:
    """Runs of adjectives, nouns and proper nouns (joined by "of"): a name's candidates."""
    run: list[int] = []

    def flush() -> Iterable[tuple[int, int]]:
        while run and parsed.tokens[run[-1]].lemma in ("of",):
            run.pop()
        if run:
            yield parsed.tokens[run[0]].start, parsed.tokens[run[-1]].end

    for t in parsed.tokens:
        nominal = t.pos in ("ADJ", "NOUN", "PROPN")
        joiner = t.lemma == "of" and bool(run)
        if run and (t.sent != parsed.tokens[run[-1]].sent):
            yield from flush()
            run = []
        if nominal or joiner:
            run.append(t.i)
        else:
            yield from flush()
            run = []
    yield from flush()


def _stored_candidates(
    parsed: Parsed, stored: StoredEntities, taken: list[Candidate], context: frozenset[str]
) -> list[Candidate]:
    if not len(stored):
        return []
    out = []
    covered = Taken(len(parsed.text), ((c.start, c.end) for c in taken))
    for start, end in _phrases(parsed):
        if covered.overlaps(start, end):
            continue
        surface = parsed.text[start:end]
        found = stored.match(surface, context=context)
        if found is not None:
            out.append(Candidate(start, end, None, None, surface, "stored", found))
    return out


def _without_overlaps(candidates: list[Candidate]) -> list[Candidate]:
    """The longest of overlapping candidates (the earlier source on a tie)."""
    order = {"publisher": 0, "quoted": 1, "acronym": 2, "ner": 3, "stored": 4}
    kept: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (-c.length, order[c.source], c.start)):
        if all(c.end <= k.start or k.end <= c.start for k in kept):
            kept.append(c)
    return sorted(kept, key=lambda c: c.start)


# --- entities ------------------------------------------------------------------------------

_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
        (
            "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya "
            "a g q n o u u h i"
        ).split(),
        strict=True,
    )
)


def slugify(name: str) -> str:
    lowered = name.casefold()
    latin = "".join(_CYRILLIC.get(ch, ch) for ch in lowered).replace("-", " ")
    words = re.findall(r"[a-z0-9]+", latin)
    slug = "-".join(words)[:80].strip("-")
    return slug or "entity"


class Ids:
    """Ids for new entities: slugs of their names that no stored or drafted entity has."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def new(self, name: str) -> str:
        base = slugify(name)
        candidate, n = base, 2
        while candidate in self.taken:
            candidate, n = f"{base}-{n}", n + 1
        self.taken.add(candidate)
        return candidate


def _demonym_of(word: str, name: str) -> bool:
    w, n = normalize(word), normalize(name)
    return " " not in n and w.startswith(n.rstrip("aeiouy")) and 0 < len(w) - len(n) <= 3


def find_entities(
    parsed: Parsed, stored: StoredEntities, *, publisher: str | None = None
) -> Entities:
    """Every entity the article names, stored ones recognised, with all their mentions."""
    context = frozenset(
        w for t in parsed.tokens if t.pos in ("PROPN", "NOUN", "ADJ") for w in content_words(t.text)
    )
    found = (
        _publisher_candidates(parsed, publisher)
        + _quoted_candidates(parsed)
        + _acronym_candidates(parsed)
        + _ner_candidates(parsed)
    )
    found = _without_overlaps(found)
    found = _without_overlaps(found + _stored_candidates(parsed, stored, found, context))

    ids = Ids(stored.keys)
    items: list[DraftEntity] = []
    by_key: dict[str, DraftEntity] = {}  # stored id or local key -> entity
    acronyms: dict[str, DraftEntity] = {}
    placed: list[tuple[int, int, DraftEntity]] = []
    publisher_entity: DraftEntity | None = None

    def entity_for(key: str, name: str, kind: str, stored_rule: str | None) -> DraftEntity:
        entity = by_key.get(key)
        if entity is None:
            if stored_rule is not None:
                entity = DraftEntity(key, stored.entities[key].name, stored.kind(key), True)
                entity.rule = stored_rule
            else:
                entity = DraftEntity("", name, kind, False)  # its id once its name is final
            by_key[key] = entity
            items.append(entity)
        return entity

    if publisher:
        match = stored.match(publisher)
        if match is not None:
            publisher_entity = entity_for(match.key, publisher, "media_outlet", match.rule)
        else:
            publisher_entity = entity_for(
                "publisher:" + normalize(publisher), publisher, "media_outlet", None
            )
        by_key["publisher:" + normalize(publisher)] = publisher_entity

    for c in found:
        surface = parsed.text[c.start : c.end]
        entity: DraftEntity | None = None
        if c.source == "publisher":
            entity = publisher_entity
        elif c.source == "acronym" and normalize(c.normal) in acronyms:
            entity = acronyms[normalize(c.normal)]
        if entity is None:
            match = c.match or stored.match(
                surface,
                normal=c.normal if c.normal != surface else None,
                person=c.kind == "person",
                demonym=c.label == "NORP",
                context=context,
            )
            if match is not None:
                entity = entity_for(match.key, surface, "", match.rule)
            elif c.label == "NORP":
                entity = next(
                    (
                        e
                        for e in items
                        if not e.stored
                        and e.kind in ("country", "region", "city")
                        and _demonym_of(surface, e.name)
                    ),
                    None,
                )
                if entity is None:
                    continue
            elif c.kind == "person":
                entity = _local_person(items, c.normal)
            elif surface.isupper() and len(surface) >= 2:
                # "MFA" after "Ministry of Foreign Affairs": the initials of a name in the draft
                entity = next(
                    (e for e in items if not e.stored and acronym(e.name) == surface.lower()),
                    None,
                )
            if entity is None:
                entity = entity_for(
                    "local:" + normalize(c.normal), _name(c, surface), c.kind or "other", None
                )
        if c.source == "acronym":
            acronyms[normalize(c.normal)] = entity
        if c.cued and not entity.stored and c.kind:
            entity.kind = c.kind
        if (c.start, c.end) not in entity.mentions:
            entity.mentions.append((c.start, c.end))
            placed.append((c.start, c.end, entity))
        if (
            not entity.stored
            and c.kind == "person"
            and len(c.normal.split()) > len(entity.name.split())
        ):
            entity.name = " ".join(c.normal.split())
    for entity in items:
        entity.mentions.sort()
        if not entity.stored:
            entity.id = ids.new(entity.name)
    placed += _draft_names(parsed, items, placed, context)
    placed += _repeated_names(parsed, items, placed)
    placed += _surnames(parsed, items, placed)
    placed += _titles(parsed, items, placed)
    placed += _head_nouns(parsed, items, placed)
    spans = sorted((start, end, entity.id) for start, end, entity in placed)
    return Entities(items, spans, publisher_entity.id if publisher_entity else None, context)


def _titles(
    parsed: Parsed, items: list[DraftEntity], placed: list[tuple[int, int, DraftEntity]]
) -> list[tuple[int, int, DraftEntity]]:
    """ "Prime Minister Olzhas Bektenov" … "the prime minister": a title that introduced one
    person names that person when it comes back on its own (not "prime minister of X")."""
    titles: dict[str, set[int]] = {}
    owner: dict[int, DraftEntity] = {}
    for start, _end, entity in placed:
        if entity.kind != "person":
            continue
        first = parsed.token_at(start)
        if first is None:
            continue
        words: list[str] = []
        i = first - 1
        while i >= 0 and first - i <= 4 and parsed.tokens[i].head in range(i + 1, first + 4):
            t = parsed.tokens[i]
            if t.dep not in ("compound", "appos", "nmod", "amod") or t.pos not in ("NOUN", "PROPN"):
                break
            words.insert(0, t.text.lower())
            i -= 1
        if words and all(w.isalpha() for w in words):
            title = " ".join(words)
            titles.setdefault(title, set()).add(id(entity))
            owner[id(entity)] = entity
    taken = Taken(len(parsed.text), ((s, e) for s, e, _ in placed))
    out: list[tuple[int, int, DraftEntity]] = []
    for title, people in titles.items():
        if len(people) != 1:
            continue
        entity = owner[next(iter(people))]
        pattern = rf"(?i)\b(?:the|этот|эта)\s+({re.escape(title)})\b(?!\s+(?:of|\w+ого|\w+ой)\b)"
        for m in re.finditer(pattern, parsed.text):
            span = (m.start(1), m.end(1))
            if taken.overlaps(*span):
                continue
            entity.mentions.append(span)
            out.append((span[0], span[1], entity))
    for entity in items:
        entity.mentions.sort()
    return out


def _draft_names(
    parsed: Parsed,
    items: list[DraftEntity],
    placed: list[tuple[int, int, DraftEntity]],
    context: frozenset[str],
) -> list[tuple[int, int, DraftEntity]]:
    """Noun phrases that name one of the draft's new entities by the rules stored names are
    matched with ("foreign ministry" for the article's "Ministry of Foreign Affairs")."""
    named = {
        f"draft-{k}": e
        for k, e in enumerate(items)
        if not e.stored and e.kind != "person" and len(content_words(e.name)) >= 2
    }
    if not named:
        return []
    index = StoredEntities(StoredEntity(key, e.name, e.kind, ()) for key, e in named.items())
    taken = Taken(len(parsed.text), ((s, e) for s, e, _ in placed))
    out: list[tuple[int, int, DraftEntity]] = []
    for start, end in _phrases(parsed):
        if taken.overlaps(start, end):
            continue
        surface = parsed.text[start:end]
        found = index.match(surface, context=context) if index.may_match(surface) else None
        if found is None:
            continue
        entity = named[found.key]
        entity.mentions.append((start, end))
        taken.add(start, end)
        out.append((start, end, entity))
    for entity in named.values():
        entity.mentions.sort()
    return out


def _repeated_names(
    parsed: Parsed, items: list[DraftEntity], placed: list[tuple[int, int, DraftEntity]]
) -> list[tuple[int, int, DraftEntity]]:
    """A name found once names the same entity wherever else it is written the same way ("one
    sense per discourse"): the recogniser judges each occurrence by its neighbours and misses
    some ("the Kazakh firm Tengri Build" … "Tengri Build said"; a headline's «первой АЭС»).
    Only names of two words or more, or one proper noun, that belong to one entity."""
    owners: dict[str, set[int]] = {}
    by_key: dict[int, DraftEntity] = {}
    for start, end, entity in placed:
        surface = parsed.text[start:end]
        tokens = list(parsed.tokens_in(start, end))
        if len(surface) < 3 or not surface[:1].isupper():
            continue
        if len(tokens) == 1 and parsed.tokens[tokens[0]].pos != "PROPN":
            continue
        owners.setdefault(surface, set()).add(id(entity))
        by_key[id(entity)] = entity
    taken = Taken(len(parsed.text), ((s, e) for s, e, _ in placed))
    out: list[tuple[int, int, DraftEntity]] = []
    for surface, keys in owners.items():
        if len(keys) != 1:
            continue
        entity = by_key[next(iter(keys))]
        for span in _occurrences(parsed.text, surface):
            if taken.overlaps(*span):
                continue
            entity.mentions.append(span)
            taken.add(*span)
            out.append((span[0], span[1], entity))
    for entity in items:
        entity.mentions.sort()
    return out


def _occurrences(text: str, words: str) -> Iterable[tuple[int, int]]:
    """Where ``words`` stand in the text as whole words."""
    i = text.find(words)
    while i != -1:
        end = i + len(words)
        before = text[i - 1] if i else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before in "_-" or after.isalnum() or after in "_-"):
            yield i, end
        i = text.find(words, i + 1)


def _surnames(
    parsed: Parsed, items: list[DraftEntity], placed: list[tuple[int, int, DraftEntity]]
) -> list[tuple[int, int, DraftEntity]]:
    """A person named in full, then by the surname alone (in Russian, in any case ending)."""
    taken = Taken(len(parsed.text), ((s, e) for s, e, _ in placed))
    out: list[tuple[int, int, DraftEntity]] = []
    full_names: dict[str, set[int]] = {}
    owner: dict[int, DraftEntity] = {}
    for start, end, entity in placed:
        words = parsed.text[start:end].split()
        if entity.kind == "person" and len(words) >= 2 and words[-1][:1].isupper():
            full_names.setdefault(words[-1].strip(".,"), set()).add(id(entity))
            owner[id(entity)] = entity
    for surname, people in full_names.items():
        if len(people) != 1 or len(surname) < 3:
            continue
        entity = owner[next(iter(people))]
        ending = r"[а-яё]{0,3}" if parsed.language == "ru" else ""
        for m in re.finditer(rf"(?<![\w-]){re.escape(surname)}{ending}(?![\w-])", parsed.text):
            span = (m.start(), m.end())
            if taken.overlaps(*span):
                continue
            entity.mentions.append(span)
            taken.add(*span)
            out.append((span[0], span[1], entity))
    return out


ORGANIZATION_KINDS = frozenset({"government_body", "company", "organization", "media_outlet"})


def _head_nouns(
    parsed: Parsed, items: list[DraftEntity], placed: list[tuple[int, int, DraftEntity]]
) -> list[tuple[int, int, DraftEntity]]:
    """ "The Atomic Energy Agency … the agency": the head noun of one organisation's name, on
    its own later in the article, names that organisation (only when no other organisation
    of the article has the same head noun)."""
    heads: dict[str, set[int]] = {}
    owner: dict[int, DraftEntity] = {}
    first_seen: dict[int, int] = {}
    for start, end, entity in placed:
        if entity.kind not in ORGANIZATION_KINDS:
            continue
        inside = list(parsed.tokens_in(start, end))
        if len(inside) < 2:
            continue
        root = next((i for i in inside if parsed.tokens[i].head not in inside), None)
        if root is None or parsed.tokens[root].pos not in ("NOUN", "PROPN"):
            continue
        heads.setdefault(parsed.tokens[root].lemma, set()).add(id(entity))
        owner[id(entity)] = entity
        first_seen[id(entity)] = min(first_seen.get(id(entity), end), end)
    taken = Taken(len(parsed.text), ((s, e) for s, e, _ in placed))
    out: list[tuple[int, int, DraftEntity]] = []
    for t in parsed.tokens:
        entities = heads.get(t.lemma)
        if not entities or len(entities) != 1 or t.pos != "NOUN" or not t.text.islower():
            continue
        key = next(iter(entities))
        if t.start < first_seen[key] or taken.overlaps(t.start, t.end):
            continue
        if parsed.language == "en":
            determiner = [parsed.tokens[c].lemma for c in parsed.children[t.i]]
            if "the" not in determiner or any(
                parsed.tokens[c].dep in ("prep", "compound", "amod") for c in parsed.children[t.i]
            ):
                continue
        elif any(parsed.tokens[c].dep in ("amod", "nmod") for c in parsed.children[t.i]):
            continue
        entity = owner[key]
        entity.mentions.append((t.start, t.end))
        out.append((t.start, t.end, entity))
    for entity in items:
        entity.mentions.sort()
    return out


def _name(c: Candidate, surface: str) -> str:
    name = c.normal if c.normal else surface
    return " ".join(name.split())


def _local_person(items: list[DraftEntity], name: str) -> DraftEntity | None:
    """A new person already in the draft whom this name (often a surname alone) names."""
    words = normalize(name).split()
    if not words:
        return None
    for e in items:
        if e.stored or e.kind != "person":
            continue
        theirs = normalize(e.name).split()
        if (
            theirs
            and same_word(theirs[-1], words[-1])
            and (len(words) == 1 or len(theirs) == 1 or theirs[0][:1] == words[0][:1])
        ):
            return e
    return None
