"""The regional view: precomputed summaries per municipality, refreshed when something changed,
shown side by side to superusers and regional observers (counts only)."""

import datetime as dt
import html as html_lib
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jarfalla.collation import swedish_key
from rollout import board, regional
from rollout import services as engine
from rollout.models import MunicipalitySummary, Step
from tests.factories import MunicipalityFactory, UnitFactory, UserFactory, make_coordinator
from tests.rollout.test_board import TODAY, at, report
from tests.rollout.test_board import world as world
from units import pagecache
from units import services as unit_services
from units.models import Municipality, RegionalObserver, Unit, User


def grant(user: User, *municipalities: Municipality) -> RegionalObserver:
    observer = RegionalObserver.objects.create(user=user, organisation="Länsstyrelsen")
    observer.municipalities.set(municipalities)
    return observer


# Committed for real: the generation moves once the change is committed, as in a request.
@pytest.mark.django_db(transaction=True)
def test_refresh_computes_only_what_changed(
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    coordinator: User,
) -> None:
    assert regional.refresh() == 2
    assert regional.refresh() == 0  # nothing changed
    engine.rollout_start(actor=coordinator, unit=unit_a)
    assert regional.refresh() == 1
    summary = MunicipalitySummary.objects.get(municipality=municipality)
    expected = board.board(municipality=municipality)
    assert summary.data["units"] == 2
    assert summary.data["funnel"] == {stage: count for stage, _l, count in expected.funnel}
    assert summary.data["adoption"] == [1, 2]
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        assert regional.refresh() == 2  # a new day: what is overdue may have changed
    assert regional.refresh(force=True) == 2


@pytest.mark.django_db
def test_a_running_refresh_is_not_overlapped(municipality: Municipality) -> None:
    from django.core.cache import cache

    cache.add(regional.LOCK_KEY, 1, 60)
    assert regional.refresh() == 0
    cache.delete(regional.LOCK_KEY)
    assert regional.refresh() == 1


@pytest.mark.django_db
def test_superuser_sees_every_municipality_side_by_side(
    client: Client,
    superuser: User,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
    coordinator: User,
) -> None:
    engine.rollout_start(actor=coordinator, unit=unit_a)
    regional.refresh()
    client.force_login(superuser)
    response = client.get(reverse("rollout:regional"))
    assert response.status_code == 200
    found, total, missing = regional.lines(municipalities=Municipality.objects.all())
    lines = {line.name: line for line in found}
    assert set(lines) == {municipality.name, other_municipality.name}
    assert missing == 0
    assert lines[municipality.name].funnel == [0, 1, 0, 0, 0, 0]
    assert lines[other_municipality.name].funnel == [1, 0, 0, 0, 0, 0]
    assert total.funnel == [1, 1, 0, 0, 0, 0]
    assert total.units == 2
    html = response.content.decode()
    row = re.search(rf">{municipality.name}</a></th>(.*?)</tr>", html, re.S)
    assert row is not None
    assert re.findall(r"<td>([^<]*)</td>", row.group(1))[:7] == ["1", "0", "1", "0", "0", "0", "0"]
    assert reverse("rollout:dashboard", args=[municipality.pk]) in html
    searched = client.get(reverse("rollout:regional"), {"q": other_municipality.name[:5]})
    assert f">{other_municipality.name}</a>" in searched.content.decode()
    assert f">{municipality.name}</a>" not in searched.content.decode()


@pytest.mark.django_db
def test_a_regional_observer_sees_only_counts_of_the_granted_municipalities(
    client: Client,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
) -> None:
    county = UserFactory.create()
    grant(county, other_municipality)
    regional.refresh()
    client.force_login(county)
    assert client.get("/")["Location"] == reverse("rollout:regional")
    response = client.get(reverse("rollout:regional"))
    html = response.content.decode()
    assert f">{other_municipality.name}<" in html
    assert f">{municipality.name}<" not in html
    assert unit_x.name not in html  # no unit-level data at all
    assert reverse("rollout:dashboard", args=[other_municipality.pk]) not in html
    assert client.get(reverse("rollout:dashboard", args=[other_municipality.pk])).status_code == 404
    assert client.get(reverse("units:detail", args=[unit_x.pk])).status_code == 404


