"""Login security: no sign-up, rate limits, MFA at login, password change ends other sessions,
idle sessions expire, the admin logs in the same way."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, current_totp_code
from units.models import User


@pytest.mark.django_db
def test_there_is_no_open_sign_up(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "ny@example.se", "password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD},
    )
    assert response.status_code == 200
    assert "Anmälan stängd" in response.content.decode()
    assert not User.objects.filter(email="ny@example.se").exists()


@pytest.mark.django_db
def test_repeated_failed_logins_are_rate_limited(client: Client, user: User) -> None:
    for _attempt in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "fel"})
        assert response.status_code == 200
    # Now even the right password is refused for a while.
    blocked = client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )
    assert blocked.status_code == 200
    assert "för många misslyckade inloggningsförsök" in blocked.content.decode().lower()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_coordinator_login_needs_the_second_factor(client: Client, coordinator: User) -> None:
    response = client.post(
        reverse("account_login"), {"login": coordinator.email, "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    right = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(coordinator)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(coordinator.pk)


@pytest.mark.django_db
def test_changing_password_ends_other_sessions(user: User) -> None:
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
        assert client.get(reverse("my_account")).status_code == 200
    new_password = "ett-nytt-långt-lösenord-2026"
    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    assert here.get(reverse("my_account")).status_code == 200
    assert elsewhere.get(reverse("my_account")).status_code == 302  # logged out


@pytest.mark.django_db
def test_idle_session_expires_after_an_hour(client: Client, user: User, settings) -> None:
    assert settings.SESSION_COOKIE_AGE == 3600
    # Redis expires cached sessions in real time, which time_machine cannot move; the database
    # row carries the same expiry, so check the logic there.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    start = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    with time_machine.travel(start + dt.timedelta(minutes=50), tick=False):
        assert client.get(reverse("my_account")).status_code == 200  # activity renews
    with time_machine.travel(start + dt.timedelta(minutes=105), tick=False):
        assert client.get(reverse("my_account")).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=105, seconds=30), tick=False):
        # Half a minute later: activity is written down at most once a minute.
        assert client.get(reverse("my_account")).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=166), tick=False):
        response = client.get(reverse("my_account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_admin_login_goes_through_allauth(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_sessions_page_lists_and_ends_own_sessions(user: User) -> None:
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    page = here.get(reverse("usersessions_list"))
    assert page.status_code == 200
    here.post(reverse("usersessions_list"), {})  # "sign out other sessions"
    assert here.get(reverse("my_account")).status_code == 200
    assert elsewhere.get(reverse("my_account")).status_code == 302


def _failed_logins_from(address: str, count: int) -> None:
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=address)
    for attempt in range(count):
        client.post(
            reverse("account_login"), {"login": f"ingen{attempt}@example.se", "password": "fel"}
        )


def _login_from(address: str, user: User) -> Client:
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.7, {address}")
    client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    return client


@pytest.mark.django_db
def test_behind_the_proxy_one_address_cannot_lock_everyone_out(settings, user: User) -> None:
    """Every request comes from the reverse proxy (10.0.0.2). With TRUSTED_PROXY_COUNT the
    client's address is the proxy's last X-Forwarded-For entry, so ten failed logins from one
    address leave the others alone; the leftmost entry, which the client wrote, is not read."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    _failed_logins_from("203.0.113.1", 10)
    assert "_auth_user_id" in _login_from("203.0.113.2", user).session
    assert "_auth_user_id" not in _login_from("203.0.113.1", user).session


@pytest.mark.django_db
def test_without_the_proxy_count_the_proxy_is_everyones_address(settings, user: User) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    _failed_logins_from("203.0.113.1", 10)
    assert "_auth_user_id" not in _login_from("203.0.113.2", user).session
