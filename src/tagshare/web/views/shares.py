"""Tag shares in the panel: share a tag, the share screen, accept or reject, stop, edit and re-request.

The rules (admin only, plans, states) live in sharing.services; these views call them and show
their refusals: a form error beside what was typed, or the 403/404 page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tagshare.errors import Conflict, DomainError, NotAllowed, NotFound, ValidationFailed
from tagshare.nations.actors import Actor, require_admin
from tagshare.nations.models import Nation
from tagshare.people.models import Person
from tagshare.sharing import selectors, services
from tagshare.sharing.initial_sync import share_initial_sync
from tagshare.sharing.models import (
    JobStatus,
    LinkState,
    ShareLink,
    ShareStatus,
    Side,
    SyncOption,
    TagShare,
)
from tagshare.sharing.notifications import notifications_for, notifications_mark_read
from tagshare.tags.models import Tag
from tagshare.web import share_fields
from tagshare.web.guards import PanelRequest, nation_of, panel_view

logger = logging.getLogger(__name__)

LINKS_PAGE_SIZE = 50
LINK_FILTERS = [
    ("", "All"),
    (LinkState.SYNCED, "Synced"),
    (LinkState.MATCHED, "Matched"),
    (LinkState.NOT_FOUND, "Not found"),
    (LinkState.AMBIGUOUS, "Ambiguous"),
    (LinkState.ENDED, "Ended"),
]
# What the panel says instead of the API-worded message, for errors tied to one input.
FRIENDLY_ERRORS = {
    "sync_option": "Choose how data syncs: one of the three options below.",
}


def _actor(request: PanelRequest) -> Actor:
    return Actor.for_user(request.user)


def _plan_check(nation: Nation) -> None:
    if not nation.can("create_shares"):
        raise NotAllowed(
            f"Nations on the {nation.get_plan_display()} plan can accept tag shares but not "
            "create them; an Organization, Enterprise or Network plan can."
        )


# --- share a tag -----------------------------------------------------------------------------


@panel_view
@require_http_methods(["GET", "POST"])
def share_new(request: PanelRequest, tag_id: int) -> HttpResponse:
    nation = nation_of(request)
    actor = _actor(request)
    tag = Tag.objects.filter(nation=nation, pk=tag_id).first()
    if tag is None:
        raise NotFound("No such tag in this nation.")
    require_admin(actor, nation, "share tags")
    _plan_check(nation)
    if tag.is_shared_in:
        messages.error(
            request,
            f"{tag.name} is shared with you by another nation; a nation can share only its own tags.",
        )
        return HttpResponseRedirect(reverse("web:tags"))
    if request.method != "POST":
        return _render_new(request, tag, share_fields.SettingsForm())

    form = share_fields.SettingsForm.from_post(request.POST)
    try:
        created = services.share_create(
            nation=nation,
            actor=actor,
            tag_name=tag.name,
            nations=form.nations,
            sync_data=form.sync_data,
            optional_fields=form.sends_fields,
            create_profiles=form.offers_profiles,
        )
    except (ValidationFailed, Conflict) as exc:
        return _render_new(request, tag, form, exc, status=422)
    receivers = ", ".join(s.receiver.slug for s in created)
    messages.success(
        request,
        f"Shared {tag.name} with {receivers}. "
        f"{'Its admins' if len(created) == 1 else 'Their admins'} can now accept or reject it.",
    )
    if len(created) == 1:
        return HttpResponseRedirect(reverse("web:share", args=[created[0].pk]))
    return HttpResponseRedirect(reverse("web:tags-outgoing"))


def _render_new(
    request: PanelRequest,
    tag: Tag,
    form: share_fields.SettingsForm,
    error: DomainError | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    context = {
        "section": "tags",
        "tag": tag,
        "form": form,
        "error": error.detail if error else "",
        "nations_invalid": error is not None and ("nations" in error.errors or not error.errors),
        "always_groups": share_fields.always_synced_groups(),
        "always_count": share_fields.ALWAYS_COUNT,
    }
    return render(request, "web/shares/new.html", context, status=status)


# --- the share screen --------------------------------------------------------------------------


@panel_view
@require_GET
def share_detail(request: PanelRequest, share_id: int) -> HttpResponse:
    nation = nation_of(request)
    share = services.access_share_by_id(nation, share_id)
    if (
        request.htmx
        and request.htmx.target == "share-links"
        and not request.htmx.history_restore_request
    ):
        response = render(request, "web/shares/_links.html", _links_context(request, nation, share))
    else:
        response = _render_detail(request, nation, share)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@panel_view
@require_GET
def share_status(request: PanelRequest, share_id: int) -> HttpResponse:
    """The status boxes and the sync job's progress: what the share screen polls while it runs."""
    nation = nation_of(request)
    share = services.access_share_by_id(nation, share_id)
    return render(request, "web/shares/_status.html", _status_context(nation, share))


