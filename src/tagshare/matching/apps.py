from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "tagshare.matching"
    label = "matching"
