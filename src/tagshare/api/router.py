"""The REST API at /api/v1 (SPEC §9): the NinjaAPI, its auth and error handling, and its routers."""

from __future__ import annotations

from ninja import NinjaAPI

from tagshare.api import (
    fields,
    imports,
    matching,
    notifications,
    people,
    reviews,
    shares,
    taggings,
    tags,
    webhooks,
)
from tagshare.api.auth import BearerToken
from tagshare.api.errors import TOKEN_HELP, install_error_handlers
from tagshare.api.payload import JsonParser

api = NinjaAPI(
    title="Tagshare API",
    version="1",
    description=(
        "People, tags, imports, tag shares, review items, notifications, webhooks and the field "
        "catalog of one nation. Every route needs a bearer token and acts in the token's nation. "
        f"{TOKEN_HELP} Errors are JSON "
        '`{"detail": "...", "errors": {"field": "..."}}`; lists are `{"results": [...], '
        '"next": url-or-null}`.'
    ),
    urls_namespace="api-v1",
    # Bearer tokens are not sent by browsers on their own, so there is no CSRF to defend against.
    auth=BearerToken(),
    parser=JsonParser(),
)
install_error_handlers(api)

# Before people's router, whose /people/{person_id} would otherwise claim /people/push and the like.
api.add_router("/people", matching.router)
api.add_router("/people", people.router)
api.add_router("/people", taggings.router)
api.add_router("/tags", tags.router)
api.add_router("/fields", fields.router)
api.add_router("/imports", imports.router)
api.add_router("/shares", shares.router)
api.add_router("/notifications", notifications.router)
api.add_router("/reviews", reviews.router)
api.add_router("/webhooks", webhooks.router)
