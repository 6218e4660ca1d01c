"""Control-panel URLs: sign in, People, Tags."""

from django.urls import path

from tagshare.web.views import auth, people, tags

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
]