@pytest.mark.django_db
def test_who_may_not_open_the_regional_view(
    client: Client, coordinator: User, observer: User, manager_a: User
) -> None:
    for user in (coordinator, observer, manager_a):
        client.force_login(user)
        assert client.get(reverse("rollout:regional")).status_code == 403
        # A search is no way around it.
        assert client.get(reverse("rollout:regional") + "?q=a").status_code == 403


@pytest.mark.django_db
def test_a_changed_grant_changes_the_kept_page_at_once(
    client: Client,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
) -> None:
    county = UserFactory.create()
    observer = grant(county, municipality)
    regional.refresh()
    # The same number of summaries and the same newest time before and after the change below.
    MunicipalitySummary.objects.update(computed_at=timezone.now())
    client.force_login(county)
    url = reverse("rollout:regional")
    assert f">{municipality.name}<" in client.get(url).content.decode()
    assert client.get(url).context is None  # kept
    # Moved to the other municipality.
    observer.municipalities.set([other_municipality])
    html = client.get(url).content.decode()
    assert f">{other_municipality.name}<" in html
    assert f">{municipality.name}<" not in html


@pytest.mark.django_db
def test_municipalities_not_yet_computed_are_said_to_be_on_their_way(
    client: Client, superuser: User, municipality: Municipality
) -> None:
    client.force_login(superuser)
    html = client.get(reverse("rollout:regional")).content.decode()
    assert "räknas fram" in html


@pytest.mark.django_db
def test_the_regional_view_needs_the_same_queries_for_3_and_30_municipalities(
    client: Client, superuser: User
) -> None:
    client.force_login(superuser)
    counts = []
    for total in (3, 30):
        for _ in range(total - Municipality.objects.count()):
            UnitFactory.create(municipality=MunicipalityFactory.create())
        regional.refresh()
        client.get(reverse("rollout:regional"))
        cache.clear()  # the table drawn afresh…
        pagecache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("rollout:regional"))
        # one row per municipality and the total
        assert response.content.decode().count('<th scope="row">') == total + 1
        with CaptureQueriesContext(connection) as cached:  # …and from the cache
            client.get(reverse("rollout:regional"))
        counts.append((len(queries), len(cached)))
    assert counts[0] == counts[1], counts
    assert counts[1][1] < counts[1][0]


@pytest.mark.django_db
def test_a_superuser_grants_the_regional_view_in_the_admin(
    client: Client, superuser: User, municipality: Municipality, other_municipality: Municipality
) -> None:
    from units.models import AuditEvent

    county = UserFactory.create()
    client.force_login(superuser)
    response = client.post(
        reverse("admin:units_regionalobserver_add"),
        {
            "user": county.pk,
            "organisation": "Länsstyrelsen i Stockholms län",
            "municipalities": [municipality.pk, other_municipality.pk],
        },
    )
    assert response.status_code == 302
    granted = RegionalObserver.objects.get(user=county)
    assert set(granted.municipalities.all()) == {municipality, other_municipality}
    event = AuditEvent.objects.get(action="regionalobserver.created_in_admin")
    assert event.changes["municipalities"][1] == sorted(
        [municipality.name, other_municipality.name]
    )


@pytest.mark.django_db
def test_the_beat_task_and_the_command_refresh(municipality: Municipality) -> None:
    from django.core.management import call_command

    from jarfalla.celery import app
    from rollout.tasks import refresh_summaries

    assert app.conf.beat_schedule["refresh-summaries"]["task"] == refresh_summaries.name
    assert refresh_summaries.delay().get() == 1
    call_command("refresh_summaries", "--all")
    assert MunicipalitySummary.objects.filter(municipality=municipality).count() == 1


# --- The review of issue 9: numbers, access, freshness and the page ---------------------------


