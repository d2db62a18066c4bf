"""A coordinator's journey through the model in a fresh municipality, using only the links and
forms the pages offer: every form is read from the rendered HTML and submitted as a browser would,
every link on every page reached is followed (GET only), and no page shows a name from the
municipality next door, whose names look alike."""

import datetime as dt
import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from rollout import services as engine
from rollout.engine import FIRST_REPORT_WITHIN, add_months
from rollout.models import Rollout, Step
from tests.factories import (
    MunicipalityFactory,
    UnitFactory,
    make_coordinator,
    make_manager,
)
from training import services as training_services
from units.models import Municipality, Unit

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Django's own texts that would mean a page fell back to English while the language is Swedish.
ENGLISH_DEFAULTS = ("Select an option", "This field is required", "Enter a valid")

# --- Reading pages as a browser does -----------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    # Radio and checkbox choices offered, by name: (value, checked).
    choices: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    # Select options offered, by name: (value, label).
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    buttons: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    text: str = ""


class Page(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self.title = ""
        self._in_title = False
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None
        self._option: dict[str, str | None] | None = None
        self._selected: str | None = None
        self._textarea: str | None = None
        self._button: list[Any] | None = None
        self.text_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self._in_title = tag == "title"
        if tag == "a" and found.get("href"):
            href = str(found["href"])
            if href.startswith("/") and not href.startswith("//"):
                self.links.append(href.split("#")[0])
        elif tag == "form":
            self._form = Form(
                method=(found.get("method") or "get").lower(),
                action=found.get("action") or self.url,
            )
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            name, kind = found.get("name"), (found.get("type") or "text").lower()
            value = found.get("value")
            if not name:
                return
            if kind in ("radio", "checkbox"):
                checked = "checked" in found
                self._form.choices.setdefault(name, []).append((value or "on", checked))
                if checked:
                    self._form.fields.append((name, value or "on"))
            elif kind == "submit":
                self._form.buttons.append((name, value, value))
            elif kind not in ("button", "reset", "file", "image"):
                self._form.fields.append((name, value or ""))
        elif tag == "select" and found.get("name"):
            self._select = (str(found["name"]), "multiple" in found)
            self._form.options[self._select[0]] = []
            self._selected = None
        elif tag == "option" and self._select:
            self._option = {"value": found.get("value"), "label": ""}
            if "selected" in found:
                self._option["selected"] = "1"
        elif tag == "textarea" and found.get("name"):
            self._textarea = str(found["name"])
            self._form.fields.append((self._textarea, ""))
        elif tag == "button" and (found.get("type") or "submit").lower() == "submit":
            self._button = [found.get("name"), found.get("value"), ""]
            self._form.buttons.append(("", None, None))

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False
        if tag == "form":
            self._form = None
        elif tag == "option" and self._select and self._option is not None and self._form:
            name, multiple = self._select
            value = self._option["value"]
            label = str(self._option["label"]).strip()
            value = label if value is None else value
            self._form.options[name].append((value, label))
            if self._option.get("selected") or (not multiple and not self._form.options[name][1:]):
                # The first option until another is marked selected.
                self._form.fields = [f for f in self._form.fields if f[0] != name]
                self._form.fields.append((name, value))
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "button" and self._button is not None and self._form:
            name, value, label = self._button
            self._form.buttons[-1] = (name or "", value, " ".join(label.split()))
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._option is not None:
            self._option["label"] = str(self._option["label"]) + data
        if self._textarea and self._form:
            name, value = self._form.fields[-1]
            self._form.fields[-1] = (name, value + data.removeprefix("\n"))
        if self._button is not None:
            self._button[2] += data
        if self._form is not None:
            self._form.text += data
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())


def read(url: str, html: str) -> Page:
    page = Page(url)
    page.feed(html)
    return page


# --- The journey --------------------------------------------------------------------------------


