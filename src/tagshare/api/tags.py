"""`/tags`: the nation's tags with how many people carry each — thin over tags.selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from tagshare.api.auth import caller
from tagshare.api.pagination import PageQuery, keyset_page
from tagshare.api.schemas import TagsPage, responses
from tagshare.tags import selectors

router = Router(tags=["tags"])


@router.get("", response=responses({200: TagsPage}, 400, 422), summary="List tags")
def tags_index(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    """Ordered by name (unique in a nation, so it is the page key)."""
    c = caller(request)
    rows, next_page = keyset_page(
        request, selectors.tags_list(c.nation), page=query, key="name", key_type=str
    )
    results = [
        {"name": t.name, "taggings_count": t.taggings_count, "shared": t.is_shared_in}  # type: ignore[attr-defined]
        for t in rows
    ]
    return {"results": results, "next": next_page}
