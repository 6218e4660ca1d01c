"""Bearer-token auth: a token belongs to one user, who acts through the API in their own nation."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.security import HttpBearer

from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation, User
from tagshare.nations.services import token_authenticate
from tagshare.people.models import Source


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; a missing or bad token is a 401 (see api.errors)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return token_authenticate(token.strip())


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's nation scopes every read and write of the request."""

    nation: Nation
    actor: Actor


def caller(request: HttpRequest) -> Caller:
    user: User = request.auth  # type: ignore[attr-defined]
    assert user.nation is not None  # token_authenticate refuses users without a nation
    return Caller(nation=user.nation, actor=Actor.for_user(user, via=Source.API))
