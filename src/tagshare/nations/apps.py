from django.apps import AppConfig


class NationsConfig(AppConfig):
    name = "tagshare.nations"
    label = "nations"
