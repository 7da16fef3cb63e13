"""The API token page's form: which of its buttons was pressed."""

from django import forms

from config.forms import PageForm


class TokenForm(PageForm):
    action = forms.ChoiceField(
        choices=[("create", "Create a token"), ("revoke", "Revoke")],
        error_messages={
            "required": "The form did not say whether to create or revoke the token",
            "invalid_choice": "A token is created or revoked, not ‘%(value)s’",
        },
    )
    page_filled = ("action",)
