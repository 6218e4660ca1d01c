from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "tagshare.people"
    label = "people"
