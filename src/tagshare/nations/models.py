"""Nations, their control-panel users and API tokens (SPEC §1)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models


class Plan(models.TextChoices):
    LEADER = "leader", "Leader"
    ORGANIZATION = "organization", "Organization"
    ENTERPRISE = "enterprise", "Enterprise"
    NETWORK = "network", "Network"


SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
slug_validator = RegexValidator(
    SLUG_PATTERN,
    "A nation slug uses lowercase letters, digits and inner hyphens (at most 64 characters).",
)


class Nation(models.Model):
    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.ORGANIZATION)
    default_region = models.CharField(
        max_length=2, default="US", help_text="ISO country code used to read phone numbers."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def can(self, capability: str) -> bool:
        return settings.PLAN_CAPABILITIES.get(self.plan, {}).get(capability, False)


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    STAFF = "staff", "Staff"


class User(AbstractUser):
    """A control-panel user. Belongs to exactly one nation; signs in with nation + email.

    `username` is internal (`<slug>/<email>`) so that one email may run several nations as
    separate accounts.
    """

    nation = models.ForeignKey(
        Nation, on_delete=models.CASCADE, related_name="users", null=True, blank=True
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["nation", "email"], name="user_email_unique_per_nation")
        ]

    @property
    def is_nation_admin(self) -> bool:
        return self.role == Role.ADMIN


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.email})"
