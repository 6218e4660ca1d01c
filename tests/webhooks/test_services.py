"""Endpoints are an admin's business in their own nation, checked in the services themselves."""

from __future__ import annotations

import pytest

from tagshare.errors import NotAllowed, NotFound, ValidationFailed
from tagshare.nations.actors import Actor
from tagshare.webhooks import selectors, services
from tagshare.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
URL = "https://hooks.example.org/tagshare"


def test_an_admin_adds_an_endpoint_with_a_fresh_secret(nation, admin):
    one = services.webhook_create(nation=nation, actor=Actor.for_user(admin), url=URL)
    two = services.webhook_create(
        nation=nation, actor=Actor.for_user(admin), url=URL, event_types=["field.synced"]
    )
    assert one.secret.startswith("whsec_") and len(one.secret) > 40
    assert one.secret != two.secret
    assert (one.event_types, two.event_types) == ([], ["field.synced"])
    assert one.created_by == admin


def test_staff_are_refused_by_the_service(nation, staff, admin):
    endpoint = services.webhook_create(nation=nation, actor=Actor.for_user(admin), url=URL)
    actor = Actor.for_user(staff)
    with pytest.raises(NotAllowed, match="admins"):
        services.webhook_create(nation=nation, actor=actor, url=URL)
    with pytest.raises(NotAllowed):
        selectors.webhooks_list(nation=nation, actor=actor)
    with pytest.raises(NotAllowed):
        selectors.webhook_deliveries(nation=nation, actor=actor, endpoint=endpoint)
    with pytest.raises(NotAllowed):
        services.webhook_test(nation=nation, actor=actor, endpoint=endpoint)
    with pytest.raises(NotAllowed):
        services.webhook_delete(nation=nation, actor=actor, endpoint=endpoint)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.exists()


def test_another_nations_endpoint_looks_missing(nation, admin, other_nation, other_admin):
    endpoint = services.webhook_create(nation=nation, actor=Actor.for_user(admin), url=URL)
    with pytest.raises(NotFound):
        services.access_webhook_by_id(other_nation, endpoint.pk)
    with pytest.raises(NotFound):
        services.webhook_delete(
            nation=other_nation, actor=Actor.for_user(other_admin), endpoint=endpoint
        )
    with pytest.raises(NotFound):  # acting in a nation that is not the user's own
        services.webhook_create(nation=nation, actor=Actor.for_user(other_admin), url=URL)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example.org/x", "hooks.example.org/x", "javascript:alert(1)", "", "http://"],
)
def test_only_http_urls_are_accepted(nation, url):
    with pytest.raises(ValidationFailed, match="http"):
        services.webhook_create(nation=nation, actor=Actor.system(), url=url)


def test_unknown_event_types_are_refused_with_the_known_ones_named(nation):
    with pytest.raises(ValidationFailed) as caught:
        services.webhook_create(
            nation=nation, actor=Actor.system(), url=URL, event_types=["share.exploded"]
        )
    assert "share.exploded" in caught.value.detail and "profile.linked" in caught.value.detail


def test_a_test_ping_reaches_its_endpoint_only_even_when_it_filters_events(
    nation, admin, hook, inbox
):
    from django.utils import timezone

    from tagshare.webhooks.deliver import deliver_due

    endpoint = hook(nation, "share.stopped", suffix="/one")
    hook(nation, suffix="/other")
    services.webhook_test(nation=nation, actor=Actor.for_user(admin), endpoint=endpoint)
    deliver_due(now=timezone.now())
    assert inbox.events("/alpha/one") == ["ping"]
    assert inbox.events("/alpha/other") == []


def test_removing_an_endpoint_drops_its_pending_deliveries(nation, admin, hook, inbox):
    from django.db import transaction
    from django.utils import timezone

    from tagshare.webhooks.deliver import deliver_due

    endpoint = hook(nation)
    with transaction.atomic():
        services.webhook_enqueue(nation.pk, "share.accepted", {})
    services.webhook_delete(nation=nation, actor=Actor.for_user(admin), endpoint=endpoint)
    assert deliver_due(now=timezone.now()) == 0
    assert inbox.received == []
