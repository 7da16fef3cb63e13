"""The operator's admin for accounts and roles. Every change to a role or an account's state goes through
trusts.actions, so the admin's changes are audited like the pages' (RoleEvent). Organisations are reference data
loaded from ODS files (manage.py load_organisations): read-only here."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied

from trusts import actions
from trusts.models import ICS, Invitation, Membership, Region, RoleEvent, Trust


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listed and viewed, never added, changed or deleted here: what writes it lives elsewhere."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """Rows of a read-only page, listed under it: every field shown, none added, changed or deleted."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "ons_code"]
    search_fields = ["code", "name"]


@admin.register(ICS)
class ICSAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name"]


@admin.register(Trust)
class TrustAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "trust_type", "ics", "closed_on"]
    list_filter = ["trust_type", "ics__region"]
    search_fields = ["code", "name"]


class MembershipForm(forms.ModelForm):
    """For the inline and the membership page: an existing membership's user, role and organisation are fixed
    (another role is another membership), only its dates change; a new one must name the right organisation, as
    the action checks, so that a closed trust is refused on the page rather than when saving."""

    class Meta:
        model = Membership
        fields = ["user", "role", "trust", "ics", "starts_on", "ends_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("user", "role", "trust", "ics"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("role"):
            try:
                actions.check_organisation(data["role"], data.get("trust") or data.get("ics"))
            except actions.Invalid as invalid:
                raise forms.ValidationError(str(invalid)) from invalid
        return data


def _save_membership(request, user, form) -> Membership:
    data = form.cleaned_data
    if form.instance.pk is None:
        return actions.grant_role(
            by=request.user,
            user=user,
            role=data["role"],
            organisation=data["trust"] or data["ics"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
    return actions.set_membership_dates(
        by=request.user, membership=form.instance, starts_on=data["starts_on"], ends_on=data["ends_on"]
    )


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    fields = ["role", "trust", "ics", "starts_on", "ends_on", "in_force"]
    readonly_fields = ["in_force"]
    autocomplete_fields = ["trust", "ics"]
    extra = 0
    # Ended, not deleted: set "ends on" (or deactivate the account), so the history keeps the membership.
    can_delete = False

    @admin.display(boolean=True, description="In force today")
    def in_force(self, membership):
        return membership.is_current() if membership.pk else None


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "role", "organisation_name", "starts_on", "ends_on", "in_force"]
    list_filter = ["role", "ics", "ends_on"]
    list_select_related = ["user", "trust", "ics"]
    search_fields = ["user__username", "user__email", "trust__code", "trust__name", "ics__code", "ics__name"]
    autocomplete_fields = ["user", "trust", "ics"]
    actions = ["end_today"]

    @admin.display(boolean=True, description="In force today")
    def in_force(self, membership):
        return membership.is_current()

    @admin.display(description="Organisation")
    def organisation_name(self, membership):
        return membership.organisation_name

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = _save_membership(request, form.cleaned_data["user"], form)
        # The admin logs and redirects to the object it passed in: make it the one the action saved.
        obj.pk, obj.starts_on, obj.ends_on = saved.pk, saved.starts_on, saved.ends_on
        obj._state.adding = False

    @admin.action(description="End the selected memberships today")
    def end_today(self, request, queryset):
        for membership in queryset:
            actions.revoke_role(by=request.user, membership=membership)
        self.message_user(request, f"Ended {len(queryset)} membership(s).", messages.SUCCESS)


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Django's user admin with the user's memberships inline; deactivating (the "active" box, or the list's
    action) goes through actions.deactivate_user, which also deletes the API token and ends the memberships, and
    ticking "active" again through actions.reactivate_user, which records who did."""

    inlines = [MembershipInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    actions = ["deactivate"]

    def save_model(self, request, obj, form, change):
        toggled = change and "is_active" in form.changed_data
        deactivating, reactivating = toggled and not obj.is_active, toggled and obj.is_active
        if toggled:
            obj.is_active = not obj.is_active  # until the action below: it makes the change, and records who did
        super().save_model(request, obj, form, change)
        if deactivating:
            try:
                actions.deactivate_user(by=request.user, user=obj)
            except (actions.RoleError, PermissionDenied) as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                obj.is_active = False
        if reactivating:
            try:
                actions.reactivate_user(by=request.user, user=obj)
            except PermissionDenied as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                obj.is_active = True
                self.message_user(request, "Reactivated. Its roles stay ended: grant the ones it needs now.")

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # What formset.save() would have noted, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for membership_form in formset.forms:
            if not membership_form.has_changed():
                continue
            adding = membership_form.instance.pk is None
            membership = _save_membership(request, form.instance, membership_form)
            if adding:
                formset.new_objects.append(membership)
            else:
                formset.changed_objects.append((membership, membership_form.changed_data))

    @admin.action(description="Deactivate the selected users (ends their roles, deletes their API tokens)")
    def deactivate(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                actions.deactivate_user(by=request.user, user=user)
            except (actions.RoleError, PermissionDenied) as refusal:
                self.message_user(request, f"{user}: {refusal}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"Deactivated {done} user(s).", messages.SUCCESS)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations are sent from /account/invitations/, where the e-mail with its link goes out."""

    list_display = ["email", "role", "organisation_name", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    list_select_related = ["trust", "ics", "invited_by"]
    search_fields = ["email"]
    exclude = ["token_hash"]


@admin.register(RoleEvent)
class RoleEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "action", "subject", "email", "role", "organisation_name", "note"]
    list_filter = ["action", "role"]
    list_select_related = ["actor", "subject", "trust", "ics"]
    search_fields = ["subject__username", "email", "actor__username", "trust__code", "ics__code"]
    date_hierarchy = "at"

    @admin.display(description="By")
    def actor_name(self, event):
        return event.actor or "operator"
