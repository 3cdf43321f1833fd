"""Route matching that looks at the first path segment before trying an included router.

FastAPI (0.130 and later) keeps each included router as one entry of the app's routes and,
for every request, tries every route of every router before the right one in order, with
bookkeeping around each attempt: a request to the last router tried pays for some thirty
failed matches. A router all of whose paths start with a fixed segment (``/claims``,
``/entities``) can only match requests under those segments, so the others skip it after
one comparison. Which route answers a request does not change: a router is skipped only
where none of its routes could have matched. Where FastAPI does not keep included
routers as entries, nothing is changed.
"""

from typing import Any

from fastapi import FastAPI, routing
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

_Included: Any = getattr(routing, "_IncludedRouter", None)


def first_segment(path: str) -> str:
    """``"claims"`` for ``/claims/x``; ``""`` for ``/``."""
    return path[1:].split("/", 1)[0]


def _segments(included: Any) -> frozenset[str] | None:
    """The first segments of every path of an included router, or None if one is a parameter."""
    found = set()
    for context in included.effective_route_contexts():
        path = getattr(context, "path_format", None) or getattr(
            context.original_route, "path_format", None
        )
        if not isinstance(path, str) or not path.startswith("/"):
            return None
        segment = first_segment(path)
        if "{" in segment:
            return None
        found.add(segment)
    return frozenset(found)


if _Included is not None:

    class _Prefiltered(_Included):  # type: ignore[misc]
        """An included router that declines requests outside its first path segments."""

        first_segments: frozenset[str]

        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            if scope["type"] in ("http", "websocket") and (
                first_segment(get_route_path(scope)) not in self.first_segments
            ):
                return Match.NONE, {}
            result: tuple[Match, Scope] = super().matches(scope)
            return result


def prefilter(app: FastAPI) -> int:
    """Let each included router of ``app`` decline requests by their first path segment.

    Call once every router is included. Returns how many routers were changed.
    """
    if _Included is None:
        return 0
    changed = 0
    for route in app.router.routes:
        if type(route) is not _Included:
            continue
        segments = _segments(route)
        if segments is None:
            continue
        included: Any = route
        included.__class__ = _Prefiltered
        included.first_segments = segments
        changed += 1
    return changed
