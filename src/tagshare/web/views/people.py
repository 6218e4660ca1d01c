"""People: the searchable list, a profile with its history, the edit and new-person forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tagshare.errors import Conflict, NotFound, ValidationFailed
from tagshare.nations.actors import Actor
from tagshare.people import catalog, selectors, services, values
from tagshare.people.models import Person
from tagshare.tags import selectors as tag_selectors
from tagshare.tags import services as tag_services
from tagshare.tags.models import Tagging
from tagshare.web import person_fields
from tagshare.web.guards import PanelRequest, nation_of, panel_view

PAGE_SIZE = 50
HISTORY_LIMIT = 200
MAX_SEARCH_LENGTH = 200


@panel_view
@require_GET
def people_list(request: PanelRequest) -> HttpResponse:
    nation = nation_of(request)
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    tag = request.GET.get("tag", "").strip()
    people = selectors.people_list(nation, search=search, tag=tag or None).prefetch_related(
        Prefetch("taggings", queryset=Tagging.objects.select_related("tag").order_by("tag__name"))
    )
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "section": "people",
        "q": search,
        "tag": tag,
        "page": page,
        "rows": [_row(person) for person in page.object_list],
        "nation_total": selectors.people_list(nation).count() if (search or tag) else None,
        "prev_url": _list_url(search, tag, page.previous_page_number())
        if page.has_previous()
        else "",
        "next_url": _list_url(search, tag, page.next_page_number()) if page.has_next() else "",
        "clear_tag_url": _list_url(search, "", 1),
    }
    # The search box asks for the results alone; a history restore needs the whole page.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "web/people/_results.html" if partial else "web/people/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _list_url(search: str, tag: str, page: int) -> str:
    params: dict[str, Any] = {}
    if search:
        params["q"] = search
    if tag:
        params["tag"] = tag
    if page > 1:
        params["page"] = page
    base = reverse("web:people")
    return f"{base}?{urlencode(params)}" if params else base


def _row(person: Person) -> dict[str, Any]:
    return {
        "person": person,
        "email": person.email1 or person.email2 or person.email3 or person.email4,
        "phone": person.mobile or person.phone or person.work_phone_number,
        "city": person.home_city or person.mailing_city or person.registered_city,
        "tags": [tagging.tag for tagging in person.taggings.all()],
    }


@panel_view
@require_GET
def person_detail(request: PanelRequest, person_id: int) -> HttpResponse:
    nation = nation_of(request)
    person = selectors.access_person_by_id(nation, person_id)
    is_admin = request.user.is_nation_admin
    history = selectors.person_history(nation, person, limit=HISTORY_LIMIT + 1)
    entries = [_history_entry(person, entry, is_admin) for entry in history[:HISTORY_LIMIT]]
    context = {
        "section": "people",
        "person": person,
        "groups": person_fields.profile_groups(person),
        "tags": tag_selectors.tags_list(nation)
        .filter(taggings__person=person)
        .select_related("shared_from"),
        "history": entries,
        "history_more": len(history) > HISTORY_LIMIT,
        "history_limit": HISTORY_LIMIT,
        "is_admin": is_admin,
    }
    return render(request, "web/people/detail.html", context)


def _history_entry(person: Person, entry: dict[str, Any], is_admin: bool) -> dict[str, Any]:
    spec = catalog.BY_NAME.get(entry["field"])
    restorable = (
        is_admin
        and spec is not None
        and entry["kind"] != "create"
        and not values.same(values.read(person, spec.name), entry["old"])
    )
    return {
        **entry,
        "label": person_fields.field_label(entry["field"]),
        "old_text": person_fields.display_text(spec, entry["old"]),
        "new_text": person_fields.display_text(spec, entry["new"]),
        "source_label": person_fields.source_label(entry["source"]),
        "restorable": restorable,
    }


@panel_view
@require_http_methods(["GET", "POST"])
def person_edit(request: PanelRequest, person_id: int) -> HttpResponse:
    nation = nation_of(request)
    person = selectors.access_person_by_id(nation, person_id)
    initial = person_fields.initial_values(person)
    flags = {name: getattr(person, name) for name in person_fields.FLAG_FIELDS}
    if request.method != "POST":
        return _render_form(request, person, initial, flags)

    posted = person_fields.posted_values(request.POST, initial)
    changes = person_fields.changed_values(initial, posted)
    posted_flags = person_fields.posted_flags(request.POST) or flags
    actor = Actor.for_user(request.user)
    try:
        if changes:
            services.person_update(nation=nation, actor=actor, person=person, changes=changes)
    except (ValidationFailed, Conflict) as exc:
        return _render_form(request, person, posted, posted_flags, exc, status=422)
    flag_changes = {k: v for k, v in posted_flags.items() if v != flags[k]}
    if flag_changes:
        services.person_set_status(nation=nation, actor=actor, person=person, **flag_changes)
    if changes or flag_changes:
        messages.success(request, f"Saved changes to {person}.")
    else:
        messages.info(request, "Nothing changed.")
    return HttpResponseRedirect(reverse("web:person", args=[person.pk]))


@panel_view
@require_http_methods(["GET", "POST"])
def person_new(request: PanelRequest) -> HttpResponse:
    nation = nation_of(request)
    initial = person_fields.initial_values(None)
    flags = dict.fromkeys(person_fields.FLAG_FIELDS, False)
    if request.method != "POST":
        return _render_form(request, None, initial, flags)

    posted = person_fields.posted_values(request.POST, initial)
    changes = person_fields.changed_values(initial, posted)
    posted_flags = person_fields.posted_flags(request.POST) or flags
    if not changes:
        exc = ValidationFailed("Fill in at least one field, such as a name or an email.")
        return _render_form(request, None, posted, posted_flags, exc, status=422)
    try:
        person = services.person_create(
            nation=nation,
            actor=Actor.for_user(request.user),
            values_in=changes,
            # Unticked leaves it to the support level (SPEC §2.2) rather than forcing "no".
            is_supporter=True if posted_flags["is_supporter"] else None,
            is_prospect=posted_flags["is_prospect"],
        )
    except (ValidationFailed, Conflict) as exc:
        return _render_form(request, None, posted, posted_flags, exc, status=422)
    messages.success(request, f"Created {person}.")
    return HttpResponseRedirect(reverse("web:person", args=[person.pk]))


def _render_form(
    request: HttpRequest,
    person: Person | None,
    current: dict[str, person_fields.FormValue],
    flags: dict[str, bool],
    error: ValidationFailed | Conflict | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    errors = error.errors if error else {}
    groups = person_fields.form_groups(current, errors)
    # Errors the form has no input for (rare) still need saying.
    unplaced = [msg for name, msg in errors.items() if name not in catalog.BY_NAME]
    context = {
        "section": "people",
        "person": person,
        "groups": groups,
        "flags": flags,
        "flags_marker": person_fields.FLAGS_MARKER,
        "error": error.detail if error else "",
        "field_errors": [(name, msg) for name, msg in errors.items() if name in catalog.BY_NAME],
        "unplaced_errors": unplaced,
    }
    return render(request, "web/people/form.html", context, status=status)


@panel_view
@require_POST
def person_restore(request: PanelRequest, person_id: int) -> HttpResponse:
    nation = nation_of(request)
    person = selectors.access_person_by_id(nation, person_id)
    field = request.POST.get("field", "")
    try:
        change_id = int(request.POST.get("change_id", ""))
    except ValueError:
        raise NotFound("That change is not in this profile's history.") from None
    change = services.person_restore_value(
        nation=nation,
        actor=Actor.for_user(request.user),
        person=person,
        change_id=change_id,
        field=field,
    )
    label = person_fields.field_label(field)
    if change is None:
        messages.info(request, f"{label} already has that value.")
    else:
        messages.success(request, f"Restored the earlier value of {label}.")
    return HttpResponseRedirect(reverse("web:person", args=[person.pk]) + "#history")


@panel_view
@require_POST
def person_tag_add(request: PanelRequest, person_id: int) -> HttpResponse:
    nation = nation_of(request)
    person = selectors.access_person_by_id(nation, person_id)
    name = request.POST.get("name", "")
    added = tag_services.tag_apply(
        nation=nation, actor=Actor.for_user(request.user), person=person, name=name
    )
    shown = " ".join(name.split())
    if added:
        messages.success(request, f"Tagged {person} with {shown}.")
    else:
        messages.info(request, f"{person} already has the tag {shown}.")
    return HttpResponseRedirect(reverse("web:person", args=[person.pk]))


@panel_view
@require_POST
def person_tag_remove(request: PanelRequest, person_id: int) -> HttpResponse:
    nation = nation_of(request)
    person = selectors.access_person_by_id(nation, person_id)
    name = request.POST.get("name", "")
    tag_services.tag_remove(
        nation=nation, actor=Actor.for_user(request.user), person=person, name=name
    )
    messages.success(request, f"Removed the tag {' '.join(name.split())} from {person}.")
    return HttpResponseRedirect(reverse("web:person", args=[person.pk]))
