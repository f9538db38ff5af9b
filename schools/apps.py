from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = _("Schools and services")

    def ready(self) -> None:
        from schools import demo  # noqa: F401  (registers the demo steps for schools)
