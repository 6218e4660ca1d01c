"""What every panel view shares: sign-in, the user's nation, domain errors turned into pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from tagshare.errors import DomainError, NotAllowed, NotFound
from tagshare.nations.models import Nation, User

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails


class PanelRequest(HttpRequest):
    """A signed-in request as the views see it (for type checkers only)."""

    user: User
    htmx: HtmxDetails


View = Callable[..., HttpResponse]


def panel_view(view: View) -> View:
    """Sign-in required (an htmx request is sent to sign-in as a whole page); a NUL character in
    the input -> 400 page; NotFound -> 404 page, NotAllowed -> 403 page, other domain errors ->
    a message on the page the user came from. A service's refusal is never a 500."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _to_sign_in(request)
        if getattr(request.user, "nation_id", None) is None:
            # Accounts outside any nation (e.g. a bare superuser) have no panel to see.
            raise PermissionDenied("This account does not belong to a nation.")
        refused = refuse_nul(request)
        if refused is not None:
            return refused
        try:
            response = view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.detail) from exc
        except NotAllowed as exc:
            raise PermissionDenied(exc.detail) from exc
        except DomainError as exc:
            messages.error(request, exc.detail)
            response = HttpResponseRedirect(back_url(request))
        # People's details must not linger in shared caches or after signing out.
        add_never_cache_headers(response)
        return response

    return wrapper


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    htmx = getattr(request, "htmx", None)
    if htmx:
        # A live search after the session ended: send the whole page to sign-in, and back to
        # the page the user is on (not the fragment URL) afterwards.
        back = htmx.current_url_abs_path or "/"
        return HttpResponseClientRedirect(redirect_to_login(back)["Location"])
    return redirect_to_login(request.get_full_path())


def refuse_nul(request: HttpRequest) -> HttpResponse | None:
    """A 400 page if a query, form value or uploaded file name holds a NUL character.

    PostgreSQL text cannot hold NUL: searched or stored, it is a database error (a 500). The
    API refuses it in api.payload; the panel's views share this one check instead of each
    cleaning every value."""
    try:
        fields = [*request.GET.lists()]
        if request.method == "POST":
            fields += request.POST.lists()
            fields += [(key, [f.name or "" for f in files]) for key, files in request.FILES.lists()]
    except MultiPartParserError:  # as the import view would say
        return bad_request(request, "The upload could not be read; try again.")
    for key, values in fields:
        if "\x00" in key or any("\x00" in value for value in values):
            name = key.replace("\x00", "")
            return bad_request(
                request,
                f"The value of '{name}' contains a NUL (\\u0000) character, which Tagshare "
                "cannot store or search. Remove it and try again.",
            )
    return None


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "400.html", {"message": message}, status=400)


def nation_of(request: HttpRequest) -> Nation:
    nation = cast(PanelRequest, request).user.nation
    assert nation is not None  # panel_view let the request through
    return nation


def back_url(request: HttpRequest, fallback: str = "/") -> str:
    """Where to send the user after a refused POST: the page they were on, if it is ours."""
    candidate = request.POST.get("next") or request.headers.get("Referer") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
