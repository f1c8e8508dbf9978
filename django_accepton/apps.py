from django.apps import AppConfig


class AcceptOnConfig(AppConfig):
    name = "django_accepton"
    verbose_name = "AcceptOn"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_accepton import checks  # noqa: F401  (registers the checks)
