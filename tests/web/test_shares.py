"""Tag sharing in the control panel: tabs, banner, share form, accept screen, stop, re-request."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tagshare.nations.actors import Actor
from tagshare.people.models import Person
from tagshare.people.selectors import person_tags
from tagshare.sharing import services
from tagshare.sharing.models import JobStatus, Notification, ShareStatus, ShareSyncJob, TagShare
from tagshare.tags import services as tag_services


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def beta_client(other_admin: Any) -> Client:
    return _client(other_admin)


@pytest.fixture
def volunteers(nation, ada, make_person):
    """alpha's tag `volunteers` on Ada and on Grace (whom beta doesn't have)."""
    grace = make_person(nation, first_name="Grace", last_name="Hopper", email1="grace@navy.example")
    for person in (ada, grace):
        tag_services.tag_apply(
            nation=nation, actor=Actor.system(), person=person, name="volunteers"
        )
    return tag_services.tag_get_or_create(nation=nation, actor=Actor.system(), name="volunteers")


@pytest.fixture
def beta_ada(other_nation, make_person):
    """beta's own Ada: same email, a blank occupation, a different employer."""
    return make_person(
        other_nation, first_name="Ada", last_name="Lovelace", email1="ada@example.org"
    )


def _share(nation, admin, to="beta", tag="volunteers", **settings) -> TagShare:
    [share] = services.share_create(
        nation=nation, actor=Actor.for_user(admin), tag_name=tag, nations=to, **settings
    )
    return share


def _accept(share, other_nation, other_admin, **choice) -> TagShare:
    services.share_accept(
        nation=other_nation,
        actor=Actor.for_user(other_admin),
        share=share,
        sync_option=choice.pop("sync_option", "accept_all" if share.sync_data else None),
        **choice,
    )
    share.refresh_from_db()
    return share


def _row(body: str, marker: str) -> str:
    """The table row holding `marker`."""
    start = body.rindex("<tr", 0, body.index(marker))
    return body[start : body.index("</tr>", start)]


# --- tabs ------------------------------------------------------------------------------------


def test_tabs_list_each_sides_shares(
    nation, other_nation, admin, other_admin, volunteers, make_nation, make_user, admin_client
):
    out = _share(nation, admin, sync_data=True)
    gamma = make_nation("gamma", name="Gamma League")
    gamma_admin = make_user(gamma, "admin")
    tag_services.tag_get_or_create(nation=gamma, actor=Actor.system(), name="donors")
    incoming = _share(gamma, gamma_admin, to="alpha", tag="donors")
    _share(gamma, gamma_admin, to="beta", tag="donors")  # neither alpha's to send nor to receive

    outgoing = _text(admin_client.get("/tags/outgoing/"))
    assert 'aria-current="page">Outgoing<' in outgoing
    row = _row(outgoing, f'data-share="{out.pk}"')
    assert f'href="/shares/{out.pk}/"' in row and ">volunteers</a>" in row
    assert "Beta Union" in row and "Pending" in row
    assert 'data-label="Synced">0<' in row
    assert outgoing.count("data-share=") == 1

    shared = _text(admin_client.get("/tags/shared/"))
    row = _row(shared, f'data-share="{incoming.pk}"')
    # The blue link, named slug:tag, takes an admin to the accept screen of a pending share.
    assert f'<a href="/shares/{incoming.pk}/accept/" class="share-link">gamma:donors</a>' in row
    assert "pending-row" in row and "Gamma League" in row
    assert 'data-label="Taggings">0<' in row
    assert shared.count("data-share=") == 1

    beta_shared = _text(_client(other_admin).get("/tags/shared/"))
    assert "alpha:volunteers" in beta_shared and "gamma:donors" in beta_shared
    beta_outgoing = _text(_client(other_admin).get("/tags/outgoing/"))
    assert "shares no tags yet" in beta_outgoing


