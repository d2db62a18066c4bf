"""The site's menu (templates/base.html): who gets which link, which one is marked as the current
page, and that drawing it costs nobody an extra query."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from units import access
from units.models import Municipality, RegionalObserver, Unit, User

# Measured before the regional link was added: the person with their roles (units.backends);
# the session is in the cache.
MY_ACCOUNT_QUERIES = 1
REGIONAL_LINK = re.compile(r'<a class="nav-link" href="/regional/"( aria-current="page")?>')


def regional_observer(
    *municipalities: Municipality, email: str = "lansstyrelsen@example.se"
) -> User:
    person = UserFactory.create(email=email)
    grant = RegionalObserver.objects.create(user=person, organisation="Länsstyrelsen")
    grant.municipalities.set(municipalities)
    return person


def menu_link(client: Client, person: User, url: str) -> re.Match[str] | None:
    client.force_login(person)
    response = client.get(url)
    assert response.status_code == 200
    return REGIONAL_LINK.search(response.content.decode())


@pytest.mark.django_db
def test_a_regional_observer_finds_the_regional_view_in_the_menu(
    client: Client, municipality: Municipality
) -> None:
    person = regional_observer(municipality)
    on_account_page = menu_link(client, person, reverse("my_account"))
    assert on_account_page is not None
    assert on_account_page.group(1) is None  # another page is the current one
    on_regional_page = menu_link(client, person, reverse("rollout:regional"))
    assert on_regional_page is not None
    assert on_regional_page.group(1) == ' aria-current="page"'


@pytest.mark.django_db
def test_a_regional_observer_without_municipalities_yet_still_finds_the_page(
    client: Client,
) -> None:
    # The regional view tells them why it is empty (rollout.regional_views).
    assert menu_link(client, regional_observer(), reverse("my_account")) is not None


@pytest.mark.django_db
def test_a_superuser_finds_the_regional_view_in_the_menu(client: Client, superuser: User) -> None:
    assert menu_link(client, superuser, reverse("my_account")) is not None


@pytest.mark.django_db
def test_coordinators_observers_and_managers_get_no_regional_link(
    client: Client, coordinator: User, observer: User, manager_a: User
) -> None:
    for person in (coordinator, observer, manager_a):
        assert menu_link(client, person, reverse("my_account")) is None, person.email


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["coordinator", "manager_a", "regional"])
def test_the_menu_adds_no_query_to_an_ordinary_page(
    client: Client,
    django_assert_num_queries: object,
    persona: str,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    municipality: Municipality,
) -> None:
    """The account page: the session, the person with their roles (one statement, which also
    says whether they are a regional observer) and their e-mail addresses. Before the regional
    link existed the count for coordinators and managers was the same."""
    person = {
        "coordinator": coordinator,
        "manager_a": manager_a,
        "regional": regional_observer(municipality),
    }[persona]
    client.force_login(person)
    client.get(reverse("my_account"))  # the first request after login also records the session
    with django_assert_num_queries(MY_ACCOUNT_QUERIES):  # type: ignore[operator]
        response = client.get(reverse("my_account"))
    assert response.status_code == 200


def test_the_roles_statement_reads_the_regional_grants() -> None:
    assert f"FROM {RegionalObserver._meta.db_table} " in access._ROLES_SQL
    assert f"'{access._REGIONAL}'" in access._ROLES_SQL
