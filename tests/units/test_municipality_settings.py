"""The coordinator keeps the model's name, follow-up rhythm, links and sectors up to date."""

import pytest
from django.test import Client
from django.urls import reverse

from units.models import AuditEvent, Municipality, Sector, User


@pytest.mark.django_db
def test_settings_are_saved_and_audited(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    url = reverse("units:settings", args=[municipality.pk])
    assert "6, 12" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "name": municipality.name,
            "model_name": "Huddingemodellen",
            "followup_offsets_months": "12; 3, 6",
            "web_course_threshold_percent": "75",
            "web_course_url": "https://webbkurs.example.se/heder",
            "facilitator_guide_url": "",
        },
    )
    assert response.status_code == 302
    municipality.refresh_from_db()
    assert municipality.model_name == "Huddingemodellen"
    assert municipality.followup_offsets_months == [3, 6, 12]
    event = AuditEvent.objects.get(action="municipality.changed")
    assert event.changes["followup_offsets_months"] == [[6, 12], [3, 6, 12]]
    assert event.changes["model_name"] == ["Järfällamodellen", "Huddingemodellen"]


@pytest.mark.django_db
@pytest.mark.parametrize("offsets", ["sex", "0, 6", "", "6, 12, 18, 24, 30, 36, 42"])
def test_bad_followup_offsets_are_explained(
    client: Client, coordinator: User, municipality: Municipality, offsets: str
) -> None:
    client.force_login(coordinator)
    response = client.post(
        reverse("units:settings", args=[municipality.pk]),
        {"name": municipality.name, "model_name": "X", "followup_offsets_months": offsets},
    )
    assert response.status_code == 200
    assert "Formuläret innehåller fel" in response.content.decode()
    municipality.refresh_from_db()
    assert municipality.followup_offsets_months == [6, 12]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "model_name"])
def test_the_names_refuse_personal_data(
    client: Client, coordinator: User, municipality: Municipality, field: str
) -> None:
    client.force_login(coordinator)
    data = {
        "name": municipality.name,
        "model_name": "Järfällamodellen",
        "followup_offsets_months": "6, 12",
        "web_course_threshold_percent": "80",
    } | {field: "Modellen för 811218-9876"}
    response = client.post(reverse("units:settings", args=[municipality.pk]), data)
    assert response.status_code == 200
    assert "personnummer" in response.content.decode()
    municipality.refresh_from_db()
    assert "811218-9876" not in (municipality.name + municipality.model_name)


@pytest.mark.django_db
def test_sectors_can_be_added_and_retired(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    assert municipality.sectors.count() == 11
    client.post(reverse("units:sector_create", args=[municipality.pk]), {"name": "Kulturskola"})
    sector = Sector.objects.get(municipality=municipality, name="Kulturskola")
    duplicate = client.post(
        reverse("units:sector_create", args=[municipality.pk]), {"name": "kulturskola"}
    )
    assert "Sektorn finns redan." in duplicate.content.decode()
    client.post(reverse("units:sector_toggle", args=[municipality.pk, sector.pk]))
    sector.refresh_from_db()
    assert not sector.is_active
    # A retired sector is not offered for new units.
    form = client.get(reverse("units:create", args=[municipality.pk])).content.decode()
    assert f'<option value="{sector.pk}"' not in form


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        ("150", "Kontrollera att detta värde är mindre än eller lika med 100."),
        ("0", "Kontrollera att detta värde är större än eller lika med 1."),
    ],
)
def test_a_threshold_out_of_range_is_explained_not_a_server_error(
    client: Client, coordinator: User, municipality: Municipality, threshold: str, message: str
) -> None:
    client.force_login(coordinator)
    data = {
        "name": municipality.name,
        "model_name": "Järfällamodellen",
        "followup_offsets_months": "6, 12",
        "web_course_threshold_percent": threshold,
    }
    response = client.post(reverse("units:settings", args=[municipality.pk]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        f'<div class="invalid-feedback d-block" id="id_web_course_threshold_percent_error">{message}</div>'
        in html
    )
    assert f'value="{threshold}"' in html
    municipality.refresh_from_db()
    assert municipality.web_course_threshold_percent == 80
