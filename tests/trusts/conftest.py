from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from tests.factories import (
    ICSFactory,
    RegionFactory,
    TrustFactory,
    UserFactory,
    analyst,
    lead_of,
    reviewer_of,
)


@pytest.fixture
def world(db):
    """Two regions; ICS A (two trusts) in the north, ICS B (one trust) in the south; one user per role."""
    north = RegionFactory(code="Y62", name="North West")
    south = RegionFactory(code="Y58", name="South West")
    ics_a = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board", region=north)
    ics_b = ICSFactory(code="QVV", name="NHS Dorset Integrated Care Board", region=south)
    trust_a1 = TrustFactory(code="R0A", name="Manchester University NHS Foundation Trust", ics=ics_a)
    trust_a2 = TrustFactory(code="RBV", name="The Christie NHS Foundation Trust", ics=ics_a)
    trust_b1 = TrustFactory(code="R0D", name="University Hospitals Dorset NHS Foundation Trust", ics=ics_b)
    return SimpleNamespace(
        north=north,
        south=south,
        ics_a=ics_a,
        ics_b=ics_b,
        trust_a1=trust_a1,
        trust_a2=trust_a2,
        trust_b1=trust_b1,
        users={
            "lead": lead_of(trust_a1, user__username="lead-r0a"),
            "reviewer": reviewer_of(ics_a, user__username="ics-qop"),
            "analyst": analyst(user__username="analyst"),
            "admin": get_user_model().objects.create_superuser("admin", password="x"),
            "no-role": UserFactory(username="nobody"),
        },
    )


@pytest.fixture
def eager_celery(monkeypatch):
    """Tasks run in the test's process even when REDIS_URL names a broker, so the e-mails they send land in the
    test's outbox."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
