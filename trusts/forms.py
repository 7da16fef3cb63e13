"""The invitation form: its role and organisation choices are what the inviter may give (trusts.actions)."""

from django import forms

from trusts import actions
from trusts.models import Role

NO_ORGANISATION = ""


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        error_messages={
            "required": "Enter the e-mail address of the person to invite",
            "invalid": "Enter an e-mail address in the right format, like name@nhs.net",
        },
    )
    role = forms.ChoiceField(
        label="Role",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a role", "invalid_choice": "Choose one of the roles listed"},
    )
    organisation = forms.ChoiceField(
        label="Organisation",
        required=False,
        error_messages={"invalid_choice": "Choose one of the organisations listed"},
    )

    def __init__(self, inviter, *args, **kwargs):
        super().__init__(*args, **kwargs)
        roles = actions.grantable_roles(inviter)
        self.fields["role"].choices = [(role.value, role.label) for role in roles]
        if len(roles) == 1:
            self.fields["role"].initial = roles[0].value
        icss, trusts = actions.grantable_organisations(inviter)
        self.organisations = {organisation.code: organisation for organisation in (*icss, *trusts)}
        # (heading, [(code, name)]) for the select's option groups; "no organisation" only for those who may make
        # analysts.
        self.organisation_groups = [
            (heading, [(o.code, f"{o.name} ({o.code})") for o in group])
            for heading, group in (("Integrated care boards", icss), ("Trusts", trusts))
            if group
        ]
        choices = [(code, name) for _, group in self.organisation_groups for code, name in group]
        self.allows_no_organisation = Role.ANALYST in roles
        if self.allows_no_organisation:
            choices.insert(0, (NO_ORGANISATION, "None (analysts)"))
        self.fields["organisation"].choices = choices

    def clean_organisation(self):
        return self.organisations.get(self.cleaned_data["organisation"])
