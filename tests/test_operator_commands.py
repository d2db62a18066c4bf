"""The operator's commands (README, DESIGN.md section 6): Swedish, clear exit codes, safe twice."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from followup import services
from followup.models import DispatchRun
from tests.followup.test_dispatch import remind
from units.models import User


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["0", "-3"])
def test_dispatch_refuses_a_limit_that_sends_nothing(limit: str) -> None:
    # It would still be recorded as a dispatch and keep /healthz/ green while nothing is sent.
    with pytest.raises(CommandError, match="--limit måste vara minst 1"):
        call_command("dispatch_reminders", "--limit", limit)
    assert not DispatchRun.objects.exists()


@pytest.mark.django_db
def test_dispatch_with_nothing_due_writes_no_mail_file(
    tmp_path: Path, settings, user: User, capsys: pytest.CaptureFixture[str]
) -> None:
    """Beat dispatches every two minutes; the file backend (the embedded default) made an empty
    file in var/mail/ for each, burying the newest real message the README points to."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    call_command("dispatch_reminders")
    call_command("dispatch_reminders")
    assert list(tmp_path.iterdir()) == []
    assert services.last_dispatch() is not None
    remind(user)
    call_command("dispatch_reminders")
    (written,) = tmp_path.iterdir()
    assert "Uppföljningen efter sex månader ska bokas." in written.read_text()
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Skickade 1, försöker igen senare 0, misslyckade 0, fastnade 0, inte längre önskade 0."
    )


@pytest.mark.django_db
def test_refresh_summaries_speaks_swedish(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("refresh_summaries", "--all")
    assert capsys.readouterr().out.strip() == "0 kommuner omräknade."


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("seed_demo", "Skapar demodata"),
        ("dispatch_reminders", "Skicka de påminnelser"),
        ("refresh_summaries", "Räkna om den regionala översiktens"),
    ],
)
def test_help_is_swedish(command: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command(command, "--help")
    assert exit_info.value.code == 0
    assert words in " ".join(capsys.readouterr().out.split())
