"""The risk settings row."""

from __future__ import annotations

from schools.models import RiskSettings


def risk_settings() -> RiskSettings:
    """The single risk settings row, created with the defaults if missing."""
    return RiskSettings.objects.get_or_create(pk=1)[0]
