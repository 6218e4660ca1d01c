"""Sign in (nation slug + email + password) and sign out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from tagshare.web.guards import refuse_nul

# One message whatever was wrong, so the page does not reveal which nations or emails exist.
WRONG_CREDENTIALS = (
    "Those sign-in details don't match an account. Check the nation, email and password."
)


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return "/"


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    # Not a panel_view (no sign-in needed), but the nation and email are looked up all the same.
    refused = refuse_nul(request)
    if refused is not None:
        return refused
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = {"nation": "", "email": ""}
    error = ""
    if request.method == "POST":
        form = {
            "nation": request.POST.get("nation", "").strip(),
            "email": request.POST.get("email", "").strip(),
        }
        password = request.POST.get("password", "")
        user = None
        if form["nation"] and form["email"] and password:
            user = authenticate(
                request, nation=form["nation"], email=form["email"], password=password
            )
        if user is not None:
            login(request, user)
            return HttpResponseRedirect(_next_url(request))
        error = WRONG_CREDENTIALS
    return render(
        request,
        "web/login.html",
        {"form": form, "error": error, "next": _next_url(request)},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return HttpResponseRedirect("/login/")
