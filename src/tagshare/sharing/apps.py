from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "tagshare.sharing"
    label = "sharing"
