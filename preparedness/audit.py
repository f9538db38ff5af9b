"""Write the audit trail: who changed what and when (see `AuditEntry`)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from preparedness.models import AuditEntry

User = AbstractBaseUser | AnonymousUser | None


@dataclass(frozen=True)
class Change:
    """One audited change, before it is written."""

    subject_type: str
    subject_id: str | int
    action: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


def audit(by: User, changes: Iterable[Change], *, source: str = "") -> list[AuditEntry]:
    """Record changes made by `by` (or by `source`, e.g. "import: file.csv") now."""
    actor: Any = cast(Any, by) if by is not None and by.is_authenticated else None
    name = actor.get_username() if actor is not None else source
    now = timezone.now()
    return AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now,
            actor=actor,
            actor_name=name[:150],
            subject_type=c.subject_type,
            subject_id=str(c.subject_id),
            action=c.action,
            changes=dict(c.changes),
            note=c.note,
        )
        for c in changes
    )
