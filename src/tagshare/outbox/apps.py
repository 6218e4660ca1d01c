from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "tagshare.outbox"
    label = "outbox"
