"""Control-panel URLs: sign in, People, Tags (All, Outgoing, Shared), shares, review, imports,
notifications."""

from django.urls import path

from tagshare.web.views import auth, imports, notifications, people, reviews, shares, tags

app_name = "web"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("", people.people_list, name="people"),
    path("people/", people.people_list),
    path("people/new/", people.person_new, name="person-new"),
    path("people/<int:person_id>/", people.person_detail, name="person"),
    path("people/<int:person_id>/edit/", people.person_edit, name="person-edit"),
    path("people/<int:person_id>/restore/", people.person_restore, name="person-restore"),
    path("people/<int:person_id>/tags/", people.person_tag_add, name="person-tag-add"),
    path(
        "people/<int:person_id>/tags/remove/",
        people.person_tag_remove,
        name="person-tag-remove",
    ),
    path("tags/", tags.tags_list, name="tags"),
    path("tags/outgoing/", tags.tags_outgoing, name="tags-outgoing"),
    path("tags/shared/", tags.tags_shared, name="tags-shared"),
    path("tags/<int:tag_id>/share/", shares.share_new, name="share-new"),
    path("shares/<int:share_id>/", shares.share_detail, name="share"),
    path("shares/<int:share_id>/status/", shares.share_status, name="share-status"),
    path("shares/<int:share_id>/accept/", shares.share_accept, name="share-accept"),
    path("shares/<int:share_id>/reject/", shares.share_reject, name="share-reject"),
    path("shares/<int:share_id>/stop/", shares.share_stop, name="share-stop"),
    path("shares/<int:share_id>/edit/", shares.share_edit, name="share-edit"),
    path("reviews/", reviews.reviews_list, name="reviews"),
    path("reviews/apply/", reviews.reviews_apply, name="reviews-apply"),
    path("reviews/skip/", reviews.reviews_skip, name="reviews-skip"),
    path("imports/", imports.imports_list, name="imports"),
    path("imports/<int:import_id>/", imports.import_detail, name="import"),
    path("imports/<int:import_id>/status/", imports.import_status, name="import-status"),
    path("notifications/", notifications.notifications_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read, name="notifications-read"),
]
