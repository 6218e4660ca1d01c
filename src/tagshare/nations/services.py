"""Writes for nations, users and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tagshare.errors import Conflict, NotFound, ValidationFailed
from tagshare.nations.models import ApiToken, Nation, Plan, Role, User, slug_validator

TOKEN_PREFIX = "tgs_"


def nation_create(
    *, slug: str, name: str, plan: str = Plan.ORGANIZATION, default_region: str = "US"
) -> Nation:
    slug = slug.strip()
    try:
        slug_validator(slug)
    except DjangoValidationError as exc:
        raise ValidationFailed(f"Invalid slug {slug!r}: {exc.messages[0]}") from None
    if plan not in Plan.values:
        raise ValidationFailed(f"Unknown plan {plan!r}; choose one of {', '.join(Plan.values)}.")
    region = default_region.strip().upper()
    if len(region) != 2 or not region.isalpha():
        raise ValidationFailed(
            f"Default region {default_region!r} must be a 2-letter country code."
        )
    if not name.strip():
        raise ValidationFailed("A nation needs a name.")
    try:
        with transaction.atomic():
            return Nation.objects.create(
                slug=slug, name=name.strip(), plan=plan, default_region=region
            )
    except IntegrityError:
        raise Conflict(f"A nation with slug {slug!r} already exists.") from None


def nation_by_slug(slug: str) -> Nation:
    nation = Nation.objects.filter(slug=slug.strip().lower()).first()
    if nation is None:
        raise NotFound(f"No nation with slug {slug!r}.")
    return nation


def user_create(
    *,
    nation: Nation,
    email: str,
    role: str = Role.STAFF,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationFailed(f"{email!r} is not an email address.")
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}; choose admin or staff.")
    if User.objects.filter(nation=nation, email=email).exists():
        raise Conflict(f"{email} is already a user of {nation.slug}.")
    user = User(
        username=f"{nation.slug}/{email}",
        email=email,
        nation=nation,
        role=role,
        first_name=first_name,
        last_name=last_name,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def user_by_email(*, nation: Nation, email: str) -> User:
    user = User.objects.filter(nation=nation, email=email.strip().lower()).first()
    if user is None:
        raise NotFound(f"No user {email!r} in nation {nation.slug}.")
    return user


def _digest(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user: User, name: str = "") -> str:
    """Create an API token and return it; only its digest is stored, so it is shown once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=_digest(raw), prefix=raw[:10], name=name)
    return raw


def token_authenticate(raw: str) -> User | None:
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__nation")
        .filter(digest=_digest(raw.strip()))
        .first()
    )
    if token is None or not token.user.is_active or token.user.nation_id is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
