from itertools import product
from string import ascii_uppercase, digits

import factory
from django.contrib.auth import get_user_model

from trusts.models import ICS, CareSetting, Membership, Region, Role, Trust, TrustType

# Codes the real ODS data never uses (real regions are Y + two digits, real ICBs Q + a letter first, real trusts three
# characters), so a factory object can never be mistaken for, or silently merged with, a real organisation. Factories
# never get-or-create: a test that needs an existing object passes it.
REGION_CODES = ["Y" + "".join(pair) for pair in product(ascii_uppercase, repeat=2)]
ICS_CODES = ["Q" + digit + char for digit, char in product(digits, digits + ascii_uppercase)]


def _trust_code(n: int) -> str:
    letters = ""
    for _ in range(4):
        n, remainder = divmod(n, 26)
        letters = ascii_uppercase[remainder] + letters
    return "R" + letters


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: REGION_CODES[n % len(REGION_CODES)])
    ons_code = factory.Sequence(lambda n: f"E4{n:07d}")
    name = factory.Sequence(lambda n: f"Region {n}")


class ICSFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ICS

    code = factory.Sequence(lambda n: ICS_CODES[n % len(ICS_CODES)])
    ons_code = factory.Sequence(lambda n: f"E5{n:07d}")
    name = factory.Sequence(lambda n: f"NHS Place {n} Integrated Care Board")
    region = factory.SubFactory(RegionFactory)


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trust
        skip_postgeneration_save = True

    code = factory.Sequence(_trust_code)
    name = factory.Sequence(lambda n: f"Place {n} Hospitals NHS Foundation Trust")
    trust_type = TrustType.ACUTE
    ics = factory.SubFactory(ICSFactory)

    @factory.post_generation
    def care_settings(self, create, extracted, **kwargs):
        if create:
            CareSetting.objects.ensure_all()
            self.care_settings.set(extracted if extracted is not None else [CareSetting.ACUTE])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-password")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.TRUST_LEAD
    trust = factory.SubFactory(TrustFactory)
    ics = None


def lead_of(trust, **kwargs):
    return MembershipFactory(role=Role.TRUST_LEAD, trust=trust, ics=None, **kwargs).user


def reviewer_of(ics, **kwargs):
    return MembershipFactory(role=Role.ICS_REVIEWER, ics=ics, trust=None, **kwargs).user


def analyst(**kwargs):
    return MembershipFactory(role=Role.ANALYST, trust=None, ics=None, **kwargs).user


# --- maturity ---------------------------------------------------------------------------------------------------

from maturity.models import (  # noqa: E402 - grouped by app for reading
    Assessment,
    Cycle,
    CycleKind,
    CycleState,
    Domain,
    Framework,
    FrameworkKind,
    Indicator,
    IndicatorType,
    Pillar,
)

LEVELS = ["Ad hoc", "Planned", "In place", "Embedded", "Leading"]


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework

    code = factory.Sequence(lambda n: f"test-framework-{n}")
    version = "1"
    kind = FrameworkKind.TRUST
    name = "Test framework"
    source_file = "test.yaml"
    checksum = factory.Sequence(lambda n: f"{n:064d}")


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    framework = factory.SubFactory(FrameworkFactory)
    pillar = factory.LazyFunction(lambda: Pillar.objects.ensure_all() or Pillar.objects.get(code="well_led"))
    code = factory.Sequence(lambda n: f"D{n:02d}")
    name = factory.Sequence(lambda n: f"Domain {n}")
    description = "What this domain covers."
    levels = LEVELS
    care_settings = []
    themes = []
    weight = 1
    position = factory.Sequence(lambda n: n)


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    framework = factory.SubFactory(FrameworkFactory)
    code = factory.Sequence(lambda n: f"indicator_{n}")
    name = factory.Sequence(lambda n: f"Indicator {n}")
    value_type = IndicatorType.PERCENT
    min_value = 0
    max_value = 100
    required = True
    position = factory.Sequence(lambda n: n)


def small_framework(kind=FrameworkKind.TRUST) -> Framework:
    """Two pillars, three domains (one acute-only), two indicators: enough to exercise every rule."""
    Pillar.objects.ensure_all()
    framework = FrameworkFactory(kind=kind)
    well_led, foundations = Pillar.objects.get(code="well_led"), Pillar.objects.get(code="smart_foundations")
    DomainFactory(framework=framework, pillar=well_led, code="WL01", name="Board leadership", themes=["workforce"])
    DomainFactory(framework=framework, pillar=foundations, code="SF01", name="Infrastructure", themes=["legacy_it"])
    DomainFactory(
        framework=framework, pillar=foundations, code="SF02", name="Acute EPR", care_settings=["acute"], themes=["epr"]
    )
    IndicatorFactory(framework=framework, code="unsupported_devices_pct", name="Devices on unsupported systems")
    IndicatorFactory(
        framework=framework,
        code="epr_supplier",
        name="EPR supplier",
        value_type=IndicatorType.CHOICE,
        choices=["Epic", "Oracle Health (Cerner)", "Other"],
        required=False,
    )
    return framework


class CycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cycle

    year = 2026
    kind = CycleKind.COLLECTED
    state = CycleState.OPEN
    trust_framework = factory.LazyFunction(small_framework)
    ics_framework = factory.LazyFunction(lambda: small_framework(kind=FrameworkKind.ICS))


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    cycle = factory.SubFactory(CycleFactory)
    trust = factory.SubFactory(TrustFactory)
    care_setting_id = CareSetting.ACUTE
    ics = factory.LazyAttribute(lambda a: a.trust.ics)
    region = factory.LazyAttribute(lambda a: a.ics.region)
    framework = factory.LazyAttribute(lambda a: a.cycle.trust_framework)


def api_token(user) -> str:
    """A new API token for `user`, as the token page makes it: the token itself (only its digest is stored)."""
    from reports.models import ApiToken

    return ApiToken.objects.create(user=user)[1]
