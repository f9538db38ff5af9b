from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PreparednessConfig(AppConfig):
    name = "preparedness"
    verbose_name = _("Preparedness core")

    def ready(self) -> None:
        from preparedness import demo  # noqa: F401  (registers the core's demo steps)
