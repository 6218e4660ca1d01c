from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "tagshare.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        # The outbox stays free of webhook imports: this app subscribes to it from here.
        from tagshare.outbox import drain
        from tagshare.webhooks.deliver import worker_tick
        from tagshare.webhooks.synced import register_handlers

        register_handlers()
        # Every turn of the embedded worker's loop (`tagshare serve`, `tagshare worker`) also
        # sends the webhook deliveries that are due.
        drain.register_tick(worker_tick)
