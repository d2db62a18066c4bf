"""Every e-mail the product sends: in the recipient's language, marked as automatic, with links to
the configured site, and templates whose every text is translatable."""

import datetime as dt
import email.header
import re
from pathlib import Path
from typing import Any

import pytest
from allauth.account.adapter import get_adapter
from allauth.core.context import request_context
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from followup import services as outbox
from followup.models import NotificationSettings
from rollout import services as engine
from rollout.models import Step
from tests.factories import UserFactory, make_manager
from tests.followup.conftest import SmtpServer, smtp_server  # noqa: F401 (the fixture)
from training import services as training_services
from units import services as unit_services
from units.models import Role, Unit, User

RESET_URL = "/accounts/password/reset/"


def speaks(user: User, language: str) -> User:
    NotificationSettings.objects.create(user=user, language=language)
    return user


def request_reset(email: str, *, language: str = "", host: str = "testserver") -> None:
    client = Client(HTTP_HOST=host)
    if language:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(RESET_URL, {"email": email})
    assert response.status_code == 302, response.content


# --- 1. The recipient's language, not the browser's -----------------------------------------


@pytest.mark.django_db
def test_password_reset_goes_out_in_the_recipients_language_not_the_browsers() -> None:
    svensk = speaks(UserFactory.create(email="svensk@example.se"), "sv")
    engelsk = speaks(UserFactory.create(email="engelsk@example.se"), "en")
    request_reset(svensk.email, language="en")
    request_reset(engelsk.email, language="sv")
    by_recipient = {m.to[0]: m for m in mail.outbox}
    swedish, english = by_recipient[svensk.email], by_recipient[engelsk.email]
    assert swedish.subject == "Återställning av lösenord"
    assert "Hej från Järfällamodellen!" in swedish.body
    assert english.subject == "Password Reset Email"
    assert "Hello from The Järfälla model!" in english.body


@pytest.mark.django_db
def test_a_person_without_a_choice_and_an_unknown_address_get_swedish() -> None:
    UserFactory.create(email="utan.val@example.se")
    request_reset("utan.val@example.se", language="en")
    request_reset("finns.inte@example.se", language="en")
    assert [m.subject for m in mail.outbox] == ["Återställning av lösenord", "Okänt konto"]


@pytest.mark.django_db
def test_a_notice_triggered_in_english_reaches_a_swedish_speaker_in_swedish() -> None:
    manager = speaks(UserFactory.create(email="chef@example.se"), "sv")
    request = RequestFactory().get("/", HTTP_USER_AGENT="Firefox")
    with translation.override("en"), request_context(request):
        get_adapter().send_notification_mail("account/email/password_changed", manager)
        get_adapter().send_notification_mail("mfa/email/totp_activated", manager)
    assert [m.subject for m in mail.outbox] == ["Lösenord ändrat", "Autentiseringsapp aktiverad"]
    assert "Ditt lösenord har ändrats." in mail.outbox[0].body


@pytest.mark.django_db
def test_an_invitation_to_someone_who_has_an_account_is_in_their_language(
    coordinator: User, unit_a: Unit, django_capture_on_commit_callbacks
) -> None:
    speaks(UserFactory.create(email="finns@example.se"), "en")
    with django_capture_on_commit_callbacks(execute=True), translation.override("sv"):
        unit_services.invitation_create(
            actor=coordinator,
            email="finns@example.se",
            municipality=unit_a.municipality,
            role=Role.MANAGER,
            unit=unit_a,
        )
    (message,) = mail.outbox
    assert message.subject.startswith("Invitation to ")
    assert message.body.startswith("Hello,")


# --- 3. Templates: every text translatable, Swedish first, plain text plain --------------------

EMAIL_TEMPLATES = sorted((django_settings.BASE_DIR / "templates").glob("**/email/*"))
TAGS = re.compile(
    r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}|{%.*?%}|{{.*?}}|{#.*?#}", re.DOTALL
)


