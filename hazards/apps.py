from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HazardsConfig(AppConfig):
    name = "hazards"
    verbose_name = _("Hazards")

    def ready(self) -> None:
        from hazards import demo  # noqa: F401  (registers the demo step for hazards)
