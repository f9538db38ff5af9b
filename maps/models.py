"""The maps app's own data: areas of interest drawn or uploaded by coordinators.

Everything else the maps app shows it reads from the other apps' selectors.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class AreaOfInterest(models.Model):
    """A polygon a coordinator drew on the map or uploaded, to select what lies
    inside it (schools, services, exposures, aggregates) on the map and in
    exports. Kept so a link to `/map/?aoi=<id>` shows the same selection."""

    name = models.CharField(_("name"), max_length=200)
    area = models.MultiPolygonField(_("area"), srid=4326)
    source = models.CharField(
        _("source"),
        max_length=200,
        blank=True,
        help_text=_("Uploaded file name, or empty when drawn on the map."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("area of interest")
        verbose_name_plural = _("areas of interest")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
