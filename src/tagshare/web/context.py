"""Template context for the base layout: the user's nation and, for admins, what waits for them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tagshare.sharing import selectors as share_selectors
from tagshare.sharing.models import ShareStatus
from tagshare.sharing.notifications import notifications_for

# The banner names this many pending shares and points to the Shared tab for the rest.
BANNER_LIMIT = 3


def nation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nation": None}
    home = getattr(user, "nation", None)
    context: dict[str, Any] = {"nation": home}
    if home is not None and getattr(user, "is_nation_admin", False):
        # Lazy: evaluated only when a page draws the banner or the menu (not for fragments).
        context["pending_shares"] = SimpleLazyObject(
            lambda: list(
                share_selectors.shares_incoming(home).filter(status=ShareStatus.PENDING)[
                    : BANNER_LIMIT + 1
                ]
            )
        )
        context["pending_share_total"] = SimpleLazyObject(
            lambda: share_selectors.pending_share_count(home)
        )
        context["unread_notifications"] = SimpleLazyObject(
            lambda: notifications_for(home, unread_only=True).count()
        )
        context["pending_reviews"] = SimpleLazyObject(
            lambda: share_selectors.reviews_for(home).count()
        )
    return context