def text(fragment: str) -> str:
    """What a person reads: tags dropped, entities decoded, whitespace (also no-break) collapsed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def regional_cells(page: str, name: str, *, exact: bool = False) -> list[str]:
    """The cells of a municipality's row in the regional table, as read; `exact` keeps their
    spaces as they are (no-break ones included)."""
    row = re.search(
        rf'<th scope="row">(?:<a [^>]*>)?{re.escape(name)}(?:</a>)?[^<]*(?:<span.*?</span>)?</th>'
        r"(.*?)</tr>",
        page,
        re.S,
    )
    assert row is not None, f"no row for {name}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    if exact:
        return [html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
    return [text(cell) for cell in cells]


def _found(pattern: str, page: str) -> str:
    match = re.search(pattern, page, re.S)
    assert match is not None, pattern
    return text(match.group(1))


def _share(page: str, pattern: str) -> str:
    """A share as the municipality's pages show it ("26 % (…)"), or "–" without data."""
    shown = _found(pattern, page)
    return shown.split(" (")[0] if "%" in shown else "–"


def own_numbers(client: Client, municipality: Municipality) -> list[str]:
    """The regional table's columns, read from the municipality's own pages: the dashboard
    (units, funnel, reach), the unit table filtered to overdue units and the indicators."""
    dashboard = client.get(reverse("rollout:dashboard", args=[municipality.pk])).content.decode()
    funnel = re.search(r'<figure class="bar-chart.*?<tbody>(.*?)</tbody>', dashboard, re.S)
    assert funnel is not None
    overdue = client.get(
        reverse("rollout:unit_table", args=[municipality.pk]), {"status": "overdue"}
    ).content.decode()
    indicators = client.get(reverse("rollout:indicators", args=[municipality.pk])).content.decode()
    return [
        _found(r"<dt>Aktiva enheter</dt><dd>(.*?)</dd>", dashboard),
        *(text(cell) for cell in re.findall(r"<td>(.*?)</td>", funnel.group(1))),
        _found(r'<p id="table-count"[^>]*>(.*?)</p>', overdue).split()[0],
        _share(dashboard, r"<dt>Personal som gått webbkursen</dt><dd>(.*?)<span"),
        _share(indicators, r'id="adoption-heading".*?</p>\s*<p>(.*?)</p>'),
        _share(indicators, r'id="implementation-heading".*?</p>\s*<p>(.*?)</p>'),
        _share(indicators, r"Uppföljningar genomförda i tid</dt><dd[^>]*>(.*?)</dd>"),
    ]


