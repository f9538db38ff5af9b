from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Preparedness plans")

    def ready(self) -> None:
        from plans import demo  # noqa: F401  (registers the demo step for plans)
