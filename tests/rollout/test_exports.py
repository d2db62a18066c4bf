"""The CSV and Excel exports: file names, the pseudonymised table's order and numbers as Swedish
Excel reads them."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from rollout import exports
from tests.factories import UnitFactory
from units.models import Municipality, User


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.django_db
def test_a_file_name_with_swedish_letters_survives_in_the_download(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    Municipality.objects.filter(pk=municipality.pk).update(slug="tåby-öster")
    client.force_login(coordinator)
    for view, name in (("unit_table_export", "enheter"), ("indicators_export", "indikatorer")):
        response = client.get(reverse(f"rollout:{view}", args=[municipality.pk, "csv"]))
        disposition = response["Content-Disposition"]
        assert disposition.startswith(f"attachment; filename*=utf-8''{name}-t%C3%A5by-%C3%B6ster-")
        assert disposition.endswith(".csv")


@pytest.mark.django_db
def test_the_pseudonymised_table_is_not_in_the_order_of_the_names(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    """Sorted by name, the pseudonyms would follow the (public) list of unit names, and anyone
    with that list could tell which unit is which."""
    for name in ("Alfa", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta"):
        UnitFactory.create(municipality=municipality, name=name)
    client.force_login(coordinator)
    url = reverse("rollout:unit_table_export", args=[municipality.pk, "csv"])
    pseudonyms = [row[0] for row in read_csv(client.get(url, {"pseudonym": "1"}).content)[1:]]
    assert len(pseudonyms) >= 8
    assert all(pseudonym.startswith("E-") for pseudonym in pseudonyms)
    assert pseudonyms == sorted(pseudonyms)


def test_decimals_in_the_csv_have_a_decimal_comma_for_swedish_excel() -> None:
    sheet = exports.Sheet("Effekt", ["Nivå", "Enheter", "Medel"], [[2, 3, 3.5], [3, 1, None]])
    rows = read_csv(exports.to_csv(sheet))
    assert rows[1:] == [["2", "3", "3,5"], ["3", "1", ""]]
