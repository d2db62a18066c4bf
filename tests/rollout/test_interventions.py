"""The intervention map (insatskedjor): registering interventions, the sector × level matrix with
its gaps, the list behind each cell, and who may do what."""

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rollout import interventions
from rollout.models import Intervention
from tests.factories import UnitFactory
from units import services as unit_services
from units.models import AuditEvent, Municipality, PreventionLevel, Sector, Unit, User

UNIVERSAL = PreventionLevel.UNIVERSAL
SELECTIVE = PreventionLevel.SELECTIVE
INDICATED = PreventionLevel.INDICATED
PERSONNUMMER = "811218-9876"  # a valid one (Luhn), as people might paste it


def sector(municipality: Municipality, name: str) -> Sector:
    return Sector.objects.get(municipality=municipality, name=name)


def unit_in(municipality: Municipality, sector_name: str, name: str, **extra: Any) -> Unit:
    return UnitFactory.create(
        municipality=municipality, sector=sector(municipality, sector_name), name=name, **extra
    )


def add(
    municipality: Municipality,
    actor: User,
    name: str,
    level: str = UNIVERSAL,
    **fields: Any,
) -> Intervention:
    return interventions.intervention_create(
        actor=actor,
        municipality=municipality,
        name=name,
        level=level,
        target_group=fields.pop("target_group", "Alla elever"),
        **fields,
    )