class Journey:
    """The coordinator's browser: pages reached, links offered, forms submitted."""

    def __init__(self, client: Client, forbidden: list[str], on_commit: Any) -> None:
        self.client = client
        # What a view leaves for after its transaction (e-mail, tasks) runs, as in production.
        self.on_commit = on_commit
        self.forbidden = forbidden
        self.reached: dict[str, Page] = {}
        self._page: Page | None = None
        self.messages: list[str] = []

    @property
    def page(self) -> Page:
        assert self._page is not None, "no page opened yet"
        return self._page

    def _check(self, url: str, response: Any) -> Page | None:
        assert response.status_code == 200, (url, response.status_code)
        if "html" not in response.get("Content-Type", ""):
            return None
        html = response.content.decode()
        page = read(url, html)
        leaked = [name for name in self.forbidden if name in unescape(html)]
        assert not leaked, (url, leaked)
        english = [text for text in ENGLISH_DEFAULTS if text in html]
        assert not english, (url, english)
        self.reached[url] = page
        return page

    def open(self, url: str) -> Page:
        response = self.client.get(url, follow=True)
        url = response.redirect_chain[-1][0] if response.redirect_chain else url
        page = self._check(url, response)
        assert page is not None, url
        self._page = page
        self.messages = []
        return page

    def follow(self, link_text: str) -> Page:
        """Click the link on the current page whose text contains link_text."""
        html = self.client.get(self.page.url).content.decode()
        for match in re.finditer(r'<a\b[^>]*href="(/[^"]*)"[^>]*>(.*?)</a>', html, re.S):
            text = " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())
            if link_text in text:
                return self.open(unescape(match.group(1)).split("#")[0])
        raise AssertionError(f"no link {link_text!r} on {self.page.url}")

    def form(self, button: str) -> Form:
        for form in self.page.forms:
            if any(button == label for _n, _v, label in form.buttons):
                return form
        offered = [label for form in self.page.forms for _n, _v, label in form.buttons]
        raise AssertionError(f"no button {button!r} on {self.page.url}; offered: {offered}")

    def submit(
        self, button: str, expect_error: bool = False, method: str = "post", **values: Any
    ) -> Page:
        """Fill in the form with the given button as a person would and press the button."""
        form = self.form(button)
        data: dict[str, list[str]] = {}
        for name, value in form.fields:
            data.setdefault(name, []).append(value)
        offered = {n for n, _ in form.fields} | set(form.choices) | set(form.options)
        for name, value in values.items():
            assert name in offered, f"{name!r} not in the form for {button!r}: {sorted(offered)}"
            if isinstance(value, list):
                data[name] = [str(v) for v in value]
            elif value is None:
                data.pop(name, None)  # unchecked
            else:
                data[name] = [str(value)]
            for chosen in data.get(name, []):
                if name in form.options:
                    assert chosen in {v for v, _l in form.options[name]}, (name, chosen)
                if name in form.choices:
                    assert chosen in {v for v, _c in form.choices[name]}, (name, chosen)
        for button_name, button_value, label in form.buttons:
            if label == button and button_name:
                data[button_name] = [button_value or ""]
        assert form.method == method, (button, form.method)
        with self.on_commit(execute=True):
            send = self.client.post if method == "post" else self.client.get
            response = send(form.action, data, follow=True)
        url = response.redirect_chain[-1][0] if response.redirect_chain else form.action
        # As read on the page: a message may carry a link to what comes next.
        self.messages = [
            " ".join(unescape(re.sub(r"<[^>]+>", "", str(message))).split())
            for message in response.context["messages"]
        ]
        page = self._check(url, response)
        assert page is not None
        self._page = page
        has_errors = "Formuläret innehåller fel" in page.text
        if expect_error:
            assert has_errors, (button, page.url, page.text[:2000])
        else:
            assert not has_errors, (button, page.url, page.text[:3000])
        return page

    def crawl(self) -> set[str]:
        """Every same-site link on every page reached, GET only, until nothing new turns up."""
        queue = [link for page in list(self.reached.values()) for link in page.links]
        seen = set(self.reached)
        while queue:
            url = queue.pop()
            if url in seen or url.startswith(("/static/", "/admin/", "/accounts/logout")):
                continue
            seen.add(url)
            response = self.client.get(url)
            assert response.status_code in (200, 302), (url, response.status_code)
            if response.status_code == 200:
                page = self._check(url, response)
                if page is not None:
                    queue.extend(page.links)
        return seen


