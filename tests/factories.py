"""factory_boy factories shared by every test suite."""

from typing import Any

import factory
from allauth.account.models import EmailAddress

from units.models import User

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