def _render_detail(
    request: PanelRequest,
    nation: Nation,
    share: TagShare,
    *,
    edit_form: share_fields.SettingsForm | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    is_sender = share.sender_id == nation.pk
    is_admin = request.user.is_nation_admin
    can_edit = is_sender and is_admin and share.status == ShareStatus.STOPPED
    context: dict[str, Any] = {
        "section": "tags",
        "share": share,
        "is_sender": is_sender,
        "is_admin": is_admin,
        "other": share.receiver if is_sender else share.sender,
        "title": share.tag.name if is_sender else share.shared_tag_name,
        "chosen_groups": share_fields.chosen_field_groups(share.optional_fields or []),
        "can_stop": is_admin and share.status == ShareStatus.APPROVED,
        "can_accept": is_admin and not is_sender and share.status == ShareStatus.PENDING,
        "can_share_again": is_sender
        and is_admin
        and share.status == ShareStatus.DENIED
        and nation.can("create_shares"),
        "can_edit": can_edit,
        "error": error.detail if error else "",
        **_status_context(nation, share),
        **_links_context(request, nation, share),
    }
    if can_edit:
        context["form"] = edit_form or share_fields.SettingsForm.from_share(share)
        context["always_groups"] = share_fields.always_synced_groups()
        context["always_count"] = share_fields.ALWAYS_COUNT
    return render(request, "web/shares/detail.html", context, status=status)


def _status_context(nation: Nation, share: TagShare) -> dict[str, Any]:
    job = selectors.share_latest_job(share)
    running = job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    return {
        "share": share,
        "is_sender": share.sender_id == nation.pk,
        "counts": selectors.share_counts(share, viewer=nation),
        "taggings": selectors.share_taggings_count(share)
        if share.receiver_id == nation.pk
        else None,
        "job": job,
        "job_running": running,
        "job_percent": round(100 * job.done / job.total) if job and job.total else None,
    }


def _links_context(request: PanelRequest, nation: Nation, share: TagShare) -> dict[str, Any]:
    state = request.GET.get("state", "")
    if state not in LinkState.values:
        state = ""
    links = selectors.share_links(share, state=state or None)
    page = Paginator(links, LINKS_PAGE_SIZE).get_page(request.GET.get("page"))
    is_sender = share.sender_id == nation.pk
    rows = list(page.object_list)
    own = _own_people(nation, rows, is_sender)
    base = reverse("web:share", args=[share.pk])

    def url(state_value: str, page_number: int = 1) -> str:
        params = [f"state={state_value}"] if state_value else []
        if page_number > 1:
            params.append(f"page={page_number}")
        return base + ("?" + "&".join(params) if params else "")

    return {
        "links_state": state,
        # Filters help only once there are links to filter.
        "links_any": bool(state) or bool(rows) or selectors.share_links(share).exists(),
        "links_filters": [(value, label, url(value)) for value, label in LINK_FILTERS],
        "links_page": page,
        "links": [_link_row(link, own, is_sender) for link in rows],
        "links_prev": url(state, page.previous_page_number()) if page.has_previous() else "",
        "links_next": url(state, page.next_page_number()) if page.has_next() else "",
    }


def _own_people(nation: Nation, links: list[ShareLink], is_sender: bool) -> dict[int, Person]:
    """This nation's profiles on the page (names and links); the other nation's show as ids."""
    ids: set[int] = set()
    for link in links:
        if is_sender:
            ids.add(link.sender_person_id)
        else:
            if link.receiver_person_id:
                ids.add(link.receiver_person_id)
            ids.update(int(c) for c in link.candidates or [] if str(c).isdigit())
    people = Person.objects.filter(nation=nation, pk__in=ids).only(
        "first_name", "last_name", "email1"
    )
    return {p.pk: p for p in people}


def _link_row(link: ShareLink, own: dict[int, Person], is_sender: bool) -> dict[str, Any]:
    def person(pk: int | None, mine: bool) -> dict[str, Any] | None:
        if pk is None:
            return None
        found = own.get(pk) if mine else None
        return {"id": pk, "person": found}

    candidates = [int(c) for c in link.candidates or [] if str(c).isdigit()]
    return {
        "link": link,
        "sender": person(link.sender_person_id, is_sender),
        "receiver": person(link.receiver_person_id, not is_sender),
        "candidates": [person(c, not is_sender) for c in candidates],
    }


# --- accept or reject (receiver) ---------------------------------------------------------------


@panel_view
@require_http_methods(["GET", "POST"])
def share_accept(request: PanelRequest, share_id: int) -> HttpResponse:
    nation = nation_of(request)
    actor = _actor(request)
    share = services.access_share_by_id(nation, share_id)
    require_admin(actor, nation, "accept tag shares")
    if share.receiver_id != nation.pk:
        raise NotAllowed("Only the receiving nation can accept or reject a share.")
    if share.status != ShareStatus.PENDING:
        messages.info(request, f"This share is {share.status}; there is nothing to accept.")
        return HttpResponseRedirect(reverse("web:share", args=[share.pk]))
    if request.method != "POST":
        return _render_accept(request, share, {"create_profiles": False, "as_prospects": True})

    sync_option = request.POST.get("sync_option", "")
    create_profiles = share.create_profiles and "create_profiles" in request.POST
    as_prospects = "as_prospects" in request.POST
    choice = {
        "sync_option": sync_option,
        "create_profiles": create_profiles,
        "as_prospects": as_prospects,
    }
    try:
        services.share_accept(
            nation=nation,
            actor=actor,
            share=share,
            sync_option=sync_option or None,
            create_profiles=create_profiles,
            as_prospects=as_prospects,
            # Run below, so that a failed sync still leaves the share accepted and says so.
            run_initial_sync=False,
        )
    except (ValidationFailed, Conflict) as exc:
        share.refresh_from_db()
        return _render_accept(request, share, choice, exc, status=422)
    _request_answered(nation, share)
    try:
        # In the request for now; the background worker takes this over in a later issue.
        share_initial_sync(share)
    except Exception:
        logger.exception("initial sync of share %s failed", share.pk)
        messages.warning(
            request,
            f"You accepted the share of {share.shared_tag_name}, but its first sync stopped "
            "with an error. The status below shows how far it got.",
        )
    else:
        taggings = selectors.share_taggings_count(share)
        messages.success(
            request,
            f"You accepted the share of {share.shared_tag_name}. It is on {taggings} "
            f"{'profile' if taggings == 1 else 'profiles'} here; {share.sender.name} has been told.",
        )
    return HttpResponseRedirect(reverse("web:share", args=[share.pk]))


def _request_answered(nation: Nation, share: TagShare) -> None:
    """The notification asking for a decision is dealt with once the decision is made."""
    asked = notifications_for(nation, unread_only=True).filter(share=share, kind="share.requested")
    ids = list(asked.values_list("pk", flat=True))
    if ids:
        notifications_mark_read(nation=nation, ids=ids)


def _render_accept(
    request: PanelRequest,
    share: TagShare,
    choice: dict[str, Any],
    error: DomainError | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    field_errors: dict[str, str] = {}
    summary = ""
    if error is not None:
        field_errors = {name: FRIENDLY_ERRORS.get(name, error.detail) for name in error.errors}
        summary = next(iter(field_errors.values()), error.detail)
    options = [
        {"value": value, "label": label, "help": share_fields.SYNC_OPTION_HELP[value]}
        for value, label in SyncOption.choices
    ]
    context = {
        "section": "tags",
        "share": share,
        "choice": choice,
        "options": options,
        "error": summary,
        "field_errors": field_errors,
        "chosen_groups": share_fields.chosen_field_groups(share.optional_fields or []),
        "always_groups": share_fields.always_synced_groups(),
        "always_count": share_fields.ALWAYS_COUNT,
        "hide_share_banner": True,
    }
    return render(request, "web/shares/accept.html", context, status=status)


@panel_view
@require_POST
def share_reject(request: PanelRequest, share_id: int) -> HttpResponse:
    nation = nation_of(request)
    share = services.access_share_by_id(nation, share_id)
    services.share_reject(nation=nation, actor=_actor(request), share=share)
    _request_answered(nation, share)
    messages.success(
        request,
        f"You rejected the share of {share.shared_tag_name}; {share.sender.name} has been told.",
    )
    return HttpResponseRedirect(reverse("web:tags-shared"))


# --- stop, edit and re-request -----------------------------------------------------------------


@panel_view
@require_POST
def share_stop(request: PanelRequest, share_id: int) -> HttpResponse:
    nation = nation_of(request)
    share = services.access_share_by_id(nation, share_id)
    services.share_stop(nation=nation, actor=_actor(request), share=share)
    if share.stopped_side == Side.RECEIVER:
        done = (
            f"{share.shared_tag_name} has left every profile here; the data already synced stays."
        )
    else:
        done = "The shared tag has left every profile in the receiving nation; your tags stay."
    messages.success(request, f"You stopped the share. {done}")
    return HttpResponseRedirect(reverse("web:share", args=[share.pk]))


@panel_view
@require_POST
def share_edit(request: PanelRequest, share_id: int) -> HttpResponse:
    """The sender's settings while stopped; by default saved and re-requested in one action."""
    nation = nation_of(request)
    share = services.access_share_by_id(nation, share_id)
    form = share_fields.SettingsForm.from_post(request.POST)
    form.nations = share.receiver.slug
    re_request = request.POST.get("action", "request") != "save"
    try:
        services.share_update(
            nation=nation,
            actor=_actor(request),
            share=share,
            changes=form.changes(),
            request=re_request,
        )
    except (ValidationFailed, Conflict) as exc:
        share = services.access_share_by_id(nation, share_id)
        return _render_detail(request, nation, share, edit_form=form, error=exc, status=422)
    if re_request:
        messages.success(
            request,
            f"Saved and asked {share.receiver.name} again; the share is pending until they accept it.",
        )
    else:
        messages.success(request, "Saved. The share stays stopped until you re-request it.")
    return HttpResponseRedirect(reverse("web:share", args=[share.pk]))