def test_shared_tab_counts_taggings_once_accepted(
    nation, other_nation, admin, other_admin, volunteers, beta_ada, beta_client
):
    share = _accept(_share(nation, admin), other_nation, other_admin)
    row = _row(_text(beta_client.get("/tags/shared/")), f'data-share="{share.pk}"')
    assert "pending-row" not in row and "Approved" in row
    assert f'href="/shares/{share.pk}/"' in row
    assert 'data-label="Taggings">1<' in row


def test_all_tab_offers_share_to_admins_of_eligible_nations_only(
    nation, volunteers, admin_client, staff_client, make_nation, make_user
):
    action = f'href="/tags/{volunteers.pk}/share/"'
    assert action in _text(admin_client.get("/tags/"))
    assert action not in _text(staff_client.get("/tags/"))
    small = make_nation("small", plan="leader")
    tag_services.tag_get_or_create(nation=small, actor=Actor.system(), name="friends")
    leader_admin = _client(make_user(small, "admin"))
    assert "/share/" not in _text(leader_admin.get("/tags/"))
    tag = small.tags.get()
    response = leader_admin.get(f"/tags/{tag.pk}/share/")
    assert response.status_code == 403
    assert "Leader plan can accept tag shares but not create them" in _text(response)


# --- banner and notifications -----------------------------------------------------------------


BANNER = 'Alpha Coalition wants to share <strong class="shared-name">alpha:volunteers</strong>'


def test_banner_shows_to_admins_of_the_receiving_nation_only(
    nation, other_nation, admin, other_admin, volunteers, beta_ada, make_user, admin_client
):
    share = _share(nation, admin, sync_data=True)
    page = _text(_client(other_admin).get("/"))
    assert BANNER in page
    assert f'<a href="/shares/{share.pk}/accept/">Review it.</a>' in page

    beta_staff = _client(make_user(other_nation, "staff"))
    assert "wants to share" not in _text(beta_staff.get("/"))
    assert "wants to share" not in _text(admin_client.get("/"))  # the sender's own admin

    _accept(share, other_nation, other_admin)
    assert "wants to share" not in _text(_client(other_admin).get("/"))


def test_notifications_list_and_mark_as_read(
    nation, other_nation, admin, other_admin, volunteers, beta_client, make_user
):
    _share(nation, admin, sync_data=True)
    page = _text(beta_client.get("/notifications/"))
    assert "Alpha Coalition wants to share the tag alpha:volunteers" in page
    assert "Unread: " in page
    assert re.search(r"Notifications <span class=\"count-pill\">1<", page)

    note = Notification.objects.get(nation=other_nation)
    response = beta_client.post("/notifications/read/", {"id": note.pk})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    page = _text(beta_client.get("/notifications/"))
    assert "Unread: " not in page and "count-pill" not in page

    # Another nation's notification id is not found, and not marked.
    alpha_note = Notification.objects.create(nation=nation, kind="x", message="for alpha")
    assert beta_client.post("/notifications/read/", {"id": alpha_note.pk}).status_code == 404
    alpha_note.refresh_from_db()
    assert alpha_note.read_at is None

    staff = _client(make_user(other_nation, "staff"))
    assert staff.get("/notifications/").status_code == 403
    assert "Notifications" not in _text(staff.get("/"))


def test_marking_a_notification_with_an_id_of_other_digits_is_not_found(beta_client):
    # "²" passes isdigit() but not int(): it was a 500.
    for raw in ("²", "abc", "9" * 19):
        assert beta_client.post("/notifications/read/", {"id": raw}).status_code == 404, raw


# --- role, tenancy, CSRF ---------------------------------------------------------------------


