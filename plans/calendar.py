"""The iCalendar feed of action due dates and the secret tokens that open it.

Calendar apps cannot log in, so a user's feed URL carries a secret token. Only
the SHA-256 hash of the secret is stored; the secret is shown once, when it is
created. A user has at most one active token: creating one revokes the previous
one, and the user can revoke it. The feed is written by hand (RFC 5545).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from plans.models import Action, CalendarToken, Plan
from preparedness.access import Role, access_for
from preparedness.audit import Change, audit

User = AbstractBaseUser | AnonymousUser | None
# Longer than any secret we hand out; anything longer is not worth hashing.
MAX_SECRET_LENGTH = 128
FOLD_OCTETS = 75
CRLF = "\r\n"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_signed_in(user: User) -> Any:
    if user is None or not user.is_authenticated:
        raise PermissionDenied(_("Sign in to manage your calendar feed."))
    return user


@transaction.atomic
def calendar_token_create(user: User) -> str:
    """A new feed secret for `user`, returned once; any previous one is revoked."""
    account = _require_signed_in(user)
    now = timezone.now()
    old = list(
        CalendarToken.objects.select_for_update()
        .filter(user=account, revoked_at__isnull=True)
        .values_list("pk", flat=True)
    )
    CalendarToken.objects.filter(pk__in=old).update(revoked_at=now)
    secret = secrets.token_urlsafe(32)
    token = CalendarToken.objects.create(user=account, key_hash=_hash(secret))
    audit(
        user,
        [Change("calendar_token", pk, "revoked", {}) for pk in old]
        + [Change("calendar_token", token.pk, "created", {})],
    )
    return secret


@transaction.atomic
def calendar_token_revoke(user: User) -> bool:
    """Revoke the user's active feed secret; False when there was none."""
    account = _require_signed_in(user)
    old = list(
        CalendarToken.objects.select_for_update()
        .filter(user=account, revoked_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if not old:
        return False
    CalendarToken.objects.filter(pk__in=old).update(revoked_at=timezone.now())
    audit(user, [Change("calendar_token", pk, "revoked", {}) for pk in old])
    return True


def calendar_user(secret: str) -> Any | None:
    """The active user whose active token is `secret`, else None.

    The lookup is by the secret's SHA-256 hash, so the database comparison
    leaks nothing useful about the secret through timing.
    """
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    token = (
        CalendarToken.objects.select_related("user")
        .filter(key_hash=_hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return token.user if token is not None else None


def feed_actions(user: User) -> QuerySet[Action]:
    """Actions not done of active or activated plans that the user follows:
    every one for coordinators and administrators, else their organization's."""
    qs = (
        Action.objects.filter(
            plan__status__in=[Plan.Status.ACTIVE, Plan.Status.ACTIVATED]
        )
        .exclude(status=Action.Status.DONE)
        .select_related("plan", "organization")
        .order_by("due_on", "id")
    )
    access = access_for(user)
    if access.has_role(Role.COORDINATOR, Role.ADMINISTRATOR):
        return qs
    if access.organization_id is None:
        return qs.none()
    return qs.filter(organization_id=access.organization_id)


# RFC 5545 text


def escape_text(value: Any) -> str:
    """A TEXT value escaped as RFC 5545 section 3.3.11 says."""
    text = str(value or "")
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets (UTF-8), each
    continuation starting with a space, never splitting a character."""
    out: list[str] = []
    chunk: list[str] = []
    size = 0
    limit = FOLD_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            out.append("".join(chunk))
            chunk, size = [], 0
            limit = FOLD_OCTETS - 1  # the leading space counts
        chunk.append(char)
        size += octets
    out.append("".join(chunk))
    return (CRLF + " ").join(out)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _event(action: Action, stamp: str) -> list[str]:
    org = action.organization
    details = [
        _("Plan: %(plan)s") % {"plan": action.plan.title},
        _("Sector: %(sector)s") % {"sector": action.get_sector_display()},
        _("Status: %(status)s") % {"status": action.get_status_display()},
    ]
    if action.focal_person:
        details.append(_("Focal person: %(name)s") % {"name": action.focal_person})
    return [
        "BEGIN:VEVENT",
        f"UID:action-{action.pk}@salasafe",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{_date(action.due_on)}",
        f"DTEND;VALUE=DATE:{_date(action.due_on + dt.timedelta(days=1))}",
        "SUMMARY:" + escape_text(f"{action.title} ({org.acronym or org.name})"),
        "DESCRIPTION:" + escape_text("\n".join(details)),
        "STATUS:CONFIRMED",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def calendar(actions: Iterable[Action], *, now: dt.datetime | None = None) -> str:
    stamp = _utc(now or timezone.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//SalaSafe//Plans//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:SalaSafe actions",
    ]
    for action in actions:
        lines.extend(_event(action, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def actions_ics(user: User) -> str:
    """The user's feed: one all-day event on the due date of each open action."""
    return calendar(feed_actions(user))
