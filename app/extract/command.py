"""``article-facts draft``: raw articles in, one draft fact file (and its text) out per article.

Every input is read and every output path checked before anything is written, so a bad input
or an output that would overwrite another file stops the run with nothing changed. The stored
entities are read once, read-only; each language's models are loaded once.
"""

import datetime as dt
import gc
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from app.extract import ExtractError
from app.extract.claims import find_claims
from app.extract.descriptions import add_descriptions
from app.extract.document import ArticleMeta, build_document
from app.extract.entities import country_names, find_entities, slugify
from app.extract.events import find_events
from app.extract.intake import Article, input_files, read_article
from app.extract.match import StoredEntities, content_words, load_stored
from app.extract.parse import STEP_BATCH, Language, Parsed, load, model_info, parse_many
from app.extract.times import find_times

BATCH = STEP_BATCH  # articles parsed together
ID_MAX = 120


@dataclass(frozen=True)
class DraftOptions:
    published: dt.date
    language: Language
    publisher: str | None = None
    url: str | None = None
    article_id: str | None = None
    database_url: str | None = None  # None: no stored entities to match
    output: Path | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class Planned:
    article: Article
    id: str
    json_path: Path
    text_path: Path  # where the draft's text_file points (written unless it is the input)


def default_id(options: DraftOptions, title: str) -> str:
    """``<publisher>-<date>-<first words of the headline>``, like the seed's id."""
    words = content_words(title)[:4]
    parts = [slugify(options.publisher)] if options.publisher else []
    parts += [options.published.isoformat(), slugify(" ".join(words))]
    return "-".join(p for p in parts if p)[:ID_MAX].strip("-")


def _plan(
    files: Sequence[Path], articles: Sequence[Article], options: DraftOptions
) -> list[Planned]:
    several = len(files) > 1
    if several and options.article_id:
        raise ExtractError("Error: --id names one article; give one input with it")
    if options.article_id and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,119}", options.article_id):
        raise ExtractError(
            f"Error: --id {options.article_id!r}: use lower-case letters, digits, '-' and '_' "
            "(up to 120 characters, starting with a letter or digit)"
        )
    out = options.output
    if several and out is not None and out.exists() and not out.is_dir():
        raise ExtractError(f"Error: {out}: several articles need a folder for -o, not a file")
    planned: list[Planned] = []
    ids: dict[str, int] = {}
    names: set[Path] = set()
    for path, article in zip(files, articles, strict=True):
        if out is None:
            json_path = path.with_name(path.stem + ".facts.json")
        elif several or out.is_dir():
            json_path = out / (path.stem + ".facts.json")
        else:
            json_path = out
        article_id = options.article_id or default_id(options, article.title)
        n = ids.get(article_id, 0) + 1
        ids[article_id] = n
        if n > 1:
            article_id = f"{article_id[: ID_MAX - 4]}-{n}"
        if not article.from_html and path.parent.resolve() == json_path.parent.resolve():
            text_path = path
        else:
            if json_path.name.endswith(".facts.json"):
                text_path = json_path.with_name(json_path.name[: -len(".facts.json")] + ".txt")
            else:
                text_path = json_path.with_suffix(".txt")
        for target in (json_path, text_path):
            if target.resolve() in names:
                raise ExtractError(f"Error: {target}: two articles of this run would write it")
        names.update({json_path.resolve(), text_path.resolve()})
        planned.append(Planned(article, article_id, json_path, text_path))
    for p in planned:
        if p.json_path.exists() and not options.overwrite:
            raise ExtractError(f"Error: {p.json_path}: already exists (--overwrite replaces it)")
        if p.text_path != p.article.path and p.text_path.exists():
            same = p.text_path.read_bytes() == p.article.text.encode("utf-8")
            if not same and not options.overwrite:
                raise ExtractError(
                    f"Error: {p.text_path}: already exists with another text "
                    "(--overwrite replaces it)"
                )
    return planned


def draft_document(
    article: Article,
    parsed: Parsed,
    stored: StoredEntities,
    options: DraftOptions,
    *,
    article_id: str,
    text_file: str | None,
) -> dict[str, object]:
    """The draft of one parsed article (its text inline when there is no ``text_file``)."""
    entities = find_entities(parsed, stored, publisher=options.publisher)
    add_descriptions(parsed, stored, entities)
    times = find_times(parsed, options.published)
    events = find_events(parsed, entities, times, options.published)
    claims = find_claims(parsed, entities)
    model, model_version = model_info(options.language)
    meta = ArticleMeta(
        id=article_id,
        title=article.title,
        text_file=text_file,
        published=options.published,
        language=options.language,
        publisher=options.publisher,
        url=options.url,
        model=model,
        model_version=model_version,
    )
    return build_document(meta, article.text, entities, events, claims)


def prepare(language: Language) -> None:
    """Load a language's models and date tables now, before the first article.

    What is loaded lives as long as the process, so it is then moved out of the garbage
    collector's sight (``gc.freeze``): with the models loaded, each full collection walked some
    200,000 objects, 100 ms each time, about a tenth of the CPU a run of drafts took.
    """
    load(language)
    parsed = parse_many(["Warm-up\nOn Monday, 3 March 2025, nothing happened."], language)[0]
    find_times(parsed, dt.date(2025, 3, 4))
    country_names()
    gc.freeze()


def run_draft(
    paths: Sequence[Path],
    options: DraftOptions,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Draft every article the paths give; returns the fact files written."""
    files = input_files(paths)
    articles = [read_article(path) for path in files]
    planned = _plan(files, articles, options)
    stored = load_stored(options.database_url) if options.database_url else StoredEntities([])
    prepare(options.language)
    written: list[Path] = []
    for i in range(0, len(planned), BATCH):
        batch = planned[i : i + BATCH]
        parsed = parse_many([p.article.text for p in batch], options.language)
        for p, doc_parsed in zip(batch, parsed, strict=True):
            text_file = p.text_path.name
            doc = draft_document(
                p.article, doc_parsed, stored, options, article_id=p.id, text_file=text_file
            )
            p.json_path.parent.mkdir(parents=True, exist_ok=True)
            if p.text_path != p.article.path:
                p.text_path.write_bytes(p.article.text.encode("utf-8"))
            p.json_path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
            written.append(p.json_path)
            if on_progress is not None:
                on_progress(len(written), len(planned))
    return written


def draft_fact_file(
    text: str,
    options: DraftOptions,
    stored: StoredEntities,
    *,
    title: str | None = None,
) -> dict[str, object]:
    """The draft of one article given as its text (the headline its first line, unless
    ``title`` gives it), with the text inline: what ``POST /drafts`` answers. The language's
    models are loaded on first use and kept."""
    if options.article_id and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,119}", options.article_id):
        raise ExtractError(f"id {options.article_id!r}: use lower-case letters, digits, - and _")
    headline = title or text.strip().split("\n", 1)[0].strip()
    article = Article(Path("draft"), headline, text, from_html=False)
    load(options.language)
    parsed = parse_many([text], options.language)[0]
    article_id = options.article_id or default_id(options, headline)
    return draft_document(article, parsed, stored, options, article_id=article_id, text_file=None)
