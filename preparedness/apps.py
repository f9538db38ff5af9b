from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PreparednessConfig(AppConfig):
    name = "preparedness"
    verbose_name = _("Preparedness core")

    def ready(self) -> None:
        from preparedness import demo  # noqa: F401  (registers the core's demo steps)
        from preparedness.data_version import attach_triggers

        # Once per migrate, after every app's migrations: each data table gets the
        # trigger that moves the data version.
        post_migrate.connect(attach_triggers, sender=self)
