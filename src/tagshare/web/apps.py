from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tagshare.web"
    label = "web"
