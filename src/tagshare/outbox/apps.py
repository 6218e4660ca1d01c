from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "tagshare.outbox"
    label = "outbox"

    def ready(self) -> None:
        from django.conf import settings

        if settings.CELERY_BROKER_URL:
            # With a broker, a commit that wrote events queues a drain on the Celery workers.
            from tagshare.outbox.services import register_wake_hook
            from tagshare.outbox.tasks import drain_outbox

            register_wake_hook(drain_outbox.delay)