@pytest.fixture
def neighbours(db: None) -> dict[str, Any]:
    """The municipality next door, with names that contain ours, mid-way through the model."""
    other = MunicipalityFactory.create(name="Nordvikens kommun", slug="nordviken")
    sector = other.sectors.create(name="Förskola Nordviken")
    unit = UnitFactory.create(
        municipality=other, name="Ekbackens förskola Nordviken", sector=sector
    )
    coordinator = make_coordinator(other, email="samordnare@nordviken.example.se")
    manager = make_manager(unit, email="chef.nordviken@example.se")
    rollout = engine.rollout_start(actor=coordinator, unit=unit)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    training_services.session_book(
        actor=coordinator,
        rollout=rollout,
        starts_at=timezone.now() + dt.timedelta(days=3),
        duration_minutes=90,
        place="Nordvikens aula",
        video_url="",
        themes=[],
        expected_participants=5,
        leader=coordinator,
    )
    names = [
        other.name,
        sector.name,
        unit.name,
        coordinator.email,
        manager.email,
        "Nordvikens aula",
    ]
    return {"municipality": other, "unit": unit, "names": names}


@pytest.mark.django_db
def test_a_coordinator_takes_a_fresh_municipality_through_the_whole_model(
    client: Client,
    neighbours: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    time_machine: Any,
) -> None:
    municipality: Municipality = MunicipalityFactory.create(name="Nordvik", slug="nordvik")
    coordinator = make_coordinator(municipality, email="samordnare@nordvik.example.se")
    client.force_login(coordinator)
    journey = Journey(client, neighbours["names"], django_capture_on_commit_callbacks)

    start = client.get("/", follow=True)
    assert start.redirect_chain[-1][0] == f"/dashboard/{municipality.pk}/"
    journey.open(f"/dashboard/{municipality.pk}/")

    # 1. Settings and sectors, reached through "Personer och inbjudningar".
    journey.follow("Personer och inbjudningar")
    journey.follow("Kommunens inställningar och sektorer")
    journey.submit(
        "Spara inställningarna",
        web_course_url="https://utbildning.example.se/heder",
        followup_offsets_months="6, 12",
    )
    assert journey.messages == ["Kommunens inställningar är sparade."]
    journey.submit("Lägg till sektor", expect_error=True)
    journey.submit("Lägg till sektor", name="Fritid Nordvik")
    assert journey.messages == ["Sektorn är tillagd."]

    # 2. Units, from the unit list.
    journey.follow("Enheter")
    journey.follow("Ny enhet")
    journey.submit("Skapa enheten", expect_error=True)
    sectors = dict(
        (label, value) for value, label in journey.form("Skapa enheten").options["sector"]
    )
    journey.submit(
        "Skapa enheten",
        name="Ekbackens förskola",
        sector=sectors["Förskola"],
        headcount="24",
        functional_email="ekbacken@nordvik.example.se",
        prevention_levels=["universal"],
    )
    unit = Unit.objects.get(municipality=municipality, name="Ekbackens förskola")
    unit_url = f"/units/{unit.pk}/"
    assert journey.page.url == unit_url

    # 3. Invite the unit's manager.
    journey.follow("Bjud in enhetschef")
    journey.submit("Skicka inbjudan", expect_error=True)
    journey.submit("Skicka inbjudan", email="chef.ekbacken@nordvik.example.se")
    assert journey.page.url == unit_url
    assert journey.messages[0].startswith("En inbjudan har skickats till chef.ekbacken@")
    (invitation,) = [m for m in mail.outbox if "chef.ekbacken@nordvik.example.se" in m.to]
    link = re.search(r"https?://[^/\s]+(/invitations/accept/\S+/)", str(invitation.body))
    assert link is not None
    manager_journey = Journey(Client(), neighbours["names"], django_capture_on_commit_callbacks)
    manager_journey.open(link.group(1))
    password = "Ekbacken-rutiner-2027!"
    manager_journey.submit("Tacka ja", password1=password, password2=password)
    assert manager_journey.page is not None
    assert manager_journey.page.url == "/units/"

    # 4. Start the rollout: step 1 is the unit's.
    journey.submit("Starta införandet")
    first_report_by = timezone.localdate() + FIRST_REPORT_WITHIN
    assert journey.messages == [
        "Införandet har startat. Steg 1, Webbkurs Heder, pågår nu. Nästa sak att göra: "
        f"Rapportera webbkursen (ansvarig: enhetschef, senast {first_report_by:%Y-%m-%d})."
    ]

    # 5. Step 1: the manager reports, the coordinator closes the step.
    journey.follow("Steg 1: Webbkurs Heder")
    journey.submit("Spara rapporten", expect_error=True)
    journey.submit(
        "Spara rapporten",
        completed_count="20",
        mode="groups",
        group_sessions="2",
        knowledge_level="3",
        reflections="Vill veta mer om anmälningsplikten.",
    )
    journey.submit("Markera steg 1 som klart")
    assert journey.page.url == unit_url
    assert journey.messages == [
        "Steg 1 är klart. Nu väntar steg 2, den riktade utbildningen. "
        "Nästa sak att göra: Boka riktad utbildning (ansvarig: samordnare)."
    ]

    # 6. Step 2: book a session, record it as held, close the step.
    journey.follow("Steg 2: Riktad utbildning")
    journey.follow("Boka tillfälle")
    journey.submit("Boka och skicka inbjudan", expect_error=True)
    session_day = timezone.localdate() + dt.timedelta(days=7)
    journey.submit(
        "Boka och skicka inbjudan",
        date=session_day.isoformat(),
        time="13:00",
        place="Ekbackens personalrum",
        themes=[journey.form("Boka och skicka inbjudan").choices["themes"][3][0]],
    )
    assert journey.messages == [
        "Tillfället är bokat och en kalenderinbjudan skickas till enhetscheferna."
    ]
    time_machine.move_to(
        dt.datetime.combine(session_day + dt.timedelta(days=1), dt.time(9), STOCKHOLM)
    )
    journey.open(journey.page.url)
    journey.follow("Registrera som genomfört")
    journey.submit("Spara", expect_error=True)
    journey.submit("Spara", participants="21", exercises="Fallövningar i grupp", rating="4")
    assert journey.messages == [
        "Tillfället är registrerat som genomfört. "
        "Nästa sak att göra: Markera steg 2 som klart (ansvarig: samordnare)."
    ]
    journey.submit("Markera steg 2 som klart")
    assert journey.messages == [
        "Steg 2 är klart. Nu väntar steg 3, rutinerna. "
        "Nästa sak att göra: Skriv rutinen (ansvarig: enhetschef)."
    ]

    # 7. Step 3: the routine, written, approved by both and implemented.
    journey.follow("Steg 3: Rutiner")
    journey.submit("Påbörja rutinen")
    journey.follow("Redigera rutinen")
    purpose = dict(journey.form("Spara ny version").fields)["purpose"]
    journey.submit("Spara ny version", purpose=purpose + " Rutinen gäller även praktikanter.")
    journey.submit("Skicka för granskning")
    journey.submit("Godkänn version 2")
    assert journey.messages == [
        "Du har godkänt version 2. Nästa sak att göra: Godkänn rutinen (ansvarig: enhetschef)."
    ]
    manager_journey.open(f"/units/{unit.pk}/rutin/")
    manager_journey.submit("Godkänn version 2")
    assert manager_journey.messages == [
        "Du har godkänt version 2. Nästa sak att göra: För in rutinen i verksamhetsplanen och "
        "registrera att den är införd (ansvarig: enhetschef)."
    ]
    # The coordinator finds it on the unit page, as the one next thing to do.
    journey.open(unit_url)
    journey.follow("För in rutinen i verksamhetsplanen och registrera att den är införd")
    assert journey.page.url == f"/units/{unit.pk}/rutin/inford/"
    journey.submit("Registrera", expect_error=True)
    implemented_on = timezone.localdate()
    journey.submit(
        "Registrera",
        implemented_on=implemented_on.isoformat(),
        business_plan_location="Verksamhetsplan 2027, avsnitt 4.2",
        staff_informed_on=implemented_on.isoformat(),
    )
    six_months = add_months(implemented_on, 6)
    assert journey.messages == [
        "Rutinen är införd. Steg 3 är klart; uppföljningarna väntar. Nästa sak att göra: Boka "
        f"uppföljningen efter 6 månader (ansvarig: samordnare, senast {six_months:%Y-%m-%d})."
    ]

    # 8. Step 4: the follow-ups after 6 and 12 months, booked and recorded, with a pause.
    for months in (6, 12):
        due = implemented_on + dt.timedelta(days=months * 30)
        time_machine.move_to(
            dt.datetime.combine(due - dt.timedelta(days=14), dt.time(9), STOCKHOLM)
        )
        journey.open(unit_url)
        if months == 6:
            journey.follow("Steg 4: Uppföljning")
            journey.follow(f"Boka – Efter {months} månader")
        else:  # straight from the unit page's next thing to do
            journey.follow(f"Boka uppföljningen efter {months} månader")
            assert journey.page.url.endswith("/boka/")
        journey.submit("Boka och skicka inbjudan", expect_error=True)
        journey.submit(
            "Boka och skicka inbjudan",
            date=(due - dt.timedelta(days=7)).isoformat(),
            time="10:00",
            mode="meeting",
            place="Ekbackens konferensrum",
        )
        assert journey.page.url == f"/units/{unit.pk}/uppfoljning/"
        assert journey.messages == [
            "Uppföljningen är bokad och enhetscheferna får en kalenderinbjudan."
        ]
        if months == 6:
            # The unit gets a new manager in between: paused, then resumed.
            journey.open(unit_url)
            journey.follow("Pausa införandet")
            journey.submit("Pausa införandet", expect_error=True)
            journey.submit("Pausa införandet", reason="Ny enhetschef börjar i maj.")
            assert journey.messages == ["Införandet är pausat."]
            assert "Pausat: Ny enhetschef börjar i maj." in journey.page.text
            journey.submit("Återuppta införandet")
            (resumed,) = journey.messages
            assert resumed.startswith(
                "Införandet är återupptaget. "
                "Nästa sak att göra: Genomför uppföljningen efter 6 månader (bokad "
            )
        time_machine.move_to(dt.datetime.combine(due - dt.timedelta(days=6), dt.time(9), STOCKHOLM))
        journey.open(f"/units/{unit.pk}/uppfoljning/")
        journey.follow(f"Registrera uppföljningen – Efter {months} månader")
        journey.submit("Spara", expect_error=True)
        journey.submit(
            "Spara",
            routine_in_use=journey.form("Spara").choices["routine_in_use"][0][0],
            times_used="2",
            consultations="1",
            reports_of_concern="0",
            support_needed=journey.form("Spara").choices["support_needed"][0][0],
            effect="4",
            lessons="Rutinen behöver finnas i introduktionspärmen.",
        )
        if months == 6:
            twelve_months = add_months(implemented_on, 12)
            assert journey.messages == [
                "Uppföljningen är registrerad. Nästa sak att göra: Boka uppföljningen efter 12 "
                f"månader (ansvarig: samordnare, senast {twelve_months:%Y-%m-%d})."
            ]
    assert journey.messages == [
        "Uppföljningen är registrerad. Alla fyra steg är klara och införandet är slutfört. "
        "Ladda ned intyg"
    ]
    assert "Alla fyra steg är klara." in journey.page.text
    assert Rollout.objects.get(unit=unit).status == "completed"

    # 9. A second unit that closes down: created and archived.
    journey.open("/units/")
    journey.follow("Ny enhet")
    journey.submit(
        "Skapa enheten",
        name="Ekbackens fritidshem",
        sector=sectors["Fritid Nordvik"],
        headcount="6",
    )
    journey.follow("Arkivera enheten")
    assert "Arkivera Ekbackens fritidshem?" in journey.page.text
    journey.submit("Arkivera enheten")
    assert journey.messages == ["Enheten är arkiverad. Den finns kvar i historiken."]

    # 10. The overview, the unit table, indicators, reports and exports, from the menu.
    journey.follow("Översikt")
    for board_link in ("Enhetstabell", "Indikatorer", "Insatskedjor", "Rapport"):
        journey.open(f"/dashboard/{municipality.pk}/")
        journey.follow(board_link)
    journey.submit("Skapa rapport")
    assert "Rapport till nämnden för Nordvik" in journey.page.text
    journey.open(f"/dashboard/{municipality.pk}/enheter/")
    journey.submit("Filtrera", method="get", steg="done")
    assert "1 enhet" in journey.page.text
    export = journey.form("Excel (XLSX)")
    response = client.get(export.action, dict(export.fields) | {"pseudonym": "1"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")

    # 11. Everything the pages link to answers, and nothing from next door shows.
    seen = journey.crawl()
    for reached in (
        f"/municipalities/{municipality.pk}/audit/",
        f"/municipalities/{municipality.pk}/referensdata/",
        f"/municipalities/{municipality.pk}/utskick/",
        f"/units/{unit.pk}/intyg/",
        f"/dashboard/{municipality.pk}/indikatorer/export.xlsx",
    ):
        assert reached in seen, reached
    assert not any(f"/units/{neighbours['unit'].pk}/" in url for url in seen)
