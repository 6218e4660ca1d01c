"""Template context: the signed-in user's nation, for the base layout."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def nation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {"nation": getattr(user, "nation", None)}
    return {"nation": None}
