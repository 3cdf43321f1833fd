"""Text intake: an article from a plain-text file (headline on the first line) or a saved page.

A saved HTML page goes through trafilatura, which keeps the article's own text and drops the
site's navigation, footer, related links and comments; the page's title, or its first
heading, becomes the headline (the draft's first line).
"""

import codecs
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.extract import ExtractError

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm", ".xhtml")


@dataclass(frozen=True)
class Article:
    path: Path
    title: str
    text: str  # headline on the first line, then the body
    from_html: bool


def input_files(paths: Iterable[Path]) -> list[Path]:
    """The given files, and the texts and pages (``*.txt``, ``*.html``) inside given folders."""
    found: list[Path] = []
    given = list(paths)
    for path in given:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES + HTML_SUFFIXES
                )
            )
        elif path.is_file():
            found.append(path)
        else:
            raise ExtractError(f"Error: {path}: no such file or directory")
    if not found:
        raise ExtractError(
            "Error: no articles (*.txt, *.html) found in " + ", ".join(map(str, given))
        )
    return found


def _decode(path: Path, raw: bytes) -> str:
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExtractError(f"Error: {path}: not valid UTF-8 (byte {skip + exc.start})") from None
    if "\x00" in text:
        raise ExtractError(f"Error: {path}: contains a NUL character at {text.index(chr(0))}")
    return text


def _from_html(path: Path, raw: bytes) -> tuple[str, str]:
    import trafilatura

    # trafilatura reads the page's declared encoding itself. No deduplication: it remembers
    # paragraphs across calls, and would drop a page read twice in one process.
    body = trafilatura.extract(
        raw,
        output_format="txt",
        include_comments=False,
        include_tables=False,
        include_links=False,
        include_images=False,
        favor_precision=True,
    )
    if not body or not body.strip():
        raise ExtractError(f"Error: {path}: no article text found in the page")
    metadata = trafilatura.extract_metadata(raw)
    title = (metadata.title if metadata is not None and metadata.title else "").strip()
    lines = [line.strip() for line in body.strip().splitlines()]
    paragraphs = [line for line in lines if line]
    if not title:
        title, paragraphs = paragraphs[0], paragraphs[1:]
    elif paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if not paragraphs:
        raise ExtractError(f"Error: {path}: no article text found in the page")
    return title, "\n".join(paragraphs)


def read_article(path: Path) -> Article:
    """Read one article. Raises ExtractError naming the file and the problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"Error: {path}: cannot read: {exc.strerror}") from None
    if path.suffix.lower() in HTML_SUFFIXES:
        title, body = _from_html(path, raw)
        title = " ".join(title.split())
        return Article(path, title, f"{title}\n{body}\n", from_html=True)
    text = _decode(path, raw)
    title = text.split("\n", 1)[0].strip()
    if not title:
        raise ExtractError(f"Error: {path}: the first line (the headline) is empty")
    if not text.strip("\n").count("\n"):
        raise ExtractError(f"Error: {path}: only a headline, no article text")
    return Article(path, title, text, from_html=False)
