from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and summaries"

    def ready(self):
        # Register the tasks in every process, not only in workers: maturity enqueues them by name, and with eager
        # Celery (no REDIS_URL) a task must be registered in the web process to run there.
        from reports import tasks  # noqa: F401
