"""List options: ``field__op`` filters, ``count=exact``, ``facet=`` and ``fields=``."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request

from app.api.deps import defer_problem, on_loop
from app.listing import (
    ARTICLES,
    CLAIMS,
    ENTITIES,
    EVENTS,
    FilterError,
    ListExtension,
    Resource,
    parse_filter,
)

GRAMMAR_ATTRIBUTE = "filter_grammar"


@dataclass
class ListOptions:
    """What a list request asks for beyond its page: extra filters, a count, facets, fields."""

    extension: ListExtension
    fields: tuple[str, ...] | None

    def render(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the count and facets added and each item narrowed to ``fields``."""
        if self.fields is not None:
            keep = self.fields
            body["items"] = [{k: item[k] for k in keep if k in item} for item in body["items"]]
        body.update(self.extension.summary())
        return body


def list_options(resource: Resource) -> Callable[..., ListOptions]:
    """The dependency giving a route of ``resource`` its ListOptions."""
    facet_names = ", ".join(resource.facets)
    field_names = ", ".join(resource.item_fields)

    def options(
        request: Request,
        count: Annotated[
            Literal["exact"] | None,
            Query(
                description="`exact` adds `total`, the number of items in the whole filtered "
                "list. Counting costs a query over that list, so it is only done when asked."
            ),
        ] = None,
        facet: Annotated[
            list[str] | None,
            Query(
                description=f"Add `facets`: the filtered list counted by {facet_names} "
                "(repeatable; the 50 most frequent values of each).",
            ),
        ] = None,
        sort: Annotated[
            str | None,
            Query(
                max_length=40,
                description="Order by "
                + (", ".join(f"`{name}`" for name in resource.sorts) or "nothing else on this list")
                + "; `-` before the name for newest first. Ties keep the list's own order.",
            ),
        ] = None,
        include: Annotated[
            list[str] | None,
            Query(
                description="Embed more in each item (repeatable): "
                + (", ".join(resource.includes) or "nothing on this list"),
            ),
        ] = None,
        fields: Annotated[
            str | None,
            Query(
                max_length=500,
                description=f"Comma-separated fields to keep in each item, of: {field_names}. "
                "`id` is always kept.",
            ),
        ] = None,
    ) -> ListOptions:
        extension = ListExtension(resource, count=count == "exact")
        seen: set[str] = set()
        for name, value in request.query_params.multi_items():
            if "__" not in name:
                continue
            if name in seen:
                defer_problem(request, name, "given more than once; it takes one value", value)
                continue
            seen.add(name)
            try:
                extension.where.append(parse_filter(resource, name, value))
            except FilterError as exc:
                defer_problem(request, name, str(exc), value)
        facets = list(dict.fromkeys(facet or []))
        unknown = [f for f in facets if f not in resource.facets]
        if unknown:
            message = f"cannot facet on {', '.join(map(repr, unknown))}; use: {facet_names}"
            defer_problem(request, "facet", message, unknown[0])
        extension.facets = [f for f in facets if f in resource.facets]
        wanted_includes = list(dict.fromkeys(include or []))
        bad_includes = [i for i in wanted_includes if i not in resource.includes]
        if bad_includes:
            can = ", ".join(resource.includes) or "nothing"
            message = f"cannot include {', '.join(map(repr, bad_includes))}; use: {can}"
            defer_problem(request, "include", message, bad_includes[0])
        extension.include = [i for i in wanted_includes if i in resource.includes]
        if sort is not None:
            if sort.removeprefix("-") in resource.sorts:
                extension.sort = sort
            else:
                can = ", ".join(f"{n}, -{n}" for n in resource.sorts) or "nothing"
                defer_problem(request, "sort", f"cannot sort by {sort!r}; use: {can}", sort)
        keep: tuple[str, ...] | None = None
        if fields is not None:
            wanted = [f.strip() for f in fields.split(",") if f.strip()]
            bad = [f for f in wanted if f not in (*resource.item_fields, *resource.includes)]
            if bad or not wanted:
                message = f"unknown field(s) {', '.join(map(repr, bad))}; use: {field_names}"
                defer_problem(request, "fields", message, fields)
            keep = tuple(dict.fromkeys(["id", *wanted]))
        return ListOptions(extension, keep)

    setattr(options, GRAMMAR_ATTRIBUTE, resource)
    return options


ArticleOptions = Annotated[ListOptions, Depends(on_loop(list_options(ARTICLES)))]
EntityOptions = Annotated[ListOptions, Depends(on_loop(list_options(ENTITIES)))]
EventOptions = Annotated[ListOptions, Depends(on_loop(list_options(EVENTS)))]
ClaimOptions = Annotated[ListOptions, Depends(on_loop(list_options(CLAIMS)))]
