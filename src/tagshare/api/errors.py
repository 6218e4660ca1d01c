"""Every API error answers `{"detail": ..., "errors": {...}}` (SPEC §9.1): the handlers."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tagshare.errors import DomainError

logger = logging.getLogger("tagshare.api")

TOKEN_HELP = (
    "Send an API token as 'Authorization: Bearer <token>'. An admin creates one with "
    "`tagshare token create --nation SLUG --email E`."
)


class BadRequest(DomainError):
    """Input the API cannot even read: a body that is not JSON, a tampered cursor."""

    status_code = 400


def error_body(detail: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return body


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's defaults so that no answer is ever a traceback or a bare list of errors."""

    def respond(
        request: HttpRequest, status: int, detail: str, errors: dict[str, str] | None = None
    ) -> HttpResponse:
        return api.create_response(request, error_body(detail, errors), status=status)

    def domain_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, exc.status_code, exc.detail, exc.errors)

    def validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
        errors = {_field_name(e.get("loc", ())): _message(e) for e in exc.errors}
        detail = "; ".join(f"{field}: {msg}" for field, msg in errors.items())
        return respond(request, 422, f"Invalid input — {detail}", errors)

    def authentication_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if request.headers.get("Authorization"):
            detail = (
                "The API token is not valid: it may be mistyped, revoked, or belong to a "
                f"deactivated user. {TOKEN_HELP}"
            )
        else:
            detail = f"This API needs a token. {TOKEN_HELP}"
        response = respond(request, 401, detail)
        response["WWW-Authenticate"] = 'Bearer realm="tagshare"'
        return response

    def http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        # ninja wraps body-parsing failures; the parser's own message says what to fix.
        if isinstance(exc.__cause__, DomainError):
            return domain_error(request, exc.__cause__)
        return respond(request, exc.status_code, str(exc))

    def not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 404, "Not found.")

    def too_big(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 413, "The request body is too large; send fewer or smaller values.")

    def suspicious(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 400, f"The request was refused: {exc}")

    def data_error(request: HttpRequest, exc: Any) -> HttpResponse:
        # The database refused a value the checks above it let through (e.g. a NUL byte).
        logger.warning("API input refused by the database: %s", exc)
        return respond(request, 400, f"A value in the request cannot be stored or searched: {exc}")

    def unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return respond(
            request,
            500,
            "Something went wrong on the server; the error was logged. Try again, and report it "
            "to the nation's admin if it keeps happening.",
        )

    api.add_exception_handler(DomainError, domain_error)
    api.add_exception_handler(NinjaValidationError, validation_error)
    api.add_exception_handler(AuthenticationError, authentication_error)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(RequestDataTooBig, too_big)
    api.add_exception_handler(SuspiciousOperation, suspicious)
    api.add_exception_handler(DataError, data_error)
    api.add_exception_handler(Exception, unexpected)


def _field_name(loc: Any) -> str:
    """`("query", "limit")` -> `limit`; `("body", "payload", "tags", 0)` -> `tags.0`.

    A missing body altogether is `("body", "payload")` -> `body`.
    """
    parts = [str(p) for p in loc]
    source, rest = (parts[0], parts[1:]) if parts else ("", [])
    if source == "body":
        rest = rest[1:]  # the view's parameter name, which the client never sees
    return ".".join(rest) or source or "request"


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "missing":
        return "is required"
    if error.get("type") == "model_attributes_type":
        return "must be a JSON object"
    return str(error.get("msg", "is not valid"))
