"""Deterministic generator of benchmark corpora in the ``article-facts/1`` fact file format.

``python -m bench.generate --articles N --out DIR --seed 42`` writes::

    DIR/manifest.json            what the runner needs: popular and rare entities, a sample
                                 of claim ids, common and rare search terms, totals
    DIR/facts/000/000000.json    one fact file per article (text inline), 1,000 per folder
    DIR/facts/001/001000.json    ...

Load it with ``article-facts ingest DIR/facts``. (The facts live in their own folder because
``ingest`` reads every ``*.json`` under the folders it is given, and the manifest is not a
fact file.)

Every article is built from its own random stream (seeded by the seed and the article's
index), so the same seed and arguments give byte-identical files whatever the number of
worker processes. Entities form one universe shared by every article: entity ``i`` has the
same id, kind, name, aliases and description in every file that declares it, and articles
pick their entities with a Zipf-like popularity, so the first entities appear in most
articles and most entities in only a few. Every anchor is a quote of words the generator
itself wrote into the text; a quote that occurs more than once carries its occurrence.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import multiprocessing
import os
import random
import re
import shutil
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

GENERATOR_VERSION = 1
MANIFEST_FORMAT = "article-facts-bench/1"
FACTS_DIR = "facts"
SHARD_SIZE = 1000
MAX_ENTITIES = 50_000
MIN_ENTITIES = 50
ZIPF_EXPONENT = 1.0
POPULAR_LISTED = 20
RARE_LISTED = 200
CLAIM_SAMPLE = 1000
TERMS_LISTED = 12

Json = dict[str, Any]

# --- vocabularies --------------------------------------------------------------------------

FIRST_LATIN = (
    "Anna Maria José Lukas Sofia François Zoë Mateo Olga Ivan Aigerim Nurlan Dana Timur Chloé "
    "Søren Łukasz Jürgen Inés Björn Emma Omar Leila Yuki Ahmet Elif Tomás Pavel Irina Marek "
    "Noémie Andrés Katarzyna Dmitri Saule Arman Gülnara Hélène Mikael Ayşe"
).split()
SURNAME_PRE = (
    "Bel Kar Mor Dav Ser Tok Nur Ald Bek Val Hol Mar Ost Pet Rom Sol Tar Vor Zan Gar Lin Fer "
    "Kov Dub Abdr Esp Har Jans Kim Lund"
).split()
SURNAME_MID = ("a", "e", "i", "o", "", "an", "er", "ov")
SURNAME_SUF = (
    "enko ova ev sky ski yan dze ez son sen berg ini escu ić ová mann ier ayev uly ström"
).split()
FIRST_CYRILLIC = "Алексей Ольга Дмитрий Наталья Сергей Айгерим Нурлан Ерлан Мария Павел".split()
SURNAME_CYRILLIC_PRE = (
    "Иван Смирн Кузнец Попов Сокол Лебед Козл Новик Мороз Волк Сейт Ахмет Жуман Бекен Тока"
).split()
SURNAME_CYRILLIC_SUF = "ов ова ев ева ин ина ский ская бек улы".split()
ROOT_A = (
    "Val Mor Kest Alt Bren Cor Dar Eld Fal Gor Hal Ister Jor Kal Lor Mar Nor Or Pel Quar Ros "
    "Sar Tal Ul Ver Wes Yar Zel Aral Bay Ért Öl Čer Šal Ñan"
).split()
ROOT_B = ("a", "e", "i", "o", "u", "an", "en", "or", "ar", "is")
ROOT_C = (
    "dor mir via nesh stan grad burg heim polis kent abad sk ton mar lis ria ga kov ovo ville"
).split()
TOPICS = (
    "Energy Finance Trade Health Transport Agriculture Industry Justice Education Ecology "
    "Defence Labour Culture Tourism"
).split()

KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("person", 45),
    ("company", 15),
    ("organization", 8),
    ("government_body", 8),
    ("city", 6),
    ("region", 3),
    ("country", 2),
    ("media_outlet", 3),
    ("facility", 3),
    ("project", 2),
    ("document", 2),
    ("international_organization", 1),
    ("channel", 1),
    ("other", 1),
)
# The most popular entities: kinds that plausibly appear in most articles of a news corpus.
TOP_KINDS = (
    "country person government_body company country person city international_organization "
    "person company media_outlet government_body person region organization person company "
    "country government_body person"
).split()
SPEAKERS = frozenset(
    (
        "person company organization government_body international_organization "
        "media_outlet channel"
    ).split()
)
PLACES = frozenset(("city", "region", "country"))

NOUNS = (
    "pipeline|railway link|power plant|refinery|port terminal|highway|water treatment plant|"
    "wind farm|solar park|gas field|copper mine|data centre|airport|grain terminal|steel mill|"
    "hospital|university campus|satellite network|fertiliser plant|tax reform|pension reform|"
    "trade agreement|customs code|budget plan|housing programme|metro line|bridge|dam|"
    "research reactor|logistics hub"
).split("|")
ADJECTIVES = (
    "new northern southern eastern western national regional joint second planned "
    "long-delayed state-owned"
).split()
VERBS: tuple[tuple[str, str, str], ...] = (
    ("build", "built", "built"),
    ("expand", "expanded", "expanded"),
    ("fund", "funded", "funded"),
    ("launch", "launched", "launched"),
    ("modernise", "modernised", "modernised"),
    ("review", "reviewed", "reviewed"),
    ("complete", "completed", "completed"),
    ("suspend", "suspended", "suspended"),
    ("privatise", "privatised", "privatised"),
    ("inspect", "inspected", "inspected"),
    ("restructure", "restructured", "restructured"),
    ("approve", "approved", "approved"),
)
COMMODITIES: tuple[tuple[str, str], ...] = (
    ("grain", "million tonnes"),
    ("oil", "million barrels"),
    ("natural gas", "billion cubic metres"),
    ("uranium", "thousand tonnes"),
    ("copper", "thousand tonnes"),
    ("wheat", "million tonnes"),
    ("coal", "million tonnes"),
    ("steel", "million tonnes"),
    ("electricity", "terawatt-hours"),
    ("cotton", "thousand tonnes"),
)
MONTHS = (
    "January February March April May June July August September October November December"
).split()
TIMEFRAMES = ("next year", "within two years", "this autumn", "by the end of the decade")
SOURCES = (
    "Reuters|national statistics office|company filing|parliamentary record|satellite imagery|"
    "court records|Interfax|official gazette|central bank data|customs statistics"
).split("|")
SOURCE_DOMAINS = ("example.org", "example.com", "example.net")
PUBLISHERS: tuple[tuple[str, str], ...] = (
    ("Steppe Herald", "steppe-herald"),
    ("Kursiv.media", "kursiv"),
    ("Caspian Ledger", "caspian-ledger"),
    ("Orda.kz", "orda"),
    ("Northern Wire", "northern-wire"),
    ("Vlast.kz", "vlast"),
    ("Eurasia Daily Monitor", "eurasia-daily"),
    ("Tengri Business", "tengri-business"),
    ("The Silk Road Times", "silk-road-times"),
    ("Capital.kz", "capital"),
    ("Atlas Economic Review", "atlas-review"),
    ("Baikal Post", "baikal-post"),
)
FILLER = (
    "Officials said the {noun} would {verb} {adj} {noun2} projects across the region.",
    "Analysts noted that {commodity} prices had remained stable for several months.",
    "The {adj} {noun} is expected to {verb} local {commodity} markets.",
    "Local media reported growing interest in the {rare} initiative.",
    "Observers said the debate over the {noun} would continue after the elections.",
    "The government has not published the full terms of the {noun} agreement.",
)
# Filler that names entities: {E} and {F} are two entities of the article.
NAMING_FILLER = (
    "Representatives of {E} and {F} attended the briefing.",
    "A spokesperson for {E} said talks with {F} were continuing.",
    "{E} and {F} declined to comment on the {noun}.",
    "{E} has worked with {F} on the {adj} {noun} since {year}.",
    "Earlier this year {E} criticised {F} over delays to the {noun}.",
)
CLAIM_STATUSES: tuple[tuple[str, int], ...] = (
    ("confirmed", 34),
    ("unverified", 30),
    ("pending", 16),
    ("disputed", 12),
    ("refuted", 8),
)
EVENT_STATUSES: tuple[tuple[str, int], ...] = (
    ("confirmed", 50),
    ("unverified", 25),
    ("pending", 10),
    ("disputed", 10),
    ("refuted", 5),
)
MODALITIES: tuple[tuple[str, int], ...] = (
    ("occurred", 60),
    ("planned", 15),
    ("proposed", 10),
    ("requested", 10),
    ("conditional", 5),
)
MODAL_PHRASE = {
    "planned": "is scheduled to",
    "proposed": "has proposed to",
    "requested": "was asked to",
    "conditional": "may",
}
# kind -> (past clause, infinitive clause, summary); {B} another entity, {X} an object phrase
EVENT_KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("meeting", "met {B}", "meet {B}", "Meeting between {A} and {B}"),
    (
        "agreement",
        "signed an agreement with {B} on {X}",
        "sign an agreement with {B} on {X}",
        "Agreement between {A} and {B} on {X}",
    ),
    ("announcement", "announced plans for {X}", "announce plans for {X}", "{A} announces {X}"),
    (
        "construction",
        "started construction of {X}",
        "start construction of {X}",
        "Construction of {X} by {A}",
    ),
    ("financing", "approved financing for {X}", "approve financing for {X}", "{A} finances {X}"),
    (
        "letter",
        "sent a letter to {B} about {X}",
        "send a letter to {B} about {X}",
        "Letter from {A} to {B} about {X}",
    ),
    ("inquiry", "opened an inquiry into {X}", "open an inquiry into {X}", "Inquiry by {A}"),
    ("statement", "issued a statement on {X}", "issue a statement on {X}", "Statement by {A}"),
    (
        "publication",
        "published a report on {X}",
        "publish a report on {X}",
        "Report by {A} on {X}",
    ),
    ("referendum", "held a referendum on {X}", "hold a referendum on {X}", "Referendum on {X}"),
    ("request", "asked {B} for support", "ask {B} for support", "Request from {A} to {B}"),
    ("other", "hosted a forum on {X}", "host a forum on {X}", "Forum on {X} hosted by {A}"),
)
ROLES = {
    "meeting": ("participant", "participant"),
    "agreement": ("signatory", "signatory"),
    "letter": ("sender", "recipient"),
    "request": ("requester", "addressee"),
}
# kind -> (template, paraphrase). [..] marks the attribution; {C} claimant, {S} subject,
# {O} object phrase, {V}/{Vp} verb (infinitive, past), {T} timeframe, {N} a number.
CLAIM_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    ("statement", "[{C} said] that {S} would {V} {O} {T}.", "{S} will {V} {O} {T}."),
    ("statement", "[According to {C}], {S} {Vp} {O} last year.", "{S} {Vp} {O} last year."),
    (
        "statistic",
        "[{C} reported] that {S} had produced {N} {U} of {K} in {Y}.",
        "{S} produced {N} {U} of {K} in {Y}.",
    ),
    (
        "statistic",
        "[Figures published by {C}] show that exports from {S} rose by {P} percent.",
        "Exports from {S} rose by {P} percent.",
    ),
    (
        "quote",
        "“We will {V} {O} together with {S},” [{C} told reporters].",
        "{C} will {V} {O} together with {S}.",
    ),
    ("request", "[{C} asked] {S} to {V} {O} before {M}.", "{C} asked {S} to {V} {O}."),
    ("plan", "[{C} plans] to {V} {O} jointly with {S} {T}.", "{C} plans to {V} {O} with {S}."),
    (
        "prediction",
        "[{C} expects] {S} to {V} {O} within {D} years.",
        "{S} will {V} {O} within {D} years.",
    ),
)
HEDGES = {
    "pending": ("{S} did not respond to a request for comment.", "did not respond to a request"),
    "unverified": (
        "The claim could not be independently verified.",
        "could not be independently verified",
    ),
    "disputed": ("Other sources disputed the account.", "disputed the account"),
}
RATIONALES = {
    "confirmed": "Corroborated by {src}.",
    "unverified": "Reported without independent confirmation.",
    "pending": "Comment was requested from {S}; no answer recorded yet.",
    "disputed": "{src} and other sources conflict.",
    "refuted": "Contradicted by {src}.",
}
STANCES = {
    "confirmed": "supports",
    "unverified": "inconclusive",
    "pending": "no_answer",
    "refuted": "refutes",
}
# Candidate search terms: each is counted in every article (and claim text), and the most
# frequent ones are listed in the manifest as common terms.
TERM_CANDIDATES = frozenset(
    (
        "said officials region agreement government plant project reported percent year "
        "prices markets exports analysts local elections report support new national "
        "production expected comment sources build expand launch approve review complete"
    ).split()
)

WORD = re.compile(r"[^\W_]+")

_TO_LATIN = {
    c: ("" if latin == "-" else latin)
    for c, latin in zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяқңғүұөһә",
        (
            "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya "
            "q n g u u o h a"
        ).split(),
        strict=True,
    )
}
_TO_LATIN.update({"ø": "o", "ł": "l", "ß": "ss", "đ": "d", "æ": "ae", "ı": "i"})
_TO_CYRILLIC = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        "а б к д е ф г х и ж к л м н о п к р с т у в в кс и з".split(),
        strict=True,
    )
)


def ascii_slug(name: str) -> str:
    """A lower-case ASCII slug of a name in any of the scripts used here."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", name.lower()):
        if unicodedata.combining(ch):
            continue
        ch = _TO_LATIN.get(ch, ch)
        if not ch:
            continue
        out.append(ch if ch.isascii() and ch.isalnum() else ("-" if ch.isascii() else ""))
    return re.sub(r"-+", "-", "".join(out)).strip("-") or "x"


