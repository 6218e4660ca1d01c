"""An uploaded CSV file, as the API and the control panel receive it: its size limit, its
name as kept on the job, and a path to its bytes for `import_create`."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from tagshare.errors import DomainError

# A million-row file with every column is about this size; settings may lower or raise it.
DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


class UploadTooLarge(DomainError):
    status_code = 413


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def declared_length(request: HttpRequest) -> int:
    """The body's length as its header declares it (0 when absent or not a number)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def check_size(upload: UploadedFile) -> None:
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise UploadTooLarge(
            f"The file is larger than {size_text(limit)}; split it into smaller files."
        )


def upload_name(upload: UploadedFile) -> str:
    """The file's name as the job shows it: no control characters, at most 255 characters."""
    return _UNPRINTABLE.sub("", upload.name or "")[-255:] or "upload.csv"


def local_path(upload: UploadedFile, folder: Path) -> Path:
    """A path to the uploaded bytes: Django's own temporary file when it made one."""
    temporary = getattr(upload, "temporary_file_path", None)
    if temporary is not None:
        return Path(temporary())
    path = folder / "upload.csv"
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path
