"""factory_boy factories shared by every test suite."""

import datetime as dt
import time
from typing import Any

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from allauth.mfa.utils import decrypt

from rollout.models import Rollout
from training import services as training_services
from training.models import TrainingSession
from units import services
from units.models import Municipality, MunicipalRole, Role, Unit, UnitKind, UnitManager, User

DEFAULT_PASSWORD = "korrekt-häst-batteri-häftklammer"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.se")
    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def verified_email(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        """allauth's mandatory verification: factory users have a verified primary address."""
        if create:
            obj.save()
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class SuperuserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class MunicipalityFactory(factory.django.DjangoModelFactory[Municipality]):
    """Created through the service, so every municipality has its default sectors."""

    class Meta:
        model = Municipality

    name = factory.Sequence(lambda n: f"Kommun {n}")
    slug = factory.Sequence(lambda n: f"kommun-{n}")

    @classmethod
    def _create(cls, model_class: type[Municipality], *args: Any, **kwargs: Any) -> Municipality:
        return services.municipality_create(actor=None, **kwargs)


class UnitFactory(factory.django.DjangoModelFactory[Unit]):
    class Meta:
        model = Unit

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"Enhet {n}")
    sector = factory.LazyAttribute(lambda unit: unit.municipality.sectors.order_by("name").first())
    kind = UnitKind.MUNICIPAL
    duty_to_report = True
    headcount = 20


def activate_totp(user: User) -> str:
    """Give the user a TOTP authenticator (coordinators must have one); returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def make_coordinator(municipality: Municipality, **kwargs: Any) -> User:
    user = UserFactory.create(**kwargs)
    MunicipalRole.objects.create(user=user, municipality=municipality, role=Role.COORDINATOR)
    activate_totp(user)
    return user


def make_observer(municipality: Municipality, **kwargs: Any) -> User:
    user = UserFactory.create(**kwargs)
    MunicipalRole.objects.create(user=user, municipality=municipality, role=Role.OBSERVER)
    return user


def make_manager(*units: Unit, **kwargs: Any) -> User:
    user = UserFactory.create(**kwargs)
    for unit in units:
        UnitManager.objects.create(user=user, unit=unit)
    return user


def totp_secret(user: User) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return decrypt(authenticator.data["secret"])


def current_totp_code(user: User) -> str:
    """The code the person's authenticator app shows right now. Close to the end of a 30-second
    window it waits for the next one, as a person would, so the code is still valid on arrival."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(totp_secret(user), int(time.time()) // 30))


def book_session(
    rollout: Rollout, leader: User, starts_at: dt.datetime, **overrides: object
) -> TrainingSession:
    """A session booked through the service by its leader, as most tests need one."""
    values: dict = {
        "actor": leader,
        "rollout": rollout,
        "starts_at": starts_at,
        "duration_minutes": 60,
        "place": "",
        "video_url": "https://video.example.se/x",
        "themes": [],
        "expected_participants": 5,
        "leader": leader,
    }
    return training_services.session_book(**(values | overrides))