@pytest.mark.django_db
def test_every_number_is_the_one_on_the_municipalitys_own_pages(
    client: Client,
    superuser: User,
    municipality: Municipality,
    other_municipality: Municipality,
    coordinator: User,
    world: dict[str, Unit],
) -> None:
    # `world` (tests/rollout/test_board.py): not started, step 1, requested, paused, overdue,
    # quiet, done with its follow-ups, a unit without staff, an archived unit, and more here.
    other = make_coordinator(other_municipality)
    with time_machine.travel(at(dt.date(2026, 9, 1)), tick=False):
        in_step_2 = engine.rollout_start(
            actor=coordinator,
            unit=UnitFactory.create(municipality=municipality, name="Steg två", headcount=7),
        )
        report(in_step_2, coordinator, 7, 3, dt.date(2026, 9, 1))
        engine.step_complete(actor=coordinator, rollout=in_step_2, step=Step.WEB_COURSE)
        in_step_3 = engine.rollout_start(
            actor=coordinator,
            unit=UnitFactory.create(municipality=municipality, name="Steg tre", headcount=3),
        )
        report(in_step_3, coordinator, 2, 3, dt.date(2026, 9, 1))
        for step in (Step.WEB_COURSE, Step.TRAINING):
            engine.step_complete(actor=coordinator, rollout=in_step_3, step=step)
        archived = UnitFactory.create(municipality=municipality, name="Arkiverad nu", headcount=50)
        report(
            engine.rollout_start(actor=coordinator, unit=archived),
            coordinator,
            50,
            4,
            dt.date(2026, 9, 1),
        )
        engine.rollout_start(
            actor=other,
            unit=UnitFactory.create(municipality=other_municipality, name="X ett", headcount=9),
        )
        UnitFactory.create(municipality=other_municipality, name="X två", headcount=4)
    with time_machine.travel(at(dt.date(2026, 9, 2)), tick=False):
        unit_services.unit_set_archived(actor=coordinator, unit=archived, archived=True)
    with time_machine.travel(at(TODAY - dt.timedelta(days=10)), tick=False):
        assert engine.rollout_start(actor=coordinator, unit=world["Klar"]).round == 2
    with time_machine.travel(at(TODAY), tick=False):
        regional.refresh()
        client.force_login(superuser)
        page = client.get(reverse("rollout:regional")).content.decode()
        mine = {m.name: own_numbers(client, m) for m in (municipality, other_municipality)}
    theirs = {name: regional_cells(page, name) for name in mine}
    assert theirs == mine
    # Not a comparison of empty pages: units in every stage, some overdue, shares of both kinds.
    funnel = mine[municipality.name][1:7]
    assert mine[municipality.name][0] == "10"
    assert all(count != "0" for count in funnel[:5]), funnel
    assert mine[municipality.name][7] != "0"
    assert mine[other_municipality.name][-1] == "–"
    assert "%" in mine[municipality.name][-1]
    # The total row adds up every municipality's row (one more is made by `world`).
    rows = [
        [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", page, re.S)
    ]
    assert len(rows) == Municipality.objects.count() == 3
    assert regional_cells(page, "Alla")[:8] == [
        str(sum(int(row[column]) for row in rows)) for column in range(8)
    ]


@pytest.mark.django_db
def test_an_observer_without_municipalities_is_told_why_the_page_is_empty(
    client: Client, municipality: Municipality, unit_a: Unit
) -> None:
    regional.refresh()
    county = UserFactory.create()
    observer = grant(county)  # granted, but no municipality (yet)
    client.force_login(county)
    assert client.get("/")["Location"] == reverse("rollout:regional")
    response = client.get(reverse("rollout:regional"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Du har inte tillgång till någon kommuns siffror" in html
    assert f">{municipality.name}<" not in html
    assert "<table" not in html
    # The grant given, and all taken away again: the same page at once, nothing kept.
    observer.municipalities.set([municipality])
    assert f">{municipality.name}<" in client.get(reverse("rollout:regional")).content.decode()
    observer.municipalities.clear()
    html = client.get(reverse("rollout:regional")).content.decode()
    assert "Du har inte tillgång till någon kommuns siffror" in html
    assert f">{municipality.name}<" not in html
    # No longer a regional observer at all: refused.
    observer.delete()
    assert client.get(reverse("rollout:regional")).status_code == 403


@pytest.mark.django_db
def test_a_superuser_without_municipalities_gets_an_empty_page(
    client: Client, superuser: User
) -> None:
    client.force_login(superuser)
    response = client.get(reverse("rollout:regional"))
    assert response.status_code == 200
    assert "Det finns inga kommuner ännu" in response.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "There are no municipalities yet" in client.get(reverse("rollout:regional")).text


@pytest.mark.django_db
def test_municipalities_are_listed_in_swedish_alphabetical_order(
    client: Client, superuser: User
) -> None:
    names = ["Arboga", "Ale", "Åre", "Älmhult", "Ängelholm", "Östersund", "Öckerö", "Ystad"]
    for name in names:
        MunicipalityFactory.create(name=name)
    regional.refresh()
    client.force_login(superuser)
    html = client.get(reverse("rollout:regional")).content.decode()
    shown = re.findall(r'<th scope="row"><a [^>]*>([^<]*)</a>', html)
    assert shown == [
        "Ale",
        "Arboga",
        "Ystad",
        "Åre",
        "Älmhult",
        "Ängelholm",
        "Öckerö",
        "Östersund",
    ]
    assert swedish_key("Émile") < swedish_key("Eskilstuna")


@pytest.mark.django_db
def test_numbers_are_written_as_in_the_language(
    client: Client, superuser: User, municipality: Municipality
) -> None:
    summary = {
        "units": 12345,
        "funnel": {stage: 2345 for stage in board.Stage.values},
        "statuses": {board.UnitStatus.OVERDUE: 1234},
        "reach": [1, 3],
        "adoption": [0, 0],
        "implementation": [1, 2],
        "follow_ups_on_time": [2, 3],
    }
    MunicipalitySummary.objects.create(
        municipality=municipality,
        generation=0,
        day=timezone.localdate(),
        computed_at=timezone.now(),
        data=summary,
    )
    client.force_login(superuser)
    html = client.get(reverse("rollout:regional")).content.decode()
    assert regional_cells(html, municipality.name, exact=True) == [
        "12\xa0345",
        *["2\xa0345"] * len(board.Stage.values),
        "1\xa0234",
        "33\xa0%",  # a no-break space: the sign stays with its number in a narrow column
        "–",
        "50\xa0%",
        "67\xa0%",
    ]
    assert "1 kommun med 12\xa0345 aktiva enheter." in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("rollout:regional")).content.decode()
    assert regional_cells(english, municipality.name, exact=True)[0] == "12,345"


@pytest.mark.django_db
def test_only_superusers_grant_and_revoke_not_staff_with_the_permissions(
    client: Client, municipality: Municipality
) -> None:
    from django.contrib.auth.models import Permission

    staff = UserFactory.create(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="_regionalobserver"))
    county = UserFactory.create()
    observer = grant(county, municipality)
    client.force_login(staff)
    add = client.post(
        reverse("admin:units_regionalobserver_add"),
        {"user": staff.pk, "organisation": "", "municipalities": [municipality.pk]},
    )
    assert add.status_code == 403
    assert not RegionalObserver.objects.filter(user=staff).exists()
    for url in (
        reverse("admin:units_regionalobserver_changelist"),
        reverse("admin:units_regionalobserver_change", args=[observer.pk]),
    ):
        assert client.get(url).status_code in (302, 403), url
    assert (
        client.post(
            reverse("admin:units_regionalobserver_delete", args=[observer.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert RegionalObserver.objects.filter(pk=observer.pk).exists()


@pytest.mark.django_db
def test_revoking_in_the_admin_is_audited_and_shuts_the_view_at_once(
    client: Client, superuser: User, municipality: Municipality, other_municipality: Municipality
) -> None:
    from units.models import AuditEvent

    county = UserFactory.create()
    observer = grant(county, municipality, other_municipality)
    regional.refresh()
    url = reverse("rollout:regional")
    client.force_login(county)
    assert f">{other_municipality.name}<" in client.get(url).content.decode()
    # One municipality taken away: the trail says which.
    admin = Client()
    admin.force_login(superuser)
    response = admin.post(
        reverse("admin:units_regionalobserver_change", args=[observer.pk]),
        {"user": county.pk, "organisation": "Länsstyrelsen", "municipalities": [municipality.pk]},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="regionalobserver.changed_in_admin")
    assert event.changes["municipalities"] == [
        sorted([municipality.name, other_municipality.name]),
        [municipality.name],
    ]
    assert f">{other_municipality.name}<" not in client.get(url).content.decode()
    # The whole grant deleted from the list ("delete selected"), after the confirmation page.
    changelist = reverse("admin:units_regionalobserver_changelist")
    selected = {"action": "delete_selected", "_selected_action": [observer.pk]}
    confirm = admin.post(changelist, selected)
    assert confirm.status_code == 200
    assert RegionalObserver.objects.filter(pk=observer.pk).exists()
    assert admin.post(changelist, {**selected, "post": "yes"}).status_code == 302
    assert not RegionalObserver.objects.filter(pk=observer.pk).exists()
    deleted = AuditEvent.objects.get(action="regionalobserver.deleted_in_admin")
    assert (deleted.actor, deleted.target_id) == (superuser, observer.pk)
    assert client.get(url).status_code == 403


# Committed for real: the generation moves once the change is committed, as in a request.
@pytest.mark.django_db(transaction=True)
def test_a_unit_deleted_from_the_admin_list_leaves_the_numbers_at_the_next_refresh(
    client: Client, superuser: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    regional.refresh()
    client.force_login(superuser)
    url = reverse("rollout:regional")
    assert regional_cells(client.get(url).content.decode(), municipality.name)[0] == "2"
    client.post(
        reverse("admin:units_unit_changelist"),
        {"action": "delete_selected", "_selected_action": [unit_b.pk], "post": "yes"},
    )
    assert not Unit.objects.filter(pk=unit_b.pk).exists()
    assert regional.refresh() == 1
    assert regional_cells(client.get(url).content.decode(), municipality.name)[0] == "1"


@pytest.mark.django_db(transaction=True)
def test_a_closed_step_reaches_the_regional_view_with_the_next_run_of_the_worker(
    client: Client,
    superuser: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    coordinator: User,
    manager_a: User,
) -> None:
    from jarfalla.celery import app
    from rollout.tasks import refresh_summaries

    # The worker runs every 30 s, and a page or table drawn from its summaries is kept only
    # until the next summary: the numbers are at most about a minute behind.
    assert app.conf.beat_schedule["refresh-summaries"]["schedule"] <= 30
    engine.rollout_start(actor=coordinator, unit=unit_a)
    refresh_summaries.delay().get()
    client.force_login(superuser)
    url = reverse("rollout:regional")
    before = regional_cells(client.get(url).content.decode(), municipality.name, exact=True)
    assert before[1:4] == ["1", "1", "0"]  # not started, step 1, step 2
    assert before[8] == "0\xa0%"
    assert client.get(url).context is None  # kept
    # The unit reports the web course and closes step 1, through the pages.
    unit_client = Client()
    unit_client.force_login(manager_a)
    reported = unit_client.post(
        reverse("training:web_course", args=[unit_a.pk]),
        {
            "reported_on": timezone.localdate().isoformat(),
            "completed_count": unit_a.headcount,
            "mode": "groups",
            "group_sessions": 1,
            "knowledge_level": 3,
            "reflections": "",
            "new_headcount": "",
        },
    )
    assert reported.status_code == 302
    closed = unit_client.post(reverse("training:web_course_complete", args=[unit_a.pk]))
    assert closed.status_code == 302
    assert refresh_summaries.delay().get() == 1
    after = regional_cells(client.get(url).content.decode(), municipality.name, exact=True)
    assert after[1:4] == ["1", "0", "1"]
    assert (
        after[8] == f"{round(100 * unit_a.headcount / (unit_a.headcount + unit_b.headcount))}\xa0%"
    )


@pytest.mark.django_db
def test_the_page_says_when_the_worker_last_looked_and_warns_when_it_has_stopped(
    client: Client, superuser: User, municipality: Municipality, unit_a: Unit
) -> None:
    start = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)  # 11:00 in Stockholm
    with time_machine.travel(start, tick=False):
        regional.refresh()
    client.force_login(superuser)
    url = reverse("rollout:regional")
    # Nothing has changed since: no new summary, but the worker has looked again.
    with time_machine.travel(start + dt.timedelta(hours=3), tick=False):
        assert regional.refresh() == 0
        html = text(client.get(url).content.decode())
    assert "Siffrorna kontrollerades senast 2026-11-27 14:00." in html
    assert "inaktuella" not in html
    # The worker stops: the page stops promising fresh numbers once it is minutes late.
    pagecache.clear()
    with time_machine.travel(start + dt.timedelta(hours=3, minutes=3), tick=False):
        html = text(client.get(url).content.decode())
    assert "Siffrorna kan vara inaktuella." in html
    assert "gick senast igenom kommunerna 2026-11-27 14:00" in html