def test_staff_get_403_on_every_share_action(
    nation, other_nation, admin, other_admin, staff, volunteers, beta_ada, make_user
):
    alpha_staff = _client(staff)
    beta_staff = _client(make_user(other_nation, "staff"))
    pending = _share(nation, admin, sync_data=True)
    cases = [
        (alpha_staff, "get", f"/tags/{volunteers.pk}/share/", {}),
        (alpha_staff, "post", f"/tags/{volunteers.pk}/share/", {"nations": "beta"}),
        (beta_staff, "get", f"/shares/{pending.pk}/accept/", {}),
        (beta_staff, "post", f"/shares/{pending.pk}/accept/", {"sync_option": "accept_all"}),
        (beta_staff, "post", f"/shares/{pending.pk}/reject/", {}),
    ]
    for client, method, path, data in cases:
        response = getattr(client, method)(path, data)
        assert response.status_code == 403, (method, path)
        assert "Only nation admins can" in _text(response), path
    pending.refresh_from_db()
    assert pending.status == ShareStatus.PENDING
    assert TagShare.objects.count() == 1

    approved = _accept(pending, other_nation, other_admin)
    for client in (alpha_staff, beta_staff):
        response = client.post(f"/shares/{approved.pk}/stop/")
        assert response.status_code == 403
        assert "Only nation admins can stop tag shares" in _text(response)
    approved.refresh_from_db()
    assert approved.status == ShareStatus.APPROVED
    services.share_stop(nation=nation, actor=Actor.for_user(admin), share=approved)
    response = alpha_staff.post(f"/shares/{approved.pk}/edit/", {"sync_data": "on"})
    assert response.status_code == 403
    approved.refresh_from_db()
    assert approved.status == ShareStatus.STOPPED

    # Staff may look at the share screen, without the buttons.
    page = _text(alpha_staff.get(f"/shares/{approved.pk}/"))
    assert "Stop share" not in page and "Save and re-request" not in page


def test_the_sender_cannot_open_the_accept_screen(
    nation, other_nation, admin, volunteers, admin_client
):
    share = _share(nation, admin)
    response = admin_client.get(f"/shares/{share.pk}/accept/")
    assert response.status_code == 403
    assert "Only the receiving nation can accept" in _text(response)
    assert admin_client.post(f"/shares/{share.pk}/reject/").status_code == 403
    share.refresh_from_db()
    assert share.status == ShareStatus.PENDING


def test_another_nations_share_is_not_found(
    nation, other_nation, admin, volunteers, make_nation, make_user
):
    share = _share(nation, admin, sync_data=True)
    outsider = _client(make_user(make_nation("gamma"), "admin"))
    for method, suffix in [
        ("get", ""),
        ("get", "status/"),
        ("get", "accept/"),
        ("post", "accept/"),
        ("post", "reject/"),
        ("post", "stop/"),
        ("post", "edit/"),
    ]:
        response = getattr(outsider, method)(
            f"/shares/{share.pk}/{suffix}", {"sync_option": "review"}
        )
        assert response.status_code == 404, (method, suffix)
        assert "volunteers" not in _text(response)
        assert "not in your nation" in _text(response)
    assert outsider.get(f"/tags/{share.tag_id}/share/").status_code == 404
    share.refresh_from_db()
    assert share.status == ShareStatus.PENDING


def test_csrf_is_enforced_on_share_posts(
    nation, other_nation, admin, other_admin, volunteers, beta_ada
):
    pending = _share(nation, admin, sync_data=True)
    alpha = Client(enforce_csrf_checks=True)
    alpha.force_login(admin)
    beta = Client(enforce_csrf_checks=True)
    beta.force_login(other_admin)
    tag_services.tag_get_or_create(nation=nation, actor=Actor.system(), name="donors")
    donors = nation.tags.get(name="donors")
    for client, path, data in [
        (alpha, f"/tags/{donors.pk}/share/", {"nations": "beta"}),
        (beta, f"/shares/{pending.pk}/accept/", {"sync_option": "accept_all"}),
        (beta, f"/shares/{pending.pk}/reject/", {}),
        (beta, "/notifications/read/", {}),
    ]:
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "This form has expired" in _text(response)
    pending.refresh_from_db()
    assert pending.status == ShareStatus.PENDING
    assert not TagShare.objects.filter(tag=donors).exists()
    assert Notification.objects.filter(nation=other_nation, read_at__isnull=True).exists()

    approved = _accept(pending, other_nation, other_admin)
    assert beta.post(f"/shares/{approved.pk}/stop/").status_code == 403
    approved.refresh_from_db()
    assert approved.status == ShareStatus.APPROVED