def untranslated(template: Path) -> list[str]:
    text = TAGS.sub(" ", template.read_text())
    if template.suffix == ".html":
        text = re.sub(r"<[^>]*>", " ", text)
    # What is left must be layout: punctuation between the translated pieces.
    return [word for word in re.findall(r"\w{2,}", text)]


def test_the_email_templates_are_found() -> None:
    names = {f"{p.parent.parent.name}/{p.name}" for p in EMAIL_TEMPLATES}
    assert {"units/invitation_body.txt", "followup/digest_body.html"} <= names


@pytest.mark.parametrize(
    "template", EMAIL_TEMPLATES, ids=lambda p: f"{p.parent.parent.name}/{p.name}"
)
def test_every_text_in_an_email_template_is_translatable(template: Path) -> None:
    assert untranslated(template) == []


@pytest.mark.parametrize(
    "template", EMAIL_TEMPLATES, ids=lambda p: f"{p.parent.parent.name}/{p.name}"
)
def test_plain_text_parts_and_subjects_escape_nothing(template: Path) -> None:
    if template.suffix == ".txt":
        source = template.read_text()
        assert "{% autoescape off %}" in source  # "Barn & unga" stays "Barn & unga"
        assert not re.search(r"&\w+;", source)


@pytest.mark.django_db
def test_the_invitation_is_swedish_with_an_english_summary_from_the_translations(
    coordinator: User, unit_a: Unit, django_capture_on_commit_callbacks
) -> None:
    unit_a.name = "Barn & unga"
    unit_a.save()
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        unit_services.invitation_create(
            actor=coordinator,
            email="ny@example.se",
            municipality=unit_a.municipality,
            role=Role.MANAGER,
            unit=unit_a,
        )
    (message,) = mail.outbox
    assert message.subject.startswith("Inbjudan till ")
    body = str(message.body)
    assert body.startswith("Hej!\n\nDu är inbjuden som enhetschef för Barn & unga")
    swedish, english = body.split("\n--\n")
    with translation.override("en"):
        summary = translation.gettext(
            "Du har bjudits in till ett verktyg för arbetet mot hedersrelaterat våld och förtryck."
        )
    assert summary.startswith("You have been invited")
    assert summary in english
    assert "You" not in swedish
    assert not any(line.startswith(" ") for line in body.splitlines())


# --- 4. Links go to the configured site, whatever the Host header said --------------------------


@pytest.fixture
def public_site(settings: Any) -> str:
    # A deployment that answers for a whole domain: a forged Host within it passes Django's check.
    settings.SITE_URL = "https://heder.example.se"
    settings.ALLOWED_HOSTS = ["heder.example.se", ".example.se", "testserver"]
    return settings.SITE_URL


@pytest.mark.django_db
def test_password_reset_link_uses_the_site_url_not_a_forged_host(public_site: str) -> None:
    user = UserFactory.create(email="chef@example.se")
    request_reset(user.email, host="angripare.example.se")
    request_reset("okand@example.se", host="angripare.example.se")
    reset, unknown = mail.outbox
    links = re.findall(r"https?://\S+", str(reset.body))
    assert links
    assert all(link.startswith(f"{public_site}/accounts/") for link in links), links
    client = Client()
    response = client.get(links[0].removeprefix(public_site))
    assert response.status_code in (200, 302)
    for message in (reset, unknown):
        assert "angripare" not in message.subject + str(message.body)
        assert "testserver" not in str(message.body)


@pytest.mark.django_db
def test_email_confirmation_link_uses_the_site_url(public_site: str) -> None:
    from allauth.account.models import EmailAddress

    user = UserFactory.create(email="chef@example.se")
    request = RequestFactory().get("/", HTTP_HOST="angripare.example.se")
    request.user = user
    address = EmailAddress.objects.create(user=user, email="ny.adress@example.se")
    with request_context(request):
        address.send_confirmation(request)
    (message,) = mail.outbox
    assert message.to == ["ny.adress@example.se"]
    links = re.findall(r"https?://\S+", str(message.body))
    assert len(links) == 1
    assert links[0].startswith(f"{public_site}/accounts/confirm-email/"), links
    assert "angripare" not in str(message.body)


