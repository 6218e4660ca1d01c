"""Tags: the nation's tags with how many people carry each."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tagshare.tags import selectors
from tagshare.web.guards import PanelRequest, nation_of, panel_view


@panel_view
@require_GET
def tags_list(request: PanelRequest) -> HttpResponse:
    tags = selectors.tags_list(nation_of(request)).select_related("shared_from")
    return render(request, "web/tags/list.html", {"section": "tags", "tags": tags})
