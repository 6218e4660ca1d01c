"""Keyset pagination: `{"results": [...], "next": <url or null>}` with an opaque cursor (SPEC §9.1).

A cursor is the sort key of the last row served, so a page costs the same however deep it is
(never OFFSET) and rows written meanwhile neither repeat nor vanish.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from tagshare.api.errors import BadRequest
from tagshare.api.payload import Text

M = TypeVar("M", bound=Model)
T = TypeVar("T")
CursorKey = tuple[Any, ...]

_BIGINT = 2**63 - 1
_BAD_CURSOR = (
    "The cursor is not one this API handed out; it may be truncated or edited. Follow the `next` "
    "URL of the previous page exactly, or drop `cursor` to start from the first page."
)


class PageQuery(Schema):
    # Too large a limit is a 422 naming the maximum rather than a silent clamp: a client that
    # asked for 1000 rows and got 500 could mistake a full page for the end of the list.
    limit: int = Field(
        settings.API_PAGE_SIZE_DEFAULT,
        ge=1,
        le=settings.API_PAGE_SIZE_MAX,
        description=f"Rows per page, 1 to {settings.API_PAGE_SIZE_MAX}.",
    )
    cursor: Text | None = Field(
        None, description="Opaque; copy the whole `next` URL of the previous page instead."
    )


def encode_cursor(key: CursorKey) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> CursorKey:
    """The key inside `cursor`, checked against the key's shape; anything else is a 400."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        key = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise BadRequest(_BAD_CURSOR, errors={"cursor": "not a valid cursor"}) from None
    if not isinstance(key, list) or len(key) != len(types):
        raise BadRequest(_BAD_CURSOR, errors={"cursor": "not a valid cursor"})
    for value, expected in zip(key, types, strict=True):
        ok = type(value) is expected and (not isinstance(value, int) or abs(value) <= _BIGINT)
        if not ok or (expected is str and ("\x00" in value or len(value) > 1000)):
            raise BadRequest(_BAD_CURSOR, errors={"cursor": "not a valid cursor"})
    return tuple(key)


def next_url(request: HttpRequest, key: CursorKey) -> str:
    params = request.GET.copy()
    params["cursor"] = encode_cursor(key)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def keyset_page(
    request: HttpRequest,
    qs: QuerySet[M],
    *,
    page: PageQuery,
    key: str = "pk",
    key_type: type = int,
    newest_first: bool = False,
) -> tuple[list[M], str | None]:
    """One page of `qs` ordered by the unique column `key` (descending with `newest_first`),
    and the URL of the next page."""
    if page.cursor:
        (after,) = decode_cursor(page.cursor, (key_type,))
        qs = qs.filter(**{f"{key}__{'lt' if newest_first else 'gt'}": after})
    rows = list(qs.order_by(f"-{key}" if newest_first else key)[: page.limit + 1])
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, next_url(request, (getattr(rows[-1], key),))


def sequence_page(
    request: HttpRequest,
    items: Sequence[T],
    *,
    page: PageQuery,
    key: Callable[[T], CursorKey],
    key_types: tuple[type, ...],
) -> tuple[list[T], str | None]:
    """Like keyset_page for a list already in memory and sorted ascending by `key`."""
    rows = list(items)
    if page.cursor:
        after = decode_cursor(page.cursor, key_types)
        rows = [item for item in rows if key(item) > after]
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, next_url(request, key(rows[-1]))
