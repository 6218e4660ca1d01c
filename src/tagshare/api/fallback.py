"""URLs under /api/ that match no route still answer in the API's JSON error shape (a 404)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import re_path

from tagshare.api.errors import error_body


def unknown_route(request: HttpRequest) -> JsonResponse:
    hint = " Paths have no trailing slash." if request.path.endswith("/") else ""
    detail = (
        f"No API route {request.method} {request.path}.{hint} The routes are listed at "
        "/api/v1/docs."
    )
    return JsonResponse(error_body(detail), status=404)


urlpatterns = [re_path(r"", unknown_route)]
