"""Notifications for the nation's admins: shares asked for, accepted, rejected, stopped."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tagshare.errors import NotFound
from tagshare.nations.actors import Actor, require_admin
from tagshare.sharing.notifications import notifications_for, notifications_mark_read
from tagshare.web.guards import PanelRequest, nation_of, panel_view

PAGE_SIZE = 50


@panel_view
@require_GET
def notifications_list(request: PanelRequest) -> HttpResponse:
    nation = nation_of(request)
    require_admin(Actor.for_user(request.user), nation, "see share notifications")
    page = Paginator(notifications_for(nation), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "section": "notifications",
        "page": page,
        "unread_here": notifications_for(nation, unread_only=True).exists(),
    }
    return render(request, "web/notifications/list.html", context)


@panel_view
@require_POST
def notifications_read(request: PanelRequest) -> HttpResponse:
    """One notification (`id`) or, without it, all of them."""
    nation = nation_of(request)
    require_admin(Actor.for_user(request.user), nation, "mark notifications as read")
    raw = request.POST.get("id", "").strip()
    if raw:
        # isascii: "²" is a digit to isdigit() but not a number to int().
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise NotFound("No such notification.")
        if not notifications_for(nation).filter(pk=int(raw)).exists():
            raise NotFound("No such notification.")
        notifications_mark_read(nation=nation, ids=[int(raw)])
    else:
        marked = notifications_mark_read(nation=nation)
        messages.success(
            request, f"Marked {marked} notification{'' if marked == 1 else 's'} as read."
        )
    return HttpResponseRedirect(reverse("web:notifications"))
