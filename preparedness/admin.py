"""Django admin of the core: areas on a map, organizations, memberships."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from preparedness.forms import MembershipAdminForm
from preparedness.models import AdminArea, AuditEntry, Membership, Organization
from preparedness.text import search_key


class NameKeySearchMixin:
    """Search the generated `name_key` with the same normalisation it was built with.

    A Khmer name typed with zero-width spaces, or in another case, still matches.
    Use with `search_fields = ["^code", "name_key__contains"]`.
    """

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_key(search_term))


@admin.register(AdminArea)
class AdminAreaAdmin(NameKeySearchMixin, LeafletGeoAdmin):
    list_display = ["code", "level", "name_en", "name_km", "kind", "parent", "valid_to"]
    list_filter = ["level", ("valid_to", admin.EmptyFieldListFilter)]
    search_fields = ["^code", "name_key__contains"]
    raw_id_fields = ["parent"]
    exclude = ["name_key"]
    show_full_result_count = False

    def get_queryset(self, request):
        # Boundaries can weigh tens of kB each: never load them for lists or lookups.
        return (
            super()
            .get_queryset(request)
            .select_related("parent")
            .defer("boundary", "parent__boundary", "parent__centroid")
        )


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "acronym", "kind", "forum_member"]
    list_filter = ["kind", "forum_member"]
    search_fields = ["name", "acronym"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "role", "organization"]
    list_filter = ["role", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "user__last_name"]
    autocomplete_fields = ["organization", "areas"]


class MembershipInline(admin.StackedInline):
    model = Membership
    form = MembershipAdminForm
    autocomplete_fields = ["organization", "areas"]
    can_delete = False
    verbose_name_plural = _("role and scope")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class SalaSafeUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "membership__role"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail, read-only: who changed what and when."""

    list_display = ["at", "actor_name", "action", "subject_type", "subject_id"]
    list_filter = ["subject_type", "action"]
    search_fields = ["subject_id", "actor_name"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
