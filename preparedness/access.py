"""Who may do what where: role and area checks shared by every app.

An area covers everything whose NCDD code starts with its code, so an official
scoped to province 07 covers district 0701 and commune 070101 but not 080101.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from preparedness.models import Membership

Role = Membership.Role
_CACHE_ATTR = "_salasafe_access"


@dataclass(frozen=True)
class Access:
    """A user's role and scope, read once per request."""

    role: str | None
    organization_id: int | None
    area_codes: tuple[str, ...]

    @property
    def authenticated(self) -> bool:
        return self.role is not None

    @property
    def nationwide(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.PLANNER, Role.ADMINISTRATOR)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def covers(self, code: str) -> bool:
        """Whether an area code lies in this user's areas (nationwide roles: all)."""
        if self.nationwide:
            return True
        return any(code.startswith(prefix) for prefix in self.area_codes)

    def scope_q(self, field: str) -> Q:
        """A filter on an area-code field keeping rows inside this user's areas."""
        if self.nationwide:
            return Q()
        q = Q(pk__in=[])
        for prefix in self.area_codes:
            q |= Q(**{f"{field}__startswith": prefix})
        return q


ANONYMOUS = Access(role=None, organization_id=None, area_codes=())


def access_for(user: AbstractBaseUser | AnonymousUser | None) -> Access:
    """The role and scope of a user (cached on the user object)."""
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    # One query: the membership (one per user), a row per area (None: no area).
    rows = list(
        Membership.objects.filter(user_id=user.pk).values_list(
            "role", "organization_id", "areas__code"
        )
    )
    organization_id = rows[0][1] if rows else None
    if getattr(user, "is_superuser", False):
        access = Access(
            role=Role.ADMINISTRATOR, organization_id=organization_id, area_codes=()
        )
    elif not rows:
        # A logged-in account without a role reads what the public reads.
        access = Access(role="", organization_id=None, area_codes=())
    else:
        access = Access(
            role=rows[0][0],
            organization_id=organization_id,
            area_codes=tuple(sorted(code for _, _, code in rows if code)),
        )
    setattr(user, _CACHE_ATTR, access)
    return access


def forget_access(user: AbstractBaseUser) -> None:
    """Drop the cached access after a role or scope change."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def may_edit_in_area(user: AbstractBaseUser | AnonymousUser | None, code: str) -> bool:
    """May this user change records (schools, checklists) located in this area?"""
    access = access_for(user)
    if access.role == Role.ADMINISTRATOR:
        return True
    return access.role == Role.EDUCATION_OFFICIAL and access.covers(code)


def may_see_sensitive(user: AbstractBaseUser | AnonymousUser | None, code: str) -> bool:
    """May this user see exact places and contacts of sensitive services here?"""
    access = access_for(user)
    if access.has_role(Role.ADMINISTRATOR, Role.COORDINATOR):
        return True
    return access.role == Role.EDUCATION_OFFICIAL and access.covers(code)


def sensitive_scope_q(user: AbstractBaseUser | AnonymousUser | None, field: str) -> Q:
    """Filter on an area-code field for the sensitive rows this user may see."""
    access = access_for(user)
    if access.has_role(Role.ADMINISTRATOR, Role.COORDINATOR):
        return Q()
    if access.role == Role.EDUCATION_OFFICIAL:
        return access.scope_q(field)
    return Q(pk__in=[])


def account(user: AbstractBaseUser | AnonymousUser | None) -> Any:
    """The account behind `user` (for a foreign key to the user model), or None
    for anonymous and command-line writes."""
    return user if user is not None and user.is_authenticated else None
