"""units.pagecache: rendered pages kept per municipality generation, never deciding access."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from units import pagecache, services
from units.models import Municipality, MunicipalRole, Unit, User

NONCE = re.compile(r'nonce="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def normalised(content: bytes) -> str:
    return CSRF.sub("CSRF", NONCE.sub("NONCE", content.decode()))


@pytest.fixture
def dashboard(municipality: Municipality) -> str:
    return reverse("rollout:dashboard", args=[municipality.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["dashboard", "table", "unit"])
def test_the_second_request_is_the_same_page_without_rendering(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, page: str
) -> None:
    url = {
        "dashboard": reverse("rollout:dashboard", args=[municipality.pk]),
        "table": reverse("rollout:unit_table", args=[municipality.pk]) + "?sort=namn",
        "unit": reverse("units:detail", args=[unit_a.pk]),
    }[page]
    client.force_login(coordinator)
    first = client.get(url)
    second = client.get(url)
    assert first.context is not None
    assert second.context is None
    assert second.status_code == 200
    assert normalised(second.content) == normalised(first.content)


@pytest.mark.django_db
def test_a_kept_page_gets_this_requests_nonce_and_a_working_csrf_token(
    coordinator: User, dashboard: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    first = client.get(dashboard)
    second = client.get(dashboard)
    assert second.context is None
    nonces = set(NONCE.findall(second.content.decode()))
    assert len(nonces) == 1
    (nonce,) = nonces
    assert nonce not in first.content.decode()
    assert f"'nonce-{nonce}'" in second["Content-Security-Policy"]
    tokens = CSRF.findall(second.content.decode())
    assert tokens
    assert "\x00" not in second.content.decode()
    # The language switcher's form, posted with the token from the kept page, is accepted.
    response = client.post(
        reverse("set_language"),
        {"language": "en", "next": dashboard, "csrfmiddlewaretoken": tokens[-1]},
    )
    assert response.status_code == 302


# Committed for real: the generation moves once the change is committed, as in a request.
@pytest.mark.django_db(transaction=True)
def test_a_change_through_a_service_shows_at_once(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    url = reverse("units:detail", args=[unit_a.pk])
    client.force_login(coordinator)
    client.get(url)
    assert client.get(url).context is None
    services.unit_update(actor=coordinator, unit=unit_a, name="Nytt namn på förskolan")
    response = client.get(url)
    assert response.context is not None
    assert "Nytt namn på förskolan" in response.content.decode()


@pytest.mark.django_db
def test_access_is_checked_before_a_kept_page_is_served(
    client: Client, coordinator: User, municipality: Municipality, dashboard: str
) -> None:
    client.force_login(coordinator)
    assert client.get(dashboard).status_code == 200
    assert client.get(dashboard).context is None  # kept
    # Removed past the services, so the generation does not move: only the access check stops it.
    MunicipalRole.objects.filter(user=coordinator).delete()
    assert client.get(dashboard).status_code == 404


@pytest.mark.django_db
def test_each_person_gets_their_own_page(
    client: Client, coordinator: User, observer: User, dashboard: str
) -> None:
    client.force_login(coordinator)
    as_coordinator = client.get(dashboard)
    client.force_login(observer)
    as_observer = client.get(dashboard)
    assert as_observer.context is not None  # rendered for the observer, not the coordinator's
    assert as_observer.context["is_coordinator"] is False
    assert as_coordinator.context["is_coordinator"] is True


@pytest.mark.django_db
def test_a_page_with_a_message_is_always_rendered(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    url = reverse("units:detail", args=[unit_a.pk])
    client.force_login(coordinator)
    client.get(url)
    assert client.get(url).context is None
    # Refused without a change (no rollout, so no step 1): a message and no new generation.
    client.post(reverse("training:web_course", args=[unit_a.pk]), {"completed_count": "1"})
    response = client.get(url)
    assert response.context is not None
    assert "Steg 1 är inte pågående" in response.content.decode()
    assert client.get(url).context is None  # shown once; then kept again


@pytest.mark.django_db
def test_a_page_is_kept_one_minute_at_most(
    client: Client, coordinator: User, dashboard: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(coordinator)
    client.get(dashboard)
    assert client.get(dashboard).context is None
    now = pagecache.time.monotonic()
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: now + pagecache.MAX_AGE_SECONDS + 1)
    assert client.get(dashboard).context is not None


@pytest.mark.django_db
def test_at_most_max_pages_are_kept(
    client: Client, coordinator: User, municipality: Municipality, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagecache, "MAX_PAGES", 2)
    client.force_login(coordinator)
    table = reverse("rollout:unit_table", args=[municipality.pk])
    for page in ("?sort=namn", "?sort=steg", "?sort=status"):
        client.get(table + page)
    assert client.get(table + "?sort=status").context is None  # the newest are kept
    assert client.get(table + "?sort=namn").context is not None  # the oldest was dropped


@pytest.mark.django_db
def test_a_kept_page_costs_one_query_the_person_and_their_roles(
    client: Client,
    coordinator: User,
    unit_a: Unit,
    dashboard: str,
    django_assert_num_queries: Any,
) -> None:
    client.force_login(coordinator)
    unit = reverse("units:detail", args=[unit_a.pk])
    for url in (dashboard, unit):
        client.get(url)
        # The session comes from the cache; the unit's municipality is remembered.
        with django_assert_num_queries(1):
            assert client.get(url).context is None


@pytest.mark.django_db
def test_a_unit_stays_in_its_municipality_in_the_admin(
    client: Client, superuser: User, unit_a: Unit, unit_x: Unit
) -> None:
    client.force_login(superuser)
    url = reverse("admin:units_unit_change", args=[unit_a.pk])
    assert 'name="municipality"' not in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "municipality": unit_x.municipality_id,
            "name": unit_a.name,
            "sector": unit_a.sector_id,
            "kind": unit_a.kind,
            "duty_to_report": "on",
            "headcount": "12",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    unit_a.refresh_from_db()
    assert unit_a.headcount == 12
    assert unit_a.municipality_id != unit_x.municipality_id


# Committed for real: the generation moves once the change is committed, as in a request.
@pytest.mark.django_db(transaction=True)
def test_the_regional_page_is_kept_until_the_worker_recomputes_a_summary(
    client: Client, superuser: User, coordinator: User, unit_a: Unit
) -> None:
    from rollout import regional
    from rollout import services as rollout_services

    regional.refresh()
    url = reverse("rollout:regional")
    client.force_login(superuser)
    client.get(url)
    assert client.get(url).context is None
    rollout_services.rollout_start(actor=coordinator, unit=unit_a)
    assert client.get(url).context is None  # the summaries have not been recomputed yet
    regional.refresh()
    assert client.get(url).context is not None
