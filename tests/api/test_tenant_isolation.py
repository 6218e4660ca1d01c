"""Generated walk over every registered API route (ARCHITECTURE rule 5).

The routes are read from the NinjaAPI itself, so a route added later is walked without editing
this file. Each route is called with path parameters naming nation alpha's records:
- as beta's admin or staff: every route with such a parameter answers 404 — never 403, 200, 500
  — and no route leaks or changes alpha's data. A share's "other nation" is one that neither
  sends nor receives it: alpha shares with gamma, and beta walks;
- anonymously: every route answers 401;
- as alpha's own users: no route answers 404 or a 5xx (proving the walk's URLs are real).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from tagshare.api.router import api
from tagshare.imports.models import ImportJob
from tagshare.imports.services import import_create, import_run
from tagshare.nations.actors import Actor
from tagshare.outbox.hlc import Version
from tagshare.people.models import Person, PersonChange
from tagshare.people.services import person_create
from tagshare.sharing.models import ReviewItem, ReviewStatus, ShareStatus, TagShare
from tagshare.sharing.reviews import Proposal, reviews_propose
from tagshare.sharing.services import share_accept, share_create
from tagshare.tags.services import tag_apply, tag_get_or_create
from tagshare.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from tagshare.webhooks.services import webhook_create
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1"
PARAM = re.compile(r"{(?:\w+:)?(\w+)}")
MARKER = "Alphaonly"
# One body for every write: valid for each route's own schema, so a 404 is never a 422 in disguise.
BODY = {"tags": ["walk"], "field": "first_name", "which": "old"}
# Routes whose body must name alpha's records (see AlphaWorld.body).
MATCHING_ROUTES = {("PUT", "/people/push"), ("PUT", "/people/add")}
REVIEW_ROUTES = {("POST", "/reviews/apply"), ("POST", "/reviews/skip")}
# Routes that refuse unknown keys get a body of their own, valid for them, so that what the walk
# sees is the tenant check (404) or the role check (403), not a 422.
ROUTE_BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/shares"): {"tag": "walk", "nations": "gamma"},
    ("PATCH", "/shares/{share_id}"): {"optional_fields": ["party"]},
    ("POST", "/shares/{share_id}/accept"): {"sync_option": "accept_all"},
    ("POST", "/shares/{share_id}/request"): {"optional_fields": ["party"]},
    ("POST", "/notifications/read"): {},
    ("POST", "/webhooks"): {"url": "https://hooks.example.org/walk"},
}
# Routes without a path parameter that only admins may use: a staff user's answer is 403.
ADMIN_ONLY_ROUTES = {
    ("POST", "/shares"),
    ("GET", "/notifications"),
    ("POST", "/notifications/read"),
    ("GET", "/reviews"),
    ("POST", "/reviews/apply"),
    ("POST", "/reviews/skip"),
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
}


def registered_routes() -> list[tuple[str, str]]:
    routes: list[tuple[str, str]] = []
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            full = re.sub("/+", "/", f"/{bound.prefix}/{path}").rstrip("/")
            for operation in view.operations:
                routes.extend((method, full) for method in operation.methods)
    return sorted(routes)


ROUTES = registered_routes()
ROUTE_IDS = [f"{method} {path}" for method, path in ROUTES]
DOC_PATHS = api.get_openapi_schema(path_prefix="/")["paths"]


def test_the_walk_sees_every_documented_route():
    documented = sorted(
        (method.upper(), path) for path, operations in DOC_PATHS.items() for method in operations
    )
    assert len(ROUTES) >= 12
    assert [(m, PARAM.sub(r"{\1}", p)) for m, p in ROUTES] == documented


@dataclass
class AlphaWorld:
    person: Person
    tag: str
    change_id: int
    email: str
    job: ImportJob
    share: TagShare
    review: ReviewItem
    webhook: WebhookEndpoint

    def fill(self, path: str) -> str:
        values = {
            "person_id": self.person.pk,
            "change_id": self.change_id,
            "tag": self.tag,
            "import_id": self.job.pk,
            "share_id": self.share.pk,
            "webhook_id": self.webhook.pk,
        }

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                pytest.fail(f"Teach the tenant walk how to fill {{{name}}} in {path}")
            return quote(str(values[name]), safe="")

        return PARAM.sub(value, path)

    def query(self, method: str, path: str) -> dict[str, str]:
        """The route's required query parameters, read from its OpenAPI description."""
        operation = DOC_PATHS[PARAM.sub(r"{\1}", path)][method.lower()]
        known = {"email": self.email}
        wanted = [
            p["name"]
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        ]
        for name in wanted:
            if name not in known:
                pytest.fail(f"Teach the tenant walk a value for ?{name}= on {method} {path}")
        return {name: known[name] for name in wanted}

    def body(self, method: str, path: str) -> dict[str, object]:
        """BODY, plus what routes that look records up by their body need to find alpha's."""
        if (method, path) in MATCHING_ROUTES:
            # Pushing alpha's email from another nation must create there, never reach alpha's.
            return {"email1": self.email}
        if (method, path) in REVIEW_ROUTES:
            # Alpha's pending item, by id for one route and as a whole profile for the other.
            if path.endswith("apply"):
                return {"ids": [self.review.pk]}
            return {"person_ids": [self.person.pk]}
        if (method, path) in ROUTE_BODIES:
            return ROUTE_BODIES[(method, path)]
        return {**BODY, "other_id": self.person.pk}

    def call(self, client: ApiClient, method: str, path: str):
        url = PREFIX + self.fill(path)
        params = self.query(method, path)
        if method == "GET":
            return client.get(url, params)
        if params:
            url += "?" + "&".join(f"{k}={quote(v)}" for k, v in params.items())
        if method == "DELETE":
            return client.delete(url)
        return client.send(method, url, self.body(method, path))

    def assert_untouched(self) -> None:
        person = Person.objects.get(pk=self.person.pk)
        assert person.first_name == f"{MARKER} Walker"
        assert list(person.taggings.values_list("tag__name", flat=True)) == [self.tag]
        share = TagShare.objects.get(pk=self.share.pk)
        assert (share.status, share.optional_fields) == (ShareStatus.APPROVED, [])
        assert ReviewItem.objects.get(pk=self.review.pk).status == ReviewStatus.PENDING
        assert WebhookEndpoint.objects.filter(pk=self.webhook.pk).exists()
        pings = WebhookDelivery.objects.filter(endpoint=self.webhook, event_type=EventType.PING)
        assert not pings.exists()


