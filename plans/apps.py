from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Preparedness plans")

    def ready(self) -> None:
        from hazards.callbacks import on_layer_change
        from plans import demo  # noqa: F401  (registers the demo step for plans)
        from plans.events import demo as events_demo  # noqa: F401
        from plans.triggers import triggers_on_layer_change

        # After the schools app's exposure and risk (registered before: app order).
        on_layer_change(triggers_on_layer_change)
