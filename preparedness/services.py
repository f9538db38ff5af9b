"""Writes of the core: administrative areas, organizations, accounts."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, cast

import shapely
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.tokens import default_token_generator
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from preparedness.access import access_for, forget_access
from preparedness.gazetteer import (
    LEVELS,
    BoundaryFeature,
    Finding,
    GazetteerRow,
    UnitRow,
    match_boundaries,
    reconcile,
)
from preparedness.models import AdminArea, Membership, Organization

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Role = Membership.Role

# Accounts


def _require_administrator(by: "User | AbstractBaseUser | AnonymousUser") -> None:
    if access_for(by).role != Role.ADMINISTRATOR:
        raise PermissionDenied(_("Only administrators manage accounts."))


def _areas_for_role(role: str, areas: Sequence[AdminArea]) -> list[AdminArea]:
    """The areas to store: officials need at least one; nationwide roles keep none."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role: %(role)s.") % {"role": role}})
    if role != Role.EDUCATION_OFFICIAL:
        return []
    if not areas:
        raise ValidationError(
            {"areas": _("An education official needs at least one area in scope.")}
        )
    return list(areas)


def _membership_save(
    *,
    user: "User",
    role: str,
    organization: Organization | None,
    areas: Sequence[AdminArea],
) -> None:
    membership, _created = Membership.objects.update_or_create(
        user=user, defaults={"role": role, "organization": organization}
    )
    membership.areas.set(areas)
    forget_access(user)


def user_password_set_email_send(*, user: "User", domain: str, use_https: bool) -> None:
    """Email a user a one-time link to choose their password."""
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": "SalaSafe",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if use_https else "http",
    }
    PasswordResetForm().send_mail(
        "registration/password_set_subject.txt",
        "registration/password_set_email.txt",
        context,
        None,
        user.email,
    )


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str,
    organization: Organization | None,
    areas: Sequence[AdminArea],
    is_active: bool = True,
    by: "User | AbstractBaseUser | AnonymousUser",
    domain: str,
    use_https: bool = True,
) -> "User":
    """Create an account with a role and scope; emails a password-set link on commit."""
    _require_administrator(by)
    if not email:
        raise ValidationError({"email": _("A new account needs an email address.")})
    areas = _areas_for_role(role, areas)
    user = get_user_model().objects.create_user(
        username=username,
        email=email,
        password=None,  # unusable until the user follows the emailed link
        first_name=first_name,
        last_name=last_name,
        is_active=is_active,
    )
    _membership_save(user=user, role=role, organization=organization, areas=areas)
    if is_active:
        transaction.on_commit(
            lambda: user_password_set_email_send(
                user=user, domain=domain, use_https=use_https
            )
        )
    return user


@transaction.atomic
def user_update(
    *,
    user: "User",
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    organization: Organization | None,
    areas: Sequence[AdminArea],
    is_active: bool,
    by: "User | AbstractBaseUser | AnonymousUser",
) -> "User":
    """Change an account's details, role, organization, scope and active flag."""
    _require_administrator(by)
    if user.is_superuser and not getattr(by, "is_superuser", False):
        raise PermissionDenied(_("Only a superuser may change a superuser account."))
    demoted = role != Role.ADMINISTRATOR and not user.is_superuser
    if user.pk == by.pk and (not is_active or demoted):
        raise ValidationError(
            _(
                "You cannot deactivate your own account or remove your own "
                "administrator role."
            )
        )
    areas = _areas_for_role(role, areas)
    user.username = username
    user.email = email
    user.first_name = first_name
    user.last_name = last_name
    user.is_active = is_active
    user.full_clean(exclude=["password"])
    user.save(
        update_fields=["username", "email", "first_name", "last_name", "is_active"]
    )
    _membership_save(user=user, role=role, organization=organization, areas=areas)
    return user


# Administrative areas


@dataclass(frozen=True)
class AreaLevelCounts:
    """What a load did to one level of units.

    `updated` counts units whose names, type, parent, validity or centroid
    changed; boundaries are counted apart (`with_boundary` is None when they
    were not loaded).
    """

    listed: int
    created: int
    updated: int
    unchanged: int
    retired: int
    with_boundary: int | None
    features: int
    features_matched: int


