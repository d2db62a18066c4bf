"""The UI rules, checked in the HTML the test client gets: the error summary links to an element
that exists, every error is tied to its input, ids are unique, tables are named, and links and
glyphs make sense to a screen reader. Without JavaScript, so no browser."""

import datetime as dt
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import services as outbox
from rollout import services as engine
from rollout.models import Rollout, Step
from routines import services as routines
from training import services as training
from units.models import Municipality, Unit, UnitKind, User


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    # The ids of the fieldsets around the element, innermost last.
    fieldsets: list[dict[str, str]]
    text: str = ""
    parents: list["Element"] = field(default_factory=list)


class Page(HTMLParser):
    """Every element with its attributes, the fieldsets around it and, for links, captions and
    the error summary, the text inside."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fieldsets = [e.attrs for e in self._open if e.tag == "fieldset"]
        element = Element(
            tag,
            {k: v or "" for k, v in attrs},
            fieldsets,
            parents=list(self._open),
        )
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def ids(self) -> list[str]:
        return [e.attrs["id"] for e in self.elements if "id" in e.attrs]

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return found

    def summary_links(self) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == "a" and any("error-summary" in p.attrs.get("class", "") for p in e.parents)
        ]


def assert_errors_are_tied_to_their_inputs(html: str) -> Page:
    """The summary is there and each of its links leads to an input; every input marked invalid
    is described by its error message, on the input or on the fieldset of its group."""
    page = Page(html)
    assert "Formuläret innehåller fel" in html
    ids = page.ids()
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    links = page.summary_links()
    assert links
    for link in links:
        target = page.by_id(link.attrs["href"].removeprefix("#"))
        assert target.tag in ("input", "select", "textarea", "fieldset"), link.attrs["href"]
    for element in page.elements:
        described = element.attrs.get("aria-describedby", "").split()
        assert all(ref in ids for ref in described), (element.tag, described)
        if element.attrs.get("aria-invalid") != "true":
            continue
        name = element.attrs["name"]
        around = [ref for f in element.fieldsets for ref in f.get("aria-describedby", "").split()]
        errors = [ref for ref in described + around if ref.endswith("_error")]
        assert errors, f"{name}: no error message tied to it"
        assert all(page.by_id(ref).text.strip() for ref in errors)
    return page


@pytest.fixture
def rollout(coordinator: User, unit_a: Unit) -> Rollout:
    return engine.rollout_start(actor=coordinator, unit=unit_a)


@pytest.mark.django_db
def test_a_radio_group_with_an_error_is_linked_from_the_summary_and_described(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    response = client.post(
        reverse("units:create", args=[municipality.pk]),
        {
            "name": "Ängens förskola",
            "sector": municipality.sectors.get(name="Förskola").pk,
            "kind": UnitKind.MUNICIPAL,
            "headcount": "18",
        },
    )
    page = assert_errors_are_tied_to_their_inputs(response.content.decode())
    (link,) = page.summary_links()
    # The first radio button, so that following the link puts the focus inside the group.
    assert link.attrs["href"] == "#id_duty_to_report_0"
    assert link.text.startswith("Anmälningsskyldighet: Detta fält måste fyllas i.")
    group = page.by_id("id_duty_to_report")
    assert group.tag == "fieldset"
    assert "id_duty_to_report_error" in group.attrs["aria-describedby"].split()
    assert 'value="Ängens förskola"' in response.content.decode()  # the input is kept


@pytest.mark.django_db
def test_role_radio_buttons_on_the_people_page(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    response = client.post(
        reverse("units:people", args=[municipality.pk]),
        {"email": "ny.samordnare@example.se", "role": "kung"},
    )
    page = assert_errors_are_tied_to_their_inputs(response.content.decode())
    assert [link.attrs["href"] for link in page.summary_links()] == ["#id_role_0"]
    assert 'value="ny.samordnare@example.se"' in response.content.decode()


@pytest.mark.django_db
def test_web_course_report_radio_groups(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    client.force_login(manager_a)
    response = client.post(
        reverse("training:web_course", args=[unit_a.pk]),
        {
            "reported_on": timezone.localdate().isoformat(),
            "completed_count": "4",
            "group_sessions": "1",
            "reflections": "Vi vill veta mer om samtal med föräldrar.",
        },
    )
    page = assert_errors_are_tied_to_their_inputs(response.content.decode())
    assert [link.attrs["href"] for link in page.summary_links()] == [
        "#id_mode_0",
        "#id_knowledge_level_0",
    ]
    assert "Vi vill veta mer om samtal med föräldrar." in response.content.decode()


@pytest.mark.django_db
def test_notification_settings_radio_groups(client: Client, coordinator: User) -> None:
    # The digest is a coordinator's choice only (managers are not asked).
    client.force_login(coordinator)
    response = client.post(reverse("followup:settings"), {"digest": "ibland"})
    page = assert_errors_are_tied_to_their_inputs(response.content.decode())
    assert "#id_digest_0" in [link.attrs["href"] for link in page.summary_links()]


@pytest.mark.django_db
def test_the_sector_form_has_its_own_ids_next_to_the_municipality_form(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    response = client.post(
        reverse("units:sector_create", args=[municipality.pk]), {"name": "Förskola"}
    )
    page = assert_errors_are_tied_to_their_inputs(response.content.decode())
    (link,) = page.summary_links()
    target = page.by_id(link.attrs["href"].removeprefix("#"))
    # The sector's name, not the municipality's, which is the first "name" on the page.
    assert target.attrs["value"] == "Förskola"
    (label,) = [e for e in page.elements if e.tag == "label" and "Ny sektor" in e.text]
    assert label.attrs["for"] == target.attrs["id"]


@pytest.mark.django_db
def test_an_error_on_a_hidden_field_is_said_in_the_summary(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=rollout, step=step)
    routines.routine_start(actor=manager_a, rollout=rollout)
    client.force_login(manager_a)
    response = client.post(
        reverse("routines:edit", args=[unit_a.pk]), {"purpose": "Vår nya text om syftet."}
    )
    assert response.status_code == 200
    page = Page(response.content.decode())
    (summary,) = [e for e in page.elements if "error-summary" in e.attrs.get("class", "")]
    # Not an empty list under "Formuläret innehåller fel".
    assert "Detta fält måste fyllas i." in summary.text
    assert "Vår nya text om syftet." in response.content.decode()


@pytest.mark.django_db
def test_every_table_is_named(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    training.web_course_report(
        actor=manager_a,
        unit_id=unit_a.pk,
        reported_on=timezone.localdate(),
        completed_count=3,
        mode="groups",
        group_sessions=1,
        knowledge_level=3,
        reflections="",
    )
    outbox.schedule(
        recipient=manager_a,
        kind="nudge",
        subject_key="x:1",
        due_on=dt.date(2026, 1, 1),
        subject="Påminnelse om webbkursen",
        body="b",
        unit=unit_a,
    )
    client.force_login(coordinator)
    for url in (
        reverse("training:web_course", args=[unit_a.pk]),
        reverse("followup:outbox", args=[unit_a.municipality_id]),
    ):
        page = Page(client.get(url).content.decode())
        tables = [e for e in page.elements if e.tag == "table"]
        assert tables, url
        for table in tables:
            captions = [e for e in page.elements if e.tag == "caption" and e.parents[-1] is table]
            named_by = table.attrs.get("aria-labelledby", "")
            assert captions or (named_by and page.by_id(named_by).text.strip()), url


@pytest.mark.django_db
def test_follow_up_buttons_say_which_follow_up(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=rollout, step=step)
    routine = routines.routine_start(actor=manager_a, rollout=rollout)
    routines.routine_send_for_review(actor=manager_a, routine=routine)
    routines.routine_approve(actor=manager_a, routine=routine, version=1, as_coordinator=False)
    routines.routine_approve(actor=coordinator, routine=routine, version=1, as_coordinator=True)
    today = timezone.localdate()
    routines.routine_implement(
        actor=manager_a,
        routine=routine,
        implemented_on=today,
        business_plan_location="VP 4.2",
        staff_informed_on=today,
    )
    client.force_login(coordinator)
    page = Page(client.get(reverse("followup:step", args=[unit_a.pk])).content.decode())
    names = [
        " ".join(e.text.split())
        for e in page.elements
        if e.tag == "a" and "/uppfoljning/" in e.attrs.get("href", "")
    ]
    assert names == [
        "Boka – Efter 6 månader",
        "Registrera uppföljningen – Efter 6 månader",
        "Boka – Efter 12 månader",
    ]  # the 12-month one is recorded once the 6-month one is


@pytest.mark.django_db
def test_sort_arrows_are_hidden_from_screen_readers(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    page = Page(client.get(reverse("units:list"), {"sort": "name"}).content.decode())
    arrows = [e for e in page.elements if e.text.strip() == "▲"]
    assert arrows
    assert all(e.attrs.get("aria-hidden") == "true" for e in arrows)


@pytest.mark.django_db
def test_the_summary_link_to_participating_units_lands_in_an_open_group(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    client.force_login(coordinator)
    response = client.post(
        reverse("rollout:intervention_create", args=[municipality.pk]),
        {
            "name": "Föräldraträffar om rättigheter",
            "level": "selective",
            "owner_unit": unit_a.pk,
            "target_group": "Föräldrar i förskolan",
            "participating_units": ["999999"],
        },
    )
    page = assert_errors_are_tied_to_their_inputs(response.content.decode())
    (link,) = page.summary_links()
    target = page.by_id(link.attrs["href"].removeprefix("#"))
    assert target.attrs["name"] == "participating_units"
    (details,) = [p for p in target.parents if p.tag == "details"]
    assert "open" in details.attrs
