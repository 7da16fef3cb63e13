"""/account/notifications/: each person switches each kind of e-mail on or off (on until they say otherwise)."""

from html.parser import HTMLParser

import pytest

from maturity import actions
from notifications import preferences
from notifications.models import Kind, OutboxEmail, Preference
from tests.factories import UserFactory
from tests.notifications.conftest import fill

URL = "/account/notifications/"


class Checkboxes(HTMLParser):
    """The page's checkboxes: value → checked."""

    def __init__(self, html: str):
        super().__init__()
        self.found: dict[str, bool] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "checkbox" and attrs.get("name") == "kinds":
            self.found[attrs["value"]] = "checked" in attrs


def checkboxes(client) -> dict[str, bool]:
    response = client.get(URL)
    assert response.status_code == 200
    return Checkboxes(response.content.decode()).found


def test_the_page_needs_a_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("role", "kinds"),
    [
        ("lead", {"returned", "approved", "reminder"}),
        ("reviewer", {"submitted", "returned", "approved", "reminder"}),
        ("analyst", {"icb_submitted"}),
    ],
)
def test_each_role_sees_the_kinds_it_can_receive_all_on_at_first(client, world, role, kinds):
    client.force_login(world.users[role])
    assert checkboxes(client) == dict.fromkeys(kinds, True)


def test_the_header_links_to_the_page(client, world):
    client.force_login(world.users["lead"])
    assert f'href="{URL}"' in client.get(URL).content.decode()
    assert f'href="{URL}"' in client.get("/trusts/R0A/").content.decode()


def test_clearing_a_box_switches_that_kind_off_and_keeps_the_others_on(client, world):
    client.force_login(world.users["reviewer"])

    response = client.post(URL, {"kinds": ["returned", "approved", "reminder"]}, follow=True)

    assert "Your e-mail choices were saved." in response.content.decode()
    assert checkboxes(client) == {"submitted": False, "returned": True, "approved": True, "reminder": True}
    assert preferences.switched_on(world.users["reviewer"]) == {"returned", "approved", "reminder"}


def test_a_kind_the_page_does_not_offer_is_a_bad_request_that_changes_nothing(client, world):
    client.force_login(world.users["lead"])
    response = client.post(URL, {"kinds": ["returned", "submitted"]})
    assert response.status_code == 400
    assert "‘submitted’ is not a kind of e-mail your account can choose" in response.content.decode()
    assert not Preference.objects.exists()


def test_ticking_it_again_switches_it_back_on(client, world):
    Preference.objects.create(user=world.users["lead"], kind=Kind.REMINDER, enabled=False)
    client.force_login(world.users["lead"])

    client.post(URL, {"kinds": ["returned", "approved", "reminder"]})

    assert checkboxes(client)["reminder"] is True


def test_a_kind_switched_off_on_the_page_writes_no_outbox_row_for_that_person(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.users["reviewer"])
    client.post(URL, {"kinds": ["returned"]})
    lead = world.users["lead"]
    fill(world.assessment, lead)

    with django_capture_on_commit_callbacks(execute=True):
        actions.submit_assessment(
            by=lead,
            assessment=world.assessment,
            expected_version=world.assessment.version,
            sign_off_name="Jo Bloggs",
            sign_off_role="Chief Executive",
            declared=True,
        )

    assert set(OutboxEmail.objects.values_list("to", flat=True)) == {"second@qop.example.nhs.uk"}


def test_a_person_without_an_email_address_is_told_they_get_none(client, world):
    client.force_login(world.users["reviewer without e-mail"])
    assert "Your account has no e-mail address" in client.get(URL).content.decode()


def test_an_account_without_a_role_has_nothing_to_choose(client, db):
    client.force_login(UserFactory(email="someone@example.nhs.uk"))
    content = client.get(URL).content.decode()
    assert "Your account has no role that e-mails are sent for." in content
    assert checkboxes(client) == {}


def test_the_submit_page_says_the_reviewers_will_be_emailed(client, world, smtp_server):
    lead = world.users["lead"]
    fill(world.assessment, lead)
    client.force_login(lead)

    response = client.post(
        "/trusts/R0A/assessments/2026/acute/submit/",
        {
            "version": world.assessment.version,
            "sign_off_name": "Jo Bloggs",
            "sign_off_role": "Chief Executive",
            "declared": "yes",
        },
        follow=True,
    )

    assert "Its reviewers will be e-mailed that it is ready for review." in response.content.decode()
