"""The e-mail preferences form: the boxes are the kinds of e-mail this person's roles can bring them."""

from django import forms

from config.forms import PageForm
from notifications import preferences


class PreferencesForm(PageForm):
    kinds = forms.MultipleChoiceField(
        required=False,
        error_messages={"invalid_choice": "‘%(value)s’ is not a kind of e-mail your account can choose"},
    )
    page_filled = ("kinds",)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [(kind.value, kind.label) for kind in preferences.kinds_for(user)]
