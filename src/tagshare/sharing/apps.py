from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "tagshare.sharing"
    label = "sharing"

    def ready(self) -> None:
        # The outbox drainer hands change events to the sync engine (SPEC §6, §7).
        from tagshare.sharing.sync import register_handlers

        register_handlers()
