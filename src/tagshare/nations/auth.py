"""Control-panel sign-in: a nation slug, an email and a password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from tagshare.nations.models import User


class NationEmailBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        nation: str | None = None,
        email: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if nation and email:
            username = f"{nation.strip().lower()}/{email.strip().lower()}"
        if not username or password is None:
            return None
        user = User.objects.filter(username=username).select_related("nation").first()
        if user is None:
            User().set_password(password)  # same work either way: no timing oracle on emails
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
