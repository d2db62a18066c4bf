"""Pages that list things say something helpful when there is nothing to list (a new
municipality, a unit that has not started), instead of an empty table, a count of nothing or
downloads of empty files."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import MunicipalityFactory, UserFactory, make_coordinator, make_observer
from units.models import Municipality, Unit, User


def page(client: Client, person: User, url: str) -> str:
    client.force_login(person)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def empty_municipality(db: None) -> Municipality:
    return MunicipalityFactory.create(name="Nya kommunen", slug="nya")


@pytest.mark.django_db
def test_the_unit_table_of_a_municipality_without_units_shows_only_how_to_begin(
    client: Client, empty_municipality: Municipality
) -> None:
    coordinator = make_coordinator(empty_municipality, email="samordnare@nya.example.se")
    html = page(client, coordinator, reverse("rollout:unit_table", args=[empty_municipality.pk]))
    assert "Det finns inga aktiva enheter i kommunen ännu." in html
    assert reverse("units:create", args=[empty_municipality.pk]) in html
    assert "Ladda ned urvalet" not in html  # no download of an empty table
    assert "0 enheter" not in html
    assert 'name="steg"' not in html  # nor a filter with nothing to filter


@pytest.mark.django_db
def test_an_observer_of_a_municipality_without_units_is_not_offered_to_add_one(
    client: Client, empty_municipality: Municipality
) -> None:
    observer = make_observer(empty_municipality, email="fou@nya.example.se")
    html = page(client, observer, reverse("rollout:unit_table", args=[empty_municipality.pk]))
    assert "Det finns inga aktiva enheter i kommunen ännu." in html
    assert reverse("units:create", args=[empty_municipality.pk]) not in html


@pytest.mark.django_db
def test_indicators_without_units_offer_no_downloads(
    client: Client, empty_municipality: Municipality
) -> None:
    coordinator = make_coordinator(empty_municipality, email="samordnare@nya.example.se")
    html = page(client, coordinator, reverse("rollout:indicators", args=[empty_municipality.pk]))
    assert "Det finns inga aktiva enheter ännu, så det finns inget att räkna på." in html
    assert "Ladda ned indikatorerna" not in html
    assert reverse("rollout:indicators_export", args=[empty_municipality.pk, "csv"]) not in html


@pytest.mark.django_db
def test_a_unit_that_has_not_started_tells_the_manager_where_it_begins(
    client: Client, unit_a: Unit, manager_a: User
) -> None:
    unit_page = reverse("units:detail", args=[unit_a.pk])
    web_course = page(client, manager_a, reverse("training:web_course", args=[unit_a.pk]))
    assert "Enheten har inte börjat arbeta med modellen ännu." in web_course
    assert f'<a href="{unit_page}">Till enhetens sida, där införandet börjar</a>' in web_course
    targeted = page(client, manager_a, reverse("training:targeted", args=[unit_a.pk]))
    assert "Enheten har inget pågående införande." in targeted
    assert f'<a href="{unit_page}">Se var enheten står på enhetens sida</a>' in targeted


@pytest.mark.django_db
def test_a_person_who_manages_no_unit_learns_who_can_give_them_one(client: Client) -> None:
    html = page(client, UserFactory.create(), reverse("units:list"))
    assert "Du är inte enhetschef för någon enhet ännu." in html
    assert "Kommunens samordnare bjuder in enhetschefer från enhetens sida." in html
