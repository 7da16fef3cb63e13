from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "E-mail notifications"

    def ready(self):
        # Registered in every process, not only in workers: with eager Celery (no REDIS_URL) the web process runs the
        # send task itself after commit, as beat's sweep and reminders do in production.
        from notifications import tasks  # noqa: F401