@pytest.fixture
def alpha(nation, make_nation, settings, tmp_path) -> AlphaWorld:
    email = "walker@example.org"
    person = person_create(
        nation=nation,
        actor=Actor.system(),
        values_in={"first_name": f"{MARKER} Walker", "email1": email, "party": "Old"},
    )
    # Spaces and a '/' exercise the URL decoding of {tag}.
    tag = f"{MARKER.lower()} club door/knock"
    tag_apply(nation=nation, actor=Actor.system(), person=person, name=tag)
    change = PersonChange.objects.filter(person=person).latest("id")
    settings.DATA_DIR = tmp_path
    upload = tmp_path / f"{MARKER}-walk.csv"
    upload.write_text(f"email,first_name\nwalker@example.org,{MARKER} Walker\n", encoding="utf-8")
    job = import_run(
        import_create(nation=nation, actor=Actor.system(), source=upload, filename=upload.name)
    )
    tag_get_or_create(nation=nation, actor=Actor.system(), name="walk")  # POST /shares shares it
    gamma = make_nation("gamma", name="Gamma League")
    [share] = share_create(
        nation=nation, actor=Actor.system(), tag_name=tag, nations="gamma", sync_data=True
    )
    share_accept(nation=gamma, actor=Actor.system(), share=share, sync_option="accept_all")
    # A change proposed to alpha's profile, newer than its own value: applying it would show.
    person.refresh_from_db()
    ts, _ = person.field_versions["first_name"]
    proposal = Proposal(
        share.pk,
        nation.pk,
        person.pk,
        "first_name",
        person.first_name,
        "Changed Walker",
        Version(ts + 1, gamma.pk),
    )
    assert reviews_propose([proposal]) == 1
    return AlphaWorld(
        person=person,
        tag=tag,
        change_id=change.pk,
        email=email,
        job=job,
        share=share,
        review=ReviewItem.objects.get(person=person),
        webhook=webhook_create(
            nation=nation, actor=Actor.system(), url=f"https://{MARKER.lower()}.example/hook"
        ),
    )


@pytest.mark.parametrize("role", ["admin", "staff"])
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ROUTE_IDS)
def test_another_nations_user_gets_404_and_changes_nothing(
    method, path, role, alpha, other_nation, make_user, api_as
):
    client = api_as(make_user(other_nation, role))
    response = alpha.call(client, method, path)
    if PARAM.search(path):
        assert response.status_code == 404, (response.status_code, response.content[:300])
        assert isinstance(response.json()["detail"], str)
    else:
        if role == "staff" and (method, path) in ADMIN_ONLY_ROUTES:
            assert response.status_code == 403, (response.status_code, response.content[:300])
        else:
            assert response.status_code < 500, (response.status_code, response.content[:300])
            assert response.status_code not in (401, 403), response.content[:300]
        assert MARKER.lower() not in response.content.decode().lower()
    alpha.assert_untouched()


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ROUTE_IDS)
def test_anonymous_gets_401(method, path, alpha):
    response = alpha.call(ApiClient(), method, path)
    assert response.status_code == 401
    assert "token" in response.json()["detail"]
    alpha.assert_untouched()


@pytest.mark.parametrize("role", ["admin", "staff"])
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ROUTE_IDS)
def test_the_nations_own_users_reach_every_route(
    method, path, role, alpha, nation, make_user, api_as
):
    response = alpha.call(api_as(make_user(nation, role)), method, path)
    assert response.status_code < 500
    assert response.status_code not in (401, 404), (response.status_code, response.content[:300])
