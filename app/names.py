"""Entity names folded for as-you-type lookup: case, accents and punctuation set aside.

``fold_name("Kassym-Jomart Tokayev")`` is ``"kassym jomart tokayev"``, and
``fold_name("Токаев Қасым-Жомарт")`` is ``"токаев қасым жомарт"``: compatibility forms and
accents are decomposed and dropped (``ё`` is ``е``, ``é`` is ``e``), case is folded in every
script, and each run of characters that are not letters or digits becomes one space. A
typed prefix, folded the same way, is a prefix of the folded name it should find.

Each entity has rows in ``entity_name`` (see ``app.models.EntityName``): its name, its
aliases, and every later word of each onwards, so "tok" finds "Kassym-Jomart Tokayev".
"""

import re
import unicodedata
from collections.abc import Iterable, Iterator

# Tiers of entity_name rows, in the order lookup ranks them (an exact match comes first).
NAME, ALIAS, NAME_WORD, ALIAS_WORD = 1, 2, 3, 4
_WORD = re.compile(r"[^\W_]+")
MAX_FOLDED = 300  # characters of a name kept for lookup


def fold_name(text: str) -> str:
    """``text`` as lookup compares it: no accents, case folded, words separated by a space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_WORD.findall(bare))[:MAX_FOLDED]


def name_rows(name: str, tier: int) -> Iterator[tuple[int, str, str]]:
    """The (tier, folded, label) lookup rows of one name (``NAME``) or alias (``ALIAS``)."""
    folded = fold_name(name)
    if not folded:
        return
    yield tier, folded, name
    words = folded.split(" ")
    inner = NAME_WORD if tier == NAME else ALIAS_WORD
    for i in range(1, len(words)):
        yield inner, " ".join(words[i:]), name


def entity_rows(
    entity_id: int, name: str, aliases: Iterable[str]
) -> list[tuple[int, str, int, str]]:
    """Every (tier, folded, entity id, label) row of an entity with this name and aliases."""
    rows = {(t, f, entity_id, label) for t, f, label in name_rows(name, NAME)}
    for alias in aliases:
        rows.update((t, f, entity_id, label) for t, f, label in name_rows(alias, ALIAS))
    return sorted(rows)
