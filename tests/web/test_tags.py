"""The Tags page: counts, links to the filtered people list, shared-in tags marked."""

from __future__ import annotations

from tagshare.nations.actors import Actor
from tagshare.tags import services as tag_services
from tagshare.tags.models import Tag, Tagging


def test_tags_page_lists_counts_and_marks_shared_in_tags(
    admin_client, nation, other_nation, make_person, ada
):
    grace = make_person(nation, first_name="Grace", email1="grace@navy.example")
    for person in (ada, grace):
        tag_services.tag_apply(nation=nation, actor=Actor.system(), person=person, name="donors")
    tag_services.tag_get_or_create(nation=nation, actor=Actor.system(), name="unused")
    # No share service exists yet to bring a tag in, so build its rows directly.
    shared = Tag.objects.create(nation=nation, name="beta:vip", shared_from=other_nation)
    Tagging.objects.create(tag=shared, person=ada)
    tag_services.tag_apply(
        nation=other_nation,
        actor=Actor.system(),
        person=make_person(other_nation, first_name="Bea"),
        name="secret-beta-tag",
    )

    body = admin_client.get("/tags/").content.decode()
    assert 'aria-current="page">Tags<' in body
    assert "secret-beta-tag" not in body
    rows = {
        name: body.split(f">{name}</a>")[1].split("</tr>")[0]
        for name in ("donors", "unused", "beta:vip")
    }
    assert 'data-label="People">2</td>' in rows["donors"]
    assert 'data-label="People">0</td>' in rows["unused"]
    assert "Shared in" in rows["beta:vip"] and "Beta Union" in rows["beta:vip"]
    assert "Shared in" not in rows["donors"]
    assert 'href="/?tag=beta%3Avip"' in body


def test_a_shared_in_tag_cannot_be_removed_from_a_profile(admin_client, nation, other_nation, ada):
    shared = Tag.objects.create(nation=nation, name="beta:vip", shared_from=other_nation)
    Tagging.objects.create(tag=shared, person=ada)
    profile = admin_client.get(f"/people/{ada.pk}/").content.decode()
    assert "shared by beta" in profile
    assert 'aria-label="Remove tag beta:vip"' not in profile
    response = admin_client.post(
        f"/people/{ada.pk}/tags/remove/",
        {"name": "beta:vip"},
        headers={"Referer": f"http://testserver/people/{ada.pk}/"},
        follow=True,
    )
    assert response.status_code == 200
    assert "it is shared by the nation" in response.content.decode()
    assert ada.taggings.filter(tag=shared).exists()
