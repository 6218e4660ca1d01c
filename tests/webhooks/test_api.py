"""`/api/v1/webhooks`: the secret shown once, deliveries, test pings, and tenant isolation."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tagshare.webhooks.deliver import deliver_due
from tagshare.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_an_admin_adds_lists_tests_and_removes_a_webhook(admin_api, inbox):
    created = admin_api.post(
        "/webhooks", {"url": f"{inbox.url}/alpha", "event_types": ["share.accepted"]}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["share.accepted"]
    assert body["created_by"] == "admin@alpha.example"

    listed = admin_api.get("/webhooks").json()
    assert [w["id"] for w in listed["results"]] == [body["id"]]
    assert "secret" not in listed["results"][0]  # shown once, at creation
    assert body["secret"] not in admin_api.get("/webhooks").content.decode()

    ping = admin_api.post(f"/webhooks/{body['id']}/test")
    assert ping.status_code == 202 and ping.json()["event_type"] == "ping"
    deliver_due(now=timezone.now())
    [got] = inbox.at("/alpha")
    assert got.event == "ping" and got.json["data"]["webhook_id"] == body["id"]
    [delivery] = admin_api.get(f"/webhooks/{body['id']}/deliveries").json()["results"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        1,
        200,
    )
    assert admin_api.get(f"/webhooks/{body['id']}/deliveries?status=failed").json()["results"] == []

    assert admin_api.delete(f"/webhooks/{body['id']}").status_code == 204
    assert admin_api.get("/webhooks").json()["results"] == []


def test_another_nations_webhook_is_a_404_and_stays(admin_api, other_api):
    theirs = admin_api.post("/webhooks", {"url": "https://hooks.example.org/a"}).json()["id"]
    assert_error(other_api.get(f"/webhooks/{theirs}/deliveries"), 404, "not found")
    assert_error(other_api.post(f"/webhooks/{theirs}/test"), 404, "not found")
    assert_error(other_api.delete(f"/webhooks/{theirs}"), 404, "not found")
    assert other_api.get("/webhooks").json()["results"] == []
    assert WebhookEndpoint.objects.filter(pk=theirs).exists()
    assert not WebhookDelivery.objects.exists()


def test_staff_get_403(staff_api):
    assert_error(staff_api.get("/webhooks"), 403, "admins")
    assert_error(staff_api.post("/webhooks", {"url": "https://hooks.example.org/a"}), 403, "admins")


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"url": "ftp://hooks.example.org/a"}, "http"),
        ({"url": "https://hooks.example.org/a", "event_types": ["nope"]}, ""),
        ({"url": "https://hooks.example.org/a", "secret": "mine"}, ""),
    ],
)
def test_bad_input_is_a_422(admin_api, body, word):
    response = admin_api.post("/webhooks", body)
    assert_error(response, 422, word)
    assert not WebhookEndpoint.objects.exists()
