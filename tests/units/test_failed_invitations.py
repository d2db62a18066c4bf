"""Invitations whose mail could not be sent do not go unnoticed among hundreds of pending ones:
the people page sums them up at the top and lists them first, and the coordinators' digest
counts them with a link to that page. Only pending ones count: an expired, revoked or accepted
invitation needs no new link, and another municipality's are not ours to see."""

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import sweep
from followup.models import NotificationSettings, Reminder
from jarfalla.mail import site_url
from tests.units.test_import import html_of, text
from units import selectors, services, views
from units.models import Invitation, Municipality, MunicipalRole, Role, User

NOW = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
SUMMARY = "inbjudningar kunde inte skickas. Skicka en ny länk till dem nedan eller rätta adressen."


def invite(coordinator: User, municipality: Municipality, email: str) -> Invitation:
    invitation, _token = services.invitation_create(
        actor=coordinator, email=email, municipality=municipality, role=Role.OBSERVER
    )
    return invitation


def refused(*invitations: Invitation) -> None:
    # The on-commit sends do not run in these tests' transactions: set the outcome directly.
    Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(
        send_failed_at=NOW, send_error="550 5.1.1 No such user"
    )


def failures_that_do_not_count(
    coordinator: User, municipality: Municipality, other_coordinator: User
) -> None:
    """A failed invitation that has expired, one revoked, one accepted, another municipality's,
    and a pending one that was sent."""
    expired = invite(coordinator, municipality, "utgangen@kommun.se")
    revoked = invite(coordinator, municipality, "aterkallad@kommun.se")
    accepted = invite(coordinator, municipality, "accepterad@kommun.se")
    elsewhere = invite(
        other_coordinator, other_coordinator.municipal_roles.get().municipality, "x@a.se"
    )
    sent = invite(coordinator, municipality, "skickad@kommun.se")
    refused(expired, revoked, accepted, elsewhere)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    Invitation.objects.filter(pk=revoked.pk).update(revoked_at=NOW)
    Invitation.objects.filter(pk=accepted.pk).update(accepted_at=NOW)
    Invitation.objects.filter(pk=sent.pk).update(sent_at=NOW)


# --- The selector ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_pending_invitations_whose_mail_was_refused_are_failed(
    coordinator: User,
    municipality: Municipality,
    other_coordinator: User,
    other_municipality: Municipality,
) -> None:
    failures_that_do_not_count(coordinator, municipality, other_coordinator)
    failed = invite(coordinator, municipality, "nekad@kommun.se")
    refused(failed)
    now = timezone.now()
    assert list(selectors.failed_invitations(municipality_ids=[municipality.pk], now=now)) == [
        failed
    ]
    both = selectors.failed_invitations(
        municipality_ids=[municipality.pk, other_municipality.pk], now=now
    )
    assert {i.email for i in both} == {"nekad@kommun.se", "x@a.se"}
    # Expired now: a new link is the way on, but no longer because the mail was refused.
    assert not selectors.failed_invitations(
        municipality_ids=[municipality.pk], now=failed.expires_at
    ).exists()


# --- The people page --------------------------------------------------------------------------


def people(client: Client, municipality: Municipality, **query: str) -> Any:
    return client.get(reverse("units:people", args=[municipality.pk]), query)


