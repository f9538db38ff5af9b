"""Forms of the core pages: accounts and password reset."""

import re

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext, ngettext_lazy

from preparedness.models import AdminArea, Membership, Organization
from preparedness.ratelimit import (
    client_address,
    minutes,
    sign_in_failed,
    sign_in_paused,
    sign_in_succeeded,
)

Role = Membership.Role
_CODE_SEPARATORS = re.compile(r"[\s,;]+")


def parse_area_codes(text: str) -> list[str]:
    """Split "07, 0801; 120101" into codes, keeping order and dropping repeats."""
    return list(dict.fromkeys(code for code in _CODE_SEPARATORS.split(text) if code))


class AccountForm(forms.ModelForm):
    """An account with its role, organization and areas in scope.

    Validates only: the view passes `cleaned_data` to `user_create` or
    `user_update`. Areas are typed as NCDD codes and cleaned into AdminAreas.
    """

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.all(), required=False
    )
    areas = forms.CharField(
        label=_("Areas in scope"),
        required=False,
        help_text=_(
            "Codes of provinces, districts or communes separated by commas, for "
            "example 07, 0801. Required for education officials; other roles are "
            "nationwide and their areas are cleared."
        ),
    )

    class Meta:
        model = get_user_model()
        fields = ["username", "first_name", "last_name", "email", "is_active"]

    field_order = [
        "username",
        "first_name",
        "last_name",
        "email",
        "role",
        "organization",
        "areas",
        "is_active",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        membership = (
            getattr(self.instance, "membership", None) if self.instance.pk else None
        )
        if membership is not None and not self.is_bound:
            self.initial.update(
                role=membership.role,
                organization=membership.organization_id,
                areas=", ".join(area.code for area in membership.areas.all()),
            )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        others = get_user_model().objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("Another account already uses this email."))
        return email

    def clean_areas(self) -> list[str]:
        return parse_area_codes(self.cleaned_data["areas"])

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if "areas" not in cleaned or not role:
            return cleaned
        if role != Role.EDUCATION_OFFICIAL:
            cleaned["areas"] = []  # nationwide: whatever was typed is ignored
            return cleaned
        codes = cleaned["areas"]
        found = {
            area.code: area
            for area in AdminArea.objects.filter(code__in=codes).only("id", "code")
        }
        unknown = [code for code in codes if code not in found]
        if unknown:
            self.add_error(
                "areas",
                ngettext(
                    "Unknown area code: %(codes)s.",
                    "Unknown area codes: %(codes)s.",
                    len(unknown),
                )
                % {"codes": ", ".join(unknown)},
            )
        elif not codes:
            self.add_error(
                "areas", _("An education official needs at least one area in scope.")
            )
        else:
            cleaned["areas"] = [found[code] for code in codes]
        return cleaned


class MembershipAdminForm(forms.ModelForm):
    """The admin's membership form, with the same role and area rule as the pages."""

    class Meta:
        model = Membership
        fields = ["role", "organization", "areas"]

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        areas = cleaned.get("areas")
        if role == Role.EDUCATION_OFFICIAL and areas is not None and not areas:
            self.add_error(
                "areas", _("An education official needs at least one area in scope.")
            )
        elif role and role != Role.EDUCATION_OFFICIAL:
            cleaned["areas"] = AdminArea.objects.none()
        return cleaned


class SignInForm(auth_forms.AuthenticationForm):
    """Django's sign-in form, paused after too many failures (`ratelimit`)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request else ""
        if sign_in_paused(username, address):
            raise forms.ValidationError(
                ngettext(
                    "Too many failed sign-ins. Try again in %(n)s minute.",
                    "Too many failed sign-ins. Try again in %(n)s minutes.",
                    minutes(),
                )
                % {"n": minutes()},
                code="rate_limited",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            sign_in_failed(username, address)
            raise
        sign_in_succeeded(username, address)
        return cleaned


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, also for invited accounts that have not set a password yet.

    Django skips accounts with an unusable password (meant for external sign-in);
    SalaSafe has none, and an invitation link that expired must be renewable.
    """

    def get_users(self, email):
        email_field = get_user_model().get_email_field_name()
        return get_user_model()._default_manager.filter(
            **{f"{email_field}__iexact": email, "is_active": True}
        )


# Django's own Khmer catalogue leaves these sign-in, password and account strings
# untranslated. Naming them here puts them in SalaSafe's catalogue, which takes
# precedence (LOCALE_PATHS), so officials setting a password read Khmer.
DJANGO_STRINGS = (
    gettext_noop("username"),
    gettext_noop("first name"),
    gettext_noop("last name"),
    gettext_noop("Password"),
    gettext_noop(
        "Please enter a correct %(username)s and password. Note that both fields "
        "may be case-sensitive."
    ),
    gettext_noop("This account is inactive."),
    gettext_noop("Email"),
    gettext_noop("email address"),
    gettext_noop("Enter a valid email address."),
    gettext_noop("New password"),
    gettext_noop("New password confirmation"),
    gettext_noop("The two password fields didn’t match."),
    gettext_noop("A user with that username already exists."),
    gettext_noop(
        "Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."
    ),
    gettext_noop(
        "Enter a valid username. This value may contain only letters, "
        "numbers, and @/./+/-/_ characters."
    ),
    gettext_noop(
        "Designates whether this user should be treated as active. Unselect this "
        "instead of deleting accounts."
    ),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop(
        "Your password can’t be too similar to your other personal information."
    ),
    gettext_noop("This password is too common."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("Your password can’t be entirely numeric."),
    gettext_noop(
        "Select a valid choice. That choice is not one of the available choices."
    ),
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        8,
    ),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        8,
    ),
)