@dataclass(frozen=True)
class AdminAreaLoadResult:
    """Counts per level and the report rows of one load."""

    levels: dict[str, AreaLevelCounts]
    findings: list[Finding]
    gazetteer_used: bool
    boundaries_used: bool

    def findings_of(self, *kinds: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind in kinds]


def _area_state(area: AdminArea) -> tuple[object, ...]:
    """The fields whose change counts as an update."""
    centroid = area.centroid.coords if area.centroid is not None else None
    return (
        area.name_en,
        area.name_km,
        area.kind,
        area.parent_id,
        area.valid_from,
        area.valid_to,
        centroid,
    )


@transaction.atomic
def admin_areas_load(
    *,
    units: Sequence[UnitRow],
    gazetteer: Mapping[str, GazetteerRow] | None = None,
    boundaries: Mapping[str, Sequence[BoundaryFeature]] | None = None,
    valid_from: date | None = None,
) -> AdminAreaLoadResult:
    """Upsert the official units by code, retire the missing, add types and shapes.

    `units` come as `read_units` returns them: validated, parents listed first.
    A source left out (None) leaves the fields it decides as they are.
    """
    today = timezone.localdate()
    if valid_from is not None and valid_from > today:
        message = _("The list cannot be valid from a future date.")
        raise ValidationError({"valid_from": message})
    findings: list[Finding] = []
    agreed: dict[str, GazetteerRow] = {}
    if gazetteer is not None:
        reconciliation = reconcile(units=units, gazetteer=gazetteer)
        agreed, findings = reconciliation.agreed, list(reconciliation.findings)
    match = None
    if boundaries is not None:
        match = match_boundaries(units=units, layers=boundaries, gazetteer=agreed)
        findings += match.findings

    fields = ["level", "name_en", "name_km", "parent", "valid_from", "valid_to"]
    fields += ["kind", "centroid"] if gazetteer is not None else []
    fields += ["boundary"] if match is not None else []
    state = ("code", "level", "name_en", "name_km", "kind", "parent", "centroid")
    existing = {
        area.code: area
        for area in AdminArea.objects.only(*state, "valid_from", "valid_to")
    }
    pks = {code: area.pk for code, area in existing.items()}
    listed = {unit.code for unit in units}
    retired = [
        area
        for code, area in existing.items()
        if code not in listed and area.valid_to is None
    ]
    if retired:
        AdminArea.objects.filter(pk__in=[a.pk for a in retired]).update(valid_to=today)

    levels: dict[str, AreaLevelCounts] = {}
    for level in LEVELS:
        areas: list[AdminArea] = []
        created = updated = 0
        for unit in units:
            if unit.level != level:
                continue
            old = existing.get(unit.code)
            area = AdminArea(
                code=unit.code,
                level=level,
                name_en=unit.name_en,
                name_km=unit.name_km,
                parent_id=pks[unit.parent_code] if unit.parent_code else None,
                kind=old.kind if old else "",
                centroid=old.centroid if old else None,
                valid_from=valid_from,
            )
            if old is not None and (old.valid_to is None or valid_from is None):
                area.valid_from = old.valid_from  # still listed, or back unchanged
            if gazetteer is not None:
                row = agreed.get(unit.code)
                area.kind = row.kind if row else ""
                has_point = row is not None and row.lon is not None
                area.centroid = (
                    Point(row.lon, row.lat, srid=4326) if row and has_point else None
                )
            if match is not None and unit.code in match.geometries:
                wkb = shapely.to_wkb(match.geometries[unit.code])
                boundary = GEOSGeometry(memoryview(wkb), srid=4326)
                area.boundary = cast(MultiPolygon, boundary)
            if old is None:
                created += 1
            elif _area_state(old) != _area_state(area):
                updated += 1
            areas.append(area)
        AdminArea.objects.bulk_create(
            areas,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=fields,
        )
        pks.update((area.code, area.pk) for area in areas)
        levels[level] = AreaLevelCounts(
            listed=len(areas),
            created=created,
            updated=updated,
            unchanged=len(areas) - created - updated,
            retired=sum(1 for area in retired if area.level == level),
            with_boundary=(
                sum(area.boundary is not None for area in areas) if match else None
            ),
            features=match.features[level] if match else 0,
            features_matched=match.features_matched[level] if match else 0,
        )
    return AdminAreaLoadResult(
        levels=levels,
        findings=findings,
        gazetteer_used=gazetteer is not None,
        boundaries_used=match is not None,
    )
