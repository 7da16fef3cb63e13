from django.contrib import admin

from notifications.models import OutboxEmail, Preference


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    """Where an operator sees what is waiting and why (last error), and what went when."""

    list_display = ["subject", "to", "kind", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to", "subject"]
    readonly_fields = [field.name for field in OutboxEmail._meta.fields]

    def has_add_permission(self, request):
        # The notifications write these; an add form whose every field is read-only could only save an empty one.
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "enabled"]
    list_filter = ["kind", "enabled"]
    search_fields = ["user__username"]
