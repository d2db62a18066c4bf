"""Environment-driven settings: defaults, switches, *_FILE secrets and clear start-up errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jarfalla import env

ROOT = Path(__file__).resolve().parent.parent
PROD_SECRET = "p" + "x7Qm2vLr9sT4wZ8nB1cF6hJ3kD5gY0aE" * 2


def run_manage(tmp_path: Path, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a fresh process with only the given configuration."""
    clean = {k: v for k, v in os.environ.items() if k not in _CONFIG_VARS}
    clean.update(VAR_DIR=str(tmp_path / "var"), **environ)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_CONFIG_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "SITE_URL",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
    "EMAIL_HOST",
    "DEFAULT_FROM_EMAIL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set for the browser tests; the deploy check refuses it
}

DUMP_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'opts': s.DATABASES['default']"
    "['OPTIONS'], 'broker': s.CELERY_BROKER_URL, 'cache': s.CACHES['default']['BACKEND'], "
    "'email': s.MAILERS['default']['BACKEND'], 'tz': s.TIME_ZONE, 'lang': s.LANGUAGE_CODE, 'tz_on': s.USE_TZ, "
    "'langs': [c for c, _ in s.LANGUAGES], 'secret': s.SECRET_KEY, 'mailer': s.MAILERS['default'].get('OPTIONS', {})}))"
)


def dump_settings(tmp_path: Path, **environ: str) -> dict[str, object]:
    result = run_manage(tmp_path, "shell", "-c", DUMP_SETTINGS, **environ)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_defaults_need_no_configuration(tmp_path: Path) -> None:
    values = dump_settings(tmp_path)
    assert values["db"] == "django.db.backends.sqlite3"
    assert values["broker"] == "filesystem://"
    assert values["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert values["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert (values["tz"], values["lang"], values["tz_on"]) == ("Europe/Stockholm", "sv", True)
    assert values["langs"] == ["sv", "en"]
    # A random key is generated once and kept, so sessions survive restarts.
    assert len(str(values["secret"])) >= 50
    assert dump_settings(tmp_path)["secret"] == values["secret"]


def test_database_and_redis_urls_switch_to_postgresql_pool_and_redis(tmp_path: Path) -> None:
    values = dump_settings(
        tmp_path,
        DATABASE_URL="postgres://u:p@db.example:5432/jarfalla",
        REDIS_URL="redis://cache.example:6379/1",
        EMAIL_URL="smtp://mailer:secret@smtp.example.se:587?tls=1",
    )
    assert values["db"] == "django.db.backends.postgresql"
    assert isinstance(values["opts"], dict)
    assert "pool" in values["opts"]
    assert values["broker"] == "redis://cache.example:6379/1"
    assert values["cache"] == "jarfalla.cache.RedisCache"
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    options = values["mailer"]
    assert isinstance(options, dict)
    assert (options["host"], options["port"], options["use_tls"]) == ("smtp.example.se", 587, True)
    assert (options["username"], options["password"]) == ("mailer", "secret")


def test_secret_may_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(PROD_SECRET + "\n")
    values = dump_settings(tmp_path, SECRET_KEY_FILE=str(secret_file))
    assert values["secret"] == PROD_SECRET


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("DATABASE_URL", "postgres://db.example:notaport/x"),
        ("REDIS_URL", "http://localhost:6379"),
        ("DEBUG", "maybe"),
        ("SITE_URL", "ftp://example.se"),
        ("SECRET_KEY", "short"),
        ("DATABASE_POOL_MAX", "ten"),
        ("LOG_LEVEL", "loud"),
    ],
)
def test_malformed_variable_stops_startup_with_one_line_naming_it(
    tmp_path: Path, name: str, value: str
) -> None:
    extra = {"DATABASE_URL": "postgres://db.example/x"} if name.startswith("DATABASE_POOL") else {}
    result = run_manage(tmp_path, "check", **{name: value, **extra})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {name}:")


def test_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    result = run_manage(tmp_path, "check", SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Configuration error: SECRET_KEY_FILE: cannot read '{tmp_path / 'missing'}' "
        "(No such file or directory)"
    )


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = run_manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=PROD_SECRET,
        SITE_URL="https://heder.kommun.example.se",
        EMAIL_URL="smtp://smtp.kommun.example.se:587?tls=1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_without_https(tmp_path: Path) -> None:
    result = run_manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=PROD_SECRET
    )
    assert result.returncode != 0


def test_env_boolean_and_listing_parse() -> None:
    assert env.boolean("X", False, environ={"X": "Yes"}) is True
    assert env.boolean("X", True, environ={"X": "0"}) is False
    assert env.boolean("X", True, environ={}) is True
    assert env.listing("X", ["a"], environ={"X": " b, c ,,"}) == ["b", "c"]
    with pytest.raises(env.ConfigError, match="X: expected a whole number"):
        env.integer("X", 1, environ={"X": "1.5"})


def test_console_email_url_from_the_readme_is_accepted(tmp_path: Path) -> None:
    values = dump_settings(tmp_path, EMAIL_URL="console://")
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"


def test_log_level_is_read_without_regard_to_case() -> None:
    levels = ("DEBUG", "INFO", "WARNING")
    assert env.choice("X", "INFO", choices=levels, environ={"X": " warning "}) == "WARNING"
    assert env.choice("X", "INFO", choices=levels, environ={}) == "INFO"
    with pytest.raises(env.ConfigError, match="X: must be one of DEBUG, INFO, WARNING, got 'x'"):
        env.choice("X", "INFO", choices=levels, environ={"X": "x"})


def test_beat_schedule_folder_exists_with_the_redis_broker(tmp_path: Path) -> None:
    """Beat keeps its schedule in var/celery/ (docker-compose's beat too); shelve cannot create
    the folder, and with Redis as the broker nothing else did."""
    result = run_manage(
        tmp_path,
        "shell",
        "-c",
        "import os; from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, os.path.isdir(os.path.dirname(s.CELERY_BEAT_SCHEDULE_FILENAME)))",
        REDIS_URL="redis://cache.example:6379/1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["redis://cache.example:6379/1", "True"]


def test_trusted_proxy_count_reaches_allauth(tmp_path: Path) -> None:
    script = (
        "import django; django.setup(); from allauth import app_settings as a; "
        "print(a.TRUSTED_PROXY_COUNT)"
    )
    assert run_manage(tmp_path, "shell", "-c", script).stdout.split()[-1] == "0"
    behind = run_manage(tmp_path, "shell", "-c", script, TRUSTED_PROXY_COUNT="1")
    assert behind.stdout.split()[-1] == "1", behind.stderr