# --- share a tag ------------------------------------------------------------------------------


def test_share_form_lists_optional_fields_and_the_37_apart(volunteers, admin_client):
    page = _text(admin_client.get(f"/tags/{volunteers.pk}/share/"))
    assert '<label for="nations">Nation slugs</label>' in page
    assert "Sync profile data" in page and "Offer to create profiles" in page
    assert page.count('name="optional_fields"') == 28
    van = page.split('value="van_id"')[1].split("</label>")[0]
    assert "VAN ID" in van and "also used for matching" in van
    assert "The 37 fields that always sync" in page
    assert 'value="first_name"' not in page  # always synced: listed, not choosable


@pytest.mark.parametrize(
    ("nations", "message"),
    [
        ("nope", "No nation with slug &#x27;nope&#x27;"),
        ("beta, nope", "No nation with slug &#x27;nope&#x27;"),
        ("alpha", "You cannot share a tag with your own nation"),
        ("", "Enter one or more receiving nation slugs"),
    ],
)
def test_share_form_errors_show_and_create_nothing(
    other_nation, volunteers, admin_client, nations, message
):
    response = admin_client.post(
        f"/tags/{volunteers.pk}/share/",
        {"nations": nations, "sync_data": "on", "optional_fields": ["party", "van_id"]},
    )
    assert response.status_code == 422
    page = _text(response)
    assert "Nothing was shared." in page and message in page
    assert 'aria-invalid="true"' in page
    # What was typed is still there.
    assert f'name="nations" value="{nations}"' in page
    assert re.search(r'id="sync_data" name="sync_data" checked', page)
    assert re.search(r'value="party" checked', page) and re.search(r'value="van_id" checked', page)
    assert not re.search(r'value="religion" checked', page)
    assert not TagShare.objects.exists()
    assert not Notification.objects.exists()


def test_share_form_refuses_a_second_active_share_with_the_same_nation(
    nation, admin, other_nation, volunteers, admin_client
):
    _share(nation, admin)
    response = admin_client.post(f"/tags/{volunteers.pk}/share/", {"nations": "beta"})
    assert response.status_code == 422
    assert "already shared with beta" in _text(response)
    assert TagShare.objects.count() == 1