def map_url(municipality: Municipality, **query: str) -> str:
    url = reverse("rollout:interventions", kwargs={"pk": municipality.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def list_url(municipality: Municipality, query: str = "") -> str:
    url = reverse("rollout:intervention_list", kwargs={"pk": municipality.pk})
    return f"{url}?{query}" if query else url


def create_url(municipality: Municipality) -> str:
    return reverse("rollout:intervention_create", kwargs={"pk": municipality.pk})


def edit_url(intervention: Intervention) -> str:
    return reverse(
        "rollout:intervention_edit",
        kwargs={"pk": intervention.municipality_id, "intervention_pk": intervention.pk},
    )


def delete_url(intervention: Intervention) -> str:
    return reverse(
        "rollout:intervention_delete",
        kwargs={"pk": intervention.municipality_id, "intervention_pk": intervention.pk},
    )


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Föräldraträffar om rättigheter",
        "level": SELECTIVE,
        "owner_sector": "",
        "owner_unit": "",
        "target_group": "Föräldrar i förskolan",
        "starts_on": "",
        "ends_on": "",
        "description": "Fyra träffar per termin med tolk.",
        "participating_units": [],
    }
    data.update(overrides)
    return data


def matrix(municipality: Municipality, **kwargs: Any) -> dict[str, dict[str, tuple[int, int]]]:
    """The matrix as {row key: {level: (interventions, units)}}."""
    drawn = interventions.intervention_map(municipality=municipality, **kwargs)
    return {
        row.key: {cell.level: (cell.interventions, cell.units) for cell in row.cells}
        for row in drawn.rows
    }


def names_in(html: str) -> set[str]:
    return set(re.findall(r'<th scope="row">([^<]+)</th>', html))


# --- Creating, editing and deleting through the pages -----------------------------------------


@pytest.mark.django_db
def test_coordinator_adds_an_intervention_and_it_is_audited(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    client.force_login(coordinator)
    preschool = sector(municipality, "Förskola")
    response = client.post(
        create_url(municipality),
        form_data(
            owner_sector=preschool.pk,
            owner_unit=unit_a.pk,
            starts_on="2026-08-15",
            ends_on="2027-06-15",
            participating_units=[unit_a.pk, unit_b.pk],
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == map_url(municipality)
    intervention = Intervention.objects.get()
    assert intervention.municipality == municipality
    assert intervention.name == "Föräldraträffar om rättigheter"
    assert intervention.level == SELECTIVE
    assert intervention.owner_sector == preschool
    assert intervention.owner_unit == unit_a
    assert intervention.starts_on == dt.date(2026, 8, 15)
    assert intervention.ends_on == dt.date(2027, 6, 15)
    assert intervention.created_by == coordinator
    assert set(intervention.participating_units.all()) == {unit_a, unit_b}
    event = AuditEvent.objects.get(action="intervention.created")
    assert event.actor == coordinator
    assert event.municipality == municipality
    assert event.target_id == intervention.pk
    assert event.changes["name"] == [None, "Föräldraträffar om rättigheter"]
    assert event.changes["owner_sector"] == [None, "Förskola"]
    assert event.changes["participating_units"] == [None, ["Kvarnskolan", "Solrosens förskola"]]
    page = client.get(response["Location"]).content.decode()
    assert "Insatsen Föräldraträffar om rättigheter är tillagd." in page


@pytest.mark.django_db
def test_coordinator_edits_an_intervention_and_the_audit_log_has_the_diff(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    preschool = sector(municipality, "Förskola")
    intervention = add(
        municipality,
        coordinator,
        "Värdegrundsdagar",
        owner_sector=preschool,
        participating_units=[unit_a, unit_b],
    )
    client.force_login(coordinator)
    form = client.get(edit_url(intervention)).content.decode()
    assert 'value="Värdegrundsdagar"' in form

    response = client.post(
        edit_url(intervention),
        form_data(
            name="Värdegrundsdagar för alla",
            level=UNIVERSAL,
            owner_sector=preschool.pk,
            target_group="Alla elever",
            ends_on="2027-06-30",
            description="",
            participating_units=[unit_a.pk],
        ),
    )

    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.name == "Värdegrundsdagar för alla"
    assert intervention.ends_on == dt.date(2027, 6, 30)
    assert list(intervention.participating_units.all()) == [unit_a]
    event = AuditEvent.objects.get(action="intervention.changed")
    assert event.actor == coordinator
    assert event.changes == {
        "name": ["Värdegrundsdagar", "Värdegrundsdagar för alla"],
        "ends_on": [None, "2027-06-30"],
        "participating_units": [["Kvarnskolan", "Solrosens förskola"], ["Solrosens förskola"]],
    }
    assert (
        "Insatsen Värdegrundsdagar för alla är sparad."
        in client.get(map_url(municipality)).content.decode()
    )


@pytest.mark.django_db
def test_saving_an_unchanged_intervention_writes_no_audit_event(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    intervention = add(municipality, coordinator, "Läxhjälp", owner_unit=unit_a, description="")
    client.force_login(coordinator)
    response = client.post(
        edit_url(intervention),
        form_data(
            name="Läxhjälp",
            level=UNIVERSAL,
            owner_unit=unit_a.pk,
            target_group="Alla elever",
            description="",
        ),
    )
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="intervention.changed").exists()


@pytest.mark.django_db
def test_delete_asks_for_confirmation_then_deletes(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    intervention = add(municipality, coordinator, "Samtalsgrupper", owner_unit=unit_a)
    client.force_login(coordinator)

    confirmation = client.get(delete_url(intervention))
    assert confirmation.status_code == 200
    html = confirmation.content.decode()
    assert "Ta bort insatsen Samtalsgrupper?" in html
    assert '<form method="post">' in html
    assert Intervention.objects.filter(pk=intervention.pk).exists()

    response = client.post(delete_url(intervention))
    assert response.status_code == 302
    assert response["Location"] == map_url(municipality)
    assert not Intervention.objects.filter(pk=intervention.pk).exists()
    event = AuditEvent.objects.get(action="intervention.deleted")
    assert event.actor == coordinator
    assert event.municipality == municipality
    assert event.target_id == intervention.pk
    assert event.changes["name"] == ["Samtalsgrupper", None]
    assert event.changes["owner_unit"] == ["Solrosens förskola", None]
    assert (
        "Insatsen Samtalsgrupper är borttagen."
        in client.get(map_url(municipality)).content.decode()
    )
    # A second submit finds nothing to delete.
    assert client.post(delete_url(intervention)).status_code == 404
    assert AuditEvent.objects.filter(action="intervention.deleted").count() == 1


# --- The form ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({}, "owner_sector", "Välj en ansvarig sektor eller en ansvarig enhet."),
        (
            {"starts_on": "2026-09-01", "ends_on": "2026-08-31", "owner_unit": "unit_a"},
            "ends_on",
            "Slutdatumet kan inte vara före startdatumet.",
        ),
        (
            {"description": f"Gäller eleven {PERSONNUMMER}", "owner_unit": "unit_a"},
            "description",
            "Texten ser ut att innehålla ett personnummer.",
        ),
        (
            {"target_group": f"Familjen {PERSONNUMMER}", "owner_unit": "unit_a"},
            "target_group",
            "Texten ser ut att innehålla ett personnummer.",
        ),
        ({"name": "", "owner_unit": "unit_a"}, "name", "Detta fält måste fyllas i."),
        ({"level": "", "owner_unit": "unit_a"}, "level", "Detta fält måste fyllas i."),
    ],
    ids=[
        "no-owner",
        "end-before-start",
        "personnummer-description",
        "personnummer-target",
        "no-name",
        "no-level",
    ],
)
def test_form_errors_are_shown_on_the_field_and_nothing_is_saved(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    if overrides.get("owner_unit") == "unit_a":
        overrides = {**overrides, "owner_unit": unit_a.pk}
    client.force_login(coordinator)
    response = client.post(create_url(municipality), form_data(**overrides))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Formuläret innehåller fel" in html
    assert message in response.context["form"].errors[field][0]
    assert f'id="id_{field}_error"' in html
    assert not Intervention.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="intervention.").exists()


@pytest.mark.django_db
def test_free_text_fields_carry_the_privacy_hint(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    form = client.get(create_url(municipality)).context["form"]
    for field in ("name", "target_group", "description"):
        assert "personnummer" in str(form.fields[field].help_text)


@pytest.mark.django_db
def test_form_offers_only_the_municipality_units_and_sectors(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
) -> None:
    archived = unit_in(municipality, "Förskola", "Gamla förskolan")
    unit_services.unit_set_archived(actor=coordinator, unit=archived, archived=True)
    client.force_login(coordinator)
    form = client.get(create_url(municipality)).context["form"]
    owner_units = set(form.fields["owner_unit"].queryset)
    participants = set(form.fields["participating_units"].queryset)
    assert owner_units == participants == {unit_a}
    assert set(form.fields["owner_sector"].queryset) == set(municipality.sectors.all())

    response = client.post(
        create_url(municipality),
        form_data(owner_unit=unit_x.pk, participating_units=[unit_x.pk, archived.pk]),
    )
    errors = response.context["form"].errors
    assert "owner_unit" in errors
    assert "participating_units" in errors
    assert not Intervention.objects.exists()


@pytest.mark.django_db
def test_edit_form_keeps_an_archived_unit_that_was_already_chosen(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    intervention = add(
        municipality, coordinator, "Läxhjälp", owner_unit=unit_b, participating_units=[unit_b]
    )
    unit_services.unit_set_archived(actor=coordinator, unit=unit_b, archived=True)
    client.force_login(coordinator)
    response = client.get(edit_url(intervention))
    form = response.context["form"]
    assert set(form.fields["owner_unit"].queryset) == {unit_a, unit_b}
    assert set(form.fields["participating_units"].queryset) == {unit_a, unit_b}
    assert "Kvarnskolan (arkiverad)" in response.content.decode()


@pytest.mark.django_db
def test_participating_units_are_checkboxes_grouped_by_sector(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    unit_in(municipality, "Socialtjänst", "Familjeenheten")
    intervention = add(
        municipality, coordinator, "Läxhjälp", owner_unit=unit_a, participating_units=[unit_a]
    )
    client.force_login(coordinator)
    html = client.get(edit_url(intervention)).content.decode()
    # Sectors with a chosen unit are open; the others folded away, each with a count.
    assert re.search(r'<details class="mb-2" open>\s*<summary>Bostadsbolag \(1 av 1 valda\)', html)
    assert re.search(r'<details class="mb-2">\s*<summary>Socialtjänst \(0 av 1 valda\)', html)
    assert html.count('type="checkbox" name="participating_units"') == 2


@pytest.mark.django_db
def test_gap_link_prefills_sector_and_level_and_ignores_bad_values(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    social = sector(municipality, "Socialtjänst")
    client.force_login(coordinator)
    form = client.get(create_url(municipality) + f"?sektor={social.pk}&niva=indicated").context[
        "form"
    ]
    assert form.initial["owner_sector"] == social.pk
    assert form.initial["level"] == INDICATED
    bad = client.get(create_url(municipality) + "?sektor=abc&niva=zzz")
    assert bad.status_code == 200
    assert bad.context["form"].initial["owner_sector"] is None
    assert not bad.context["form"].initial["level"]


@pytest.mark.django_db
def test_services_refuse_units_and_sectors_of_another_municipality(
    coordinator: User,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
) -> None:
    foreign_sector = other_municipality.sectors.first()
    with pytest.raises(ValidationError) as refused:
        add(municipality, coordinator, "Läxhjälp", owner_sector=foreign_sector)
    assert "owner_sector" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        add(municipality, coordinator, "Läxhjälp", owner_unit=unit_a, participating_units=[unit_x])
    assert "participating_units" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        add(municipality, coordinator, "Läxhjälp")
    assert "owner_sector" in refused.value.message_dict
    assert not Intervention.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="intervention.").exists()


# --- The matrix -------------------------------------------------------------------------------


@pytest.fixture
def chain(coordinator: User, municipality: Municipality) -> dict[str, Any]:
    """Förskola: two universal interventions (one by sector, one by a preschool) sharing a
    unit; Socialtjänst: one indicated without units, and one selective whose owner unit is a
    preschool but whose owner sector is Socialtjänst (the sector decides the row)."""
    preschool, social = sector(municipality, "Förskola"), sector(municipality, "Socialtjänst")
    sun = unit_in(municipality, "Förskola", "Solrosen")
    mill = unit_in(municipality, "Förskola", "Kvarnen")
    family = unit_in(municipality, "Socialtjänst", "Familjeenheten")
    return {
        "preschool": preschool,
        "social": social,
        "units": (sun, mill, family),
        "rights": add(
            municipality,
            coordinator,
            "Barnrättsveckan",
            owner_sector=preschool,
            participating_units=[sun, mill],
        ),
        "parents": add(
            municipality,
            coordinator,
            "Föräldracafé",
            owner_unit=sun,
            participating_units=[mill, family],
        ),
        "support": add(municipality, coordinator, "Stödsamtal", INDICATED, owner_sector=social),
        "groups": add(
            municipality,
            coordinator,
            "Tjejgrupper",
            SELECTIVE,
            owner_sector=social,
            owner_unit=sun,
            participating_units=[family],
        ),
    }


@pytest.mark.django_db
def test_matrix_counts_interventions_and_distinct_units_per_cell(
    municipality: Municipality, chain: dict[str, Any]
) -> None:
    drawn = matrix(municipality)
    preschool, social = str(chain["preschool"].pk), str(chain["social"].pk)
    assert drawn[preschool] == {UNIVERSAL: (2, 3), SELECTIVE: (0, 0), INDICATED: (0, 0)}
    assert drawn[social] == {UNIVERSAL: (0, 0), SELECTIVE: (1, 1), INDICATED: (1, 0)}
    # Every sector in use is a row, even without interventions: its cells are gaps.
    assert len(drawn) == municipality.sectors.count()
    assert all(
        cells == {UNIVERSAL: (0, 0), SELECTIVE: (0, 0), INDICATED: (0, 0)}
        for key, cells in drawn.items()
        if key not in (preschool, social)
    )
    assert interventions.NO_SECTOR not in drawn


@pytest.mark.django_db
def test_map_page_shows_counts_as_links_and_gaps_in_words(
    client: Client, observer: User, municipality: Municipality, chain: dict[str, Any]
) -> None:
    client.force_login(observer)
    html = client.get(map_url(municipality)).content.decode()
    preschool = chain["preschool"]
    cell = list_url(municipality, f"sektor={preschool.pk}&amp;niva=universal")
    assert re.search(
        rf'<a href="{re.escape(cell)}">2 insatser, 3 enheter<span class="visually-hidden"> – Förskola, Universell \(alla\)</span></a>',
        html,
    )
    assert "1 insats, 0 enheter" in html
    assert "1 insats, 1 enhet" in html
    sectors = municipality.sectors.count()
    assert html.count("<strong>Lucka</strong>") == sectors * 3 - 3
    assert f"{sectors * 3 - 3} rutor är luckor." in html
    assert "<caption>" in html
    assert '<th scope="col">Universell (alla)</th>' in html
    assert '<th scope="row">Förskola</th>' in html
    # The three levels are explained on the page.
    assert "De tre preventionsnivåerna" in html
    assert "Riktar sig till alla" in html


@pytest.mark.django_db
def test_retired_sectors_appear_only_with_interventions_and_no_sector_only_when_needed(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    retired_empty, retired_used = (
        sector(municipality, "Integration"),
        sector(municipality, "Civilsamhälle"),
    )
    used = add(municipality, coordinator, "Språkcafé", owner_sector=retired_used)
    for retired in (retired_empty, retired_used):
        unit_services.sector_update(
            actor=coordinator, sector=retired, name=retired.name, is_active=False
        )
    drawn = matrix(municipality)
    assert str(retired_used.pk) in drawn
    assert str(retired_empty.pk) not in drawn
    assert interventions.NO_SECTOR not in drawn

    # The owner unit goes away (SET_NULL) and the intervention had no owner sector of its own.
    orphan = add(municipality, coordinator, "Läxhjälp", SELECTIVE, owner_unit=unit_a)
    Intervention.objects.filter(pk__in=[orphan.pk, used.pk]).update(
        owner_sector=None, owner_unit=None
    )
    drawn = matrix(municipality)
    assert drawn[interventions.NO_SECTOR] == {
        UNIVERSAL: (1, 0),
        SELECTIVE: (1, 0),
        INDICATED: (0, 0),
    }
    assert str(retired_used.pk) not in drawn  # its only intervention has moved to "Utan sektor"
    client.force_login(coordinator)
    assert '<th scope="row">Utan sektor</th>' in client.get(map_url(municipality)).content.decode()
    listed = client.get(list_url(municipality, "sektor=none&niva=selective")).content.decode()
    assert names_in(listed) == {"Läxhjälp"}


@pytest.mark.django_db
def test_matrix_counts_only_interventions_active_today_unless_asked(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    today = timezone.localdate()
    day = dt.timedelta(days=1)
    periods = {
        "Tills vidare": (None, None),
        "Pågår": (today - day, today + day),
        "Slutar i dag": (today - day, today),
        "Börjar i dag": (today, None),
        "Avslutad": (today - 10 * day, today - day),
        "Kommande": (today + day, today + 10 * day),
    }
    for name, (starts_on, ends_on) in periods.items():
        add(
            municipality,
            coordinator,
            name,
            owner_unit=unit_a,
            starts_on=starts_on,
            ends_on=ends_on,
            participating_units=[unit_a],
        )
    row = str(unit_a.sector_id)

    assert matrix(municipality)[row][UNIVERSAL] == (4, 1)
    assert matrix(municipality, include_inactive=True)[row][UNIVERSAL] == (6, 1)

    client.force_login(coordinator)
    default = client.get(map_url(municipality)).content.decode()
    assert "4 insatser pågår i dag" in default
    assert 'name="alla" value="1" id="include-inactive">' in default
    everything = client.get(map_url(municipality, alla="1")).content.decode()
    assert "6 insatser räknas, även avslutade och kommande." in everything
    assert 'id="include-inactive" checked>' in everything
    assert "alla=1" in everything  # the cells' links keep the choice

    current = client.get(list_url(municipality, f"sektor={row}&niva=universal")).content.decode()
    assert names_in(current) == {"Tills vidare", "Pågår", "Slutar i dag", "Börjar i dag"}
    assert "Pågår nu" in current
    listed = client.get(
        list_url(municipality, f"sektor={row}&niva=universal&alla=1")
    ).content.decode()
    assert names_in(listed) == set(periods)
    assert "Avslutad</strong>" in listed
    assert "Har inte börjat</strong>" in listed


@pytest.mark.django_db
def test_cell_list_shows_the_interventions_of_its_sector_and_level(
    client: Client, coordinator: User, municipality: Municipality, chain: dict[str, Any]
) -> None:
    client.force_login(coordinator)
    preschool, social = chain["preschool"].pk, chain["social"].pk

    def listed(query: str) -> set[str]:
        response = client.get(list_url(municipality, query))
        assert response.status_code == 200
        return names_in(response.content.decode())

    assert listed(f"sektor={preschool}&niva=universal") == {"Barnrättsveckan", "Föräldracafé"}
    assert listed(f"sektor={social}") == {"Stödsamtal", "Tjejgrupper"}
    assert listed("niva=indicated") == {"Stödsamtal"}
    assert listed(f"sektor={preschool}&niva=indicated") == set()
    assert listed("") == {"Barnrättsveckan", "Föräldracafé", "Stödsamtal", "Tjejgrupper"}
    html = client.get(list_url(municipality, f"sektor={preschool}&niva=universal")).content.decode()
    assert "Sektor: Förskola." in html
    assert "Nivå: Universell (alla)." in html
    assert "<summary>3 enheter" not in html  # units are per intervention, not per cell
    assert "<summary>2 enheter<span" in html
    assert f'href="{edit_url(chain["rights"])}"' in html
    assert f'href="{delete_url(chain["rights"])}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "sektor=abc&niva=zzz",
        "sektor=&niva=",
        "sektor=99999&niva=universal&alla=ja",
        "page=abc",
        "page=999",
        "sektor=%00",
    ],
)
def test_bad_list_parameters_fall_back_to_defaults(
    client: Client, coordinator: User, municipality: Municipality, chain: dict[str, Any], query: str
) -> None:
    client.force_login(coordinator)
    response = client.get(list_url(municipality, query))
    assert response.status_code == 200
    found = names_in(response.content.decode())
    assert found <= {"Barnrättsveckan", "Föräldracafé", "Stödsamtal", "Tjejgrupper"}
    assert found  # never an empty page because of a bad parameter
    assert "aria-invalid" not in response.content.decode()


@pytest.mark.django_db
def test_list_ignores_a_sector_of_another_municipality(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    other_municipality: Municipality,
    other_coordinator: User,
    unit_x: Unit,
    chain: dict[str, Any],
) -> None:
    add(other_municipality, other_coordinator, "Annans insats", owner_unit=unit_x)
    client.force_login(coordinator)
    html = client.get(list_url(municipality, f"sektor={unit_x.sector_id}")).content.decode()
    assert "Annans insats" not in html
    assert "Alla sektorer." in html


@pytest.mark.django_db
def test_bad_map_parameters_fall_back_to_defaults(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    add(
        municipality,
        coordinator,
        "Avslutad",
        owner_unit=unit_a,
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2020, 12, 31),
    )
    add(municipality, coordinator, "Pågår", owner_unit=unit_a)
    client.force_login(coordinator)
    response = client.get(map_url(municipality, alla="zzz", sektor="abc"))
    assert response.status_code == 200
    assert "1 insats pågår i dag" in response.content.decode()


@pytest.mark.django_db
def test_empty_map_explains_and_offers_to_add(
    client: Client, coordinator: User, observer: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    html = client.get(map_url(municipality)).content.decode()
    assert "Det finns inga insatser registrerade ännu." in html
    assert f'href="{create_url(municipality)}"' in html
    assert "<table" not in html
    client.force_login(observer)
    html = client.get(map_url(municipality)).content.decode()
    assert "Det finns inga insatser registrerade ännu." in html
    assert create_url(municipality) not in html


# --- Who may do what --------------------------------------------------------------------------


@pytest.mark.django_db
def test_observer_reads_sees_no_edit_links_and_every_change_is_403(
    client: Client, observer: User, municipality: Municipality, chain: dict[str, Any]
) -> None:
    intervention = chain["rights"]
    client.force_login(observer)
    audit_before = AuditEvent.objects.count()
    for url in (
        map_url(municipality),
        list_url(municipality),
        list_url(municipality, f"sektor={chain['social'].pk}"),
    ):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert create_url(municipality) not in html
        assert "/andra/" not in html
        assert "/ta-bort/" not in html
        assert "Lägg till insats" not in html

    for url in (create_url(municipality), edit_url(intervention), delete_url(intervention)):
        assert client.get(url).status_code == 403
        assert (
            client.post(url, form_data(name="Ändrad", owner_unit=chain["units"][0].pk)).status_code
            == 403
        )
    assert Intervention.objects.count() == 4
    intervention.refresh_from_db()
    assert intervention.name == "Barnrättsveckan"
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.django_db
def test_another_municipalitys_intervention_is_404(
    client: Client,
    coordinator: User,
    other_coordinator: User,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_x: Unit,
) -> None:
    theirs = add(other_municipality, other_coordinator, "Annans insats", owner_unit=unit_x)
    client.force_login(coordinator)
    audit_before = AuditEvent.objects.count()
    mine = {"pk": municipality.pk, "intervention_pk": theirs.pk}
    for name in ("rollout:intervention_edit", "rollout:intervention_delete"):
        for url in (
            reverse(name, kwargs=mine),
            reverse(name, kwargs={"pk": other_municipality.pk, "intervention_pk": theirs.pk}),
        ):
            assert client.get(url).status_code == 404
            assert (
                client.post(url, form_data(name="Kapad", owner_unit=unit_x.pk)).status_code == 404
            )
    assert client.get(map_url(other_municipality)).status_code == 404
    assert client.get(list_url(other_municipality)).status_code == 404
    assert "Annans insats" not in client.get(list_url(municipality)).content.decode()
    theirs.refresh_from_db()
    assert theirs.name == "Annans insats"
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.django_db
def test_unit_manager_sees_no_intervention_pages(
    client: Client, manager_a: User, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    intervention = add(municipality, coordinator, "Läxhjälp", owner_unit=unit_a)
    client.force_login(manager_a)
    for url in (
        map_url(municipality),
        list_url(municipality),
        create_url(municipality),
        edit_url(intervention),
        delete_url(intervention),
    ):
        assert client.get(url).status_code == 404
    assert client.post(delete_url(intervention)).status_code == 404
    assert Intervention.objects.filter(pk=intervention.pk).exists()


# --- The pages do not grow with the number of interventions -----------------------------------


def fill(municipality: Municipality, actor: User, count: int, start: int = 0) -> None:
    """`count` interventions spread over sectors and levels, each with two units taking part."""
    sectors = list(municipality.sectors.order_by("name"))
    levels = list(PreventionLevel.values)
    for i in range(start, start + count):
        owner = unit_in(municipality, sectors[i % len(sectors)].name, f"Enhet {i}")
        partner = unit_in(municipality, sectors[(i + 1) % len(sectors)].name, f"Partner {i}")
        add(
            municipality,
            actor,
            f"Insats {i}",
            levels[i % 3],
            owner_unit=owner,
            participating_units=[owner, partner],
        )


# Measured on SQLite and PostgreSQL. Each includes the 9 of every logged-in request (session
# user, allauth's usersession update with 2 savepoints, roles ×2, the MFA authenticator, the
# session save with 2 savepoints) and the navigation's municipalities. The map: the municipality,
# the sectors, one aggregate, one count. The list: the municipality, the sectors, the page's count,
# its interventions (with owners) and their participating units.
PAGE_MAX_QUERIES = {"map": 17, "list": 18}


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(PAGE_MAX_QUERIES))
def test_pages_query_count_does_not_grow_with_interventions(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    django_assert_max_num_queries: Any,
    page: str,
) -> None:
    url = map_url(municipality) if page == "map" else list_url(municipality)
    fill(municipality, coordinator, 2)
    client.force_login(coordinator)
    client.get(url)  # the first request after login also records the session

    limit = PAGE_MAX_QUERIES[page]
    with django_assert_max_num_queries(limit) as few:
        assert client.get(url).status_code == 200
    fill(municipality, coordinator, 18, start=2)
    with django_assert_max_num_queries(limit) as many:
        response = client.get(url)

    assert response.status_code == 200
    assert len(many) == len(few), (
        f"{page}: {len(few)} queries with 2 interventions, {len(many)} with 20"
    )
    if page == "list":
        assert len(names_in(response.content.decode())) == 20


@pytest.mark.django_db
def test_map_selector_runs_three_queries(
    coordinator: User, municipality: Municipality, django_assert_num_queries: Any
) -> None:
    fill(municipality, coordinator, 20)
    with django_assert_num_queries(3):
        drawn = interventions.intervention_map(municipality=municipality)
    assert drawn.counted == drawn.total == 20
    assert sum(cell.units for row in drawn.rows for cell in row.cells) == 40
