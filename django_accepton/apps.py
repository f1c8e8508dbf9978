from django.apps import AppConfig


class AcceptOnConfig(AppConfig):
    name = "django_accepton"
    verbose_name = "AcceptOn"
    default_auto_field = "django.db.models.BigAutoField"