@pytest.mark.django_db
def test_the_people_page_sums_up_the_failures_at_the_top_in_words(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    refused(
        invite(coordinator, municipality, "nekad1@kommun.se"),
        invite(coordinator, municipality, "nekad2@kommun.se"),
    )
    invite(coordinator, municipality, "ko@kommun.se")
    client.force_login(coordinator)
    html = html_of(people(client, municipality))
    alert = re.search(r'<div class="alert alert-warning"[^>]*>(.*?)</div>', html, re.S)
    assert alert is not None
    summary = " ".join(alert.group(1).split())
    # A text label, not colour alone, then the count in words and the way to the list.
    assert summary.startswith("<strong>Inbjudningar som inte kunde skickas:</strong> ")
    assert f"2 {SUMMARY}" in summary
    list_url = reverse("units:people", args=[municipality.pk]) + "#invitations-heading"
    assert f'<a href="{list_url}">' in summary
    assert 'id="invitations-heading"' in html
    # At the top: before the roles and the list.
    assert html.index("Inbjudningar som inte kunde skickas:") < html.index('id="people-heading"')


@pytest.mark.django_db
def test_one_failure_is_said_in_the_singular(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    refused(invite(coordinator, municipality, "nekad@kommun.se"))
    client.force_login(coordinator)
    assert (
        "1 inbjudan kunde inte skickas. Skicka en ny länk till den nedan eller rätta adressen."
        in text(people(client, municipality))
    )


@pytest.mark.django_db
def test_the_summary_in_english(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    refused(
        invite(coordinator, municipality, "nekad1@kommun.se"),
        invite(coordinator, municipality, "nekad2@kommun.se"),
    )
    client.force_login(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    shown = text(people(client, municipality))
    assert "Invitations that could not be sent:" in shown
    assert (
        "2 invitations could not be sent. Send them a new link below or correct the address."
        in shown
    )
    assert "Go to the list of pending invitations" in shown
    assert "kunde inte" not in shown


@pytest.mark.django_db
def test_no_summary_when_nothing_pending_failed(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    other_coordinator: User,
) -> None:
    failures_that_do_not_count(coordinator, municipality, other_coordinator)
    client.force_login(coordinator)
    response = people(client, municipality)
    shown = text(response)
    assert "skickad@kommun.se" in shown  # the list is there
    assert "Inbjudningar som inte kunde skickas" not in shown
    assert "alert-warning" not in html_of(response)  # no empty alert either
    assert "x@a.se" not in shown  # another municipality's failure is not shown


@pytest.mark.django_db
def test_another_municipalitys_failures_are_not_counted(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    other_coordinator: User,
    other_municipality: Municipality,
) -> None:
    refused(
        invite(other_coordinator, other_municipality, "a@annan.se"),
        invite(other_coordinator, other_municipality, "b@annan.se"),
    )
    refused(invite(coordinator, municipality, "nekad@kommun.se"))
    client.force_login(coordinator)
    shown = text(people(client, municipality))
    assert "1 inbjudan kunde inte skickas." in shown
    assert "annan.se" not in shown


@pytest.mark.django_db
def test_the_failed_invitations_come_first_in_the_pending_list(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "INVITATIONS_PER_PAGE", 3)
    with time_machine.travel(timezone.now() - dt.timedelta(days=2)):
        oldest = invite(coordinator, municipality, "nekad.forst@kommun.se")
        expired = invite(coordinator, municipality, "utgangen@kommun.se")
    for number in range(4):
        invite(coordinator, municipality, f"ny{number}@kommun.se")
    refused(oldest, expired)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    client.force_login(coordinator)
    first = people(client, municipality)
    assert [i.email for i in first.context["invitations"]] == [
        "nekad.forst@kommun.se",  # refused: first although oldest
        "ny3@kommun.se",
        "ny2@kommun.se",
    ]
    second = people(client, municipality, page="2")
    # The rest newest first; the expired one in its place by date, counted on every page.
    assert [i.email for i in second.context["invitations"]] == [
        "ny1@kommun.se",
        "ny0@kommun.se",
        "utgangen@kommun.se",
    ]
    assert second.context["page"].paginator.count == 6
    assert "1 inbjudan kunde inte skickas." in text(second)
    assert "Inbjudan 1–3 av 6: först de som inte kunde skickas, sedan de senaste." in text(first)


@pytest.mark.django_db
def test_failures_cost_no_query_per_invitation(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    django_assert_max_num_queries: Any,
) -> None:
    client.force_login(coordinator)
    people(client, municipality)  # the first request after login also records the session
    refused(invite(coordinator, municipality, "nekad@kommun.se"))
    with django_assert_max_num_queries(40) as few:
        people(client, municipality)
    refused(*[invite(coordinator, municipality, f"person{n}@kommun.se") for n in range(20)])
    with django_assert_max_num_queries(len(few)):
        assert "21 inbjudningar kunde inte skickas." in text(people(client, municipality))


# --- The coordinators' digest -----------------------------------------------------------------


def digests_at(moment: dt.datetime, coordinator: User) -> list[Any]:
    with time_machine.travel(moment, tick=False):
        before = len(mail.outbox)
        sweep.run()
        return [m for m in mail.outbox[before:] if m.to == [coordinator.email]]


@pytest.mark.django_db
def test_the_digest_counts_the_failed_invitations_and_links_to_the_people_page(
    coordinator: User, municipality: Municipality, other_coordinator: User
) -> None:
    with time_machine.travel(NOW, tick=False):
        failures_that_do_not_count(coordinator, municipality, other_coordinator)
        refused(
            invite(coordinator, municipality, "nekad1@kommun.se"),
            invite(coordinator, municipality, "nekad2@kommun.se"),
        )
    (digest,) = digests_at(NOW + dt.timedelta(hours=1), coordinator)
    people_url = site_url(reverse("units:people", args=[municipality.pk]))
    assert f"Inbjudningar som inte kunde skickas\n- 2 st.\n  {people_url}\n" in digest.body
    html = digest.alternatives[0].content
    assert (
        f'<h2>Inbjudningar som inte kunde skickas</h2>\n<ul><li><a href="{people_url}">2 st.'
        in (html)
    )


@pytest.mark.django_db
def test_the_digest_item_in_english(coordinator: User, municipality: Municipality) -> None:
    NotificationSettings.objects.create(user=coordinator, language="en")
    with time_machine.travel(NOW, tick=False):
        refused(invite(coordinator, municipality, "nekad@kommun.se"))
    (digest,) = digests_at(NOW + dt.timedelta(hours=1), coordinator)
    assert "Invitations that could not be sent\n- 1 in total\n" in digest.body


@pytest.mark.django_db
def test_no_digest_for_failures_that_do_not_count(
    coordinator: User, municipality: Municipality, other_coordinator: User
) -> None:
    with time_machine.travel(NOW, tick=False):
        failures_that_do_not_count(coordinator, municipality, other_coordinator)
    # Nothing else needs the coordinator: no digest at all, rather than an empty item.
    assert digests_at(NOW + dt.timedelta(hours=1), coordinator) == []


@pytest.mark.django_db
def test_the_digest_links_to_the_municipality_with_failures(
    coordinator: User, municipality: Municipality, other_municipality: Municipality
) -> None:
    MunicipalRole.objects.create(
        user=coordinator, municipality=other_municipality, role=Role.COORDINATOR
    )
    with time_machine.travel(NOW, tick=False):
        refused(invite(coordinator, other_municipality, "nekad@annan.se"))
    (digest,) = digests_at(NOW + dt.timedelta(hours=1), coordinator)
    people_url = site_url(reverse("units:people", args=[other_municipality.pk]))
    assert f"- 1 st.\n  {people_url}\n" in digest.body


@pytest.mark.django_db
def test_the_digest_counts_the_failures_in_one_query(
    coordinator: User, municipality: Municipality
) -> None:
    def queries() -> int:
        Reminder.objects.all().delete()  # the day's digest again
        with CaptureQueriesContext(connection) as captured:
            (digest,) = digests_at(NOW + dt.timedelta(hours=1), coordinator)
        assert "Inbjudningar som inte kunde skickas" in digest.body
        return len(captured)

    with time_machine.travel(NOW, tick=False):
        refused(invite(coordinator, municipality, "nekad@kommun.se"))
    one = queries()
    with time_machine.travel(NOW, tick=False):
        refused(*[invite(coordinator, municipality, f"person{n}@kommun.se") for n in range(10)])
    assert queries() == one
