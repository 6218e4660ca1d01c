from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "tagshare.tags"
    label = "tags"
