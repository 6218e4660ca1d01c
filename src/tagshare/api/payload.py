"""Reading request input: JSON bodies with messages a person can act on, and safe text params."""

from __future__ import annotations

import json
from typing import Annotated, Any

from django.http import HttpRequest
from ninja.parser import Parser
from pydantic import AfterValidator

from tagshare.api.errors import BadRequest
from tagshare.errors import ValidationFailed

MAX_NESTING = 32


def _no_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than as a database error.
    if "\x00" in text:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return text


# A query, path or body string that is safe to search or store.
Text = Annotated[str, AfterValidator(_no_nul)]


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise BadRequest(
            'The request body is empty; send a JSON object such as {"first_name": "Ada"}.'
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(
            f"The request body is not valid JSON ({exc}). Send a JSON object with "
            "'Content-Type: application/json'."
        ) from None
    _check_values(data, depth=0)
    return data


def _check_values(data: Any, *, depth: int) -> None:
    if depth > MAX_NESTING:
        raise BadRequest(f"The request body nests deeper than {MAX_NESTING} levels.")
    if isinstance(data, str):
        if "\x00" in data:
            raise BadRequest("Text in the request body must not contain NUL (\\u0000) characters.")
    elif isinstance(data, dict):
        for key, value in data.items():
            _check_values(key, depth=depth + 1)
            _check_values(value, depth=depth + 1)
    elif isinstance(data, list):
        for value in data:
            _check_values(value, depth=depth + 1)


_JSON_KINDS = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


class JsonParser(Parser):
    """ninja's body parser with the checks below; every body this API takes is a JSON object.

    ninja wraps a parser error in a 400 HttpError; api.errors answers with this error instead.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        return read_json_object(request)


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    data = parse_json(request.body)
    if not isinstance(data, dict):
        kind = _JSON_KINDS.get(type(data), "value")
        raise ValidationFailed(
            f"The request body must be a JSON object, not a JSON {kind}; /api/v1/docs shows the "
            "fields each route takes.",
            errors={"body": "must be a JSON object"},
        )
    return data
