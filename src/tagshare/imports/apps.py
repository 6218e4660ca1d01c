from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "tagshare.imports"
    label = "imports"
