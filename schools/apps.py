from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = _("Schools and services")

    def ready(self) -> None:
        from hazards.callbacks import on_layer_change
        from schools import demo  # noqa: F401  (registers the demo steps for schools)
        from schools.checklists import demo as checklist_demo  # noqa: F401
        from schools.exposure import exposure_on_layer_change
        from schools.risk.services import risk_on_layer_change

        # After a hazard layer is imported, edited or removed: exposure first,
        # then nearest available services and risk, which read it.
        on_layer_change(exposure_on_layer_change)
        on_layer_change(risk_on_layer_change)
