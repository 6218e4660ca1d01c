"""URL wiring: the control panel at /, the REST API at /api/v1."""

from django.urls import include, path

from tagshare.api.router import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("api/", include("tagshare.api.fallback")),
    path("", include("tagshare.web.urls")),
]
