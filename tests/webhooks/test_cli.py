"""`tagshare webhooks list|add|remove --nation SLUG`."""

from __future__ import annotations

import io
import shlex

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tagshare.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def run(command: str) -> str:
    out = io.StringIO()
    call_command(*shlex.split(command), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_add_list_and_remove(nation, other_nation):
    assert "No webhooks in alpha" in run("webhooks list --nation alpha")
    out = run(
        "webhooks add https://hooks.example.org/a --nation alpha "
        "--event share.accepted --event field.synced"
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in out  # shown once, here
    assert endpoint.event_types == ["share.accepted", "field.synced"]
    listing = run("webhooks list --nation alpha")
    assert "https://hooks.example.org/a" in listing and "share.accepted" in listing
    assert endpoint.secret not in listing
    assert "No webhooks in beta" in run("webhooks list --nation beta")
    with pytest.raises(CommandError, match="not found"):
        run(f"webhooks remove {endpoint.pk} --nation beta")
    assert f"Removed webhook {endpoint.pk}" in run(f"webhooks remove {endpoint.pk} --nation alpha")
    assert not WebhookEndpoint.objects.exists()


def test_a_bad_url_is_a_one_line_error(nation):
    with pytest.raises(CommandError, match="http"):
        run("webhooks add ftp://x.example --nation alpha")