def to_cyrillic(name: str) -> str:
    """A rough Cyrillic spelling of a Latin name, for aliases."""
    plain = unicodedata.normalize("NFKD", name)
    out = []
    for ch in plain:
        if unicodedata.combining(ch):
            continue
        low = ch.lower()
        mapped = _TO_CYRILLIC.get(low, ch if not low.isalpha() else "")
        out.append(mapped.upper() if ch.isupper() else mapped)
    return "".join(out)


def to_latin(name: str) -> str:
    """A Latin spelling of a Cyrillic name, for aliases."""
    out = []
    for ch in name:
        mapped = _TO_LATIN.get(ch.lower())
        if mapped is None:
            out.append(ch)
        else:
            out.append(mapped.capitalize() if ch.isupper() else mapped)
    return "".join(out)


# --- the entity universe ------------------------------------------------------------------


@dataclass(frozen=True)
class EntitySpec:
    """One entity of the universe, declared identically by every article that names it."""

    index: int
    id: str
    name: str
    kind: str
    short: str
    description: str
    aliases: tuple[tuple[str, str], ...]
    external_ids: tuple[tuple[str, str], ...]

    def declaration(self) -> Json:
        out: Json = {"id": self.id, "name": self.name, "kind": self.kind}
        out["description"] = self.description
        if self.aliases:
            out["aliases"] = [{"name": n, "language": lang} for n, lang in self.aliases]
        if self.external_ids:
            out["external_ids"] = dict(self.external_ids)
        return out