# --- 2. Every automated e-mail says so (RFC 3834), through one helper ----------------------------

REMINDER_KINDS = ("digest", "nudge", "escalation", "meeting", "followup.booked")


def _allauth_mails(user: User) -> None:
    request_reset(user.email)
    request_reset("okand@example.se")
    with request_context(RequestFactory().get("/")):
        get_adapter().send_notification_mail("account/email/password_changed", user)
        get_adapter().send_notification_mail("mfa/email/recovery_codes_generated", user)


@pytest.mark.django_db
def test_every_kind_of_email_is_marked_automatic_on_the_wire(
    smtp_server: SmtpServer,  # noqa: F811
    coordinator: User,
    unit_a: Unit,
    django_capture_on_commit_callbacks,
) -> None:
    manager = make_manager(unit_a, email="chef@example.se")
    kinds: dict[str, int] = {}

    def sent_since(kind: str, before: int) -> None:
        kinds[kind] = len(smtp_server.sink.messages) - before

    before = len(smtp_server.sink.messages)
    _allauth_mails(manager)
    sent_since("allauth", before)

    before = len(smtp_server.sink.messages)
    with django_capture_on_commit_callbacks(execute=True):
        unit_services.invitation_create(
            actor=coordinator,
            email="ny@example.se",
            municipality=unit_a.municipality,
            role=Role.MANAGER,
            unit=unit_a,
        )
    sent_since("invitation", before)

    # Booking a session invites the unit's managers (through the outbox, with the reminders).
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    before = len(smtp_server.sink.messages)
    with django_capture_on_commit_callbacks(execute=True):
        training_services.session_book(
            actor=coordinator,
            rollout=rollout,
            starts_at=timezone.now() + dt.timedelta(days=10),
            duration_minutes=60,
            place="Aulan",
            video_url="",
            themes=[],
            expected_participants=5,
            leader=coordinator,
        )
    for kind in REMINDER_KINDS:
        outbox.schedule(
            recipient=manager,
            kind=kind,
            subject_key=f"test:{kind}",
            due_on=timezone.localdate(),
            subject=f"Om {kind}",
            body="Text",
        )
    outbox.dispatch()
    sent_since("training session and reminders", before)

    assert kinds == {
        "allauth": 4,
        "invitation": 1,
        "training session and reminders": 1 + len(REMINDER_KINDS),
    }
    subjects = [
        str(email.header.make_header(email.header.decode_header(m["Subject"])))
        for m in smtp_server.sink.messages
    ]
    assert f"Inbjudan: riktad utbildning för {unit_a.name}" in subjects, subjects
    for message in smtp_server.sink.messages:
        assert message["Auto-Submitted"] == "auto-generated", message["Subject"]
    unsubscribable = [m for m in smtp_server.sink.messages if m["List-Unsubscribe"]]
    assert sorted(str(m["Subject"]) for m in unsubscribable) == sorted(
        f"Om {kind}" for kind in outbox.UNSUBSCRIBABLE
    )
    assert all(
        m["List-Unsubscribe"] == "<http://127.0.0.1:8000/konto/aviseringar/>"
        for m in unsubscribable
    )


def test_one_helper_makes_the_headers_of_every_automated_email() -> None:
    from jarfalla import mail as product_mail

    assert product_mail.automatic_headers() == {"Auto-Submitted": "auto-generated"}
    assert product_mail.automatic_headers(unsubscribe=True) == {
        "Auto-Submitted": "auto-generated",
        "List-Unsubscribe": f"<{django_settings.SITE_URL}/konto/aviseringar/>",
    }
    # No other module spells the header out (a comment may name it).
    sources = [
        path
        for app in ("units", "training", "followup", "rollout", "routines", "jarfalla")
        for path in (django_settings.BASE_DIR / app).rglob("*.py")
        if '"Auto-Submitted"' in path.read_text() and path.name != "mail.py"
    ]
    assert sources == []