def test_share_form_creates_one_share_per_nation_with_the_settings(
    nation, other_nation, volunteers, admin_client, make_nation
):
    make_nation("gamma")
    response = admin_client.post(
        f"/tags/{volunteers.pk}/share/",
        {
            "nations": "beta, gamma",
            "sync_data": "on",
            "optional_fields": ["support_level", "van_id"],
            "create_profiles": "on",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/tags/outgoing/"
    assert "Shared volunteers with beta, gamma" in _text(response)
    shares = TagShare.objects.order_by("receiver__slug")
    assert [s.receiver.slug for s in shares] == ["beta", "gamma"]
    for share in shares:
        assert (share.status, share.sync_data, share.create_profiles) == ("pending", True, True)
        assert share.optional_fields == ["support_level", "van_id"]
    assert Notification.objects.filter(nation=other_nation, kind="share.requested").exists()


def test_without_sync_the_sub_options_are_not_sent(nation, other_nation, volunteers, admin_client):
    response = admin_client.post(
        f"/tags/{volunteers.pk}/share/",
        {"nations": "beta", "optional_fields": ["party"], "create_profiles": "on"},
    )
    share = TagShare.objects.get()
    assert response["Location"] == f"/shares/{share.pk}/"
    assert (share.sync_data, share.optional_fields, share.create_profiles) == (False, [], False)


def test_a_shared_in_tag_cannot_be_shared_on(
    nation, other_nation, admin, other_admin, admin_client, make_person, make_user
):
    tag_services.tag_apply(
        nation=other_nation,
        actor=Actor.system(),
        person=make_person(other_nation, email1="bea@example.org"),
        name="vip",
    )
    share = _share(other_nation, other_admin, to="alpha", tag="vip")
    _accept(share, nation, admin)
    shared_in = nation.tags.get(name="beta:vip")
    assert f'href="/tags/{shared_in.pk}/share/"' not in _text(admin_client.get("/tags/"))
    response = admin_client.get(f"/tags/{shared_in.pk}/share/", follow=True)
    assert "a nation can share only its own tags" in _text(response)


# --- accept and reject ------------------------------------------------------------------------


def test_accept_screen_shows_what_is_asked(nation, admin, other_nation, volunteers, beta_client):
    share = _share(
        nation, admin, sync_data=True, optional_fields=["party", "van_id"], create_profiles=True
    )
    page = _text(beta_client.get(f"/shares/{share.pk}/accept/"))
    assert "Alpha Coalition" in page and "alpha:volunteers" in page
    assert "This share syncs profile data" in page
    chosen = page.split('class="chosen-fields"')[1].split("</ul>")[0]
    assert "Party" in chosen and "VAN ID" in chosen and "First name" not in chosen
    assert "The 37 fields that always sync" in page
    for label in (
        "Always review each change",
        "Accept all changes",
        "Accept only for blank fields",
    ):
        assert f">{label}</label>" in page
    assert "Blank fields are always filled with data from the other nation." in page
    assert '<label for="create_profiles">Create new profiles</label>' in page
    assert re.search(r'id="as_prospects" name="as_prospects" checked', page)
    assert "Import new profiles as prospects (recommended)" in page
    assert ">Accept share</button>" in page and ">Reject share</button>" in page
    assert "share-banner" not in page  # no banner pointing at the page itself


def test_accept_screen_of_a_tag_only_share_asks_nothing(nation, admin, volunteers, beta_client):
    share = _share(nation, admin)
    page = _text(beta_client.get(f"/shares/{share.pk}/accept/"))
    assert "No profile data syncs" in page
    assert 'name="sync_option"' not in page and 'name="create_profiles"' not in page


def test_accept_without_a_sync_option_shows_the_error_and_stays_pending(
    nation, admin, volunteers, beta_ada, beta_client
):
    share = _share(nation, admin, sync_data=True, create_profiles=True)
    response = beta_client.post(f"/shares/{share.pk}/accept/", {"create_profiles": "on"})
    assert response.status_code == 422
    page = _text(response)
    assert "The share was not accepted." in page
    assert 'id="err_sync_option">Choose how data syncs' in page
    # The choices made so far are kept.
    assert re.search(r'id="create_profiles" name="create_profiles" checked', page)
    assert not re.search(r'id="as_prospects" name="as_prospects" checked', page)
    share.refresh_from_db()
    assert share.status == ShareStatus.PENDING
    assert "alpha:volunteers" not in person_tags(beta_ada)


def test_accept_runs_the_sync_and_the_share_screen_shows_counts(
    nation, admin, other_nation, ada, volunteers, beta_ada, beta_client, admin_client
):
    share = _share(nation, admin, sync_data=True)
    response = beta_client.post(
        f"/shares/{share.pk}/accept/", {"sync_option": "accept_all"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/shares/{share.pk}/"
    page = _text(response)
    assert "You accepted the share of alpha:volunteers. It is on 1 profile here" in page
    share.refresh_from_db()
    assert (share.status, share.sync_option) == (ShareStatus.APPROVED, "accept_all")
    boxes = page.split('class="status-boxes"')[1].split("</ul>")[0]
    assert re.search(r'box-n">1</span> <span class="box-label">synced', boxes)
    assert re.search(r'box-n">1</span> <span class="box-label">not found', boxes)
    assert re.search(r'box-n">1</span> <span class="box-label">taggings here', boxes)
    assert "Accept all changes" in page and "Last sync finished" in page
    # The receiver's own person links to its profile; the sender's is an id only.
    row = _row(page, 'data-state="synced"')
    assert f'<a href="/people/{beta_ada.pk}/">Ada Lovelace</a>' in row
    assert f"#{ada.pk}" in row and f'href="/people/{ada.pk}/"' not in row

    beta_ada = Person.objects.get(pk=beta_ada.pk)
    assert "alpha:volunteers" in person_tags(beta_ada)
    assert beta_ada.home_city == "London"  # filled from alpha

    sender_view = _text(admin_client.get(f"/shares/{share.pk}/"))
    assert "taggings here" not in sender_view
    assert re.search(r'box-n">1</span> <span class="box-label">synced', sender_view)
    assert Notification.objects.filter(nation=nation, kind="share.accepted").exists()
    # The request is answered, so it no longer counts as unread.
    assert not Notification.objects.filter(nation=other_nation, read_at__isnull=True).exists()


def test_links_are_filtered_by_state_and_ambiguous_ones_show_candidates(
    nation, admin, other_nation, other_admin, make_person, beta_client
):
    sender_twin = make_person(nation, first_name="Sam", last_name="Twin", birthdate="1990-01-02")
    tag_services.tag_apply(
        nation=nation, actor=Actor.system(), person=sender_twin, name="volunteers"
    )
    twins = [
        make_person(other_nation, first_name="Sam", last_name="Twin", birthdate="1990-01-02")
        for _ in range(2)
    ]
    share = _accept(_share(nation, admin, sync_data=True), other_nation, other_admin)
    response = beta_client.get(
        f"/shares/{share.pk}/?state=ambiguous",
        headers={"HX-Request": "true", "HX-Target": "share-links"},
    )
    fragment = _text(response)
    assert "<html" not in fragment  # the table alone, for htmx
    row = _row(fragment, 'data-state="ambiguous"')
    assert "Candidates:" in row
    for twin in twins:
        assert f'<a href="/people/{twin.pk}/">Sam Twin</a>' in row
    assert 'aria-current="true">Ambiguous<' in fragment
    empty = _text(beta_client.get(f"/shares/{share.pk}/?state=synced"))
    assert "No profiles in this state." in empty


def test_status_polls_while_the_sync_job_runs(
    nation, other_nation, admin, volunteers, admin_client
):
    share = _share(nation, admin, sync_data=True)
    job = ShareSyncJob.objects.create(
        share=share, status=JobStatus.RUNNING, phase="reconciling", done=500, total=2000
    )
    running = _text(admin_client.get(f"/shares/{share.pk}/status/"))
    assert f'hx-get="/shares/{share.pk}/status/" hx-trigger="every 2s"' in running
    assert "reconciling — 500 of 2,000" in running
    assert '<progress max="100" value="25"' in running
    ShareSyncJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    done = _text(admin_client.get(f"/shares/{share.pk}/status/"))
    assert "hx-trigger" not in done and "Last sync finished" in done


def test_reject_denies_the_share_and_says_so(nation, admin, volunteers, beta_client):
    share = _share(nation, admin, sync_data=True)
    response = beta_client.post(f"/shares/{share.pk}/reject/", follow=True)
    assert response.redirect_chain[-1][0] == "/tags/shared/"
    assert "You rejected the share of alpha:volunteers" in _text(response)
    share.refresh_from_db()
    assert share.status == ShareStatus.DENIED
    assert Notification.objects.filter(nation=nation, kind="share.rejected").exists()


def test_accepting_twice_says_there_is_nothing_to_accept(
    nation, admin, other_nation, other_admin, volunteers, beta_client
):
    share = _accept(_share(nation, admin), other_nation, other_admin)
    response = beta_client.post(f"/shares/{share.pk}/accept/", {}, follow=True)
    assert "This share is approved; there is nothing to accept." in _text(response)


# --- stop, edit and re-request ----------------------------------------------------------------


@pytest.mark.parametrize("side", ["sender", "receiver"])
def test_stop_takes_the_shared_tag_off_and_keeps_the_data(
    nation, admin, other_nation, other_admin, ada, volunteers, beta_ada, side
):
    share = _accept(_share(nation, admin, sync_data=True), other_nation, other_admin)
    client = _client(admin if side == "sender" else other_admin)
    page = _text(client.get(f"/shares/{share.pk}/"))
    assert "Stop share" in page and "data-confirm=" in page
    response = client.post(f"/shares/{share.pk}/stop/", follow=True)
    assert "You stopped the share." in _text(response)
    share.refresh_from_db()
    assert (share.status, share.stopped_side) == (ShareStatus.STOPPED, side)
    beta_ada = Person.objects.get(pk=beta_ada.pk)
    assert "alpha:volunteers" not in person_tags(beta_ada)
    assert beta_ada.home_city == "London"
    assert "volunteers" in person_tags(ada)
    assert "Stop share" not in _text(client.get(f"/shares/{share.pk}/"))


def test_edit_and_re_request_after_stop_moves_to_pending_with_the_new_settings(
    nation, admin, other_nation, other_admin, volunteers, admin_client, beta_client
):
    share = _accept(_share(nation, admin), other_nation, other_admin)
    services.share_stop(nation=other_nation, actor=Actor.for_user(other_admin), share=share)
    page = _text(admin_client.get(f"/shares/{share.pk}/"))
    assert "Edit and re-request" in page and "Save without requesting" in page
    assert not re.search(r'id="sync_data" name="sync_data" checked', page)  # prefilled: off
    assert "Edit and re-request" not in _text(beta_client.get(f"/shares/{share.pk}/"))

    response = admin_client.post(
        f"/shares/{share.pk}/edit/",
        {
            "sync_data": "on",
            "optional_fields": ["party"],
            "create_profiles": "on",
            "action": "request",
        },
        follow=True,
    )
    assert "the share is pending until they accept it" in _text(response)
    share.refresh_from_db()
    assert share.status == ShareStatus.PENDING
    assert (share.sync_data, share.optional_fields, share.create_profiles) == (
        True,
        ["party"],
        True,
    )
    assert share.sync_option == ""
    assert BANNER in _text(beta_client.get("/"))


def test_save_without_requesting_keeps_the_share_stopped(
    nation, admin, other_nation, other_admin, volunteers, admin_client
):
    share = _accept(_share(nation, admin), other_nation, other_admin)
    services.share_stop(nation=nation, actor=Actor.for_user(admin), share=share)
    admin_client.post(
        f"/shares/{share.pk}/edit/",
        {"sync_data": "on", "optional_fields": ["ward"], "action": "save"},
    )
    share.refresh_from_db()
    assert (share.status, share.sync_data, share.optional_fields) == ("stopped", True, ["ward"])
    page = _text(admin_client.get(f"/shares/{share.pk}/"))
    assert re.search(r'value="ward" checked', page)


def test_a_refused_re_request_keeps_what_was_typed(
    nation, admin, other_nation, other_admin, volunteers, admin_client
):
    share = _accept(_share(nation, admin), other_nation, other_admin)
    services.share_stop(nation=nation, actor=Actor.for_user(admin), share=share)
    _share(nation, admin)  # a newer share of the same tag with beta is now pending
    response = admin_client.post(
        f"/shares/{share.pk}/edit/",
        {"sync_data": "on", "optional_fields": ["party", "van_id"], "action": "request"},
    )
    assert response.status_code == 422
    page = _text(response)
    assert "Nothing was changed." in page and "already has an active share with beta" in page
    assert re.search(r'id="sync_data" name="sync_data" checked', page)
    assert re.search(r'value="party" checked', page) and re.search(r'value="van_id" checked', page)
    share.refresh_from_db()
    assert (share.status, share.sync_data) == (ShareStatus.STOPPED, False)


def test_the_receiver_cannot_edit_the_share(
    nation, admin, other_nation, other_admin, volunteers, beta_client
):
    share = _accept(_share(nation, admin), other_nation, other_admin)
    services.share_stop(nation=nation, actor=Actor.for_user(admin), share=share)
    response = beta_client.post(f"/shares/{share.pk}/edit/", {"sync_data": "on"})
    assert response.status_code == 403
    assert "Only the sending nation can edit" in _text(response)
    share.refresh_from_db()
    assert (share.status, share.sync_data) == (ShareStatus.STOPPED, False)