def entity_count_for(articles: int) -> int:
    """Size of the entity universe for a corpus of ``articles`` articles."""
    return max(MIN_ENTITIES, min(MAX_ENTITIES, articles // 2))


def rare_pool_size(entities: int) -> int:
    return max(100, entities)


def _root(rng: random.Random) -> str:
    return rng.choice(ROOT_A) + rng.choice(ROOT_B) + rng.choice(ROOT_C)


def _person(rng: random.Random) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    if rng.random() < 0.1:
        surname = rng.choice(SURNAME_CYRILLIC_PRE) + rng.choice(SURNAME_CYRILLIC_SUF)
        name = f"{rng.choice(FIRST_CYRILLIC)} {surname}"
        return name, surname, ((to_latin(name), "en"),)
    surname = rng.choice(SURNAME_PRE) + rng.choice(SURNAME_MID) + rng.choice(SURNAME_SUF)
    name = f"{rng.choice(FIRST_LATIN)} {surname}"
    aliases = ((to_cyrillic(name), "ru"),) if rng.random() < 0.3 else ()
    return name, surname, aliases


def _named(kind: str, rng: random.Random) -> tuple[str, str]:
    """Name and description of a non-person entity."""
    root = _root(rng)
    if kind == "company":
        suffix = rng.choice(
            "Holdings Energy Mining Logistics Bank Telecom Group Capital Steel Airlines "
            "Petroleum Shipping".split()
        )
        return f"{root} {suffix}", f"{suffix} company headquartered in {root}."
    if kind == "organization":
        suffix = rng.choice(("Foundation", "Institute", "Association", "Union", "Council"))
        return f"{root} {suffix}", f"Non-governmental {suffix.lower()}."
    if kind == "government_body":
        pattern = rng.randrange(3)
        if pattern == 0:
            topic = rng.choice(TOPICS)
            return f"Ministry of {topic} of {root}", f"Government ministry responsible for {topic}."
        if pattern == 1:
            return f"{root} Central Bank", "Central bank and monetary authority."
        return f"{root} Customs Service", "National customs authority."
    if kind == "international_organization":
        suffix = rng.choice(("Economic Forum", "Development Bank", "Trade Union of States"))
        return f"{root} {suffix}", "Intergovernmental organisation."
    if kind == "country":
        return root, "Country."
    if kind == "region":
        return f"{root} {rng.choice(('Region', 'Oblast', 'Province'))}", "Administrative region."
    if kind == "city":
        return root, "City."
    if kind == "facility":
        suffix = rng.choice(("Nuclear Power Plant", "Refinery", "Copper Mine", "Grain Terminal"))
        return f"{root} {suffix}", f"{suffix}."
    if kind == "media_outlet":
        return f"{root} {rng.choice(('Times', 'News', 'Radio', 'Gazette'))}", "News outlet."
    if kind == "channel":
        return f"{root} {rng.choice(('Insider', 'Watch'))}", "Telegram channel."
    if kind == "document":
        return f"{root} {rng.choice(('Accord', 'Memorandum', 'Charter'))}", "Signed document."
    if kind == "project":
        return f"{root} {rng.choice(('Pipeline Project', 'Rail Corridor'))}", "Infrastructure."
    return f"{root} {rng.choice(('Festival', 'Cup', 'Expo'))}", "Recurring public event."


def build_entities(seed: int, count: int) -> list[EntitySpec]:
    """The entity universe: ``count`` entities, most popular first.

    Entity ``i`` depends only on the seed and ``i`` (one random stream, read in order).
    """
    rng = random.Random(f"{seed}:entities")
    kinds = [k for k, _ in KIND_WEIGHTS]
    weights = [w for _, w in KIND_WEIGHTS]
    used: set[str] = set()
    entities: list[EntitySpec] = []
    for i in range(count):
        kind = TOP_KINDS[i] if i < len(TOP_KINDS) else rng.choices(kinds, weights)[0]
        aliases: tuple[tuple[str, str], ...] = ()
        if kind == "person":
            name, short, aliases = _person(rng)
            description = rng.choice(
                ("Politician.", "Business executive.", "Economist.", "Official.", "Journalist.")
            )
        else:
            name, description = _named(kind, rng)
            short = name
            if rng.random() < 0.2:
                aliases = ((to_cyrillic(name), "ru"),)
        slug = ascii_slug(name)[:100]
        entity_id = slug
        n = 2
        while entity_id in used:
            entity_id = f"{slug}-{n}"
            n += 1
        used.add(entity_id)
        external: tuple[tuple[str, str], ...] = ()
        if kind in ("country", "person", "company") and rng.random() < 0.3:
            external = (("wikidata", f"Q{1_000_000 + i}"),)
        entities.append(EntitySpec(i, entity_id, name, kind, short, description, aliases, external))
    return entities


def rare_word(index: int) -> str:
    """The ``index``-th rare word: distinct for distinct indexes, unlike any English word."""
    heads = ("zor", "vel", "qua", "bry", "xan", "dro", "fey", "gul", "hix", "jov")
    mids = ("ba", "ke", "mi", "no", "pu", "ra", "si", "tu", "vo", "wy")
    tails = ("nite", "vase", "lium", "drin", "mox", "quel", "trex", "zine", "bolt", "dact")
    digits = []
    for _ in range(5):
        index, d = divmod(index, 10)
        digits.append(d)
    word = heads[digits[0]] + mids[digits[1]] + mids[digits[2]] + mids[digits[3]]
    word += tails[digits[4]]
    while index:
        index, d = divmod(index - 1, 10)
        word = heads[d] + word
    return word


# --- one article ---------------------------------------------------------------------------


@dataclass
class Context:
    """What every worker needs: the universe and the corpus parameters."""

    seed: int
    entities: list[EntitySpec]
    cumulative: list[float]
    rare_pool: int
    articles: int
    offset: int
    sample_every: int


@dataclass
class Stats:
    """Counts gathered while generating, merged across shards."""

    articles: int = 0
    bytes: int = 0
    text_chars: int = 0
    entity_declarations: int = 0
    mentions: int = 0
    relations: int = 0
    events: int = 0
    claims: int = 0
    evidence: int = 0
    claim_status: Counter[str] = field(default_factory=Counter)
    event_precision: Counter[str] = field(default_factory=Counter)
    entity_articles: Counter[int] = field(default_factory=Counter)
    entity_claims: Counter[int] = field(default_factory=Counter)
    term_articles: Counter[str] = field(default_factory=Counter)
    term_claims: Counter[str] = field(default_factory=Counter)
    rare_articles: Counter[str] = field(default_factory=Counter)
    rare_claims: Counter[str] = field(default_factory=Counter)
    claim_ids: list[str] = field(default_factory=list)

    def merge(self, other: Stats) -> None:
        for name in (
            "articles bytes text_chars entity_declarations mentions relations events claims "
            "evidence"
        ).split():
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in (
            "claim_status event_precision entity_articles entity_claims term_articles "
            "term_claims rare_articles rare_claims"
        ).split():
            getattr(self, name).update(getattr(other, name))
        self.claim_ids.extend(other.claim_ids)


class Text:
    """An article text under construction, recording where each entity is named."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.mentions: dict[int, list[int]] = {}
        self.surfaces: dict[int, str] = {}

    def add(self, value: str) -> int:
        start = self.length
        self.parts.append(value)
        self.length += len(value)
        return start

    def name(self, entity: EntitySpec, surface: str) -> int:
        start = self.add(surface)
        self.mentions.setdefault(entity.index, []).append(start)
        self.surfaces[start] = surface
        return start

    def value(self) -> str:
        return "".join(self.parts)


_PLACEHOLDER = re.compile(r"(\{[A-Za-z]+\}|\[|\])")


class Article:
    """Builds one article: its text, facts and anchors, from its own random stream."""

    def __init__(self, ctx: Context, index: int) -> None:
        self.ctx = ctx
        self.index = index
        self.rng = random.Random(f"{ctx.seed}:article:{index}")
        self.text = Text()
        self.named: set[int] = set()
        self.pending_quotes: list[tuple[Json, str, int, int]] = []
        self.rare_used: list[str] = []
        self.claim_rare: list[str] = []

    # Entities ---------------------------------------------------------------------------

    def pick_entities(self) -> list[EntitySpec]:
        ctx, rng = self.ctx, self.rng
        wanted = min(rng.randint(10, 20), len(ctx.entities))
        total = ctx.cumulative[-1]
        chosen: dict[int, None] = {}
        while len(chosen) < wanted:
            i = bisect.bisect_right(ctx.cumulative, rng.random() * total)
            chosen.setdefault(min(i, len(ctx.entities) - 1), None)
        return [ctx.entities[i] for i in chosen]

    def mention(self, entity: EntitySpec) -> None:
        """Name the entity in the text: full name first, then often a shorter form."""
        surface = entity.name
        if entity.index in self.named:
            roll = self.rng.random()
            if entity.short != entity.name and roll < 0.6:
                surface = entity.short
            elif entity.aliases and roll > 0.9:
                surface = entity.aliases[0][0]
        self.named.add(entity.index)
        self.text.name(entity, surface)

    def emit(self, template: str, values: dict[str, str | EntitySpec]) -> tuple[int, int, int, int]:
        """Write a template; return the sentence's (start, end) and the attribution's."""
        start = self.text.length
        attr_start = attr_end = -1
        for piece in _PLACEHOLDER.split(template):
            if not piece:
                continue
            if piece == "[":
                attr_start = self.text.length
            elif piece == "]":
                attr_end = self.text.length
            elif piece.startswith("{") and piece.endswith("}"):
                value = values[piece[1:-1]]
                if isinstance(value, EntitySpec):
                    self.mention(value)
                else:
                    self.text.add(value)
            else:
                self.text.add(piece)
        return start, self.text.length, attr_start, attr_end

    # Pieces -----------------------------------------------------------------------------

    def object_phrase(self, rare: bool = False) -> str:
        noun = self.rng.choice(NOUNS)
        if rare:
            word = rare_word(self.rng.randrange(self.ctx.rare_pool))
            self.rare_used.append(word)
            self.claim_rare.append(word)
            return f"the {word} {noun}"
        return f"the {self.rng.choice(ADJECTIVES)} {noun}"

    def time_expression(self, published: dt.date) -> tuple[str, Json | None, str]:
        """A time expression near the publication date, its time object, and its precision."""
        rng = self.rng
        day = published + dt.timedelta(days=rng.randint(-400, 300))
        roll = rng.random()
        if roll < 0.45:
            phrase = f"On {day.day} {MONTHS[day.month - 1]} {day.year}"
            return phrase, {"date": day.isoformat()}, "day"
        if roll < 0.75:
            return f"In {MONTHS[day.month - 1]} {day.year}", {"date": day.isoformat()[:7]}, "month"
        if roll < 0.9:
            return f"In {day.year}", {"date": str(day.year)}, "year"
        if roll < 0.95 and day.month < 12:
            last = rng.randint(day.month + 1, 12)
            phrase = f"Between {MONTHS[day.month - 1]} and {MONTHS[last - 1]} {day.year}"
            return phrase, {"start": day.isoformat()[:7], "end": f"{day.year}-{last:02d}"}, "month"
        return "", None, "none"

    def quote(self, target: Json, key: str, start: int, end: int) -> None:
        """Set ``target[key]`` to the quote of text[start:end], resolved once the text is done."""
        target[key] = None
        self.pending_quotes.append((target, key, start, end))

    # The article ------------------------------------------------------------------------

    def build(self) -> tuple[Json, Stats]:
        ctx, rng, text = self.ctx, self.rng, self.text
        stats = Stats(articles=1)
        entities = self.pick_entities()
        speakers = [e for e in entities if e.kind in SPEAKERS] or entities
        places = [e for e in entities if e.kind in PLACES]
        publisher, publisher_slug = PUBLISHERS[rng.randrange(len(PUBLISHERS))]
        published = dt.date(2023, 1, 1) + dt.timedelta(days=self.index // 90)
        article_id = f"{publisher_slug}-{published.isoformat()}-{self.index:06d}"

        def other(*not_these: EntitySpec) -> EntitySpec:
            pool = [e for e in entities if e not in not_these]
            return rng.choice(pool) if pool else not_these[0]

        # Title: the first line.
        a, b = entities[0], other(entities[0])
        self.emit(
            rng.choice(
                (
                    "{A} and {B} discuss the {X}",
                    "{A} says {B} will {V} the {X}",
                    "Questions remain over the {X} plan of {A} and {B}",
                )
            ),
            {"A": a, "B": b, "X": rng.choice(NOUNS), "V": rng.choice(VERBS)[0]},
        )
        text.add("\n")

        # Decide the facts first, then write them in a shuffled order.
        n_claims = rng.randint(8, 12)
        n_events = rng.randint(3, 7)
        event_ids = [f"event-{i + 1:02d}" for i in range(n_events)]
        items: list[tuple[str, int]] = [("claim", i) for i in range(n_claims)]
        items += [("event", i) for i in range(n_events)]
        items += [("relation", i) for i in range(rng.randint(0, 2))]
        items += [("filler", i) for i in range(rng.randint(1, 2))]
        items += [("naming", i) for i in range(rng.randint(4, 6))]
        rng.shuffle(items)
        claim_with_rare = rng.randrange(n_claims)

        claims: list[Json] = []
        events: list[Json] = []
        relations: list[Json] = []
        triples: set[tuple[str, str, str]] = set()
        in_paragraph = 0
        for what, i in items:
            if in_paragraph >= rng.randint(3, 5):
                text.add("\n")
                in_paragraph = 0
            elif in_paragraph:
                text.add(" ")
            in_paragraph += 1
            if what == "claim":
                claims.append(
                    self.claim(i, speakers, other, event_ids, published, i == claim_with_rare)
                )
            elif what == "event":
                events.append(self.event(event_ids[i], speakers, places, other, published, stats))
            elif what == "relation":
                relation = self.relation(entities, places, triples)
                if relation is not None:
                    relations.append(relation)
            elif what == "naming":
                first = rng.choice(entities)
                self.emit(
                    rng.choice(NAMING_FILLER),
                    {
                        "E": first,
                        "F": other(first),
                        "noun": rng.choice(NOUNS),
                        "adj": rng.choice(ADJECTIVES),
                        "year": str(published.year - rng.randint(1, 9)),
                    },
                )
            else:
                self.filler(entities)

        # Every declared entity is named at least once.
        unnamed = [e for e in entities if e.index not in self.named]
        for e in unnamed:
            text.add(" ")
            self.emit(
                rng.choice(
                    (
                        "Representatives of {E} attended the briefing.",
                        "{E} has not commented publicly.",
                    )
                ),
                {"E": e},
            )
        body = text.value()
        self.resolve_quotes(body)

        declared: list[Json] = []
        for e in entities:
            decl = e.declaration()
            decl["mentions"] = [
                quote_of(body, text.surfaces[s], s) for s in text.mentions.get(e.index, [])
            ]
            declared.append(decl)
            stats.mentions += len(decl["mentions"])
            stats.entity_articles[e.index] += 1
        doc: Json = {
            "format": "article-facts/1",
            "article": {
                "id": article_id,
                "text": body,
                "url": f"https://{publisher_slug}.example/{published.isoformat()}/{self.index}",
                "publisher": publisher,
                "published": published.isoformat(),
                "language": "en",
            },
            "entities": declared,
            "relations": relations,
            "events": events,
            "claims": claims,
        }
        stats.text_chars = len(body)
        stats.entity_declarations = len(entities)
        stats.relations = len(relations)
        stats.events = len(events)
        stats.claims = len(claims)
        by_index = {e.id: e.index for e in entities}
        for c in claims:
            stats.claim_status[c["status"]] += 1
            stats.evidence += len(c.get("evidence", ()))
            involved = {by_index[c["claimant"]], *(by_index[s] for s in c.get("subjects", ()))}
            stats.entity_claims.update(involved)
        words = {w.lower() for w in WORD.findall(body)}
        stats.term_articles.update(words & TERM_CANDIDATES)
        claim_words: set[str] = set()
        for c in claims:
            claim_words |= {w.lower() for w in WORD.findall(c["text"])}
        stats.term_claims.update(claim_words & TERM_CANDIDATES)
        stats.rare_articles.update(set(self.rare_used))
        stats.rare_claims.update(set(self.claim_rare))
        if self.index % ctx.sample_every == 0:
            stats.claim_ids.extend(f"{article_id}.{c['id']}" for c in claims)
        return doc, stats

    def resolve_quotes(self, body: str) -> None:
        for target, key, start, end in self.pending_quotes:
            target[key] = quote_of(body, body[start:end], start)

    def claim(
        self,
        i: int,
        speakers: Sequence[EntitySpec],
        other: Callable[..., EntitySpec],
        event_ids: Sequence[str],
        published: dt.date,
        with_rare: bool,
    ) -> Json:
        rng, text = self.rng, self.text
        templates = [t for t in CLAIM_TEMPLATES if "{O}" in t[1]] if with_rare else CLAIM_TEMPLATES
        kind, template, paraphrase = rng.choice(templates)
        claimant = rng.choice(speakers)
        subject: EntitySpec = other(claimant)
        verb = rng.choice(VERBS)
        commodity, unit = rng.choice(COMMODITIES)
        status = rng.choices(*zip(*CLAIM_STATUSES, strict=True))[0]
        values: dict[str, str | EntitySpec] = {
            "C": claimant,
            "S": subject,
            "V": verb[0],
            "Vp": verb[1],
            "O": self.object_phrase(rare=with_rare) if "{O}" in template else "",
            "T": rng.choice(TIMEFRAMES),
            "N": str(rng.randint(2, 950)),
            "U": unit,
            "K": commodity,
            "Y": str(published.year - rng.randint(0, 2)),
            "P": str(rng.randint(2, 40)),
            "M": f"{MONTHS[rng.randrange(12)]} {published.year + 1}",
            "D": str(rng.randint(2, 10)),
        }
        start, end, attr_start, attr_end = self.emit(template, values)
        plain = {k: (v.name if isinstance(v, EntitySpec) else v) for k, v in values.items()}
        claim: Json = {
            "id": f"claim-{i + 1:02d}",
            "text": paraphrase.format(**plain),
            "kind": kind,
            "claimant": claimant.id,
        }
        if attr_start >= 0:
            self.quote(claim, "attribution", attr_start, attr_end)
        subjects = [subject.id]
        if rng.random() < 0.4:
            extra = other(claimant, subject)
            if extra.id not in subjects and extra is not claimant:
                subjects.append(extra.id)
        claim["subjects"] = subjects
        if event_ids and rng.random() < 0.3:
            claim["events"] = [rng.choice(event_ids)]
        claim["status"] = status
        source = rng.choice(SOURCES)
        claim["rationale"] = RATIONALES[status].format(src=source, S=subject.name)
        anchors: list[Json] = [{}]
        self.quote(anchors[0], "quote", start, end)
        evidence: list[Json] = []
        hedge = HEDGES.get(status)
        if hedge is not None and rng.random() < 0.7:
            text.add(" ")
            s_start, s_end, _, _ = self.emit(hedge[0], {"S": subject})
            sentence = text.value()[s_start:s_end]
            cue = sentence.index(hedge[1])
            self.quote(claim, "hedge", s_start + cue, s_start + cue + len(hedge[1]))
            if status == "pending":
                item: Json = {"source": subject.name, "source_entity": subject.id}
                item["stance"] = "no_answer"
                self.quote(item, "anchor", s_start, s_end)
                evidence.append(item)
        if status == "confirmed" and rng.random() < 0.3:
            text.add(" ")
            witness: EntitySpec = other(claimant)
            e_start, e_end, _, _ = self.emit(
                "Official data from {W} confirmed the figures.", {"W": witness}
            )
            item = {"source": witness.name, "source_entity": witness.id, "stance": "supports"}
            self.quote(item, "anchor", e_start, e_end)
            evidence.append(item)
        if rng.random() < 0.45:
            stances = ["supports", "refutes"] if status == "disputed" else [STANCES.get(status, "")]
            for j, stance in enumerate(s for s in stances if s):
                item = {"source": rng.choice(SOURCES), "stance": stance}
                domain = SOURCE_DOMAINS[rng.randrange(len(SOURCE_DOMAINS))]
                item["url"] = f"https://{domain}/evidence/{self.index}/{i}/{j}"
                if rng.random() < 0.6:
                    when = published - dt.timedelta(days=rng.randint(0, 60))
                    item["date"] = when.isoformat()
                evidence.append(item)
        claim["anchors"] = anchors
        if evidence:
            claim["evidence"] = evidence
        return claim

    def event(
        self,
        event_id: str,
        speakers: Sequence[EntitySpec],
        places: Sequence[EntitySpec],
        other: Callable[..., EntitySpec],
        published: dt.date,
        stats: Stats,
    ) -> Json:
        rng = self.rng
        kind, past, infinitive, summary = EVENT_KINDS[rng.randrange(len(EVENT_KINDS))]
        modality = rng.choices(*zip(*MODALITIES, strict=True))[0]
        a = rng.choice(speakers)
        b: EntitySpec = other(a)
        x = self.object_phrase()
        phrase, time, precision = self.time_expression(published)
        stats.event_precision[precision] += 1
        clause = past if modality == "occurred" else f"{MODAL_PHRASE[modality]} {infinitive}"
        template = "{A} " + clause
        location = None
        if places and rng.random() < 0.5:
            candidate = rng.choice(places)
            if candidate is not a and candidate is not b:
                location = candidate
                template += " in {L}"
        template += "."
        start = self.text.length
        time_start = -1
        if phrase:
            time_start = self.text.add(phrase)
            self.text.add(", ")
        values: dict[str, str | EntitySpec] = {"A": a, "B": b, "X": x}
        if location is not None:
            values["L"] = location
        _, end, _, _ = self.emit(template, values)
        uses_b = "{B}" in clause
        event: Json = {
            "id": event_id,
            "kind": kind,
            "summary": summary.format(A=a.name, B=b.name, X=x),
        }
        if time is not None:
            self.quote(time, "anchor", time_start, time_start + len(phrase))
            event["time"] = time
        if location is not None:
            event["location"] = location.id
        roles = ROLES.get(kind, ("actor", "counterpart"))
        participants = [{"entity": a.id, "role": roles[0]}]
        if uses_b:
            participants.append({"entity": b.id, "role": roles[1]})
        event["participants"] = participants
        event["modality"] = modality
        event["status"] = rng.choices(*zip(*EVENT_STATUSES, strict=True))[0]
        anchors: list[Json] = [{}]
        self.quote(anchors[0], "quote", start, end)
        event["anchors"] = anchors
        return event

    def relation(
        self,
        entities: Sequence[EntitySpec],
        places: Sequence[EntitySpec],
        triples: set[tuple[str, str, str]],
    ) -> Json | None:
        rng = self.rng
        people = [e for e in entities if e.kind == "person"]
        bodies = [e for e in entities if e.kind in SPEAKERS and e.kind != "person"]
        options: list[tuple[str, str, EntitySpec, EntitySpec]] = []
        if people and bodies:
            person, body = rng.choice(people), rng.choice(bodies)
            options.append(("{P} heads {O}.", "head_of", person, body))
            options.append(("{P} works for {O}.", "works_for", person, body))
        cities = [e for e in places if e.kind == "city"]
        wider = [e for e in places if e.kind != "city"]
        if cities and wider:
            options.append(("{P} is located in {O}.", "located_in", rng.choice(cities), wider[0]))
        if not options:
            self.filler(entities)
            return None
        template, predicate, subject, obj = rng.choice(options)
        triple = (subject.id, predicate, obj.id)
        if triple in triples:
            self.filler(entities)
            return None
        triples.add(triple)
        start, end, _, _ = self.emit(template, {"P": subject, "O": obj})
        relation: Json = {"subject": subject.id, "predicate": predicate, "object": obj.id}
        anchors: list[Json] = [{}]
        self.quote(anchors[0], "quote", start, end)
        relation["anchors"] = anchors
        return relation

    def filler(self, entities: Sequence[EntitySpec]) -> None:
        rng = self.rng
        template = rng.choice(FILLER)
        values: dict[str, str | EntitySpec] = {
            "noun": rng.choice(NOUNS),
            "noun2": rng.choice(NOUNS),
            "adj": rng.choice(ADJECTIVES),
            "verb": rng.choice(VERBS)[0],
            "commodity": rng.choice(COMMODITIES)[0],
        }
        if "{rare}" in template:
            word = rare_word(rng.randrange(self.ctx.rare_pool))
            self.rare_used.append(word)
            values["rare"] = word
        self.emit(template, values)


def quote_of(text: str, quote: str, start: int) -> Any:
    """The anchor for ``quote`` at ``start``: a string when unique, else with its occurrence.

    Occurrences are counted as ingest counts them: every start, overlapping ones included.
    """
    starts: list[int] = []
    at = text.find(quote)
    while at != -1:
        starts.append(at)
        at = text.find(quote, at + 1)
    if len(starts) == 1:
        return quote
    return {"quote": quote, "occurrence": starts.index(start) + 1}


def _unwrap(value: Any) -> Any:
    """Anchor lists are built as [{"quote": q}] placeholders; flatten them to quotes."""
    if isinstance(value, dict):
        if set(value) == {"quote"} and isinstance(value["quote"], str | dict):
            return _unwrap(value["quote"])
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


# --- the corpus ----------------------------------------------------------------------------

_CONTEXT: Context | None = None


def article_path(facts: Path, index: int) -> Path:
    return facts / f"{index // SHARD_SIZE:03d}" / f"{index:06d}.json"


def _generate_shard(args: tuple[Path, int, int]) -> Stats:
    facts, first, last = args
    ctx = _CONTEXT
    assert ctx is not None
    total = Stats()
    folder = article_path(facts, first).parent
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(first, last):
        doc, stats = Article(ctx, index).build()
        raw = orjson.dumps(_unwrap(doc))
        article_path(facts, index).write_bytes(raw)
        stats.bytes = len(raw)
        total.merge(stats)
    return total


def source_digest() -> str:
    """A digest of this module's source: a changed generator never reuses an old corpus."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def manifest_key(articles: int, seed: int, offset: int, entities: int) -> Json:
    """The parameters a manifest must match for its corpus to be reused."""
    return {
        "format": MANIFEST_FORMAT,
        "generator_version": GENERATOR_VERSION,
        "generator_digest": source_digest(),
        "articles": articles,
        "seed": seed,
        "offset": offset,
        "entities": entities,
    }


def read_manifest(out: Path) -> Json | None:
    try:
        data = orjson.loads((out / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def manifest_matches(out: Path, key: Json) -> bool:
    data = read_manifest(out)
    return data is not None and all(data.get(k) == v for k, v in key.items())


def generate(
    out: Path,
    articles: int,
    *,
    seed: int = 42,
    offset: int = 0,
    entities: int | None = None,
    workers: int | None = None,
) -> Json:
    """Write ``articles`` fact files (indexes ``offset`` …) and the manifest; return it."""
    global _CONTEXT
    if articles < 1:
        raise ValueError("articles must be at least 1")
    if offset + articles > SHARD_SIZE * 1000:
        raise ValueError("at most 1,000,000 articles (indexes) are supported")
    count = entities if entities is not None else entity_count_for(articles)
    out.mkdir(parents=True, exist_ok=True)
    leftovers = [p.name for p in out.iterdir() if p.name not in (FACTS_DIR, "manifest.json")]
    if (out / FACTS_DIR).exists() and read_manifest(out) is None:
        raise SystemExit(f"{out}: holds a {FACTS_DIR}/ folder without a manifest; not touching it")
    if leftovers and read_manifest(out) is None:
        raise SystemExit(f"{out}: not empty and not a generated corpus ({leftovers[0]}, …)")
    (out / "manifest.json").unlink(missing_ok=True)
    facts = out / FACTS_DIR
    if facts.exists():
        shutil.rmtree(facts)
    facts.mkdir()

    universe = build_entities(seed, count)
    cumulative: list[float] = []
    running = 0.0
    for rank in range(count):
        running += 1.0 / (rank + 1) ** ZIPF_EXPONENT
        cumulative.append(running)
    sample_every = max(1, articles * 10 // CLAIM_SAMPLE)
    _CONTEXT = Context(
        seed, universe, cumulative, rare_pool_size(count), articles, offset, sample_every
    )
    shards: list[tuple[Path, int, int]] = []
    index = offset
    while index < offset + articles:
        end = min(offset + articles, (index // SHARD_SIZE + 1) * SHARD_SIZE)
        shards.append((facts, index, end))
        index = end
    started = time.perf_counter()
    total = Stats()
    procs = workers or min(len(shards), len(os.sched_getaffinity(0)))
    if procs > 1:
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            for stats in pool.imap(_generate_shard, shards):
                total.merge(stats)
    else:
        for shard in shards:
            total.merge(_generate_shard(shard))
    elapsed = time.perf_counter() - started
    manifest = {
        **manifest_key(articles, seed, offset, count),
        "facts": FACTS_DIR,
        "totals": {
            "articles": total.articles,
            "fact_file_bytes": total.bytes,
            "text_chars": total.text_chars,
            "entity_declarations": total.entity_declarations,
            "distinct_entities": len(total.entity_articles),
            "mentions": total.mentions,
            "relations": total.relations,
            "events": total.events,
            "claims": total.claims,
            "evidence": total.evidence,
        },
        "claim_status": dict(sorted(total.claim_status.items())),
        "event_time_precision": dict(sorted(total.event_precision.items())),
        **_lists(universe, total),
    }
    raw = orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
    (out / "manifest.json").write_bytes(raw + b"\n")
    manifest["generation_seconds"] = round(elapsed, 2)
    return manifest


def _lists(universe: Sequence[EntitySpec], total: Stats) -> Json:
    """The manifest's lists: entities, claim ids and search terms, in a stable order."""
    by_articles = sorted(total.entity_articles.items(), key=lambda kv: (-kv[1], kv[0]))
    popular = [
        {
            "id": universe[i].id,
            "name": universe[i].name,
            "kind": universe[i].kind,
            "articles": n,
            "claims": total.entity_claims[i],
        }
        for i, n in by_articles[:POPULAR_LISTED]
    ]
    # The least declared entities (declared at least once), those with claims first.
    least = sorted(
        total.entity_articles,
        key=lambda i: (total.entity_articles[i], -min(total.entity_claims[i], 1), i),
    )
    rare = [universe[i].id for i in least[:RARE_LISTED]]
    threshold = total.articles / 2
    common = [
        w
        for w, n in sorted(total.term_articles.items(), key=lambda kv: (-kv[1], kv[0]))
        if n >= threshold
    ][:TERMS_LISTED]
    claim_common = [
        w for w, _ in sorted(total.term_claims.items(), key=lambda kv: (-kv[1], kv[0]))
    ][:TERMS_LISTED]
    rare_terms = _spread(sorted(w for w, n in total.rare_articles.items() if n <= 3))
    claim_rare = _spread(sorted(w for w, n in total.rare_claims.items() if n <= 3))
    top = by_articles[0][0] if by_articles else None
    return {
        "top_entity": None
        if top is None
        else {
            "id": universe[top].id,
            "articles": total.entity_articles[top],
            "claims": total.entity_claims[top],
        },
        "popular_entities": popular,
        "rare_entities": rare,
        "claim_ids": total.claim_ids[:CLAIM_SAMPLE],
        "common_terms": common,
        "rare_terms": rare_terms,
        "claim_common_terms": claim_common,
        "claim_rare_terms": claim_rare,
        "term_document_frequency": {w: total.term_articles[w] for w in common},
        "claim_term_frequency": {w: total.term_claims[w] for w in claim_common},
    }


def _spread(values: Sequence[str], count: int = RARE_LISTED // 4) -> list[str]:
    """``count`` values taken evenly across a sorted list."""
    step = max(1, len(values) // count)
    return list(values[::step][:count])


def ensure_corpus(
    out: Path,
    articles: int,
    *,
    seed: int = 42,
    offset: int = 0,
    entities: int | None = None,
) -> tuple[Json, bool]:
    """The corpus at ``out``, generated unless its manifest matches; (manifest, reused)."""
    count = entities if entities is not None else entity_count_for(articles)
    key = manifest_key(articles, seed, offset, count)
    if manifest_matches(out, key):
        manifest = read_manifest(out)
        assert manifest is not None
        return manifest, True
    return generate(out, articles, seed=seed, offset=offset, entities=count), False


def iter_fact_files(out: Path) -> Iterator[Path]:
    yield from sorted((out / FACTS_DIR).rglob("*.json"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--articles", type=int, required=True, help="number of articles")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--offset", type=int, default=0, help="index of the first article (for extra batches)"
    )
    parser.add_argument(
        "--entities",
        type=int,
        default=None,
        help="size of the entity universe (default: min(50000, articles/2), at least 50)",
    )
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    args = parser.parse_args(argv)
    manifest = generate(
        args.out,
        args.articles,
        seed=args.seed,
        offset=args.offset,
        entities=args.entities,
        workers=args.workers,
    )
    totals = manifest["totals"]
    top = manifest["top_entity"] or {}
    sys.stdout.write(
        f"{totals['articles']} articles in {manifest['generation_seconds']} s → "
        f"{args.out / FACTS_DIR} ({totals['fact_file_bytes'] / 1e6:.1f} MB); "
        f"{totals['distinct_entities']} entities, {totals['claims']} claims, "
        f"{totals['events']} events, {totals['mentions']} mentions; top entity "
        f"{top.get('id')} in {top.get('articles')} articles, {top.get('claims')} claims\n"
        f"load it with: article-facts ingest {args.out / FACTS_DIR}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
