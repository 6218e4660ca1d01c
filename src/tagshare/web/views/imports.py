"""Imports in the panel (SPEC §8, §9): upload a CSV file, then watch its job to the end.

The upload only queues the job (imports.runner runs it in the background) and sends the user to
the job's page, which polls its status while it runs: the counts, then the rejected rows by row
number and the ambiguous rows with their candidates. The rules live in imports.services.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from tagshare.errors import DomainError
from tagshare.imports.models import ImportJob, ImportStatus
from tagshare.imports.progress import progress_read
from tagshare.imports.runner import import_enqueue
from tagshare.imports.services import access_import_by_id, import_create
from tagshare.imports.uploads import (
    check_size,
    declared_length,
    local_path,
    max_upload_bytes,
    size_text,
    upload_name,
)
from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation
from tagshare.web.guards import PanelRequest, nation_of, panel_view

RECENT = 50  # jobs listed under the form, newest first
RUNNING = (ImportStatus.QUEUED, ImportStatus.RUNNING)


@panel_view
@require_http_methods(["GET", "POST"])
def imports_list(request: PanelRequest) -> HttpResponse:
    nation = nation_of(request)
    if request.method == "GET":
        return _render_list(request, nation)
    limit = max_upload_bytes()
    if declared_length(request) > limit:
        # From the header: the file in it need not be looked at. (The body itself was read by
        # the CSRF check and panel_view's, which the panel cannot skip as the API does.)
        return _render_list(
            request,
            nation,
            error=f"The file is larger than {size_text(limit)}. Split it into smaller files and "
            "import each of them.",
            status=413,
        )
    uploads = request.FILES.getlist("file")  # (a malformed body got panel_view's 400)
    overwrite = request.POST.get("overwrite") == "on"
    tags_text = request.POST.get("tags", "")
    form = {"overwrite": overwrite, "tags": tags_text}
    if len(uploads) != 1:
        message = "Choose a CSV file to import." if not uploads else "Choose one file per import."
        return _render_list(request, nation, error=message, form=form, status=422)
    upload = uploads[0]
    tags = [t.strip() for t in tags_text.split(",") if t.strip()]
    try:
        check_size(upload)
        with tempfile.TemporaryDirectory(prefix="tagshare-upload-") as folder:
            job = import_create(
                nation=nation,
                actor=Actor.importer(request.user),
                source=local_path(upload, Path(folder)),
                filename=upload_name(upload),
                overwrite=overwrite,
                tags=tags,
                background=True,
            )
    except DomainError as exc:
        return _render_list(request, nation, error=exc.detail, form=form, status=exc.status_code)
    import_enqueue(job)
    return HttpResponseRedirect(reverse("web:import", args=[job.pk]))


@panel_view
@require_GET
def import_detail(request: PanelRequest, import_id: int) -> HttpResponse:
    job = access_import_by_id(nation_of(request), import_id)
    return render(request, "web/imports/detail.html", {"section": "imports", **_job_context(job)})


@panel_view
@require_GET
def import_status(request: PanelRequest, import_id: int) -> HttpResponse:
    """The job's section of its page: what the page polls while the job is queued or running."""
    job = access_import_by_id(nation_of(request), import_id)
    return render(request, "web/imports/_job.html", _job_context(job))


def _render_list(
    request: PanelRequest,
    nation: Nation,
    *,
    error: str = "",
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    jobs = list(ImportJob.objects.filter(nation=nation).select_related("created_by")[:RECENT])
    context = {
        "section": "imports",
        "jobs": jobs,
        "error": error,
        "form": form or {"overwrite": False, "tags": ""},
        "max_size": size_text(max_upload_bytes()),
    }
    return render(request, "web/imports/list.html", context, status=status)


def _job_context(job: ImportJob) -> dict[str, Any]:
    running = job.status in RUNNING
    progress = progress_read(job.pk) if running else None
    percent = None
    if progress and progress["total"]:
        percent = min(100, round(100 * progress["done"] / progress["total"]))
    return {
        "job": job,
        "running": running,
        "progress": progress,
        "percent": percent,
    }
