"""Coordinator and manager pages for units: forms, filters, archive, audit, MFA requirement."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UnitFactory, UserFactory
from units.models import AuditEvent, MunicipalRole, Role, Unit, UnitKind, User


def unit_data(unit_or_municipality, **overrides) -> dict:
    municipality = getattr(unit_or_municipality, "municipality", unit_or_municipality)
    data = {
        "name": "Ängens förskola",
        "sector": municipality.sectors.get(name="Förskola").pk,
        "kind": UnitKind.MUNICIPAL,
        "duty_to_report": "auto",
        "headcount": "18",
        "functional_email": "angen@kommun.example.se",
        "prevention_levels": ["universal", "selective"],
    }
    return data | overrides


@pytest.mark.django_db
def test_coordinator_creates_a_unit_and_it_is_audited(
    client: Client, coordinator: User, municipality
) -> None:
    client.force_login(coordinator)
    response = client.post(reverse("units:create", args=[municipality.pk]), unit_data(municipality))
    unit = Unit.objects.get(name="Ängens förskola")
    assert response.status_code == 302
    assert response["Location"] == reverse("units:detail", args=[unit.pk])
    assert unit.duty_to_report is True  # "auto" follows the kind: municipal
    assert unit.prevention_levels == ["universal", "selective"]
    event = AuditEvent.objects.get(action="unit.created", unit=unit)
    assert event.actor == coordinator
    assert event.changes["headcount"] == [None, 18]


@pytest.mark.django_db
def test_duty_to_report_defaults_from_kind(client: Client, coordinator: User, municipality) -> None:
    client.force_login(coordinator)
    client.post(
        reverse("units:create", args=[municipality.pk]),
        unit_data(
            municipality,
            name="Bostadsbolaget",
            kind=UnitKind.HOUSING,
            sector=municipality.sectors.get(name="Bostadsbolag").pk,
        ),
    )
    assert Unit.objects.get(name="Bostadsbolaget").duty_to_report is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "solrosens FÖRSKOLA"}, "Det finns redan en enhet med det namnet"),
        ({"headcount": "-3"}, "Kontrollera att detta värde är större än eller lika med 0."),
        ({"functional_email": "inte-en-adress"}, "Fyll i en giltig e-postadress."),
        ({"name": "Enhet för 811218-9876"}, "personnummer"),
        ({"name": ""}, "Detta fält måste fyllas i."),
    ],
)
def test_bad_unit_input_is_explained_next_to_the_field(
    client: Client, coordinator: User, unit_a: Unit, overrides: dict, message: str
) -> None:
    client.force_login(coordinator)
    response = client.post(
        reverse("units:create", args=[unit_a.municipality.pk]), unit_data(unit_a, **overrides)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Formuläret innehåller fel" in html  # the summary at the top
    assert message in html
    assert 'aria-invalid="true"' in html
    assert Unit.objects.count() == 1


@pytest.mark.django_db
def test_sector_of_another_municipality_is_refused(
    client: Client, coordinator: User, municipality, other_municipality
) -> None:
    client.force_login(coordinator)
    foreign = other_municipality.sectors.first()
    response = client.post(
        reverse("units:create", args=[municipality.pk]), unit_data(municipality, sector=foreign.pk)
    )
    assert response.status_code == 200
    assert not Unit.objects.filter(name="Ängens förskola").exists()


@pytest.mark.django_db
def test_manager_updates_only_headcount_email_and_levels(
    client: Client, manager_a: User, unit_a: Unit
) -> None:
    client.force_login(manager_a)
    url = reverse("units:edit", args=[unit_a.pk])
    form = client.get(url).content.decode()
    assert 'name="headcount"' in form
    assert 'name="name"' not in form
    response = client.post(
        url,
        {
            "headcount": "31",
            "functional_email": "",
            "name": "Hackat namn",
            "prevention_levels": ["indicated"],
        },
    )
    assert response.status_code == 302
    unit_a.refresh_from_db()
    assert (unit_a.headcount, unit_a.name) == (31, "Solrosens förskola")
    assert unit_a.prevention_levels == ["indicated"]
    event = AuditEvent.objects.get(action="unit.changed")
    assert event.changes["headcount"] == [20, 31]
    assert event.actor == manager_a


@pytest.mark.django_db
def test_archive_and_restore(client: Client, coordinator: User, unit_a: Unit) -> None:
    client.force_login(coordinator)
    client.post(reverse("units:archive", args=[unit_a.pk]), {"archive": "1"})
    unit_a.refresh_from_db()
    assert not unit_a.is_active
    assert unit_a.archived_at is not None
    listed = client.get(reverse("units:list")).content.decode()
    assert unit_a.name not in listed
    archived = client.get(reverse("units:list"), {"status": "archived"}).content.decode()
    assert unit_a.name in archived
    client.post(reverse("units:archive", args=[unit_a.pk]), {"archive": "0"})
    unit_a.refresh_from_db()
    assert unit_a.is_active
    assert list(
        AuditEvent.objects.filter(unit=unit_a).order_by("at", "id").values_list("action", flat=True)
    )[-2:] == ["unit.archived", "unit.restored"]


@pytest.mark.django_db
def test_unit_list_searches_filters_sorts_and_paginates(
    client: Client, coordinator: User, municipality, django_assert_max_num_queries
) -> None:
    preschool = municipality.sectors.get(name="Förskola")
    school = municipality.sectors.get(name="Grundskola")
    for index in range(30):
        UnitFactory.create(
            municipality=municipality,
            name=f"Enhet {index:02d}",
            sector=preschool if index % 2 else school,
            headcount=index,
        )
    client.force_login(coordinator)
    url = reverse("units:list")
    client.get(url)  # the first request of a session also records it (usersessions)
    # Constant in the number of units: session, user, roles, MFA check, count, page, sectors,
    # navigation, session save and usersessions' activity update with its savepoints.
    with django_assert_max_num_queries(17):
        first = client.get(url).content.decode()
    assert "Enhet 00" in first
    assert "Enhet 29" not in first  # 25 per page
    assert "Sida 1 av 2" in first
    assert "Enhet 29" in client.get(url, {"page": 2}).content.decode()
    searched = client.get(url, {"q": "enhet 1"}).content.decode()
    assert "Enhet 10" in searched
    assert "Enhet 20" not in searched
    filtered = client.get(url, {"sector": preschool.pk}).content.decode()
    assert "Enhet 01" in filtered
    assert "Enhet 02" not in filtered
    by_headcount = client.get(url, {"sort": "-headcount"}).content.decode()
    assert by_headcount.index("Enhet 29") < by_headcount.index("Enhet 28")
    assert 'aria-sort="descending"' in by_headcount


@pytest.mark.django_db
def test_empty_states(client: Client, municipality) -> None:
    coordinator = UserFactory.create()
    MunicipalRole.objects.create(user=coordinator, municipality=municipality, role=Role.COORDINATOR)
    from tests.factories import activate_totp

    activate_totp(coordinator)
    client.force_login(coordinator)
    assert "Det finns inga enheter ännu." in client.get(reverse("units:list")).content.decode()
    nobody = UserFactory.create()
    client.force_login(nobody)
    assert "ingen roll" in client.get("/").content.decode()


@pytest.mark.django_db
def test_start_page_sends_each_role_to_its_place(
    client: Client, manager_a: User, observer: User, coordinator: User
) -> None:
    client.force_login(manager_a)
    assert client.get("/")["Location"] == reverse("units:list")
    for user in (observer, coordinator):
        client.force_login(user)
        assert client.get("/")["Location"] == reverse("rollout:dashboard_home")
    client.force_login(manager_a)
    assert "Mina enheter" in client.get(reverse("units:list")).content.decode()


@pytest.mark.django_db
def test_audit_page_lists_changes_for_the_coordinator(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    client.post(reverse("units:archive", args=[unit_a.pk]), {"archive": "1"})
    page = client.get(reverse("units:audit", args=[unit_a.municipality.pk])).content.decode()
    assert "Enheten arkiverades" in page
    assert coordinator.email in page


@pytest.mark.django_db
def test_coordinator_without_second_factor_is_sent_to_set_it_up(
    client: Client, municipality
) -> None:
    coordinator = UserFactory.create()
    MunicipalRole.objects.create(user=coordinator, municipality=municipality, role=Role.COORDINATOR)
    client.force_login(coordinator)
    for url in ("/", reverse("units:list"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp")
    # The MFA pages, logout and the accessibility statement stay reachable.
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("accessibility")).status_code == 200


@pytest.mark.django_db
def test_managers_and_observers_are_not_forced_into_mfa(
    client: Client, manager_a: User, observer: User
) -> None:
    for user in (manager_a, observer):
        client.force_login(user)
        assert client.get(reverse("units:list")).status_code == 200


@pytest.mark.django_db
def test_removing_the_second_factor_is_noticed_at_once(client: Client, coordinator: User) -> None:
    from types import SimpleNamespace

    from allauth.mfa.models import Authenticator
    from allauth.mfa.signals import authenticator_removed

    client.force_login(coordinator)
    assert client.get(reverse("units:list")).status_code == 200  # seen, and remembered
    totp = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.TOTP)
    # What allauth's deactivation flow does: delete the factor and send the signal.
    session = client.session
    totp.delete()
    authenticator_removed.send(
        sender=Authenticator,
        request=SimpleNamespace(session=session),
        user=coordinator,
        authenticator=totp,
    )
    session.save()
    assert client.get(reverse("units:list"))["Location"] == reverse("mfa_activate_totp")


@pytest.mark.django_db
def test_the_persons_other_sessions_notice_a_removed_factor_within_a_minute(
    client: Client, coordinator: User
) -> None:
    from allauth.mfa.models import Authenticator

    from units.middleware import MFA_RECHECK_SECONDS

    url = reverse("units:list")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(coordinator)  # another browser, still signed in
        assert client.get(url).status_code == 200
        Authenticator.objects.filter(user=coordinator).delete()  # removed elsewhere
        assert client.get(url).status_code == 200  # remembered for now
    later = start + dt.timedelta(seconds=MFA_RECHECK_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert client.get(url)["Location"] == reverse("mfa_activate_totp")
