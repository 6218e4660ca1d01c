"""Domain errors: what services raise, and what the API and the control panel turn into answers.

Each carries a message a person can act on. The HTTP status lives here so that the API and the
views map errors the same way (SPEC §9.1).
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class ValidationFailed(DomainError):
    """Input that cannot be stored as given (bad value, unknown field)."""

    status_code = 422


class Conflict(DomainError):
    """Input that clashes with stored data: an email another profile holds, a shared tag."""

    status_code = 409


class NotAllowed(DomainError):
    """The actor's role or the nation's plan does not allow this action."""

    status_code = 403


class NotFound(DomainError):
    """Missing, or belonging to another nation: the two must be indistinguishable."""

    status_code = 404
