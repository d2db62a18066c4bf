from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import Manager, Model, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units import services
from units.models import (
    AuditEvent,
    Invitation,
    Municipality,
    MunicipalRole,
    RegionalObserver,
    Sector,
    Unit,
    UnitManager,
    User,
)


def _value(obj: Model | None, field: str) -> Any:
    value = getattr(obj, field, None) if obj is not None else None
    return value.all() if isinstance(value, Manager) else value


class AuditedAdmin(admin.ModelAdmin):
    """Changes made in the admin go into the same audit trail as changes made in the app."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The form has already written the new values into obj; the row as it was says what
        # they replaced (many-to-many choices are saved only after this, so they still read old).
        before = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        changes = {
            field: (_value(before, field), form.cleaned_data.get(field))
            for field in form.changed_data
        }
        self._audit(request, obj, "changed" if change else "created", changes)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._audit(request, obj, "deleted", {})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # The list's "delete selected" action: audited (and the municipality's numbers
        # refreshed, units.freshness) one by one, as the delete button does.
        with transaction.atomic():
            for obj in queryset:
                self._audit(request, obj, "deleted", {})
            super().delete_queryset(request, queryset)

    def _audit(self, request: HttpRequest, obj: Any, verb: str, changes: dict[str, Any]) -> None:
        unit = obj if isinstance(obj, Unit) else getattr(obj, "unit", None)
        municipality = (
            obj if isinstance(obj, Municipality) else getattr(obj, "municipality", None)
        ) or (unit.municipality if unit else None)
        services.audit_record(
            actor=request.user if isinstance(request.user, User) else None,
            action=f"{obj._meta.model_name}.{verb}_in_admin",
            target=obj,
            municipality=municipality,
            unit=unit if verb != "deleted" or not isinstance(obj, Unit) else None,
            changes=changes,
        )


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):  # type: ignore[misc]
    """People: creating, changing (active, staff, superuser) and deleting them is audited like
    the other admin changes; a deletion is filed under each municipality the person had a
    role in, so its coordinators see it too, and keeps the address of who was deleted."""

    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Namn"), {"fields": ("first_name", "last_name")}),
        (_("Behörighet"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Datum"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def _audit(self, request: HttpRequest, obj: Any, verb: str, changes: dict[str, Any]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        # Never a password (or its hash) in the trail, whatever the form calls the field.
        changes = {k: v for k, v in changes.items() if "password" not in k}
        if verb != "deleted":
            services.audit_record(
                actor=actor,
                action=f"user.{verb}_in_admin",
                target=obj,
                municipality=None,
                changes=changes,
            )
            return
        # Read before the delete: the roles and memberships go with the account (CASCADE).
        municipalities = Municipality.objects.filter(
            Q(roles__user=obj) | Q(units__managers__user=obj)
        ).distinct()
        places: list[Municipality | None] = list(municipalities) or [None]
        for municipality in places:
            services.audit_record(
                actor=actor,
                action="user.deleted_in_admin",
                target=obj,
                municipality=municipality,
                changes={"email": (obj.email, None)},
            )


class SectorInline(admin.TabularInline):
    model = Sector
    extra = 0


@admin.register(Municipality)
class MunicipalityAdmin(AuditedAdmin):
    list_display = ("name", "slug", "model_name", "followup_offsets_months", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (SectorInline,)


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = (
        "name",
        "municipality",
        "sector",
        "kind",
        "headcount",
        "duty_to_report",
        "is_active",
    )
    list_filter = ("is_active", "kind", "duty_to_report", "municipality")
    search_fields = ("name", "municipality__name")
    list_select_related = ("municipality", "sector")
    autocomplete_fields = ("municipality",)
    raw_id_fields = ("sector",)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        toggled = change and "is_active" in form.changed_data
        archived = toggled and not obj.is_active
        if toggled:
            obj.archived_at = timezone.now() if archived else None
        super().save_model(request, obj, form, change)
        if archived:
            assert isinstance(request.user, User)  # the admin is for staff accounts only
            # Archived here rather than on the unit's page: what waited for the unit stops
            # all the same (its invitations, its mail in the outbox).
            services.unit_archived_stop_waiting(actor=request.user, unit=obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Unit | None = None) -> Any:
        # A unit stays in its municipality: its sector, people and history belong there, and
        # units.access remembers the municipality of a unit once read.
        return ("municipality",) if obj is not None else ()


@admin.register(MunicipalRole)
class MunicipalRoleAdmin(AuditedAdmin):
    list_display = ("user", "municipality", "role", "created_at")
    list_filter = ("role", "municipality")
    search_fields = ("user__email", "municipality__name")
    list_select_related = ("user", "municipality")
    raw_id_fields = ("user",)


@admin.register(RegionalObserver)
class RegionalObserverAdmin(AuditedAdmin):
    """A superuser grants a county board or national body the regional view of some
    municipalities (counts only, see rollout.regional)."""

    list_display = ("user", "organisation", "created_at")
    search_fields = ("user__email", "organisation")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    filter_horizontal = ("municipalities",)

    # Who may compare which municipalities is for superusers alone, not for staff who were
    # given the model's permissions.
    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser


@admin.register(UnitManager)
class UnitManagerAdmin(AuditedAdmin):
    list_display = ("user", "unit", "created_at")
    search_fields = ("user__email", "unit__name")
    list_select_related = ("user", "unit")
    raw_id_fields = ("user", "unit")


@admin.register(Invitation)
class InvitationAdmin(AuditedAdmin):
    list_display = (
        "email",
        "role",
        "municipality",
        "unit",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("role", "municipality")
    search_fields = ("email",)
    list_select_related = ("municipality", "unit")
    # Tokens are only ever created by the service, which e-mails them.
    readonly_fields = ("token_hash", "invited_by", "accepted_by", "accepted_at", "created_at")
    raw_id_fields = ("unit",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_email", "action", "target_repr", "municipality")
    list_filter = ("action", "municipality")
    search_fields = ("actor_email", "target_repr")
    list_select_related = ("municipality",)
    date_hierarchy = "at"

    # The trail is append-only, also for administrators.
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
