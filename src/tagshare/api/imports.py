"""`/imports`: upload a CSV file of people and read the import job's record — thin over imports."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import Query, Router, Status

from tagshare.api.auth import caller
from tagshare.api.errors import BadRequest
from tagshare.api.pagination import PageQuery, keyset_page
from tagshare.api.schemas import ImportJobOut, ImportsPage, responses
from tagshare.errors import NotFound, ValidationFailed
from tagshare.imports.models import ImportJob
from tagshare.imports.services import access_import_by_id, import_create, import_run
from tagshare.imports.uploads import (
    DEFAULT_MAX_UPLOAD_BYTES,
    UploadTooLarge,
    check_size,
    declared_length,
    local_path,
    max_upload_bytes,
    size_text,
    upload_name,
)
from tagshare.nations.actors import Actor

router = Router(tags=["imports"])

_BIGINT = 2**63 - 1
FORM_FIELDS = ("overwrite", "tags")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}

_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": (
                                "The CSV file, UTF-8 (a byte-order mark is fine), a header row "
                                "of catalog field names (GET /fields; addresses as "
                                "home_address1, home_city, …; a `tag_list` column of "
                                "comma-separated tags)."
                            ),
                        },
                        "overwrite": {
                            "type": "boolean",
                            "default": False,
                            "description": (
                                "true: matched profiles take the file's non-blank values; "
                                "false: only their blank fields are filled. Addresses in the "
                                "file always replace the stored ones; empty cells never clear."
                            ),
                        },
                        "tags": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": (
                                "Tags added to every imported row: repeat the field, or send "
                                "one comma-separated value."
                            ),
                        },
                    },
                }
            }
        },
    }
}


def job_json(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "filename": job.filename,
        "status": job.status,
        "detail": job.detail,
        "overwrite": job.overwrite,
        "tags": list(job.tags),
        "counts": {
            "total_rows": job.total_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "ambiguous": job.ambiguous_count,
            "rejected": job.rejected_count,
        },
        "errors": list(job.errors),
        "ambiguous": list(job.ambiguous),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


@router.post(
    "",
    response=responses({201: ImportJobOut}, 400, 413, 422),
    openapi_extra=_UPLOAD_DOC,
    summary="Import a CSV file of people",
    description=(
        "Send `multipart/form-data` with the CSV in a `file` field (at most "
        f"{size_text(DEFAULT_MAX_UPLOAD_BYTES)}), and optionally `overwrite` and `tags`. Each row is "
        "matched like PUT /people/push (SPEC §4): a match is updated, no match creates a "
        "profile, an ambiguous row is listed and left alone. Every row needs an email, a unique "
        "ID, or a first and last name with a birthdate or phone.\n\n"
        "For now the job runs within the request: the answer (201) is the finished job. Its "
        "`status` says how it went — `done` (every valid row imported; rejected rows are listed "
        "in `errors` by row number), `rejected` (the file as a whole could not be read, e.g. not "
        "UTF-8 or an unknown column; nothing imported; `detail` says why) or `failed`. "
        "GET /imports/{id} is the job's record and keeps answering the same."
    ),
)
def imports_create(request: HttpRequest) -> Status[dict[str, Any]]:
    c = caller(request)
    limit = max_upload_bytes()
    if declared_length(request) > limit:
        # Refused before Django reads the body, so an oversized file is never written to disk.
        raise UploadTooLarge(
            f"The upload is larger than {size_text(limit)}. Split the file into smaller files and "
            "import each of them."
        )
    upload, overwrite, tags = _read_form(request)
    check_size(upload)
    filename = upload_name(upload)
    assert c.actor.user is not None  # an API caller is always a user
    # Source "import" in history, like the command line and the control panel.
    actor = Actor.importer(c.actor.user)
    with tempfile.TemporaryDirectory(prefix="tagshare-upload-") as folder:
        source = local_path(upload, Path(folder))
        job = import_create(
            nation=c.nation,
            actor=actor,
            source=source,
            filename=filename,
            overwrite=overwrite,
            tags=tags,
        )
    job = import_run(job, actor=actor)
    return Status(201, job_json(job))


@router.get("", response=responses({200: ImportsPage}, 400, 422), summary="List imports")
def imports_index(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    """This nation's import jobs, newest first; follow `next` for older ones."""
    c = caller(request)
    qs = ImportJob.objects.filter(nation=c.nation)
    rows, next_page = keyset_page(request, qs, page=query, newest_first=True)
    return {"results": [job_json(job) for job in rows], "next": next_page}


@router.get("/{import_id}", response=responses({200: ImportJobOut}, 404, 422), summary="An import")
def imports_show(request: HttpRequest, import_id: int) -> dict[str, Any]:
    """The job's status, counts, rejected rows (by row number) and ambiguous rows."""
    c = caller(request)
    if not 0 < import_id <= _BIGINT:
        raise NotFound(f"Import {import_id} not found.")
    return job_json(access_import_by_id(c.nation, import_id))


def _read_form(request: HttpRequest) -> tuple[UploadedFile, bool, list[str]]:
    """The uploaded file and the options; unknown fields are refused rather than ignored."""
    try:
        files, form = request.FILES, request.POST
    except MultiPartParserError as exc:
        raise BadRequest(
            f"The upload cannot be read as multipart/form-data ({exc}). Send the file as a form "
            "field named `file`, e.g. `curl -F file=@people.csv`."
        ) from None
    errors: dict[str, str] = {}
    unknown = sorted((set(form) - {*FORM_FIELDS, "file"}) | (set(files) - {"file"}))
    for name in unknown:
        errors[name] = f"Unknown form field {name!r}; the fields are file, overwrite and tags."
    uploads = files.getlist("file")
    if not uploads and "file" in form:
        errors["file"] = (
            "The `file` field holds text, not a file: upload the CSV file itself, e.g. "
            "`curl -F file=@people.csv` (note the @)."
        )
    elif not uploads:
        errors["file"] = (
            "The CSV file is missing: send it as multipart/form-data in a field named `file`, "
            "e.g. `curl -F file=@people.csv`."
        )
    elif len(uploads) > 1:
        errors["file"] = "Send one file per import."
    overwrite = False
    raw = form.getlist("overwrite")
    if len(raw) > 1:
        errors["overwrite"] = "Send overwrite once."
    elif raw:
        text = raw[0].strip().lower()
        if text not in _TRUE | _FALSE:
            errors["overwrite"] = f"Overwrite must be true or false, not {raw[0][:40]!r}."
        overwrite = text in _TRUE
    tags = [t.strip() for value in form.getlist("tags") for t in value.split(",") if t.strip()]
    if len(errors) == 1:
        raise ValidationFailed(next(iter(errors.values())), errors=errors)
    if errors:
        raise ValidationFailed(
            "The upload is not valid: " + " ".join(errors.values()), errors=errors
        )
    return uploads[0], overwrite, tags
