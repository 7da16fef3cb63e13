import factory
from django.contrib.auth import get_user_model

from trusts.models import ICS, CareSetting, Membership, Region, Role, Trust, TrustType


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"Y{n % 1000:02d}")
    ons_code = factory.Sequence(lambda n: f"E4{n:07d}")
    name = factory.Sequence(lambda n: f"Region {n}")


class ICSFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ICS
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"Q{n % 100:02d}")
    ons_code = factory.Sequence(lambda n: f"E5{n:07d}")
    name = factory.Sequence(lambda n: f"NHS Place {n} Integrated Care Board")
    region = factory.SubFactory(RegionFactory)


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trust
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"R{n % 1000:03d}")
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
        django_get_or_create = ["username"]
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
