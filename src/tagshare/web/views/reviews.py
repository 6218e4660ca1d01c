"""The review screen (SPEC §6.2): changes other nations proposed to this nation's profiles.

An admin ticks fields (or whole profiles, or the whole page) and applies or skips them. The
rules (admins only, each nation decides only about its own data, stale proposals) live in
sharing.reviews; this view turns the ticks into review item ids of this nation and says what
happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tagshare.errors import NotFound, ValidationFailed
from tagshare.nations.actors import Actor, require_admin
from tagshare.nations.models import Nation
from tagshare.people import catalog, values
from tagshare.people.models import Person
from tagshare.sharing import reviews, selectors, services
from tagshare.sharing.models import ReviewItem, TagShare
from tagshare.web import person_fields
from tagshare.web.guards import PanelRequest, back_url, nation_of, panel_view

# Profiles per page: a page keeps each profile's changes together, so "select all" of a
# profile means every change of it that the page shows.
PROFILES_PER_PAGE = 20
# More ids than a page can show is not a selection made on this screen.
MAX_SELECTED = 5000
_MAX_ID_DIGITS = 18  # ids fit a signed 64-bit column


@dataclass
class ReviewRow:
    item: ReviewItem
    label: str
    current_text: str
    proposed_text: str
    # The share's tag as this nation knows it, and the nation that proposed the change.
    share_title: str
    proposed_by: Nation


@dataclass
class ProfileGroup:
    person: Person
    rows: list[ReviewRow] = field(default_factory=list)


@dataclass
class ShareChoice:
    share: TagShare
    title: str
    other: Nation
    pending: int
    url: str
    current: bool


def _actor(request: PanelRequest) -> Actor:
    return Actor.for_user(request.user)


def _list_url(share_id: int | None = None, page: int = 1) -> str:
    params: dict[str, Any] = {}
    if share_id is not None:
        params["share"] = share_id
    if page > 1:
        params["page"] = page
    base = reverse("web:reviews")
    return f"{base}?{urlencode(params)}" if params else base


def share_title(share: TagShare, nation: Nation) -> tuple[str, Nation]:
    """The tag as this nation knows it, and the nation at the other end of the share."""
    if share.sender_id == nation.pk:
        return share.tag.name, share.receiver
    return share.shared_tag_name, share.sender


# --- the list ----------------------------------------------------------------------------------


@panel_view
@require_GET
def reviews_list(request: PanelRequest) -> HttpResponse:
    nation = nation_of(request)
    require_admin(_actor(request), nation, "review changes proposed over shares")
    raw_share = request.GET.get("share", "").strip()
    share = services.access_share_by_id(nation, raw_share) if raw_share else None

    pending = selectors.reviews_for(nation, share=share)
    # One page is a run of whole profiles; their items are read in a second query.
    people = pending.order_by("person_id").values_list("person_id", flat=True).distinct()
    page = Paginator(people, PROFILES_PER_PAGE).get_page(request.GET.get("page"))
    items = list(
        pending.filter(person_id__in=list(page.object_list)).select_related(
            "person", "share__sender", "share__receiver", "share__tag"
        )
    )
    share_id = share.pk if share else None
    choices = _share_choices(nation, share)
    all_pending = sum(c.pending for c in choices)
    context = {
        "section": "reviews",
        "share": share,
        "share_title": share_title(share, nation)[0] if share else "",
        "choices": choices,
        "all_url": _list_url(),
        "all_pending": all_pending,
        "shown_total": next((c.pending for c in choices if c.current), 0) if share else all_pending,
        "page": page,
        "groups": _groups(nation, items),
        "item_count": len(items),
        "shown": ",".join(str(item.pk) for item in items),
        "here": request.get_full_path(),
        "prev_url": _list_url(share_id, page.previous_page_number()) if page.has_previous() else "",
        "next_url": _list_url(share_id, page.next_page_number()) if page.has_next() else "",
    }
    return render(request, "web/reviews/list.html", context)


def _groups(nation: Nation, items: list[ReviewItem]) -> list[ProfileGroup]:
    groups: dict[int, ProfileGroup] = {}
    for item in items:
        group = groups.setdefault(item.person_id, ProfileGroup(person=item.person))
        spec = catalog.BY_NAME.get(item.field)
        # The profile's value now, not when the proposal arrived: that is what applying replaces.
        current = values.read(item.person, item.field) if spec else item.current_value
        title, other = share_title(item.share, nation)
        group.rows.append(
            ReviewRow(
                item=item,
                label=person_fields.field_label(item.field),
                current_text=person_fields.display_text(spec, current),
                proposed_text=person_fields.display_text(spec, item.proposed_value),
                share_title=title,
                proposed_by=other,
            )
        )
    return list(groups.values())


def _share_choices(nation: Nation, chosen: TagShare | None) -> list[ShareChoice]:
    """The shares with changes waiting here (and the chosen one, even once it has none left)."""
    counts = dict(
        selectors.reviews_for(nation)
        .order_by()
        .values_list("share_id")
        .annotate(n=Count("id"))
        .values_list("share_id", "n")
    )
    ids = set(counts) | ({chosen.pk} if chosen else set())
    shares = TagShare.objects.filter(pk__in=ids).select_related("sender", "receiver", "tag")
    choices = []
    for share in sorted(shares, key=lambda s: s.pk):
        title, other = share_title(share, nation)
        choices.append(
            ShareChoice(
                share=share,
                title=title,
                other=other,
                pending=counts.get(share.pk, 0),
                url=_list_url(share.pk),
                current=chosen is not None and chosen.pk == share.pk,
            )
        )
    return choices


# --- apply and skip ----------------------------------------------------------------------------


@panel_view
@require_POST
def reviews_apply(request: PanelRequest) -> HttpResponse:
    nation, actor, selected = _decision(request, "apply")
    if not selected:
        return _nothing_selected(request, "apply")
    result = reviews.reviews_apply(nation=nation, actor=actor, ids=selected)
    applied, stale = result["applied"], result["stale"]
    gone = len(selected) - applied - stale
    if applied:
        messages.success(request, f"Applied {_changes(applied)}.")
    if stale:
        messages.warning(
            request,
            f"{_changes(stale, capital=True)} {'was' if stale == 1 else 'were'} not applied: the "
            "profile was edited after the change was proposed, so its newer value stays.",
        )
    if gone:
        _already_decided(request, gone, error=not applied and not stale)
    return HttpResponseRedirect(back_url(request, reverse("web:reviews")))


@panel_view
@require_POST
def reviews_skip(request: PanelRequest) -> HttpResponse:
    nation, actor, selected = _decision(request, "skip")
    if not selected:
        return _nothing_selected(request, "skip")
    skipped = reviews.reviews_skip(nation=nation, actor=actor, ids=selected)["skipped"]
    if skipped:
        messages.success(request, f"Skipped {_changes(skipped)}; the values here stay as they are.")
    gone = len(selected) - skipped
    if gone:
        _already_decided(request, gone, error=not skipped)
    return HttpResponseRedirect(back_url(request, reverse("web:reviews")))


def _decision(request: PanelRequest, verb: str) -> tuple[Nation, Actor, list[int]]:
    """Who decides, and on which of their nation's items (another nation's ids are a 404)."""
    nation = nation_of(request)
    actor = _actor(request)
    require_admin(actor, nation, f"{verb} changes proposed over shares")
    return nation, actor, _selected_ids(nation, request.POST)


def _changes(n: int, *, capital: bool = False) -> str:
    text = f"{n} change{'' if n == 1 else 's'}"
    return text[:1].upper() + text[1:] if capital else text


def _nothing_selected(request: PanelRequest, verb: str) -> HttpResponse:
    messages.error(
        request,
        f"Nothing was selected. Tick the changes to {verb}, or a profile's box to {verb} all of "
        "its changes.",
    )
    return HttpResponseRedirect(back_url(request, reverse("web:reviews")))


def _already_decided(request: PanelRequest, n: int, *, error: bool) -> None:
    text = (
        f"{_changes(n, capital=True)} {'was' if n == 1 else 'were'} already decided (applied, "
        "skipped, or replaced by a newer proposal), so nothing was done with "
        f"{'it' if n == 1 else 'them'}. The list below is up to date."
    )
    (messages.error if error else messages.warning)(request, text)


def _selected_ids(nation: Nation, post: QueryDict) -> list[int]:
    """The review item ids the form selects, all of them this nation's.

    `ids` are ticked fields; `profiles` are ticked "all changes of this profile" boxes and
    `all` the page's box, both meaning the items the page showed (`shown`), so a proposal that
    arrived after the page was drawn is never decided unseen. An id or profile that is not
    this nation's answers like a missing one, before anything is decided."""
    ticked = _ids(post.getlist("ids"))
    shown = _ids(post.get("shown", "").split(",") if post.get("shown") else [])
    profiles = set(_ids(post.getlist("profiles")))
    if len(ticked) + len(shown) > MAX_SELECTED:
        raise ValidationFailed(
            f"Select at most {MAX_SELECTED} changes at once; decide them page by page."
        )
    wanted = set(ticked) | set(shown)
    own = dict(
        ReviewItem.objects.filter(nation=nation, pk__in=wanted).values_list("pk", "person_id")
    )
    if len(own) != len(wanted):
        raise NotFound("No such review item.")
    shown_people = {own[pk] for pk in shown}
    if not profiles <= shown_people:
        raise NotFound("No such profile in the review list.")
    selected = set(ticked)
    if post.get("all"):
        selected.update(shown)
    elif profiles:
        selected.update(pk for pk in shown if own[pk] in profiles)
    return sorted(selected)


def _ids(raw: list[str]) -> list[int]:
    ids = []
    for text in raw:
        text = text.strip()
        # isascii: "²" is a digit to isdigit() but not a number to int().
        if not (text.isascii() and text.isdigit()) or len(text) > _MAX_ID_DIGITS or int(text) == 0:
            raise NotFound("No such review item.")
        ids.append(int(text))
    return ids
