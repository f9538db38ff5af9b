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

        # Recompute exposure after a hazard layer is imported, edited or removed.
        on_layer_change(exposure_on_layer_change)
